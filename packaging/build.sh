#!/usr/bin/env bash
# Build a self-contained folder bundle in dist/mogui with PyInstaller.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -e . "pyinstaller>=6.6"
pyinstaller --noconfirm --clean packaging/mogui.spec
echo "Built dist/mogui/mogui. Install packaging/mogui.desktop and resources/icons/mogui.svg"
echo "into ~/.local/share/applications and ~/.local/share/icons to get a launcher entry."
