#!/usr/bin/env bash
# Smoke-test a built bundle as a user would run it: version, training (a streamed CSV too),
# export of every shipped example (models, ONNX, the training script), a joint-loss dry run, the
# trust store and the data folder in the user's usual places, and the window under Xvfb; then
# print the bundle's size and start-up times. Exit status 0 when every step passed.
#
#   bash packaging/smoke_test.sh [BUNDLE_FOLDER]     (default: dist/mogui)
#
# It runs as a fresh user: HOME and the XDG folders point into a temporary folder, removed at
# the end. Needs python3 (to shrink the examples so they train in seconds); the window step
# needs xvfb-run and xwininfo, and is skipped without them.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-dist/mogui}
mogui=$(cd "$bundle" 2>/dev/null && pwd)/mogui
if [ ! -x "$mogui" ]; then
  echo "smoke_test.sh: no bundle at '$bundle' (no program $bundle/mogui); build it with" \
    "bash packaging/build.sh" >&2
  exit 2
fi
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share
export XDG_CACHE_HOME=$work/home/.cache TF_CPP_MIN_LOG_LEVEL=2
unset MOGUI_CONFIG_DIR MOGUI_DATA_DIR MOGUI_SETTINGS_DIR DISPLAY WAYLAND_DISPLAY
mkdir -p "$HOME" "$work/projects"

passed=0 failed=0 skipped=0
results=()
# step NAME COMMAND...: runs COMMAND, logs its output, records the result and its duration.
step() {
  local name=$1 t0 t1 rc
  shift
  t0=$(date +%s.%N)
  "$@" > "$work/step.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local took
  took=$(seconds "$t0" "$t1")
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1)); results+=("PASS  $name (${took} s)")
    echo "PASS  $name (${took} s)"
  else
    failed=$((failed + 1)); results+=("FAIL  $name (${took} s)")
    echo "FAIL  $name (${took} s, exit $rc); its output ends:"
    tail -n 25 "$work/step.log" | sed 's/^/      /'
  fi
}
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
skip() { skipped=$((skipped + 1)); results+=("SKIP  $1"); echo "SKIP  $1"; }

# Shipped examples, shrunk so that one epoch takes seconds; saved as NAME.mogui.json.
"$py" - "$PWD/resources/examples" "$work/projects" <<'EOF' || { echo "cannot write projects"; exit 1; }
import json
import sys
from pathlib import Path

examples, out = Path(sys.argv[1]), Path(sys.argv[2])
for name in ("bbox_classification", "bbox_classification_joint"):
    project = json.loads((examples / f"{name}.json").read_text())
    project["data"].update(samples=64, image_size=32)
    project["inputs"][0]["shape"] = [32, 32, 1]
    project["training"].update(batch_size=16, epochs=1)
    (out / f"{name}.mogui.json").write_text(json.dumps(project, indent=2))
    if name.endswith("joint"):  # the same project with code no one has trusted yet
        project["joint_loss"]["source"] += "\n# edited\n"
        (out / "edited_joint.mogui.json").write_text(json.dumps(project, indent=2))
# The table example, streamed: its CSV read chunk by chunk (by Arrow's reader).
project = json.loads((examples / "houses.json").read_text())
project["data"]["streaming"] = "always"
(out / "houses.mogui.json").write_text(json.dumps(project, indent=2))
(out / "houses.csv").write_bytes((examples / "houses.csv").read_bytes())
EOF
shapes=$work/projects/bbox_classification.mogui.json
joint=$work/projects/bbox_classification_joint.mogui.json
edited=$work/projects/edited_joint.mogui.json
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' mogui/__init__.py)

check_version() { [ "$("$mogui" --version)" = "mogui $version" ]; }
step "--version prints mogui $version" check_version

train() {
  "$mogui" train "$shapes" --epochs 1 || return 1
  local run
  run=$(ls -d "$work/projects/runs/"*/*/ | head -n 1)
  cat "$run/history.csv" && test -s "$run/model.keras"
}
step "train 1 epoch (bbox_classification, shrunk)" train

train_table() {
  "$mogui" train "$work/projects/houses.mogui.json" --epochs 1 --out "$work/houses-run" \
    && test -s "$work/houses-run/model.keras"
}
step "train 1 epoch (houses, the CSV streamed)" train_table

# export NAME [FORMATS]: the shrunk copy when there is one, else the shipped example by name.
export_example() {
  local name=$1 formats=${2:-keras} project=$1 out=$work/export-$1
  [ -f "$work/projects/$name.mogui.json" ] && project=$work/projects/$name.mogui.json
  "$mogui" export "$project" --out "$out" --epochs 1 --formats "$formats" || return 1
  ls "$out"
  local script
  script=$(ls "$out"/*.py | head -n 1)
  [ -n "$script" ] && grep -q "def " "$script" && "$py" -m py_compile "$script" || return 1
  for format in ${formats//,/ }; do
    case $format in
      keras) test -s "$out/model.keras" ;;
      savedmodel) test -d "$out/saved_model" ;;
      onnx) test -s "$out/model.onnx" ;;
    esac || { echo "no $format model in $out"; return 1; }
  done
}
step "export bbox_classification (keras, savedmodel, onnx; training script)" \
  export_example bbox_classification keras,savedmodel,onnx
step "export bbox_classification_joint (training script)" export_example bbox_classification_joint
step "export multi_input (training script)" export_example multi_input

step "validate the joint-loss example (dry run)" "$mogui" validate "$joint"

trust_store() {
  "$mogui" validate "$edited"
  [ $? = 2 ] || { echo "untrusted code was not refused with exit status 2"; return 1; }
  "$mogui" trust "$edited" --yes < /dev/null || return 1
  test -s "$XDG_CONFIG_HOME/mogui/trust.json" || { echo "no $XDG_CONFIG_HOME/mogui/trust.json"; return 1; }
  "$mogui" validate "$edited"
}
step "trust store in \$XDG_CONFIG_HOME/mogui (refused, trusted, then runs)" trust_store

data_folder() {
  "$mogui" runs bbox_classification | tee "$work/runs.txt"
  grep -q "$XDG_DATA_HOME/mogui" "$work/runs.txt"
}
step "a shipped example's runs go to \$XDG_DATA_HOME/mogui" data_folder

# window_time PROJECT: seconds from starting the app to its main window on screen (X display).
window_time() {
  local project=$1 title t0 pid shown=""
  title="$(basename "$project")"
  t0=$(date +%s.%N)
  setsid "$mogui" "$project" > "$work/gui.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 2400); do
    local id
    id=$(xwininfo -root -tree 2>/dev/null | grep -F "\"$title" | awk '{print $1}' | head -n 1)
    if [ -n "$id" ] && xwininfo -id "$id" 2>/dev/null | grep -q "IsViewable"; then
      shown=$(date +%s.%N); break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -TERM -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -z "$shown" ]; then cat "$work/gui.log" >&2; return 1; fi
  awk -v a="$t0" -v b="$shown" 'BEGIN { printf "%.1f\n", b - a }'
}
gui() {
  local first second
  first=$(window_time "$shapes") || return 1
  second=$(window_time "$shapes") || return 1
  echo "$first $second" > "$work/startup.txt"
  echo "window shown after $first s (first start), $second s (second start)"
}
# A display of its own (xvfb-run -a starts at the first free number above a random one, so
# that smoke tests run side by side do not race for the same display).
if command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null; then
  step "'mogui PROJECT.mogui.json' shows its window (Xvfb)" \
    xvfb-run -a -n $((100 + RANDOM % 800)) -s "-screen 0 1280x800x24" bash -c "$(declare -f window_time gui); \
      mogui='$mogui' work='$work' shapes='$shapes' gui"
else
  skip "window (needs xvfb-run and xwininfo: apt-get install xvfb x11-utils)"
fi

t0=$(date +%s.%N); "$mogui" --version > /dev/null; t1=$(date +%s.%N)
cli_start=$(seconds "$t0" "$t1")
echo
echo "== Smoke test of $bundle"
printf '%s\n' "${results[@]}"
echo "bundle: $(du -sh "$bundle" | cut -f1) in $(find "$bundle" -type f | wc -l) files"
echo "start-up: 'mogui --version' $cli_start s"
if [ -s "$work/startup.txt" ]; then
  read -r first second < "$work/startup.txt"
  echo "start-up: window shown after $first s (first start of a new user), $second s (next)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
