"""Keras engine: never imports Qt. One sub-package per concern, each importing only those
listed below it (an import-linter ``layers`` contract):

- ``export``: export folders, model formats, plots; ``codegen`` renders the training script
- ``training``: the runner, its control and progress callback, batch values, devices, files
- ``losses``: per-head and joint losses, user code, compiling, the dry run
- ``data``: sources, checks, the split, missing labels, targets, the baseline
- ``model``: building the layer graph, the shape table, shape errors
- ``plain_keras``: code shared verbatim with the exported script (keras and numpy only)
"""
