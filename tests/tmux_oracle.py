"""tmux as an oracle: feed it bytes in a pane of a given size and read back what it shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
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
        socket = f"ais-oracle-{uuid.uuid4().hex[:8]}"
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g history-limit 10000\n")
        feed = Path(tmp, "feed.bin")
        feed.write_bytes(data)
        base = [TMUX, "-L", socket, "-f", str(conf)]
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
