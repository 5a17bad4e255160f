"""`cat` of a 100 MB colour log in a pane of the real app: does the UI stay responsive, does
memory stay flat? (issue 4's "done when"). tmux gets the same run for comparison.

Run: `python tests/bench/bench_bigcat.py [megabytes]` (default 100). The multiplexer runs in a
200x60 pseudo-terminal this script owns, split in two: the left pane cats the log, the right
one runs `cat`. While the log streams we type a key into the right pane every 100 ms and time
its echo on the outer terminal, and sample the multiplexer's resident memory (ours: the app
process; tmux: its server). Prints the time the cat took, echo median/max, and peak memory.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_echo import Outer, attached_tmux, env
from bench_ingest import colour_log, rss_kib


def stream(outer: Outer, done: Path, pid_of_server: int) -> tuple[float, list[float], int]:
    """Time the cat (until it touches `done`), keys echoed meanwhile, peak RSS in KiB."""
    start = time.perf_counter()
    delays: list[float] = []
    peak = rss_kib(pid_of_server)
    while not done.exists() and time.perf_counter() - start < 600:
        delays.append(outer.echo_delay())
        peak = max(peak, rss_kib(pid_of_server))
    return time.perf_counter() - start, delays, peak


def ours(log: Path, done: Path) -> tuple[float, list[float], int, int]:
    argv = [sys.executable, "-c", "from app.cli import main; main()", "bash", "--norc"]
    outer = Outer(argv, env())
    try:
        time.sleep(2.0)
        base = rss_kib(outer.proc.pid)
        outer.type("\x02%", 0.5)  # right pane, focused, runs cat
        outer.type("cat\r", 0.2)
        outer.type("\x02o", 0.2)  # left pane: start the big cat, then back
        outer.type(f"cat {log}; touch {done}\r", 0.05)
        outer.type("\x02o", 0.05)
        took, delays, peak = stream(outer, done, outer.proc.pid)
        return took, delays, base, peak
    finally:
        outer.close()


def tmux(log: Path, done: Path) -> tuple[float, list[float], int, int]:
    with attached_tmux("big") as (outer, run):
        server = int(run("display", "-p", "#{pid}").strip())
        base = rss_kib(server)
        left = run("display", "-p", "-t", "s", "#{pane_id}").strip()
        run("split-window", "-h", "-t", "s", "cat")
        time.sleep(0.3)
        run("send-keys", "-t", left, f"cat {log}; touch {done}", "Enter")
        took, delays, peak = stream(outer, done, server)
        return took, delays, base, peak


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "big.log")
        chunk = colour_log(10_000_000)
        with log.open("wb") as f:
            for _ in range(max(1, int(megabytes / 10))):
                f.write(chunk)
        size = log.stat().st_size / 1e6
        results = {}
        for name, run in (("ours", ours), ("tmux", tmux)):
            done = Path(tmp, f"done-{name}")
            results[name] = run(log, done)
    print(f"cat of a {size:.0f} MB colour log in one of two panes (200x60), keys in the other")
    print(f"{'':28} {'ours':>10} {'tmux':>10}")
    (a_took, a_d, a_base, a_peak), (b_took, b_d, b_base, b_peak) = results["ours"], results["tmux"]
    print(f"{'cat took, s':28} {a_took:10.1f} {b_took:10.1f}")
    print(f"{'MB/s':28} {size / a_took:10.1f} {size / b_took:10.1f}")
    print(f"{'keys echoed meanwhile':28} {len(a_d):10d} {len(b_d):10d}")
    print(
        f"{'echo median / max, ms':28} {statistics.median(a_d) * 1000:4.1f} / {max(a_d) * 1000:4.0f}"
        f" {statistics.median(b_d) * 1000:4.1f} / {max(b_d) * 1000:4.0f}"
    )
    print(f"{'RSS before, MiB':28} {a_base / 1024:10.1f} {b_base / 1024:10.1f}")
    print(f"{'RSS peak during, MiB':28} {a_peak / 1024:10.1f} {b_peak / 1024:10.1f}")


if __name__ == "__main__":
    main()
