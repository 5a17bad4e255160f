"""The agents' bus: messages a second in-process and through the control socket.

Run: `python tests/bench/bench_agents.py [--quick]`. Prints figures; not part of the test
suite (no pass/fail). The issue's goal in-process is 200k messages/s (the seed claimed 10k).

- in-process: `MessageBus.send` of a short text and of a small JSON object (inboxes drained
  every 1000), a broadcast to 8 agents, and the same sends through `manager.hub` (each one an
  event on the instance's stream), and with a store attached (written in batches; the time
  includes the last write).
- socket CLI: a real `ai-session server` (temp HOME, runtime and data dirs), two agent
  sessions; one `ai-session msg` process per message (what a shell script pays), the stdlib
  client (app.client: one connection per request) in a loop, and an aiohttp client keeping
  its connection over the unix socket, 16 requests in flight.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
AI = str(Path(sys.executable).parent / "ai-session")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} messages/s  ({count:,} in {seconds:.3f} s)"


def timed(count: int, send: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(count):
        send(i)
    return time.perf_counter() - start


def in_process(count: int) -> None:
    from engine.coordination import MessageBus

    print("in-process (engine.coordination.MessageBus)")
    bus = MessageBus(inbox_size=count + 1)
    for name in ("a", "b"):
        bus.register(name)
    send = bus.send

    def text(i: int) -> None:
        send("a", "b", "build finished: 0 failures")
        if i % 1000 == 999:
            bus.receive_nowait("b")

    def small_json(i: int) -> None:
        send("a", "b", {"file": "src/auth.rs", "line": i, "ok": True})
        if i % 1000 == 999:
            bus.receive_nowait("b")

    print(f"  send, text payload       {rate(count, timed(count, text))}")
    print(f"  send, JSON object        {rate(count, timed(count, small_json))}")
    wide = MessageBus()
    for i in range(8):
        wide.register(f"agent{i}")
    n = count // 8

    def everyone(i: int) -> None:
        wide.broadcast("agent0", "status: green")
        if i % 100 == 99:
            for j in range(8):
                wide.receive_nowait(f"agent{j}")

    print(f"  broadcast to 7 others    {rate(n, timed(n, everyone))}  (deliveries x7)")


async def through_hub(count: int) -> None:
    from engine import SessionManager
    from engine.store import Store

    print("in-process through manager.hub (an event per message)")
    manager = SessionManager()
    hub = manager.hub
    hub.bus.inbox_size = count + 1
    for name in ("a", "b"):
        hub.ensure_agent(name)
    seconds = timed(count, lambda i: hub.bus.send("a", "b", "build finished"))
    print(f"  send, no store           {rate(count, seconds)}")
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        hub.attach(store, "bench")
        start = time.perf_counter()
        for i in range(count):
            hub.bus.send("a", "b", "build finished")
            if i % 5000 == 4999:
                await asyncio.sleep(0)  # the writer runs between bursts, as in a server
        await hub.flush()
        seconds = time.perf_counter() - start
        print(f"  send, SQLite store       {rate(count, seconds)}  (unsaved: {hub.unsaved})")
        await hub.detach()
        await store.close()


def through_socket(quick: bool) -> None:
    from app.client import Client

    print("through the control socket (a real `ai-session server`)")
    with tempfile.TemporaryDirectory(prefix="ais-bench-") as tmp:
        home = Path(tmp)
        (home / ".bashrc").write_text('PS1="$ "\n')
        run = home / "run"
        run.mkdir(mode=0o700)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AI_SESSION")},
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(run),
            "XDG_DATA_HOME": str(home / "data"),
            "PYTHONPATH": str(ROOT),
        }
        server = subprocess.Popen(
            [AI, "server", "--port", "0", "--rate", "1000000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=home,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            socket = line.strip().rpartition(" and ")[2]
            client = Client(socket=socket)
            for name in ("a", "b"):
                client.request("POST", "/sessions", {"name": name, "command": "bash --norc"})
            body = {"from": "a", "to": "b", "payload": "build finished"}

            n = 20 if quick else 100
            start = time.perf_counter()
            for _ in range(n):
                subprocess.run(
                    [AI, "msg", "--agent", "a", "--to", "b", "build finished"],
                    env={**env, "AI_SESSION_SOCKET": socket},
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            print(f"  ai-session msg, a process each  {rate(n, time.perf_counter() - start)}")

            n = 500 if quick else 3000
            seconds = timed(n, lambda i: client.request("POST", "/messages", body))
            print(f"  stdlib client loop              {rate(n, seconds)}")

            n = 2000 if quick else 20000
            seconds = asyncio.run(_aiohttp_loop(socket, body, n))
            print(f"  aiohttp, keep-alive, 16 at once {rate(n, seconds)}")
            client.request("GET", "/agents/b/inbox", params={"limit": 1})
        finally:
            server.terminate()
            server.wait(timeout=10)


async def _aiohttp_loop(socket: str, body: dict[str, object], count: int) -> float:
    import aiohttp

    connector = aiohttp.UnixConnector(path=socket, limit=16)
    async with aiohttp.ClientSession(connector=connector) as http:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                async with http.post("http://ai-session/messages", json=body) as r:
                    assert r.status == 201, await r.text()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        return time.perf_counter() - start


def main() -> None:
    quick = "--quick" in sys.argv
    count = 50_000 if quick else 300_000
    in_process(count)
    asyncio.run(through_hub(count // 3))
    through_socket(quick)


if __name__ == "__main__":
    main()
