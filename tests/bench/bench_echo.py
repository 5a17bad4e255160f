"""Key-to-echo latency as a person sees it: ours against tmux, quiet and with four panes flooding.

Run: `python tests/bench/bench_echo.py [samples]` (default 40). Each multiplexer runs inside a
200x60 pseudo-terminal this script owns, the way a terminal emulator hosts it (tmux: an
attached client). Five panes, tiled; the active one runs `cat`. We write a key to the outer
terminal and time until the multiplexer has painted its echo (the bytes of `é`, which nothing
else on screen contains), then erase it with C-u. First with the other panes idle (issue 4's
(c): median <= tmux, p99 < 16 ms), then with four panes looping `cat` of a colour log (d:
echo within 50 ms). Prints medians, p99s and ratios; not part of the test suite.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from ptyprocess import PtyProcess

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import colour_log  # noqa: E402

COLUMNS, LINES = 200, 60
MARK = "é".encode()
FLOOD = "while :; do cat {log}; done"


class Outer:
    """The terminal emulator's side: a PTY whose output a thread drains, watching for MARK."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = PtyProcess.spawn(argv, env=env, dimensions=(LINES, COLUMNS))
        self._armed = threading.Event()
        self._seen = threading.Event()
        self.seen_at = 0.0
        self.bytes = 0
        self._tail = b""
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.proc.fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            self.bytes += len(data)
            if self._armed.is_set() and MARK in self._tail + data:
                self.seen_at = time.perf_counter()
                self._armed.clear()
                self._seen.set()
            self._tail = data[-1:]

    def type(self, text: str | bytes, pause: float = 0.05) -> None:
        self.proc.write(text.encode() if isinstance(text, str) else text)
        time.sleep(pause)

    def echo_delay(self) -> float:
        """Write MARK, wait for it on screen, erase it again; seconds until it showed."""
        self._seen.clear()
        self._tail = b""
        self._armed.set()
        start = time.perf_counter()
        self.proc.write(MARK)
        if not self._seen.wait(5):
            self._armed.clear()
            return 5.0
        delay = self.seen_at - start
        self.type(b"\x15", 0.1)  # C-u: the tty erases the line, so no repaint shows MARK
        return delay

    def close(self) -> None:
        self.proc.terminate(force=True)


def env() -> dict[str, str]:
    """The environment of a multiplexer under test: a fresh data directory each time, so our
    app starts with an empty store (an earlier run's hung-up instance would have it offer a
    restore, and keys typed meanwhile go to that question)."""
    drop = ("TMUX", "TMUX_PANE")
    data = tempfile.mkdtemp(prefix="ai-session-bench-")
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    return {k: v for k, v in os.environ.items() if k not in drop} | {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PS1": "$ ",
        "XDG_DATA_HOME": data,
    }


def measure(outer: Outer, start_floods: object, samples: int) -> tuple[list[float], list[float]]:
    time.sleep(0.5)
    quiet = [outer.echo_delay() for _ in range(samples)]
    start_floods()  # type: ignore[operator]
    time.sleep(1.0)
    flooding = [outer.echo_delay() for _ in range(samples)]
    return quiet, flooding


def ours(log: Path, samples: int) -> tuple[list[float], list[float], float]:
    argv = [sys.executable, "-c", "from app.cli import main; main()", "bash", "--norc"]
    outer = Outer(argv, env())
    try:
        time.sleep(2.0)  # Python, Textual and the first pane start
        for _ in range(4):
            outer.type('\x02"', 0.3)  # C-b ": split
        outer.type("\x02:select-layout tiled\r", 0.5)
        for _ in range(4):  # C-b o to panes 1-4: start their floods (not yet)
            pass
        outer.type("cat\r", 0.2)

        def floods() -> None:
            for _ in range(4):
                outer.type("\x02o", 0.2)
                outer.type(FLOOD.format(log=log) + "\r", 0.2)
            outer.type("\x02o", 0.3)  # back to the fifth pane, running cat

        before = outer.bytes
        quiet, flooding = measure(outer, floods, samples)
        return quiet, flooding, outer.bytes - before
    finally:
        outer.close()


@contextlib.contextmanager
def attached_tmux(name: str) -> Iterator[tuple[Outer, Callable[..., str]]]:
    """A tmux server with one session ("s", running bash) attached in an `Outer`, and a
    function running tmux commands against that server; history as ours (10k lines)."""
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g escape-time 0\nset -g history-limit 10000\n")
        base = ["tmux", "-L", f"{name}-{uuid.uuid4().hex[:6]}", "-f", str(conf)]
        outer = Outer([*base, "new-session", "-s", "s", "bash --norc"], env())

        def run(*args: str) -> str:
            return subprocess.run(
                [*base, *args], env=env(), capture_output=True, text=True, check=True
            ).stdout

        try:
            time.sleep(1.0)
            yield outer, run
        finally:
            outer.close()
            subprocess.run([*base, "kill-server"], env=env(), capture_output=True)


def tmux(log: Path, samples: int) -> tuple[list[float], list[float], float]:
    with attached_tmux("echo") as (outer, run):
        panes = []
        for _ in range(4):
            panes.append(run("display", "-p", "-t", "s", "#{pane_id}").strip())
            run("split-window", "-t", "s", "bash --norc")
            run("select-layout", "-t", "s", "tiled")
        outer.type("cat\r", 0.2)

        def floods() -> None:
            for pane in panes:
                run("send-keys", "-t", pane, FLOOD.format(log=log), "Enter")

        before = outer.bytes
        quiet, flooding = measure(outer, floods, samples)
        return quiet, flooding, outer.bytes - before


def main() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed for the comparison")
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "flood.log")
        log.write_bytes(colour_log(3_000_000))
        our_quiet, our_flood, _ = ours(log, samples)
        their_quiet, their_flood, _ = tmux(log, samples)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]

    print(f"key-to-echo on the outer terminal, {COLUMNS}x{LINES}, 5 tiled panes, {samples} keys")
    print(f"{'':22} {'ours ms':>9} {'tmux ms':>9} {'ratio':>7}")
    for label, a_list, b_list in (
        ("quiet", our_quiet, their_quiet),
        ("4 panes flooding", our_flood, their_flood),
    ):
        for stat, f in (("median", statistics.median), ("p99", p99)):
            a, b = f(a_list) * 1000, f(b_list) * 1000
            print(f"{label + ' ' + stat:22} {a:9.1f} {b:9.1f} {a / b:6.2f}x")


if __name__ == "__main__":
    main()
