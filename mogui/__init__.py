"""mogui: build, train and inspect multi-output Keras models.

Importing this package imports neither Qt nor Keras.
"""

__version__ = "0.1.0"
