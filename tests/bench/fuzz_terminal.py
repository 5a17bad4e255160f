"""100k random streams into `Terminal.feed`: no exception, no handler error (`parser.errors`),
a screen of the right shape, and the same screen whether the stream came in one read or cut
into random reads (issue 11), and as the general path (token by token, character by
character, no fast path) leaves it. The generator is tests/terminal_streams.py's, as in the
hypothesis tests of tests/test_terminal_fuzz.py, which run a few hundred cases in CI.

Run: `python tests/bench/fuzz_terminal.py [cases] [--seed N] [--jobs N]` (default 100000 cases
from seed 0 on all CPUs). Prints the counts, and the seeds of the first failures of each kind;
`--seed S 1` replays case S. Exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from terminal_streams import random_reads, random_stream, shape_errors, state

from engine.terminal import Terminal

KINDS = (
    "exception",
    "handler error",
    "bad shape",
    "split mismatch",
    "general path mismatch",
)


def run_case(seed: int) -> tuple[int, str | None, str]:
    """One case: (seed, the kind of failure or None, detail)."""
    rng = random.Random(seed)
    size = (rng.randint(1, 30), rng.randint(1, 12))
    data = random_stream(rng)
    try:
        whole = Terminal(*size, scrollback=50)
        whole.feed(data)
        pieces = Terminal(*size, scrollback=50)
        for read in random_reads(rng, data):
            pieces.feed(read)
        if whole.parser.errors or pieces.parser.errors:
            return seed, "handler error", f"{whole.parser.errors} / {pieces.parser.errors}"
        if shape_errors(whole) or shape_errors(pieces):
            return seed, "bad shape", "; ".join(shape_errors(whole) + shape_errors(pieces))
        if state(whole) != state(pieces):
            a, b = state(whole), state(pieces)
            return seed, "split mismatch", ", ".join(k for k in a if a[k] != b[k])
        general = Terminal(*size, scrollback=50)  # token by token, character by character
        general.parser.tokens, general.screen.bulk_draw = False, False
        general.feed(data)
        if state(whole) != state(general):
            a, b = state(whole), state(general)
            return seed, "general path mismatch", ", ".join(k for k in a if a[k] != b[k])
    except Exception:
        return seed, "exception", traceback.format_exc(limit=3)
    return seed, None, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=int, nargs="?", default=100_000)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    args = parser.parse_args()
    seeds = range(args.seed, args.seed + args.cases)
    counts = dict.fromkeys(KINDS, 0)
    first: dict[str, list[tuple[int, str]]] = {kind: [] for kind in KINDS}
    start = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        for done, (seed, kind, detail) in enumerate(
            pool.imap_unordered(run_case, seeds, chunksize=64), 1
        ):
            if done % 10_000 == 0:
                print(f"{done} cases, {sum(counts.values())} failures", flush=True)
            if kind is not None:
                counts[kind] += 1
                if len(first[kind]) < 5:
                    first[kind].append((seed, detail))
    elapsed = time.perf_counter() - start
    print(f"{args.cases} cases (seeds {seeds.start}..{seeds.stop - 1}) in {elapsed:.0f} s")
    for kind in KINDS:
        print(f"  {kind}: {counts[kind]}")
        for seed, detail in first[kind]:
            print(f"    seed {seed}: {detail.strip()}")
    return 1 if any(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
