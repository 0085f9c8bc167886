"""Code that runs in mogui and, copied as written, in the exported training script.

Every module here imports only the standard library, numpy and keras, never mogui, so the
generator (:mod:`mogui.engine.export.codegen`) can copy its definitions into a script that
needs no mogui. A fix made here reaches the app, the command line and every exported script.
"""
