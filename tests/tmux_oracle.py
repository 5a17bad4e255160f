"""tmux as an oracle: feed it bytes in a pane of a given size and read back what it shows."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
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


def tmux_view(data: bytes, columns: int = 80, lines: int = 24) -> TmuxView:
    """Show `data` in a fresh tmux server's pane of `columns` x `lines` and capture it."""
    assert TMUX, "tmux is not installed"
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g history-limit 10000\n")
        feed = Path(tmp, "feed.bin")
        feed.write_bytes(data)
        base = [TMUX, "-S", str(Path(tmp, "tmux.sock")), "-f", str(conf)]  # gone with tmp
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        script = f"stty -echo -opost; cat {feed}; tmux wait-for -S fed; exec sleep 600"
        try:
            subprocess.run(
                [*base, "new-session", "-d", "-x", str(columns), "-y", str(lines), script],
                check=True,
                env=env,
                timeout=20,
            )
            subprocess.run([*base, "wait-for", "fed"], check=True, env=env, timeout=20)

            def tmux(*args: str) -> str:
                return subprocess.run(
                    [*base, *args], check=True, env=env, timeout=20, capture_output=True, text=True
                ).stdout

            text = tmux("capture-pane", "-p", "-S", "-")
            screen = tmux("capture-pane", "-p")
            ansi = tmux("capture-pane", "-p", "-e", "-N")
            x, y, alt = tmux("display", "-p", "#{cursor_x} #{cursor_y} #{alternate_on}").split()
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True, timeout=20)
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
    assert TMUX, "tmux is not installed"
    with tempfile.TemporaryDirectory() as tmp:
        conf_path = Path(tmp, "tmux.conf")
        conf_path.write_text("set -g status off\n" + conf)
        script, result = Path(tmp, "ask.py"), Path(tmp, "reply.bin")
        script.write_text(_ASK)
        base = [TMUX, "-S", str(Path(tmp, "tmux.sock")), "-f", str(conf_path)]
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        ask = shlex.join(
            [sys.executable, str(script), query.hex(), end.encode().hex(), str(count), str(result)]
        )
        command = f"{ask}; tmux wait-for -S asked; exec sleep 600"
        try:
            subprocess.run(
                [*base, "new-session", "-d", "-x", str(columns), "-y", str(lines), command],
                check=True,
                env=env,
                timeout=20,
            )
            subprocess.run([*base, "wait-for", "asked"], check=True, env=env, timeout=20)
            return result.read_bytes()
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True, timeout=20)
