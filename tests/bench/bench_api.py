"""The API an orchestrator drives, and the CLI, against tmux: same machine, same run.

Run: `python tests/bench/bench_api.py [--quick]`. Prints p50/p99 and ratios (ours / tmux; below
1.0 means we are faster). Not part of the test suite: no pass/fail. Ours is a real
`ai-session server` (its control socket); tmux a private server (`tmux -L`). Shells are
`bash --norc` with a one-line ~/.bashrc in a temp HOME (the user's rc files can stall).

- create: 100 sessions at once (ours: concurrent POST /sessions; tmux: 100 concurrent
  `tmux new-session -d`), each call's time.
- execute: one `echo` in each of 50 sessions at once, three rounds (ours: POST .../execute;
  tmux: the usual workaround, send-keys `cmd; tmux wait-for -S chN` + `wait-for chN` +
  `capture-pane -p`).
- /health while 5 sessions flood (`yes`) and 20 WebSocket /stream readers (another process)
  watch them; the same quiet for reference. tmux has no counterpart.
- CLI: `ai-session list-sessions` / `capture-pane` / `send-keys` against `tmux list-sessions` /
  `capture-pane -p` / `send-keys`, a new process each (what a script pays), with the package's
  bytecode compiled as an install leaves it; Python's own start for reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AI = str(BIN / "ai-session")
SHELL = ["bash", "--norc"]


def p50(xs: list[float]) -> float:
    return statistics.median(xs)


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


class Bench:
    """The temp HOME, the environment both multiplexers run in, our server and a tmux one."""

    def __init__(self, home: Path) -> None:
        self.home = home
        (home / ".bashrc").write_text('PS1="$ "\n')
        (home / "run").mkdir(mode=0o700)
        drop = ("TMUX", "TMUX_PANE", "AI_SESSION_SOCKET", "AI_SESSION_TOKEN")
        self.env = {k: v for k, v in os.environ.items() if k not in drop} | {
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "SHELL": "/bin/bash",
            "PS1": "$ ",
            "LANG": "C.UTF-8",
        }
        self.tmux = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:6]}", "-f", "/dev/null"]
        self.socket = ""

    @contextlib.contextmanager
    def servers(self) -> Iterator[None]:
        proc = subprocess.Popen(
            [AI, "server", "--port", "0", "--rate", "1000000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=self.home,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if " and " not in line:
            sys.exit(f"ai-session server did not start: {line}{proc.stdout.read()}")
        self.socket = line.rsplit(" and ", 1)[1].strip()
        self.run_tmux("new-session", "-d", "-s", "keep", "-x", "80", "-y", "24", *SHELL)
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            subprocess.run([*self.tmux, "kill-server"], env=self.env, capture_output=True)

    def run_tmux(self, *args: str) -> str:
        return subprocess.run(
            [*self.tmux, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout

    async def tmux_async(self, *args: str) -> float:
        """One tmux command as its own process, as a script runs it; seconds it took."""
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *self.tmux, *args, env=self.env, stdout=asyncio.subprocess.DEVNULL
        )
        if await proc.wait():
            raise RuntimeError(f"tmux {args} failed")
        return time.perf_counter() - t0

    def http(self) -> aiohttp.ClientSession:
        connector = aiohttp.UnixConnector(path=self.socket, limit=0)
        return aiohttp.ClientSession(
            "http://ai-session", connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        )


async def call(http: aiohttp.ClientSession, method: str, path: str, body: Any = None) -> Any:
    async with http.request(method, path, json=body) as r:
        data = await r.json()
        if r.status >= 400:
            raise RuntimeError(f"{method} {path}: {r.status} {data}")
        return data


async def create(http: aiohttp.ClientSession, name: str, command: list[str] | str) -> float:
    """POST /sessions; the command as argv (a list), or as a string where the instance takes
    only strings. Seconds it took."""
    t0 = time.perf_counter()
    body = {"name": name, "command": command, "environment": {"PS1": "$ "}}
    async with http.post("/sessions", json=body) as r:
        data = await r.json()
        if r.status == 400 and isinstance(command, list) and "command" in str(data):
            return await create(http, name, " ".join(command))
        if r.status >= 400:
            raise RuntimeError(f"create {name}: {r.status} {data}")
    return time.perf_counter() - t0


async def at_prompt(http: aiohttp.ClientSession, names: list[str]) -> None:
    async def one(name: str) -> None:
        deadline = time.monotonic() + 30
        while "$" not in (await call(http, "GET", f"/sessions/{name}/screen"))["screen"]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: no prompt")
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(n) for n in names))


def tmux_at_prompt(bench: Bench, names: list[str]) -> None:
    for name in names:
        deadline = time.monotonic() + 30
        while "$" not in bench.run_tmux("capture-pane", "-p", "-t", name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"tmux {name}: no prompt")
            time.sleep(0.05)


# -- create ----------------------------------------------------------------------------------------


async def bench_create(bench: Bench, n: int) -> tuple[list[float], list[float]]:
    async with bench.http() as http:
        ours = await asyncio.gather(*(create(http, f"c{i}", SHELL) for i in range(n)))
        await asyncio.gather(*(call(http, "DELETE", f"/sessions/c{i}") for i in range(n)))
    theirs = await asyncio.gather(
        *(
            bench.tmux_async("new-session", "-d", "-s", f"c{i}", "-x", "80", "-y", "24", *SHELL)
            for i in range(n)
        )
    )
    await asyncio.gather(*(bench.tmux_async("kill-session", "-t", f"c{i}") for i in range(n)))
    return list(ours), list(theirs)


# -- execute ---------------------------------------------------------------------------------------


async def bench_execute(bench: Bench, n: int, rounds: int) -> tuple[list[float], list[float]]:
    names = [f"x{i}" for i in range(n)]
    ours: list[float] = []
    async with bench.http() as http:
        await asyncio.gather(*(create(http, name, SHELL) for name in names))
        await at_prompt(http, names)

        async def execute(name: str, round_: int) -> float:
            t0 = time.perf_counter()
            result = await call(
                http, "POST", f"/sessions/{name}/execute", {"command": f"echo {name}-{round_}"}
            )
            if result["exit_code"] != 0 or f"{name}-{round_}" not in result["output"]:
                raise RuntimeError(f"execute in {name}: {result}")
            return time.perf_counter() - t0

        for round_ in range(rounds):
            ours += await asyncio.gather(*(execute(name, round_) for name in names))
        await asyncio.gather(*(call(http, "DELETE", f"/sessions/{name}") for name in names))

    for name in names:
        bench.run_tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *SHELL)
    tmux_at_prompt(bench, names)

    async def workaround(name: str, round_: int) -> float:
        channel = f"{name}-{round_}-{uuid.uuid4().hex[:4]}"
        t0 = time.perf_counter()
        await bench.tmux_async(
            "send-keys", "-t", name, f"echo {name}-{round_}; tmux wait-for -S {channel}", "Enter"
        )
        await bench.tmux_async("wait-for", channel)
        proc = await asyncio.create_subprocess_exec(
            *bench.tmux,
            "capture-pane",
            "-p",
            "-t",
            name,
            env=bench.env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        elapsed = time.perf_counter() - t0
        if f"{name}-{round_}" not in out.decode():
            raise RuntimeError(f"tmux {name}: no output")
        return elapsed

    theirs: list[float] = []
    for round_ in range(rounds):
        theirs += await asyncio.gather(*(workaround(name, round_) for name in names))
    for name in names:
        bench.run_tmux("kill-session", "-t", name)
    return ours, theirs


# -- /health under load ----------------------------------------------------------------------------

READERS = """
import asyncio, sys, aiohttp
async def main(socket, names, per):
    done = 0
    async def read(name):
        nonlocal done
        connector = aiohttp.UnixConnector(path=socket)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.ws_connect(f"http://x/sessions/{name}/stream") as ws:
                print("ready", flush=True)
                async for message in ws:
                    done += len(message.data)
    await asyncio.gather(*(read(n) for n in names for _ in range(per)))
asyncio.run(main(sys.argv[1], sys.argv[3:], int(sys.argv[2])))
"""


async def bench_health(bench: Bench, samples: int) -> tuple[list[float], list[float], int]:
    async with bench.http() as http:

        async def health() -> list[float]:
            times = []
            for _ in range(samples):
                t0 = time.perf_counter()
                await call(http, "GET", "/health")
                times.append(time.perf_counter() - t0)
                await asyncio.sleep(0.01)
            return times

        quiet = await health()
        names = [f"flood{i}" for i in range(5)]
        await asyncio.gather(*(create(http, name, ["yes"]) for name in names))
        readers = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            READERS,
            bench.socket,
            "4",
            *names,
            stdout=asyncio.subprocess.PIPE,
        )
        assert readers.stdout is not None
        for _ in range(20):
            await readers.stdout.readline()
        await asyncio.sleep(1.0)
        loaded = await health()
        produced = 0
        for name in names:  # `next`: the offset of the next byte, i.e. how much was produced
            output = await call(http, "GET", f"/sessions/{name}/output?since=0")
            produced += int(output.get("next", 0))
        readers.kill()
        await readers.wait()
        await asyncio.gather(*(call(http, "DELETE", f"/sessions/{name}") for name in names))
    return quiet, loaded, produced


# -- the CLI ---------------------------------------------------------------------------------------


def bench_cli(bench: Bench, runs: int) -> list[tuple[str, list[float], list[float] | None]]:
    """Each command `runs` times as a new process, ours and tmux's alternating."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "app"), str(ROOT / "engine")],
        check=True,
    )
    env = bench.env | {"AI_SESSION_SOCKET": bench.socket}

    async def prepare() -> None:
        async with bench.http() as http:
            await create(http, "cli", ["cat"])

    asyncio.run(prepare())
    bench.run_tmux("new-session", "-d", "-s", "cli", "-x", "80", "-y", "24", "cat")
    pairs = [
        ("list-sessions", [AI, "list-sessions"], [*bench.tmux, "list-sessions"]),
        (
            "capture-pane",
            [AI, "capture-pane", "-p", "-t", "cli"],
            [*bench.tmux, "capture-pane", "-p", "-t", "cli"],
        ),
        (
            "send-keys",
            [AI, "send-keys", "-t", "cli", "x"],
            [*bench.tmux, "send-keys", "-t", "cli", "x"],
        ),
    ]

    def timed(argv: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t0

    results: list[tuple[str, list[float], list[float] | None]] = []
    for label, ours_argv, tmux_argv in pairs:
        timed(ours_argv)  # warm the caches
        timed(tmux_argv)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(timed(ours_argv))
            theirs.append(timed(tmux_argv))
        results.append((label, ours, theirs))
    for label, code in (("python -c pass", "pass"), ("python: import re, json", "import re, json")):
        times = [timed([sys.executable, "-c", code]) for _ in range(runs)]
        results.append((label, times, None))
    return results


# -- the report ------------------------------------------------------------------------------------


def row(label: str, ours: list[float], theirs: list[float] | None) -> str:
    a50, a99 = p50(ours) * 1000, p99(ours) * 1000
    if theirs is None:
        return f"{label:38} {a50:8.1f} {a99:8.1f} {'':>8} {'':>8}"
    b50, b99 = p50(theirs) * 1000, p99(theirs) * 1000
    return (
        f"{label:38} {a50:8.1f} {a99:8.1f} {b50:8.1f} {b99:8.1f}"
        f"  {a50 / b50:6.2f}x {a99 / b99:6.2f}x"
    )


def main() -> None:
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed: nothing to compare with")
    quick = "--quick" in sys.argv
    n_create, n_exec, rounds = (20, 10, 1) if quick else (100, 50, 3)
    cli_runs, health_samples = (10, 50) if quick else (40, 300)
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        with bench.servers():
            create_ours, create_tmux = asyncio.run(bench_create(bench, n_create))
            exec_ours, exec_tmux = asyncio.run(bench_execute(bench, n_exec, rounds))
            quiet, loaded, flooded = asyncio.run(bench_health(bench, health_samples))
            cli = bench_cli(bench, cli_runs)
    header = f"{'':38} {'ours p50':>8} {'p99':>8} {'tmux p50':>8} {'p99':>8}  {'ratio p50':>7} {'p99':>7}"
    print(f"times in ms; ratio = ours / tmux (below 1: ours faster); {os.cpu_count()} CPUs")
    print(header)
    print(row(f"create, {n_create} at once", create_ours, create_tmux))
    print(row(f"execute, {n_exec} at once x{rounds}", exec_ours, exec_tmux))
    print(row("/health, quiet", quiet, None))
    print(row("/health, 5 `yes` + 20 /stream readers", loaded, None))
    for label, ours, theirs in cli:
        print(row(f"CLI {label}" if theirs is not None else label, ours, theirs))
    if flooded:
        print(f"(the floods had produced {flooded / 1e6:.0f} MB when /health was measured)")


if __name__ == "__main__":
    main()
