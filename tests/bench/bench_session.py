"""Session start and command round-trip: our engine against tmux, same machine, same run.

Run: `python tests/bench/bench_session.py [rounds]`. Prints medians and ratios (ours / tmux;
below 1.0 means we are faster). Not part of the test suite: no pass/fail.

- start: from "create" to a shell prompt on screen (ours: Session.start + prompt in the terminal
  model; tmux: new-session -d + the prompt in capture-pane).
- execute: one `true` with its exit code known (ours: Session.execute; tmux: send-keys of
  `true; tmux wait-for -S ch` then wait-for, the usual way scripts drive tmux); then the same
  with the command's record in the session's AI context (enable_ai_features), and both again
  for `seq 1 20000` (a command record of 20000 lines, compressed).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import Session, SessionConfig

BASH = "bash --norc --noprofile"
ENV = {"PS1": "$ "}


async def ours(
    rounds: int, command: str = "true", ai: bool = False
) -> tuple[list[float], list[float]]:
    """With `ai`, an execute ends when its record is in the session's AI context too (the
    output compressed into a Tool message): the whole pipeline an agent's pane pays."""
    starts, execs = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        session = Session(SessionConfig(shell_command=BASH, environment=ENV, enable_ai_features=ai))
        await session.start()
        deadline = time.monotonic() + 10
        while "$" not in session.capture_pane():
            if time.monotonic() > deadline:
                sys.exit("our session never showed a prompt")
            await asyncio.sleep(0.0005)
        starts.append(time.perf_counter() - t0)
        for _ in range(5):
            t0 = time.perf_counter()
            held = session.context.get_message_count() if session.context else 0
            result = await session.execute(command)
            assert result.exit_code == 0
            while session.context and session.context.get_message_count() == held:
                await asyncio.sleep(0.0005)
            execs.append(time.perf_counter() - t0)
        await session.stop()
    return starts, execs


def tmux(rounds: int, command: str = "true") -> tuple[list[float], list[float]]:
    starts, execs = [], []
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")} | ENV
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\n")
        base = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:6]}", "-f", str(conf)]
        subprocess.run(
            [*base, "start-server", ";", "new-session", "-d", "-s", "keep"], env=env, check=True
        )
        try:
            for i in range(rounds):
                name = f"s{i}"
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        *base,
                        "new-session",
                        "-d",
                        "-s",
                        name,
                        "-x",
                        "80",
                        "-y",
                        "24",
                        "-e",
                        "PS1=$ ",
                        *BASH.split(),
                    ],
                    env=env,
                    check=True,
                )
                deadline = time.monotonic() + 10
                while (
                    "$"
                    not in subprocess.run(
                        [*base, "capture-pane", "-p", "-t", name],
                        env=env,
                        capture_output=True,
                        text=True,
                    ).stdout
                ):
                    if time.monotonic() > deadline:
                        sys.exit(
                            "tmux never showed a prompt: "
                            + subprocess.run(
                                [*base, "capture-pane", "-p", "-t", name],
                                env=env,
                                capture_output=True,
                                text=True,
                            ).stdout[:200]
                        )
                    time.sleep(0.0005)
                starts.append(time.perf_counter() - t0)
                for j in range(5):
                    channel = f"c{i}-{j}"
                    t0 = time.perf_counter()
                    subprocess.run(
                        [
                            *base,
                            "send-keys",
                            "-t",
                            name,
                            f"{command}; tmux wait-for -S {channel}",
                            "Enter",
                        ],
                        env=env,
                        check=True,
                    )
                    subprocess.run([*base, "wait-for", channel], env=env, check=True)
                    execs.append(time.perf_counter() - t0)
                subprocess.run([*base, "kill-session", "-t", name], env=env, check=True)
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True)
    return starts, execs


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed: nothing to compare with")
    flood = "seq 1 20000"
    our_start, our_exec = asyncio.run(ours(rounds))
    _, our_ai = asyncio.run(ours(rounds, ai=True))
    _, our_flood = asyncio.run(ours(rounds, flood))
    _, our_flood_ai = asyncio.run(ours(rounds, flood, ai=True))
    tmux_start, tmux_exec = tmux(rounds)
    _, tmux_flood = tmux(rounds, flood)
    print(
        f"{'':24} {'ours ms':>10} {'tmux ms':>10} {'ratio':>8}   "
        f"(median of {rounds} starts, {5 * rounds} executes)"
    )
    for label, a, b in (
        ("start", our_start, tmux_start),
        ("execute true", our_exec, tmux_exec),
        ("  + record, AI context", our_ai, tmux_exec),
        (f"execute {flood}", our_flood, tmux_flood),
        ("  + record, AI context", our_flood_ai, tmux_flood),
    ):
        ma, mb = statistics.median(a) * 1000, statistics.median(b) * 1000
        print(f"{label:24} {ma:10.2f} {mb:10.2f} {ma / mb:8.2f}x")


if __name__ == "__main__":
    main()
