"""What output recording costs: a 10 MB `cat` through a session with and without it.

Run: `python tests/bench/bench_recording.py [--rounds N]`. Not part of the test suite: no
pass/fail. Prints the session's throughput both ways (best and median of N alternating runs,
the PTY and parser included), the recorder's own rate (its event handler fed the same output
in 16 KiB pieces, as reads arrive), the stored size, and how fast the recording replays.
The log repeats one block of lines, so its compression ratio flatters; random text would
compress about 1.3x, a shell's usual output 5-10x.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from engine import Session, SessionConfig
from engine.recording import RecordedOutput, Recorder, events, replay
from engine.session import OutputEvent

SIZE = 10_000_000


def make_log(path: Path) -> None:
    rows = "".join(f"\x1b[36m{i:06d}\x1b[0m {'log line text ' * 8}\n" for i in range(100_000))
    path.write_text(rows[:SIZE])


async def cat(path: Path, record: bool) -> tuple[float, Session]:
    config = SessionConfig(shell_command=f"cat {path}", pty_size=(50, 200), record_output=record)
    session = Session(config)
    started = time.perf_counter()
    await session.start()
    await session.wait()
    return time.perf_counter() - started, session


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "10mb.log"
        make_log(path)
        times: dict[bool, list[float]] = {False: [], True: []}
        recorded: Session | None = None
        for _ in range(rounds):
            for record in (False, True):
                elapsed, session = await cat(path, record)
                times[record].append(elapsed)
                recorded = session if record else recorded
        for record in (False, True):
            best, median = min(times[record]), statistics.median(times[record])
            print(
                f"cat 10 MB, record_output={record!s:5}: best {SIZE / best / 1e6:5.1f} MB/s, "
                f"median {SIZE / median / 1e6:5.1f} MB/s"
            )
        assert recorded is not None and recorded.recorder is not None
        blocks = recorded.recorder.blocks()
        kept = sum(len(e.data) for e in events(blocks) if isinstance(e, RecordedOutput))
        assert kept == recorded.output_offset, "the recording lost output"

        data = path.read_bytes()
        recorder = Recorder(Session(SessionConfig(record_output=False)), seal_after=None)
        started = time.perf_counter()
        for i in range(0, len(data), 16384):
            recorder._event(OutputEvent(data[i : i + 16384], i))  # as the session calls it
        recorder.flush()
        elapsed = time.perf_counter() - started
        stored = recorder.stored_bytes + recorder.dropped_bytes
        print(
            f"recorder alone: {SIZE / elapsed / 1e6:.0f} MB/s ({elapsed * 1000:.0f} ms per 10 MB); "
            f"stored {stored} bytes ({SIZE / stored:.0f}x smaller) in {len(recorder.blocks())} blocks"
        )
        started = time.perf_counter()
        term = replay(blocks)
        elapsed = time.perf_counter() - started
        same = term.capture(ansi=True, start="-") == recorded.terminal.capture(ansi=True, start="-")
        print(f"replay of the recorded cat: {elapsed:.2f} s, equal to the live terminal: {same}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
