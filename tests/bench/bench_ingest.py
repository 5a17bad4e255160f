"""Ingest speed and scrollback memory: our terminal against tmux on the same colour-heavy log.

Run: `python tests/bench/bench_ingest.py [megabytes]` (default 14). Prints MB/s and memory for
both and the ratios (speed: ours / tmux, higher is better; memory: ours / tmux, lower is
better). Not part of the test suite: no pass/fail.

- feed: bytes through `Terminal.feed` in 64 KiB reads (the engine's read size), 200x50.
- cat: a real session running `cat log` in a 200x50 PTY, until it has exited and every byte
  was read and drawn; tmux: `cat log` in a 200x50 pane until `wait-for` says it is done.
- memory: resident memory added by 10k lines of scrollback (ours: this process; tmux: its
  server), and ours with 100k lines.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import Session, SessionConfig
from engine.terminal import Terminal

COLUMNS, LINES = 200, 50


def colour_log(size: int) -> bytes:
    """A deterministic build/service log: timestamps, levels, workers, 256-colour counters."""
    rnd = random.Random(1)
    levels = (
        ["\x1b[32mINFO\x1b[0m"] * 6
        + ["\x1b[33mWARN\x1b[0m"] * 2
        + ["\x1b[1;31mERROR\x1b[0m", "\x1b[36mDEBUG\x1b[0m"]
    )
    words = [
        "request",
        "handled",
        "user",
        "session",
        "token",
        "cache",
        "miss",
        "hit",
        "backend",
        "latency",
        "ms",
        "upstream",
        "retry",
        "connection",
        "pool",
        "worker",
        "queue",
    ]
    out, n, i = [], 0, 0
    while n < size:
        msg = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 25)))
        line = (
            f"\x1b[2m2026-11-22T05:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}\x1b[0m "
            f"{rnd.choice(levels)} \x1b[35m[worker-{i % 8}]\x1b[0m {msg} \x1b[38;5;{i % 256}m{i}\x1b[0m\n"
        )
        out.append(line)
        n += len(line)
        i += 1
    return "".join(out).encode()


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ours_feed(data: bytes) -> float:
    pty_like = data.replace(b"\n", b"\r\n")  # what a PTY with onlcr delivers
    terminal = Terminal(COLUMNS, LINES)
    start = time.perf_counter()
    for i in range(0, len(pty_like), 65536):
        terminal.feed(pty_like[i : i + 65536])
    return time.perf_counter() - start


async def ours_cat(path: Path) -> float:
    session = Session(SessionConfig(shell_command=f"cat {path}", pty_size=(LINES, COLUMNS)))
    start = time.perf_counter()
    await session.start()
    await session.wait()
    return time.perf_counter() - start


def ours_memory(path: Path, lines: int) -> int:
    """KiB of resident memory a Terminal adds while filling `lines` of scrollback (measured in
    a fresh process, so nothing else here counts)."""
    root = str(Path(__file__).resolve().parents[2])
    code = f"""
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from engine.terminal import Terminal
data = Path({str(path)!r}).read_bytes().replace(b"\\n", b"\\r\\n")
Terminal({COLUMNS}, {LINES}, scrollback=100).feed(data[:4096])  # first-use imports are not history
t = Terminal({COLUMNS}, {LINES}, scrollback={lines})
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1])
before = rss()
while len(t.scrollback) < {lines}:
    for i in range(0, len(data), 65536):
        t.feed(data[i:i + 65536])
print(rss() - before)
"""
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def tmux_cat(path: Path) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g history-limit 10000\n")
        base = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:6]}", "-f", str(conf)]
        subprocess.run(
            [*base, "new-session", "-d", "-s", "idle", "-x", str(COLUMNS), "-y", str(LINES)],
            env=env,
            check=True,
        )
        try:
            server = subprocess.run(
                [*base, "display", "-p", "#{pid}"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            before = rss_kib(server)
            start = time.perf_counter()
            subprocess.run(
                [
                    *base,
                    "new-session",
                    "-d",
                    "-x",
                    str(COLUMNS),
                    "-y",
                    str(LINES),
                    f"cat {path}; tmux wait-for -S fed; sleep 60",
                ],
                env=env,
                check=True,
            )
            subprocess.run([*base, "wait-for", "fed"], env=env, check=True)
            elapsed = time.perf_counter() - start
            return elapsed, rss_kib(server) - before
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True)


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 14
    data = colour_log(int(megabytes * 1e6))
    mb = len(data) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "colour.log")
        path.write_bytes(data)
        feed = ours_feed(data)
        cat = asyncio.run(ours_cat(path))
        tmux_time, tmux_mem = tmux_cat(path)
        mem_10k = ours_memory(path, 10_000)
        mem_100k = ours_memory(path, 100_000) if megabytes >= 14 else 0
    tmux_speed = mb / tmux_time
    print(f"colour-heavy log: {mb:.1f} MB, {COLUMNS}x{LINES}, scrollback 10k lines")
    print(f"{'':26} {'ours':>10} {'tmux':>10} {'ratio':>8}")
    print(
        f"{'Terminal.feed MB/s':26} {mb / feed:10.2f} {tmux_speed:10.2f} {mb / feed / tmux_speed:7.2f}x"
    )
    print(
        f"{'session cat MB/s':26} {mb / cat:10.2f} {tmux_speed:10.2f} {mb / cat / tmux_speed:7.2f}x"
    )
    print(
        f"{'10k-line scrollback MiB':26} {mem_10k / 1024:10.1f} {tmux_mem / 1024:10.1f} {mem_10k / max(tmux_mem, 1):7.2f}x"
    )
    if mem_100k:
        print(
            f"{'100k lines vs tmux 10k MiB':26} {mem_100k / 1024:10.1f} {tmux_mem / 1024:10.1f} {mem_100k / max(tmux_mem, 1):7.2f}x"
        )


if __name__ == "__main__":
    main()
