"""How fast `count_tokens` counts terminal text, and what a context costs to fill and compress.

Run: `python tests/bench/bench_tokens.py`. Prints MB/s; not part of the test suite. The text is
1 MiB of real output captured on this machine (`ls -laR /usr/lib`, `git log --stat`, `ps aux`,
`df -h`), the kind of text panes feed a context.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from engine import tokens
from engine.config import ContextConfig
from engine.context import Message, SessionContext
from engine.tokens import count_tokens, encoding_name

SIZE = 1 << 20
REPO = Path(__file__).resolve().parents[2]
COMMANDS = [
    ["ls", "-laR", "/usr/lib"],
    ["git", "-C", str(REPO), "log", "--stat", "-n", "400"],
    ["ps", "aux"],
    ["df", "-h"],
]


def terminal_text() -> str:
    """About 1 MiB, a share from each command (listings would fill it alone)."""
    share = SIZE // len(COMMANDS)
    parts = []
    for argv in COMMANDS:
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
        parts.append((done.stdout + done.stderr)[:share])
    text = "".join(parts)
    while len(text.encode()) < SIZE:  # ps and df are short: top up with the listing
        text += parts[0][: SIZE - len(text.encode())]
    return text


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    text = terminal_text()
    mb = len(text.encode()) / 1e6
    start = time.perf_counter()
    first = count_tokens(text)
    cold = time.perf_counter() - start
    warm = best_of(5, lambda: count_tokens(text))
    print(f"text: {mb:.2f} MB, {first.tokens:,} tokens ({encoding_name()})")
    print(f"count_tokens cold (loads the encoding): {cold * 1000:.0f} ms")
    print(f"count_tokens warm: {warm * 1000:.0f} ms = {mb / warm:.1f} MB/s")
    estimate = best_of(3, lambda: tokens._estimate(text))
    print(f"estimate fallback: {tokens._estimate(text):,} tokens, {mb / estimate:.1f} MB/s")

    lines = text.splitlines(keepends=True)
    chunks = ["".join(lines[i : i + 200]) for i in range(0, len(lines), 200)]
    context = SessionContext("bench", ContextConfig(max_tokens=8192))
    start = time.perf_counter()
    for n, chunk in enumerate(chunks):
        context.add_message(Message.for_command(f"step {n}", chunk, n % 3))
    elapsed = time.perf_counter() - start
    print(
        f"context: {len(chunks)} tool messages in {elapsed * 1000:.0f} ms = {mb / elapsed:.1f} MB/s"
    )
    print(f"  {context.get_summary()}")


if __name__ == "__main__":
    main()
