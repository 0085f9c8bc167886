#!/usr/bin/env bash
# Build the desktop bundle dist/mogui/ (one folder; the program is dist/mogui/mogui) with
# PyInstaller, then smoke-test it with packaging/smoke_test.sh.
#
#   bash packaging/build.sh [--no-smoke]
#
# It builds in a virtual environment of its own, build/venv-<tensorflow package>, so the
# environment you work in is left alone. Settings (environment variables):
#   MOGUI_TENSORFLOW  tensorflow-cpu (default: CPU only; about 0.4 GB smaller) or tensorflow
#                     (the same package pip installs for mogui; it can use a GPU only where
#                     the machine has CUDA and cuDNN of the versions TensorFlow expects)
#   PYTHON            the Python 3.11+ to build with (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=1
for arg in "$@"; do
  case "$arg" in
    --no-smoke) smoke=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option '$arg'; the only option is --no-smoke" >&2; exit 2 ;;
  esac
done
tf=${MOGUI_TENSORFLOW:-tensorflow-cpu}
case "$tf" in
  tensorflow|tensorflow-cpu) ;;
  *) echo "build.sh: MOGUI_TENSORFLOW must be 'tensorflow-cpu' or 'tensorflow', got '$tf'" >&2
     exit 2 ;;
esac

started=$(date +%s)
venv=build/venv-$tf
if [ ! -x "$venv/bin/python" ]; then
  echo "== Making the build environment $venv"
  "${PYTHON:-python3}" -m venv "$venv"
fi
py=$venv/bin/python
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "build.sh: mogui needs Python 3.11 or newer; set PYTHON to one" >&2; exit 2; }

# mogui's dependencies and its ONNX extra, as pyproject.toml lists them, with $tf for tensorflow.
requirements=build/requirements-$tf.txt
"$py" - "$tf" > "$requirements" <<'EOF'
import re
import sys
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["onnx"]:
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    print(sys.argv[1] + requirement[len(name):] if name == "tensorflow" else requirement)
EOF
echo "== Installing the dependencies ($(paste -sd' ' "$requirements")) and PyInstaller"
"$py" -m pip install -q --disable-pip-version-check -r "$requirements" "pyinstaller>=6.6"

echo "== Building dist/mogui with PyInstaller"
PYTHONPATH=$PWD "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/mogui.spec
built=$(date +%s)

echo "== Built dist/mogui in $((built - started)) s: $(du -sh dist/mogui | cut -f1)," \
  "$(find dist/mogui -type f | wc -l) files ($tf)"
if [ "$smoke" = 1 ]; then
  bash packaging/smoke_test.sh dist/mogui
fi
cat <<EOF

To use it: put the program on your PATH, e.g.
  ln -sf "$PWD/dist/mogui/mogui" ~/.local/bin/mogui
and add the launcher entry, the project file type and the icon:
  bash packaging/install-desktop.sh
EOF
