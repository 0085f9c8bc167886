#!/usr/bin/env bash
# Install mogui's launcher entry, its project file type (NAME.mogui.json, MIME type
# application/x-mogui-project) and its icon for the current user, under
# ${XDG_DATA_HOME:-~/.local/share}; then refresh the desktop's caches where their tools exist.
#
#   bash packaging/install-desktop.sh [PROGRAM]   PROGRAM: the mogui to launch (default: the
#                                                 mogui on PATH, else dist/mogui/mogui)
#   bash packaging/install-desktop.sh --uninstall
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry=$data/applications/mogui.desktop
mime=$data/mime/packages/mogui-mime.xml
icon=$data/icons/hicolor/scalable/apps/mogui.svg

refresh() {
  if command -v update-mime-database >/dev/null; then update-mime-database "$data/mime"; fi
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$data/applications"
  fi
  if command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -f -t "$data/icons/hicolor" 2>/dev/null || true
  fi
}

case "${1:-}" in
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --uninstall)
    rm -f "$entry" "$mime" "$icon"
    mkdir -p "$data/mime/packages" "$data/applications"
    refresh
    echo "Removed mogui's launcher entry, file type and icon from $data."
    exit 0 ;;
esac

program=${1:-$(command -v mogui || true)}
if [ -z "$program" ] && [ -x "$root/dist/mogui/mogui" ]; then program=$root/dist/mogui/mogui; fi
if [ -z "$program" ]; then
  echo "install-desktop.sh: no mogui found: put it on your PATH (see the README's Desktop" \
    "install) or give its path: bash packaging/install-desktop.sh /path/to/mogui" >&2
  exit 2
fi
if [ ! -x "$program" ]; then
  echo "install-desktop.sh: '$program' is not a program that can be run; give the path of" \
    "mogui (the bundle's dist/mogui/mogui, or the mogui that pip or pipx installed)" >&2
  exit 2
fi
program=$(cd "$(dirname "$program")" && pwd)/$(basename "$program")
case "$program" in
  *[\"\`\$\\%]*)
    echo "install-desktop.sh: the path '$program' holds a character a launcher entry cannot" \
      "run (\" \` \$ \\ %); move mogui to a folder without them" >&2
    exit 2 ;;
  *" "*) exec_line="\"$program\" %f" ;;
  *) exec_line="$program %f" ;;
esac

mkdir -p "$(dirname "$entry")" "$(dirname "$mime")" "$(dirname "$icon")"
# The launcher runs this exact program: the desktop's PATH may lack the folder it is in.
sed "s|^Exec=.*|Exec=$exec_line|" "$here/mogui.desktop" > "$entry"
cp "$here/mogui-mime.xml" "$mime"
cp "$root/resources/icons/mogui.svg" "$icon"
refresh
echo "Installed for ${USER:-$(id -un)}: $entry (runs $program), the project file type *.mogui.json" \
  "($mime) and the icon ($icon)."
