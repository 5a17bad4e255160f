"""What agent-state detection costs: the screen classifier on each recorded agent CLI screen
(tests/fixtures/agents), a whole look at a pane (read the visible rows, the foreground process,
classify), and the monitor's share of the time a flooding pane takes.

Run: `python tests/bench/bench_agent_state.py`. Not part of the test suite: no pass/fail.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from engine import SessionManager  # noqa: E402
from engine.agents import CHECK_INTERVAL  # noqa: E402
from engine.agentscreen import classify_screen  # noqa: E402
from engine.config import SessionConfig  # noqa: E402
from engine.terminal import Terminal  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "agents"


def per_screen() -> None:
    screens = {p.stem: p.read_text().split("\n") for p in sorted(FIXTURES.glob("*.txt"))}
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        for lines in screens.values():
            classify_screen(lines, "claude", 5.0, cursor_row=20)
    each = (time.perf_counter() - start) / (rounds * len(screens))
    print(f"classify_screen: {each * 1e6:.0f} µs per 120x40 screen ({len(screens)} screens)")
    terminal = Terminal(120, 40)
    text = (FIXTURES / "claude_permission_bash.txt").read_text()
    terminal.feed(text.replace("\n", "\r\n").encode())
    start = time.perf_counter()
    for _ in range(rounds):
        classify_screen(terminal.display, "claude", 5.0, cursor_row=terminal.cursor.y)
    each = (time.perf_counter() - start) / rounds
    print(f"a look at a pane (visible rows + classify): {each * 1e6:.0f} µs")


async def flood() -> None:
    """`seq` printing 2 million lines in a pane: the time with the monitor's looks counted."""
    from engine import agents

    looks = 0
    spent = 0.0
    original = agents._Watch.check

    def counted(self: agents._Watch) -> None:
        nonlocal looks, spent
        start = time.perf_counter()
        original(self)
        spent += time.perf_counter() - start
        looks += 1

    agents._Watch.check = counted  # type: ignore[method-assign]
    async with SessionManager() as manager:
        config = SessionConfig(shell_command="seq 2000000", pty_size=(40, 120))
        session = await manager.create_session_with_config(config)
        start = time.perf_counter()
        await session.start()
        await session.wait()
        elapsed = time.perf_counter() - start
    agents._Watch.check = original  # type: ignore[method-assign]
    print(
        f"flood of 2M lines: {elapsed:.2f} s; {looks} looks (at most one per "
        f"{CHECK_INTERVAL * 1000:.0f} ms) took {spent * 1000:.1f} ms = {spent / elapsed:.2%}"
    )


if __name__ == "__main__":
    per_screen()
    asyncio.run(flood())
