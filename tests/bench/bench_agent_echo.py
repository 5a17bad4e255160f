"""Key-to-echo with agents watched: 8 panes of scripted agents and the agent panels open,
against the same 8 panes in tmux and against issue 4's figure (5 quiet panes, no panels).

Run: `python tests/bench/bench_agent_echo.py [samples]` (default 30). Our app runs inside a
200x60 pseudo-terminal this script owns (bench_echo.py's `Outer`). Seven panes run an agent
script: a spinner line redrawn ten times a second (as Claude Code's "esc to interrupt" line
is) and, every two seconds, one call of the CLI (`ai-session state`, `tokens` or `msg --all`,
a new Python process each, as a shell agent pays); every fourth round it waits at a
`(y/n)` prompt for two seconds. The eighth pane runs `cat`, and we time the echo of a key
typed into it with each panel open in turn (C-b a agents, C-b e messages, C-b u tokens,
C-b y decisions), then with all four open, stacked in the sidebar; last, typed into an
agent's pane while its spinner redraws (as one types to an agent at work). In tmux the
same script runs (its CLI calls reach no instance and fail fast: the same processes). Prints medians, p99s and ratios; not part of the test suite.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_echo import ROOT, Outer, attached_tmux, env

AI = str(Path(sys.executable).parent / "ai-session")
AGENT = r"""
spin='|/-\'; i=0
while :; do
  for t in $(seq 20); do printf '\r%s thinking... (esc to interrupt) %s' "${spin:t%4:1}" $i; sleep 0.1; done
  printf '\n'
  case $((i % 3)) in
    0) {ai} state working --reason "step $i" 2>/dev/null ;;
    1) {ai} tokens --input $((i * 100)) --output $((i * 20)) >/dev/null 2>&1 ;;
    2) {ai} msg --all --type status_update "step $i done" >/dev/null 2>&1 ;;
  esac
  if [ $((i % 4)) = 3 ]; then read -t 2 -p "Apply step $i? (y/n) " a; echo; fi
  i=$((i + 1))
done
"""
PANELS = {"agents": "a", "messages": "e", "tokens": "u", "decisions": "y"}


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


def _script(tmp: str) -> Path:
    path = Path(tmp, "agent.sh")
    path.write_text(AGENT.replace("{ai}", AI))
    return path


def ours(tmp: str, samples: int) -> dict[str, list[float]]:
    """Each panel open in turn over 8 panes, then all four; first the 5 quiet panes of issue
    4's figure. `cat` runs in pane 0, the agents in panes 1-7."""
    argv = [sys.executable, "-c", "from app.cli import main; main()", "bash", "--norc"]
    out: dict[str, list[float]] = {}
    outer = Outer(argv, env() | {"PYTHONPATH": str(ROOT)})  # env(): a fresh store
    try:
        time.sleep(2.0)
        for _ in range(4):
            outer.type('\x02"', 0.3)
        outer.type("\x02:select-layout tiled\r", 0.5)
        outer.type("\x02:select-pane -t 0\r", 0.3)
        outer.type("cat\r", 0.5)
        out["5 quiet panes, no panel"] = [outer.echo_delay() for _ in range(samples)]
        for _ in range(3):  # split from pane 0: the new panes come after it
            outer.type('\x02"', 0.3)
        outer.type("\x02:select-layout tiled\r", 0.5)
        for pane in range(1, 8):
            outer.type(f"\x02:select-pane -t {pane}\r", 0.3)
            outer.type(f"bash {_script(tmp)}\r", 0.2)
        outer.type("\x02:select-pane -t 0\r", 0.3)  # back to cat
        time.sleep(2.0)
        out["8 agent panes, no panel"] = [outer.echo_delay() for _ in range(samples)]
        for name, key in PANELS.items():
            outer.type(f"\x02{key}", 0.5)  # open it: it takes the focus
            outer.type("\x02:select-pane -t 0\r", 0.5)  # back to the pane, panel stays
            out[f"8 agent panes, {name} panel"] = [outer.echo_delay() for _ in range(samples)]
            outer.type(f"\x02{key}", 0.3)  # focus the panel
            outer.type(f"\x02{key}", 0.5)  # close it
            outer.type("\x02:select-pane -t 0\r", 0.3)
        for key in PANELS.values():  # then all four at once, stacked in the sidebar
            outer.type(f"\x02{key}", 0.5)
        outer.type("\x02:select-pane -t 0\r", 0.5)
        out["8 agent panes, all 4 panels"] = [outer.echo_delay() for _ in range(samples)]
        outer.type("\x02:select-pane -t 1\r", 0.5)  # typing into an agent at work
        out["into an agent's pane, all 4 panels"] = [outer.echo_delay() for _ in range(samples)]
        return out
    finally:
        outer.close()


def tmux(tmp: str, samples: int) -> dict[str, list[float]]:
    with attached_tmux("agents") as (outer, run):
        for _ in range(7):
            run("split-window", "-t", "s", f"bash --norc {_script(tmp)}")
            run("select-layout", "-t", "s", "tiled")
        run("select-pane", "-t", "s:0.0")
        outer.type("cat\r", 0.5)
        time.sleep(2.0)
        out = {"8 agent panes": [outer.echo_delay() for _ in range(samples)]}
        run("select-pane", "-t", "s:0.1")
        out["into an agent's pane"] = [outer.echo_delay() for _ in range(samples)]
        return out


def main() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed for the comparison")
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        theirs = tmux(tmp, samples)
        mine = ours(tmp, samples)
    print(f"key-to-echo, 200x60, {samples} keys")
    print(f"{'':36} {'median ms':>9} {'p99 ms':>8} {'median/tmux':>12}")
    for label, xs in theirs.items():
        print(f"{'tmux, ' + label:36} {statistics.median(xs) * 1000:9.1f} {p99(xs) * 1000:8.1f}")
    for label, xs in mine.items():
        base = theirs["into an agent's pane" if label.startswith("into") else "8 agent panes"]
        median = statistics.median(xs) * 1000
        ratio = median / (statistics.median(base) * 1000)
        print(f"{'ours, ' + label:36} {median:9.1f} {p99(xs) * 1000:8.1f} {ratio:11.2f}x")


if __name__ == "__main__":
    main()
