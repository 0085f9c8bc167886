"""Pure-Python core: project model, catalogs, validation, file I/O. Imports neither Qt nor Keras."""
