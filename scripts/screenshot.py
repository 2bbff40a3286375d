"""Render a tmux pane to PNG: `tmux capture-pane -e -p` (text with SGR colours) drawn
cell by cell in DejaVu Sans Mono. Usage: screenshot.py CAPTURE.ansi OUT.png [COLS]."""

import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE, CW, CH = 15, 9, 19
BG, FG = (24, 26, 33), (214, 219, 229)
BASIC = [(40, 42, 54), (232, 92, 92), (108, 200, 110), (230, 200, 90), (98, 150, 235), (200, 120, 220), (90, 200, 210), (214, 219, 229)]
BRIGHT = [(110, 115, 135), (255, 120, 120), (140, 230, 140), (250, 220, 120), (130, 175, 255), (225, 150, 240), (120, 225, 235), (255, 255, 255)]


def xterm(n):
    if n < 8:
        return BASIC[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    g = 8 + (n - 232) * 10
    return (g, g, g)


def parse(text, cols):
    rows = []
    state = {"fg": FG, "bg": BG, "bold": False, "rev": False, "dim": False}
    for line in text.split("\n"):
        cells = []
        for token in re.split(r"(\x1b\[[0-9;]*m)", line):
            if token.startswith("\x1b["):
                params = [int(p) if p else 0 for p in token[2:-1].split(";")] or [0]
                i = 0
                while i < len(params):
                    p = params[i]
                    if p == 0:
                        state = {"fg": FG, "bg": BG, "bold": False, "rev": False, "dim": False}
                    elif p == 1:
                        state["bold"] = True
                    elif p == 2:
                        state["dim"] = True
                    elif p == 7:
                        state["rev"] = True
                    elif p == 22:
                        state["bold"] = state["dim"] = False
                    elif p == 27:
                        state["rev"] = False
                    elif 30 <= p <= 37:
                        state["fg"] = BASIC[p - 30]
                    elif 90 <= p <= 97:
                        state["fg"] = BRIGHT[p - 90]
                    elif 40 <= p <= 47:
                        state["bg"] = BASIC[p - 40]
                    elif p == 39:
                        state["fg"] = FG
                    elif p == 49:
                        state["bg"] = BG
                    elif p in (38, 48) and i + 1 < len(params):
                        key = "fg" if p == 38 else "bg"
                        if params[i + 1] == 5:
                            state[key] = xterm(params[i + 2])
                            i += 2
                        elif params[i + 1] == 2:
                            state[key] = tuple(params[i + 2:i + 5])
                            i += 4
                    i += 1
            else:
                for ch in token:
                    cells.append((ch, dict(state)))
                    # A wide character takes two cells, as in the terminal.
                    if unicodedata.east_asian_width(ch) in ("W", "F"):
                        cells.append(("", dict(state)))
        rows.append(cells[:cols])
    return rows


def main():
    src, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rows = parse(open(src, encoding="utf-8").read().rstrip("\n"), cols)
    img = Image.new("RGB", (cols * CW + 16, len(rows) * CH + 16), BG)
    draw = ImageDraw.Draw(img)
    regular, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    for y, row in enumerate(rows):
        for x, (ch, st) in enumerate(row):
            fg, bg = (st["bg"], st["fg"]) if st["rev"] else (st["fg"], st["bg"])
            if st["dim"]:
                fg = tuple(int(c * 0.6) for c in fg)
            px, py = 8 + x * CW, 8 + y * CH
            if bg != BG:
                draw.rectangle([px, py, px + CW - 1, py + CH - 1], fill=bg)
            if ch.strip():
                draw.text((px, py + 1), ch, font=bold if st["bold"] else regular, fill=fg)
    img.save(out)


main()
