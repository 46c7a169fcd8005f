"""`python -m workstation` runs the command-line interface."""

import sys

from workstation.cli import main

if __name__ == "__main__":
    sys.exit(main())
