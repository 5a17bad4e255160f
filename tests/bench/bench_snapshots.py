"""Snapshots of a pane with 10k lines of history: save, restore, size; and the database after an
hour of a busy pane. tmux keeps no snapshots: its side is what tmux-resurrect does to save a
pane's contents (`capture-pane -e -p -S -` of the same 10k lines to a file), same run.

Run: `python tests/bench/bench_snapshots.py [rounds]`. Prints medians and ratios (ours / tmux;
below 1.0 means we are faster). Not part of the test suite: no pass/fail.

- save: `Snapshotter.take` of a live session (the image on the event loop, compression and the
  SQLite transaction in the store's thread), and the longest the event loop was held meanwhile
  (the UI's freeze).
- restore: read the snapshot back and rebuild the terminal (`Terminal.from_image`), and the whole
  `restore_pane` (a new session started on it).
- size: what the snapshot added to the database against the raw text of the pane.
- an hour: a pane printing 100 lines a second for an hour (360k lines, simulated time), an
  automatic snapshot every 60 s with retention, its recorded output kept: the file at the end.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import SessionConfig, SessionManager
from engine.snapshots import Snapshotter
from engine.store import Retention, SnapshotData, Store
from engine.terminal import Terminal

COLUMNS, LINES, HISTORY = 200, 50, 10_000


def log_lines(count: int, seed: int = 1) -> list[str]:
    """Build-log-like lines: a time, a level in colour, a path, numbers (not all alike)."""
    rng = random.Random(seed)
    words = ["compile", "link", "test", "fetch", "resolve", "cache", "hit", "miss", "ok", "done"]
    out = []
    for i in range(count):
        level = rng.choice(["\x1b[32mINFO\x1b[0m", "\x1b[33mWARN\x1b[0m", "\x1b[1;31mFAIL\x1b[0m"])
        path = "/".join(rng.choice(words) for _ in range(rng.randint(2, 5)))
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 14)))
        out.append(f"12:{i % 60:02d}:{i % 57:02d}.{i % 1000:03d} {level} src/{path}.py:{i} {text}")
    return out


LOG = log_lines(HISTORY + LINES)
RAW_TEXT = "\n".join(LOG).encode()


async def ours(rounds: int, tmp: Path) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {k: [] for k in ("save", "stall", "load", "restore", "size")}
    data = Path(tmp, "log.txt")
    data.write_text("\n".join(LOG) + "\n")
    async with SessionManager() as manager:
        store = await Store.open(Path(tmp, "db", "bench.db"))
        snapshotter = Snapshotter(manager, store, instance="bench")
        config = SessionConfig(
            shell_command=f"sh -c 'cat {data}; exec sleep 600'", pty_size=(LINES, COLUMNS)
        )
        session = await manager.create_session_with_config(config)
        await session.start()
        while len(session.terminal.scrollback) < HISTORY:
            await asyncio.sleep(0.01)
        for _ in range(rounds):
            before = (await store.stats()).stored_bytes
            stalls = [0.0]
            done = asyncio.Event()
            watcher = asyncio.create_task(_watch(done, stalls))
            await asyncio.sleep(0)  # the watcher runs before the save starts
            t0 = time.perf_counter()
            # a fresh image each round: the history's blocks are shared, the head is new
            session.terminal.feed(b"\r\n")
            snapshot_id = await snapshotter.take(session)
            figures["save"].append(time.perf_counter() - t0)
            done.set()
            await watcher
            figures["stall"].append(stalls[0])
            figures["size"].append((await store.stats()).stored_bytes - before)
            t0 = time.perf_counter()
            snapshot = await store.get_snapshot(snapshot_id)
            terminal = Terminal.from_image(snapshot.panes[0].image)
            figures["load"].append(time.perf_counter() - t0)
            assert len(terminal.scrollback) >= HISTORY - 1
            t0 = time.perf_counter()
            restored = await snapshotter.restore_pane(
                snapshot.panes[0], base=SessionConfig(shell_command="sleep 600")
            )
            figures["restore"].append(time.perf_counter() - t0)
            await manager.remove_session(restored.id)
        first = figures["size"][0]
        figures["first_size"] = [first]
        await snapshotter.close(final=False)
    return figures


async def _watch(done: asyncio.Event, stalls: list[float]) -> None:
    """The longest the event loop was held (between two of this task's turns) until `done`."""
    last = time.perf_counter()
    while not done.is_set():
        await asyncio.sleep(0)
        now = time.perf_counter()
        stalls[0], last = max(stalls[0], now - last), now


def tmux(rounds: int, tmp: Path) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"save": [], "size": []}
    data = Path(tmp, "log.txt")
    conf = Path(tmp, "tmux.conf")
    conf.write_text(f"set -g status off\nset -g history-limit {HISTORY + 100}\n")
    base = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:6]}", "-f", str(conf)]
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    run = lambda *a: subprocess.run([*base, *a], check=True, env=env, capture_output=True)  # noqa: E731
    run("new-session", "-d", "-x", str(COLUMNS), "-y", str(LINES), f"cat {data}; exec sleep 600")
    try:
        while int(run("display", "-p", "#{history_size}").stdout or 0) < HISTORY:
            time.sleep(0.01)
        out = Path(tmp, "pane.txt")
        for _ in range(rounds):
            t0 = time.perf_counter()
            with out.open("wb") as f:  # what tmux-resurrect runs to keep a pane's contents
                subprocess.run(
                    [*base, "capture-pane", "-e", "-p", "-J", "-S", "-"], stdout=f, check=True
                )
            figures["save"].append(time.perf_counter() - t0)
            figures["size"].append(out.stat().st_size)
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True)
    return figures


async def busy_hour(tmp: Path) -> tuple[int, int, int, int]:
    """An hour of 100 lines a second in simulated time: (database bytes, snapshots kept,
    recording bytes, raw bytes printed)."""
    store = await Store.open(Path(tmp, "hour", "hour.db"))
    terminal = Terminal(COLUMNS, LINES)
    lines = log_lines(6000, seed=7)
    start = datetime.now(UTC) - timedelta(hours=1)
    printed = 0
    for minute in range(60):
        chunk = "\r\n".join(lines[(minute * 97) % 1000 :][:6000]) + "\r\n"  # 6000 lines/min
        block = chunk.encode()
        terminal.feed(block)
        printed += len(block)
        pane = pane_snapshot_of(terminal)
        when = start + timedelta(minutes=minute + 1)
        await store.save_snapshot(
            SnapshotData(None, when, "workspace", "auto", "", "bench", {"windows": []}, [pane])
        )
        await store.prune(Retention(), now=when)
    stats = await store.stats()
    await store.close()
    return stats.file_bytes, stats.snapshots, stats.recording_bytes, printed


def pane_snapshot_of(terminal: Terminal):  # type: ignore[no-untyped-def]
    """A pane snapshot of a bare terminal (no session): what `pane_snapshot` stores."""
    from engine.store import PaneSnapshot

    return PaneSnapshot(
        "s", "busy", 0, "busy", 0, "/", None, {}, {}, "", COLUMNS, LINES, terminal.image(), 0, ""
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "log.txt").write_text("\n".join(LOG) + "\n")
        mine = asyncio.run(ours(rounds, Path(tmp)))
        theirs = tmux(rounds, Path(tmp))
        hour = asyncio.run(busy_hour(Path(tmp)))
    med = statistics.median
    ms = lambda xs: med(xs) * 1000  # noqa: E731
    print(
        f"pane {COLUMNS}x{LINES} with {HISTORY} lines of history ({len(RAW_TEXT) / 1e6:.2f} MB text)"
    )
    print(
        f"save    ours {ms(mine['save']):7.1f} ms   tmux capture-pane -S - {ms(theirs['save']):7.1f} ms"
        f"   ratio {med(mine['save']) / med(theirs['save']):.2f}"
    )
    print(f"event loop held at most {ms(mine['stall']):.1f} ms during a save (median of rounds)")
    print(f"load    ours {ms(mine['load']):7.1f} ms (read + Terminal.from_image)")
    print(f"restore ours {ms(mine['restore']):7.1f} ms (a new session started on the snapshot)")
    first, later = mine["first_size"][0], med(mine["size"][1:] or mine["size"])
    print(
        f"size    first snapshot {first / 1e3:.0f} kB, each later one {later / 1e3:.1f} kB "
        f"(history shared); tmux-resurrect's text file {med(theirs['size']) / 1e3:.0f} kB "
        f"(ratio {first / med(theirs['size']):.2f}, colours and all cells kept on both sides)"
    )
    size, kept, _, printed = hour
    print(
        f"an hour at 100 lines/s: {printed / 1e6:.0f} MB printed, database {size / 1e6:.1f} MB, "
        f"{kept} snapshots kept after retention"
    )


if __name__ == "__main__":
    main()
