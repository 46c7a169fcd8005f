"""The margin engine: pure Python + numpy. Never imports Qt, pyqtgraph, the store or the UI."""
