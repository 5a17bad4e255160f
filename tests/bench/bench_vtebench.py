"""alacritty/vtebench's workloads: our terminal model against tmux 3.3a on the same bytes.

Run: `python tests/bench/bench_vtebench.py [--mb 2] [--only NAME,...] [--session] [--no-tmux]
[--vtebench DIR]`. Prints MB/s for ours and tmux and the ratio (ours / tmux, higher is better).
Not part of the test suite: no pass/fail.

The streams are made as vtebench makes them for a 200x50 terminal (its `setup` and `benchmark`
scripts, rewritten here as generators; run by /bin/sh, so `{0..100000}` is one iteration): `ESC c`,
the setup, then the benchmark's output repeated to at least `--mb` megabytes, LF as CR LF (what a
PTY with onlcr delivers; the file `cat` writes to a PTY keeps LF). medium_cells, sync_medium_cells and unicode replay files that ship with
vtebench: give its checkout (a git directory works: `fetch github:alacritty/vtebench`), or they are
skipped; nothing is downloaded.

- ours: the bytes through `Terminal.feed` in 64 KiB reads (the engine's read size), then `settle()`
  (what a reader of the screen forces), in this process.
- session (--session): a real `Session` running `cat FILE` in a 200x50 PTY until it has exited
  and every byte was parsed, minus the same for an empty file (spawn cost).
- tmux: `cat FILE` in a fresh 200x50 pane until `wait-for` says it is done, minus the same for an
  empty file; the median of three runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import Session, SessionConfig
from engine.terminal import Terminal

COLUMNS, LINES = 200, 50
MIRROR = Path("/work/.mirror/alacritty+vtebench/repo")


def _cursor_motion(columns: int, lines: int) -> Iterator[str]:
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        c0, c1, l0, l1 = 1, columns, 1, lines
        while True:
            col, line = c0, l0
            while col < c1:
                yield f"\x1b[{line};{col}H{char}"
                col += 1
            while line < l1:
                yield f"\x1b[{line};{col}H{char}"
                line += 1
            while col > c0:
                yield f"\x1b[{line};{col}H{char}"
                col -= 1
            while line > l0:
                yield f"\x1b[{line};{col}H{char}"
                line -= 1
            c0, l0, c1, l1 = c0 + 1, l0 + 1, c1 - 1, l1 - 1
            if c0 > c1 or l0 > l1:
                break


def _dense_cells(columns: int, lines: int) -> Iterator[str]:
    for offset, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        yield "\x1b[H"
        for line in range(1, lines + 1):
            for column in range(1, columns + 1):
                index = line + column + offset
                fg, bg = index % 156 + 100, 255 - index % 156 + 100
                yield f"\x1b[38;5;{fg};48;5;{bg};1;3;4m{char}"


def _light_cells(columns: int, lines: int) -> Iterator[str]:
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        yield "\x1b[H" + char * (columns * lines)


def _fullscreen(columns: int, lines: int) -> Iterator[str]:
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        yield char * columns + "\n"


def _file(path: str) -> Callable[[Path | None], bytes | None]:
    def read(vtebench: Path | None) -> bytes | None:
        if vtebench is None:
            return None
        if (vtebench / path).is_file():
            return (vtebench / path).read_bytes()
        done = subprocess.run(
            ["git", f"--git-dir={vtebench}", "show", f"HEAD:{path}"], capture_output=True
        )
        return done.stdout if done.returncode == 0 else None

    return read


def workloads(
    columns: int = COLUMNS, lines: int = LINES, vtebench: Path | None = None
) -> dict[str, tuple[bytes, bytes | None]]:
    """name -> (setup, benchmark output), as vtebench's scripts print them (LF not yet CR LF);
    the benchmark is None when its file is not at hand."""
    y = b"y\n"
    alt = b"\x1b[?1049h"
    text = {
        "cursor_motion": (b"", "".join(_cursor_motion(columns, lines)).encode()),
        "dense_cells": (alt, "".join(_dense_cells(columns, lines)).encode()),
        "light_cells": (alt, "".join(_light_cells(columns, lines)).encode()),
        "scrolling": (y, y),
        "scrolling_bottom_region": (alt + b"\x1b[1;%dr" % (lines - 1), y),
        "scrolling_bottom_small_region": (alt + b"\x1b[1;%dr" % (lines // 2), y),
        "scrolling_fullscreen": (y, "".join(_fullscreen(columns, lines)).encode()),
        "scrolling_top_region": (alt + b"\x1b[2;%dr" % lines, y),
        "scrolling_top_small_region": (alt + b"\x1b[%d;%dr" % (lines // 2, lines), y),
    }
    files = {
        "medium_cells": (b"", _file("benchmarks/medium_cells/vim_session")(vtebench)),
        "sync_medium_cells": (b"", _file("benchmarks/sync_medium_cells/vim_session")(vtebench)),
        "unicode": (alt, _file("benchmarks/unicode/symbols")(vtebench)),
    }
    return dict(sorted({**text, **files}.items()))


def stream(setup: bytes, benchmark: bytes, size: int, onlcr: bool = True) -> bytes:
    """What the program writes: reset, setup, the benchmark repeated to `size` bytes; with
    `onlcr`, LF as CR LF: what the terminal receives through a PTY."""
    count = (size - 1) // len(benchmark) + 1
    data = b"\x1bc" + setup + benchmark * count
    return data.replace(b"\n", b"\r\n") if onlcr else data


def ours(data: bytes) -> float:
    terminal = Terminal(COLUMNS, LINES)
    start = time.perf_counter()
    for i in range(0, len(data), 65536):
        terminal.feed(data[i : i + 65536])
    terminal.settle()
    return time.perf_counter() - start


async def _session_cat(path: Path) -> float:
    session = Session(SessionConfig(shell_command=["cat", str(path)], pty_size=(LINES, COLUMNS)))
    start = time.perf_counter()
    await session.start()
    await session.wait()
    session.terminal.settle()
    return time.perf_counter() - start


def session(path: Path, empty: Path) -> float:
    runs = [asyncio.run(_session_cat(path)) for _ in range(3)]
    base = [asyncio.run(_session_cat(empty)) for _ in range(3)]
    return max(statistics.median(runs) - statistics.median(base), 1e-6)


def tmux(path: Path, empty: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g history-limit 10000\n")
        base = ["tmux", "-L", f"vtebench-{uuid.uuid4().hex[:6]}", "-f", str(conf)]
        size = ["-x", str(COLUMNS), "-y", str(LINES)]
        subprocess.run([*base, "new-session", "-d", "-s", "idle", *size], env=env, check=True)

        def run(file: Path) -> float:
            channel = uuid.uuid4().hex[:8]
            start = time.perf_counter()
            command = f"cat {file}; tmux wait-for -S {channel}; sleep 60"
            subprocess.run([*base, "new-session", "-d", *size, command], env=env, check=True)
            subprocess.run([*base, "wait-for", channel], env=env, check=True)
            return time.perf_counter() - start

        try:
            runs = [run(path) for _ in range(3)]
            empties = [run(empty) for _ in range(3)]
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True)
    return max(statistics.median(runs) - statistics.median(empties), 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="benchmark bytes per workload")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--session", action="store_true", help="also end to end via a Session")
    parser.add_argument("--no-tmux", action="store_true", help="ours only")
    parser.add_argument("--vtebench", type=Path, default=MIRROR if MIRROR.exists() else None)
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    size = int(args.mb * 1e6)
    header = f"{'workload':30} {'MB':>5} {'ours MB/s':>10}"
    if args.session:
        header += f" {'session':>9}"
    if not args.no_tmux:
        header += f" {'tmux MB/s':>10} {'ratio':>7}"
        if args.session:
            header += f" {'session':>8}"
    print(f"vtebench workloads, {COLUMNS}x{LINES}, >= {args.mb} MB each")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp, "empty")
        empty.write_bytes(b"")
        for name, (setup, benchmark) in workloads(vtebench=args.vtebench).items():
            if only and name not in only:
                continue
            if benchmark is None:
                print(f"{name:30} skipped: give --vtebench DIR (its files are not at hand)")
                continue
            data = stream(setup, benchmark, size)
            mb = len(data) / 1e6
            path = Path(tmp, name)
            path.write_bytes(stream(setup, benchmark, size, onlcr=False))  # `cat` to a PTY
            speed = mb / min(ours(data) for _ in range(2))
            line = f"{name:30} {mb:5.1f} {speed:10.2f}"
            session_speed = 0.0
            if args.session:
                session_speed = mb / session(path, empty)
                line += f" {session_speed:9.2f}"
            if not args.no_tmux:
                theirs = mb / tmux(path, empty)
                line += f" {theirs:10.2f} {speed / theirs:6.2f}x"
                if args.session:
                    line += f" {session_speed / theirs:7.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
