"""tmux as an oracle: feed it bytes in a pane of a given size and read back what it shows."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TMUX = shutil.which("tmux")


@dataclass
class TmuxView:
    text: str  # capture-pane -p -S - (history and screen)
    screen: str  # capture-pane -p (visible rows only)
    ansi: str  # capture-pane -p -e (visible rows, with attributes)
    cursor: tuple[int, int]  # (x, y)
    alternate: bool


@contextmanager
def tmux_pane(
    tmp: str, command: str, columns: int = 80, lines: int = 24, conf: str = ""
) -> Iterator[Callable[..., str]]:
    """A fresh tmux server (socket in `tmp`, so nothing is left behind) whose one pane of
    `columns` x `lines` runs `command` to its end; yields `tmux(*args) -> stdout`.
    `conf`: tmux configuration lines after `status off`."""
    assert TMUX, "tmux is not installed"
    config = Path(tmp, "tmux.conf")
    config.write_text("set -g status off\n" + conf)
    base = [TMUX, "-S", str(Path(tmp, "tmux.sock")), "-f", str(config)]
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}

    def tmux(*args: str) -> str:
        return subprocess.run(
            [*base, *args], check=True, env=env, timeout=20, capture_output=True, text=True
        ).stdout

    try:
        size = ["-x", str(columns), "-y", str(lines)]
        tmux("new-session", "-d", *size, f"{command}; tmux wait-for -S done; exec sleep 600")
        tmux("wait-for", "done")
        yield tmux
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True, timeout=20)


def tmux_view(data: bytes, columns: int = 80, lines: int = 24) -> TmuxView:
    """Show `data` in a fresh tmux server's pane of `columns` x `lines` and capture it."""
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp, "feed.bin")
        feed.write_bytes(data)
        command = f"stty -echo -opost; cat {feed}"
        with tmux_pane(tmp, command, columns, lines, "set -g history-limit 10000\n") as tmux:
            text = tmux("capture-pane", "-p", "-S", "-")
            screen = tmux("capture-pane", "-p")
            ansi = tmux("capture-pane", "-p", "-e", "-N")
            x, y, alt = tmux("display", "-p", "#{cursor_x} #{cursor_y} #{alternate_on}").split()
    return TmuxView(text, screen, ansi, (int(x), int(y)), alt == "1")


def trim(text: str) -> str:
    """Rows with trailing blanks trimmed and trailing empty rows dropped."""
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n")).rstrip("\n")


_ASK = """
import os, select, sys, time, tty
query, end, count = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3])
tty.setraw(0)
os.write(1, query)
reply, deadline = b"", time.monotonic() + 5
while reply.count(end) < count and time.monotonic() < deadline:
    if select.select([0], [], [], 0.1)[0]:
        reply += os.read(0, 4096)
open(sys.argv[4], "wb").write(reply)
"""


def tmux_replies(
    query: bytes, end: str, count: int = 1, columns: int = 80, lines: int = 24, conf: str = ""
) -> bytes:
    """What tmux answers a program that writes `query` in a pane of `columns` x `lines`: read
    until `end` (the answers' last character or terminator) came `count` times, or 5 seconds
    passed (b"" if tmux does not answer).
    `conf`: more tmux configuration lines (a `window-style` for colour queries)."""
    with tempfile.TemporaryDirectory() as tmp:
        script, result = Path(tmp, "ask.py"), Path(tmp, "reply.bin")
        script.write_text(_ASK)
        ask = shlex.join(
            [sys.executable, str(script), query.hex(), end.encode().hex(), str(count), str(result)]
        )
        with tmux_pane(tmp, ask, columns, lines, conf):
            return result.read_bytes()
