"""PySide6 views of a mogui project."""
