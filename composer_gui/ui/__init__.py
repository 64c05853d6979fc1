"""PySide6 + pyqtgraph widgets."""
