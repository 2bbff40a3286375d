#!/usr/bin/env bash
# Remake screenshots/*.png from a real run: the release binary in tmux (160×42), a
# burst of signed sample traffic, each pane captured with its colours and drawn to PNG.
# Needs tmux, python3 with Pillow, and the DejaVu fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
work=$(mktemp -d)
sock="pilotwatch-shots-$$"
secret="whsec_screenshot_$$"
port=39${RANDOM:0:3}
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$work"' EXIT
tmux -L "$sock" new-session -d -s pw -x 160 -y 42 \
    "PILOT_STATUS_WEBHOOK_SECRET=$secret ./target/release/pilotwatch --listen 127.0.0.1:$port --journal $work/j.jsonl"
sleep 1
python3 scripts/sample-traffic.py "http://127.0.0.1:$port/hooks" "$secret"
sleep 1.2
keys() { for k in "$@"; do tmux -L "$sock" send-keys -t pw "$k"; sleep 0.08; done; sleep 0.3; }
shot() { tmux -L "$sock" capture-pane -e -p -t pw > "$work/$1.ansi"; python3 scripts/screenshot.py "$work/$1.ansi" "screenshots/$1.png" 160; }
mkdir -p screenshots
shot overview
keys 7; shot alerts
keys 1; shot messages
keys 2; shot numbers
keys 3; shot calls
keys 4; shot feed
keys 1 / s t a t u s : f a i l e d Enter; shot filtered
keys Escape g j Enter; shot detail
keys Escape ?; shot help
echo "screenshots/ updated"
