"""Keystroke echo while four panes flood: ours (the real app, driven headless) against tmux.

Run: `python tests/bench/bench_flood.py [samples]`. Four panes run `cat` of a colour log in a
loop; a fifth runs `cat` (echoing what is typed). We time a key press until its echo is on
the fifth pane's screen: median and p99, ours / tmux. Not part of the test suite.

Target (issue 4): with four panes flooding, a keystroke in a fifth pane echoes within 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import colour_log
from textual import events

from app.main import AiSessionApp
from engine import SessionConfig

FLOOD = "while :; do cat {log}; done"
KEYS = "abcdefghijklmnopqrstuvwxyz"


async def ours(log: Path, samples: int) -> list[float]:
    app = AiSessionApp(
        SessionConfig(shell_command="bash --norc --noprofile", environment={"PS1": "$ "})
    )
    delays: list[float] = []
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.5)
        for _ in range(4):  # split while quiet: pilot waits for an idle app, floods never are
            await pilot.press("ctrl+b", "quotation_mark")
            await pilot.pause(0.3)
        app.window.apply_preset("tiled")
        await pilot.pause(0.5)
        panes = list(app.window.panes.values())
        target = app.pane
        assert target is not None and len(panes) == 5
        await target.session.send_input("cat\r")
        for pane in panes:
            if pane is not target:
                await pane.session.send_input(FLOOD.format(log=log) + "\r")
        await asyncio.sleep(1.0)
        for i in range(samples):
            key = KEYS[i % len(KEYS)]
            seen = target.session.capture_pane().count(key)
            start = time.perf_counter()
            app.post_message(events.Key(key, key))  # as the terminal driver delivers a key
            deadline = start + 5
            while (
                target.session.capture_pane().count(key) <= seen and time.perf_counter() < deadline
            ):
                await asyncio.sleep(0.0005)
            delays.append(time.perf_counter() - start)
            app.post_message(events.Key("enter", "\r"))
            await asyncio.sleep(0.02)
        for pane in panes:
            await pane.session.send_input("\x03")
    return delays


def tmux(log: Path, samples: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")} | {"PS1": "$ "}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\n")
        base = ["tmux", "-L", f"flood-{uuid.uuid4().hex[:6]}", "-f", str(conf)]

        def run(*args: str) -> str:
            return subprocess.run(
                [*base, *args], env=env, capture_output=True, text=True, check=True
            ).stdout

        run("new-session", "-d", "-s", "f", "-x", "200", "-y", "60", FLOOD.format(log=log))
        try:
            for _ in range(3):
                run("split-window", "-t", "f", FLOOD.format(log=log))
                run("select-layout", "-t", "f", "tiled")
            target = run("split-window", "-t", "f", "-P", "-F", "#{pane_id}", "cat").strip()
            run("select-layout", "-t", "f", "tiled")
            time.sleep(1.0)
            delays = []
            for i in range(samples):
                key = KEYS[i % len(KEYS)]
                seen = run("capture-pane", "-p", "-t", target).count(key)
                start = time.perf_counter()
                run("send-keys", "-t", target, key)
                while run("capture-pane", "-p", "-t", target).count(key) <= seen:
                    pass
                delays.append(time.perf_counter() - start)
                run("send-keys", "-t", target, "Enter")
                time.sleep(0.02)
            return delays
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True)


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "flood.log")
        log.write_bytes(colour_log(3_000_000))
        our = asyncio.run(ours(log, samples))
        their = tmux(log, samples)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]

    print(f"key-to-echo in a fifth pane while four panes flood ({samples} keys)")
    print(f"{'':10} {'ours ms':>10} {'tmux ms':>10} {'ratio':>8}")
    for label, f in (("median", statistics.median), ("p99", p99)):
        a, b = f(our) * 1000, f(their) * 1000
        print(f"{label:10} {a:10.1f} {b:10.1f} {a / b:7.2f}x")


if __name__ == "__main__":
    main()
