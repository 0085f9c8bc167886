"""Allow ``python -m mogui`` (and a frozen bundle's entry point)."""

import multiprocessing

from mogui.cli import main

if __name__ == "__main__":  # child processes import this module too: they must not run main
    multiprocessing.freeze_support()
    raise SystemExit(main())
