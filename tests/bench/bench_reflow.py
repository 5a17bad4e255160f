"""How long a resize of a pane with a full history takes (a split or a zoom freezes the UI that
long): 200x50 with 10k history lines, narrowed to 100 columns and widened back, then toggled
(the blocks a toggle comes back to are reused), then a new width, then a height change.

Run: `python tests/bench/bench_reflow.py [kind ...]`. Prints CPU milliseconds per resize. Not
part of the test suite: no pass/fail. Kinds: `wide` (lines of 300 CJK characters), `ascii`
(300 letters and spaces), `short` (up to 70 characters: nothing wraps), `wide-colour` (wide,
with a colour change every ~20 characters), `prompts` (2000 shell commands marked with OSC 133,
each with a line of 160 characters among its output: the prompt marks move with the text).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.terminal import Terminal

WIDE = "日本語中文字漢字测试"


def history(kind: str, lines: int = 10_050) -> bytes:
    rng = random.Random(1)
    out = []
    for i in range(lines):
        if kind == "wide":
            out.append("".join(rng.choice(WIDE) for _ in range(300)))
        elif kind == "ascii":
            out.append("".join(rng.choice("abcdefghij klmnop") for _ in range(300)))
        elif kind == "prompts":
            if i % 5 == 0:
                out.append(f"\x1b]133;D;0\x07\x1b]133;A\x07$ \x1b]133;B\x07echo {i}\x1b]133;C\x07")
            else:
                out.append(f"output {i} " + "y" * (150 if i % 5 == 2 else 20))
        elif kind == "short":
            out.append(f"line {i} " + "x" * rng.randint(0, 60))
        else:
            out.append(
                "".join(
                    (f"\x1b[3{rng.randint(0, 7)}m" if rng.random() < 0.05 else "")
                    + rng.choice(WIDE)
                    for _ in range(300)
                )
            )
    return ("\r\n".join(out) + "\r\n").encode()


def resize_ms(t: Terminal, *sizes: tuple[int, int]) -> float:
    """CPU milliseconds `t` takes to go through `sizes` (columns, lines)."""
    start = time.process_time()
    for columns, lines in sizes:
        t.resize(columns, lines)
    return (time.process_time() - start) * 1000


def main() -> None:
    for kind in sys.argv[1:] or ["wide", "ascii", "short", "wide-colour", "prompts"]:
        t = Terminal(200, 50, scrollback=10_000)
        t.feed(history(kind))
        t.settle()
        ms = [resize_ms(t, (columns, 50)) for columns in (100, 200, 100, 200, 150)]
        height = resize_ms(t, (150, 30), (150, 50))
        print(
            f"{kind:12s} 200->100 {ms[0]:5.0f}  100->200 {ms[1]:5.0f}  toggled back "
            f"{ms[2]:4.0f} {ms[3]:4.0f}  ->150 {ms[4]:5.0f}  height 50->30->50 {height:4.0f}"
            f"  (ms CPU, history {t.history_size})"
        )


if __name__ == "__main__":
    main()
