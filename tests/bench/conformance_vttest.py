"""vttest's screens in our terminal and in tmux 3.3a, driven by the same keystrokes.

Run: `python tests/bench/conformance_vttest.py [--max-steps N] [--show N]` (needs `vttest` on
PATH: `apt-get install vttest`). Not part of the test suite: it prints a report, no pass/fail.

vttest runs 80x24 as the program of a `Session` and of a tmux pane. A crawler walks its menus:
at a menu it enters the next item not yet run (skipping the interactive ones: keyboard, mouse,
locator, parameters), leaves the menu with 0 when all ran, and elsewhere presses RETURN. The
keys are chosen from tmux's screen (the oracle) and sent to both. After each key both wait
until vttest is blocked reading its terminal and the screen has settled, then the two screens
(text and cursor) are compared. The report counts equal screens and shows a diff of each other.
Once a screen asks ours for a different key than tmux (an answer tmux gives and we do not, or the
reverse), the two runs can fall out of step: read the first diff of a run of diffs.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pyte import charsets

from engine import Session, SessionConfig

COLUMNS, LINES = 80, 24
ENV = {"TERM": "xterm", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
PROMPT = re.compile(r"Enter choice number \((\d+) - (\d+)\)")
ITEM = re.compile(r"^\s+(\d+)\. (.+?)\s*$")
SKIP = re.compile(r"keyboard|keys|mouse|locator|modify|parameters|exit", re.I)  # interactive
SETTLE = 0.03  # seconds between two captures that must agree
QUIET = 2.5  # seconds a screen asking for nothing must stay as it is
ASKS = re.compile(r"RETURN|Enter choice|[Pp]ush|[Pp]ress|[Hh]it |quit")
STEP_TIMEOUT = 8.0  # a screen that never settles is compared as it is


@dataclass
class Shot:
    """One screen: its text rows and the cursor."""

    rows: list[str]
    cursor: tuple[int, int]

    def text(self) -> list[str]:
        return [*(r.rstrip() for r in self.rows), f"(cursor {self.cursor[0]},{self.cursor[1]})"]


def reading(pid: int | None) -> bool:
    """True when `pid` is blocked in read(2) on its terminal (fd 0): done drawing, waiting."""
    if pid is None:
        return True
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return True  # gone, or no /proc: the settle check alone decides
    return len(fields) > 1 and fields[0] == "0" and fields[1] == "0x0"


class Ours:
    """vttest in a Session."""

    def __init__(self) -> None:
        self.session = Session(
            SessionConfig(shell_command=["vttest"], environment=ENV, pty_size=(LINES, COLUMNS))
        )

    async def start(self) -> None:
        await self.session.start()

    def shot(self) -> Shot:
        t = self.session.terminal
        rows = (t.capture().split("\n") + [""] * LINES)[:LINES]
        c = t.cursor
        return Shot(rows, (c.x, c.y))

    def pid(self) -> int | None:
        return self.session.pid if self.session.status.is_running else None

    async def send(self, keys: str) -> None:
        if self.session.status.is_running:
            await self.session.send_input(keys)

    async def stop(self) -> None:
        await self.session.stop(grace=0.5)


SGR = re.compile(r"\x1b\[[0-9;:]*m")


def _graphics(rows: list[str]) -> list[str]:
    """tmux rows captured with -e, their line-drawing cells (tmux keeps the ASCII letter with
    a charset flag; -e shows the flag as SO..SI, carried across rows) drawn with the glyphs our
    terminal uses (pyte's table): the charset is compared, not the choice of glyph."""
    out, on = [], False
    for row in rows:
        text = []
        for ch in SGR.sub("", row):
            if ch in "\x0e\x0f":
                on = ch == "\x0e"
            else:
                text.append(ch.translate(charsets.VT100_MAP) if on else ch)
        out.append("".join(text))
    return out


class Tmux:
    """vttest in a tmux pane (its own server)."""

    def __init__(self, tmp: str) -> None:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g remain-on-exit on\n")
        self.base = ["tmux", "-S", str(Path(tmp, "tmux.sock")), "-f", str(conf)]

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")} | ENV
        size = ["-x", str(COLUMNS), "-y", str(LINES)]
        subprocess.run([*self.base, "new-session", "-d", *size, "vttest"], env=env, check=True)

    def _tmux(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True).stdout

    def shot(self) -> Shot:
        out = self._tmux("capture-pane", "-pe", ";", "display", "-p", "#{cursor_x} #{cursor_y}")
        *rows, cursor = out.rstrip("\n").split("\n")
        rows = _graphics(rows)
        x, y = map(int, cursor.split())
        return Shot((rows + [""] * LINES)[:LINES], (min(x, COLUMNS - 1), y))

    def pid(self) -> int | None:
        out = self._tmux("display", "-p", "#{pane_dead} #{pane_pid}").split()
        return int(out[1]) if out and out[0] == "0" else None

    async def send(self, keys: str) -> None:
        if self.pid() is not None:
            self._tmux("send-keys", "-l", keys)

    async def stop(self) -> None:
        self._tmux("kill-server")


async def settled(term: Ours | Tmux) -> Shot:
    """The screen once the program waits for input and two captures agree (or at the timeout).

    A screen that asks for no key may be vttest waiting for a report the terminal does not
    send (it gives up after a second or two): that one must stay put for QUIET first.
    """
    deadline = time.monotonic() + STEP_TIMEOUT
    last, since = None, time.monotonic()
    while True:
        await asyncio.sleep(SETTLE)
        shot = term.shot()
        if shot != last or not reading(term.pid()):
            last, since = shot, time.monotonic()
            continue
        asks = ASKS.search("\n".join(shot.rows))
        if asks or time.monotonic() - since > QUIET or time.monotonic() > deadline:
            return shot


def next_key(screen: list[str], done: dict[tuple[str, ...], set[int]], depth: int) -> str:
    """What a tester presses next: the next menu item not yet run, 0 to leave (all ran, or the
    menu is deeper than `depth`: "Menu 11.1.2" is 3), else RETURN."""
    text = "\n".join(screen)
    prompt = PROMPT.search(text)
    if not prompt:
        return "\r"
    number = re.search(r"Menu ([\d.]+):", text)
    if number and number[1].count(".") + 1 > depth:
        return "0\r"
    items = {int(m[1]): m[2] for row in screen if (m := ITEM.match(row))}
    # A menu is known by its title, not its items' text: some items are toggles ("... (on)").
    # The VT320 and VT420 menus hold the VT220 ones again: one run of each is enough.
    title = next((r.strip() for r in screen if "Menu" in r), "main")
    title = re.sub(r"^Menu [\d.]+:\s*", "", title)
    key = (title, *map(str, sorted(items)))
    ran = done.setdefault(key, set())
    for n, title in sorted(items.items()):
        if n and n not in ran and not SKIP.search(title):
            ran.add(n)
            return f"{n}\r"
    return "0\r"


async def crawl(max_steps: int, depth: int) -> list[tuple[str, Shot, Shot]]:
    """Drive both, return (where, ours, tmux) for every screen shown."""
    shots: list[tuple[str, Shot, Shot]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ours, tmux = Ours(), Tmux(tmp)
        await ours.start()
        await tmux.start()
        done: dict[tuple[str, ...], set[int]] = {}
        where, page, same = "start", 0, 0
        try:
            for step in range(max_steps):
                a, b = await asyncio.gather(settled(ours), settled(tmux))
                shots.append((f"{step:3d} {where} #{page}", a, b))
                if tmux.pid() is None:
                    break
                key = next_key(b.rows, done, depth)
                same = same + 1 if shots[-2:-1] and shots[-2][2].rows == b.rows else 0
                if key == "\r" and same >= 2:  # RETURN does nothing here: try q, then give up
                    if same >= 4:
                        break
                    key = "q"
                if key == "\r":
                    page += 1
                else:
                    title = next((r.strip() for r in b.rows if r.strip()), "?")[:40]
                    where, page = f"[{title}] {key.strip()}", 0
                await asyncio.gather(ours.send(key), tmux.send(key))
        finally:
            await ours.stop()
            await tmux.stop()
    return shots


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-steps", type=int, default=600, help="keystrokes at most")
    parser.add_argument("--show", type=int, default=40, help="diff lines shown per screen")
    parser.add_argument("--depth", type=int, default=2, help="deepest menu entered (11.1 is 2)")
    parser.add_argument("--trail", action="store_true", help="list every screen's place")
    args = parser.parse_args()
    if not shutil.which("vttest"):
        sys.exit("vttest is not installed (apt-get install vttest)")
    started = time.monotonic()
    shots = await crawl(args.max_steps, args.depth)
    differ = [(w, a, b) for w, a, b in shots if a != b]
    print(
        f"vttest: {len(shots) - len(differ)} of {len(shots)} screens equal tmux's "
        f"({time.monotonic() - started:.0f}s)\n"
    )
    if args.trail:
        for where, a, b in shots:
            print(where, "" if a == b else "DIFFERS")
    for where, a, b in differ:
        print(f"### screen {where}")
        diff = difflib.unified_diff(b.text(), a.text(), "tmux", "ours", n=0, lineterm="")
        lines = list(diff)[2:]
        print("\n".join(lines[: args.show]) + ("\n..." if len(lines) > args.show else ""))
        print()


if __name__ == "__main__":
    asyncio.run(main())
