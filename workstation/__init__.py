"""Margin Workstation: pooled collateral, margin contribution, liquidation distance, hedge what-ifs."""

__version__ = "0.1.0"
