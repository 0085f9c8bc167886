"""Allow ``python -m mogui``."""

from mogui.cli import main

raise SystemExit(main())
