"""Margin Workstation: pooled collateral, margin contribution, liquidation distance, hedge what-ifs."""

import os

# numpy's OpenBLAS starts a thread per core when numpy is imported, and its threads spin: about
# 30 ms of wall time and 100 ms of CPU at every start on the 2-core build machine, for no gain
# (the engine's matrix products are small; the 10,000-position report is no slower on one
# thread). Set before anything imports numpy; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
