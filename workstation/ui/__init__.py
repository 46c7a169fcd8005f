"""The desktop window (PySide6, pyqtgraph). Shows what `workstation.core` computes; no margin maths here."""
