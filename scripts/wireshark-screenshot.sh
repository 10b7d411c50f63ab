#!/usr/bin/env bash
# Takes docs/img/wireshark-annotated.png: the demo capture annotated by intunecap, opened in Wireshark (Qt,
# under Xvfb) with intunecap's coloring rules and a column for the comments. Run by hand after a change to
# the comments; it installs wireshark-qt, xvfb, xdotool and imagemagick when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for c in wireshark:wireshark-qt Xvfb:xvfb xdotool:xdotool import:imagemagick; do
  command -v "${c%%:*}" >/dev/null || need+=("${c##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cfg/profiles/intunecap"
go run ./cmd/intunecap annotate -o "$tmp/demo.pcapng" \
  --wireshark-colors "$tmp/cfg/profiles/intunecap/colorfilters" testdata/pcaps/demo.pcapng
Xvfb :77 -screen 0 1600x900x24 >/dev/null 2>&1 &
sleep 1
export DISPLAY=:77 WIRESHARK_CONFIG_DIR="$tmp/cfg"
wireshark -C intunecap -r "$tmp/demo.pcapng" -Y 'frame.comment contains "intunecap:" && frame.number > 85' \
  -o 'gui.column.format:"No.","%m","Source","%s","Destination","%d","Protocol","%p","intunecap comment","%Cus:frame.comment:0:R"' \
  >/dev/null 2>&1 &
sleep 10
win=$(xdotool search --onlyvisible --class wireshark | head -1)
xdotool windowmove "$win" 0 0 windowsize "$win" 1600 900
sleep 3
import -window root -crop 1600x560+0+0 docs/img/wireshark-annotated.png
echo "wrote docs/img/wireshark-annotated.png"
