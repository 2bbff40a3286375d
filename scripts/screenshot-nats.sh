#!/usr/bin/env bash
# Remake screenshots/nats.png from a real run: nats-server, two `--demo serve --nats`
# receivers (eu-1, eu-2) and `attach nats://` in tmux (160×42), drawn to PNG.
# Needs nats-server, tmux, python3 with Pillow, and the DejaVu fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
bin=./target/debug/pilotwatch
work=$(mktemp -d)
sock="pilotwatch-nats-shot-$$"
port=42${RANDOM:0:3}
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$work"' EXIT
tmux -L "$sock" new-session -d -s pw -x 160 -y 42 "nats-server -js -a 127.0.0.1 -p $port -sd $work/js"
sleep 1
for r in eu-1 eu-2; do
    tmux -L "$sock" new-window -d -t pw \
        "PILOTWATCH_CONFIG=/dev/null $bin --demo --journal $work/$r.jsonl --listen 127.0.0.1:0 serve --nats nats://127.0.0.1:$port --nats-receiver $r > $work/$r.log 2>&1"
done
sleep 3
tmux -L "$sock" new-window -t pw "PILOTWATCH_CONFIG=/dev/null $bin attach nats://127.0.0.1:$port"
sleep 25
tmux -L "$sock" capture-pane -e -p -t pw > "$work/nats.ansi"
python3 scripts/screenshot.py "$work/nats.ansi" screenshots/nats.png 160
echo "screenshots/nats.png updated"
