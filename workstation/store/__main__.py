"""`python -m workstation.store init|import|export|history`: the `db` commands on their own."""

import sys

from workstation.store.commands import main

if __name__ == "__main__":
    sys.exit(main())
