"""Regenerate engine/width.py's `_TABLE`: every code point's width as a real tmux shows it.

    PYTHONPATH=. python tests/gen_width_table.py > runs.txt   # then paste into _TABLE

Each code point is drawn in a 4-column slot as `a` + ch, then `Y` at the slot's 4th column;
the blanks tmux leaves before `Y` give the width (2 blanks: joined `a`'s cell, 1: one cell,
0: two cells; ch missing: dropped). tmux 3.3a without utf8proc asks libc's wcwidth() and drops
what libc calls unprintable. Where it drops a character that is not a control, a surrogate or
U+2028/U+2029, its libc predates the character, so the wcwidth package decides, read the way
libc reads Unicode (spacing marks, Mc, take a cell).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tmux_oracle import TMUX
from wcwidth import list_versions, wcwidth
from wcwidth.table_mc import CATEGORY_MC

SLOT = re.compile(r"a(.*?)( *)Y", re.S)
COLUMNS = 80
UNPRINTABLE = [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000), 0x2028, 0x2029]


def tmux_widths(points: list[int], socket: str) -> dict[int, int]:
    """Width tmux shows for each code point (-1: dropped)."""
    assert TMUX, "tmux is not installed"
    per = COLUMNS // 4
    rows = [points[i : i + per] for i in range(0, len(points), per)]
    data = "\r\n".join(
        "".join(f"\x1b[{4 * k + 1}Ga{chr(c)}\x1b[{4 * k + 4}GY" for k, c in enumerate(row))
        for row in rows
    ).encode()
    base = [TMUX, "-L", socket, "-f", "/dev/null"]
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp, "feed")
        feed.write_bytes(data)
        script = (
            f"stty -echo -opost; cat {feed}; {TMUX} -L {socket} wait-for -S fed; exec sleep 600"
        )
        try:
            limit = ["set", "-g", "history-limit", str(len(rows) + 50)]  # before the pane
            new = ["new", "-d", "-x", str(COLUMNS), "-y", "10", script]
            subprocess.run([*base, "start-server", ";", *limit, ";", *new], check=True)
            subprocess.run([*base, "wait-for", "fed"], check=True, timeout=120)
            text = subprocess.run(
                [*base, "capture-pane", "-p", "-S", "-", "-E", "-"], capture_output=True, check=True
            ).stdout.decode()
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True)
    widths: dict[int, int] = {}
    for row, line in zip(rows, text.split("\n"), strict=False):
        pos = 0
        for c in row:
            m = SLOT.match(line, pos)
            assert m, f"U+{c:04X}: {line[pos : pos + 20]!r}"
            pos = m.end()
            body, blanks = m.group(1), len(m.group(2))
            if body == "" and blanks == 2:
                widths[c] = -1
            else:
                assert body == chr(c), f"U+{c:04X} shown as {body!r}"
                widths[c] = 2 - blanks
    return widths


SPACING_MARKS = {c for lo, hi in CATEGORY_MC[list_versions()[-1]] for c in range(lo, hi + 1)}


def newer_width(c: int) -> int:
    """Width of a character tmux's libc does not know yet: wcwidth's, spacing marks one cell."""
    width = wcwidth(chr(c))
    return 1 if width == 0 and c in SPACING_MARKS else width


def table(socket: str = "width-gen") -> list[tuple[int, int]]:
    """(first code point, width) for each run of equal width."""
    widths = dict.fromkeys(UNPRINTABLE, -1) | dict.fromkeys(range(0x20, 0x7F), 1)
    for start in range(0, 0x110000, 0x10000):
        points = [c for c in range(start, start + 0x10000) if c not in widths and c != 0x200D]
        widths.update(tmux_widths(points, socket))
        print(f"U+{start:06X}", file=sys.stderr)
    widths[0x200D] = 0  # ZWJ: tmux holds it for the next character (engine.width.ZWJ)
    for c, width in widths.items():
        if width < 0 and c not in UNPRINTABLE:
            widths[c] = newer_width(c)
    runs = [(0, widths[0])]
    for c in range(1, 0x110000):
        if widths[c] != runs[-1][1]:
            runs.append((c, widths[c]))
    return runs


if __name__ == "__main__":
    line = "   "
    for start, width in table():
        token = f"{start:X}:{width}"
        if len(line) + len(token) >= 99:
            print(line)
            line = "   "
        line += " " + token
    print(line)
