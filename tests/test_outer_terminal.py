"""The app as the terminal around it sees it: silent while idle, and closing that terminal
(SIGHUP) ends the app as a quit does: no control socket left behind, the programs hung up."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from conftest import wait_until
from test_raw_keys import outer


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_hangup_removes_the_control_socket_and_ends_the_programs(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)  # the child inherits it through `outer`
    try:
        pidfile = tmp_path / "child.pid"
        with outer(
            ["bash", "--norc", "-c", f"echo $$ > {pidfile}; exec sleep 1000"], tmp_path
        ) as t:
            sockets = runtime / "ai-session"
            await wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=30)
            await wait_until(lambda: sockets.is_dir() and any(sockets.glob("*.sock")), timeout=30)
            child = int(pidfile.read_text())
            os.close(t.proc.fd)  # the terminal window closes: the kernel hangs up the app
            await wait_until(lambda: not t.proc.isalive(), timeout=30, what="the app to exit")
            await wait_until(lambda: not any(sockets.glob("*.sock")), what="the socket removed")
            await wait_until(lambda: not _alive(child), what="the pane's program ended")
    finally:
        del os.environ["XDG_RUNTIME_DIR"]


async def test_an_idle_app_writes_nothing_and_a_key_rewrites_only_its_row(tmp_path: Path) -> None:
    with outer(["bash", "--norc"], tmp_path) as t:
        await wait_until(lambda: "$" in "".join(t.screen()), timeout=30, what="the prompt")
        # Quiet: the status line and hints were drawn, now no byte for a while (a bounded
        # observation: nothing can be awaited for "nothing happens").
        settled, deadline = len(t.output), time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if len(t.output) != settled:
                settled, deadline = len(t.output), time.monotonic() + 1.0
            await asyncio.sleep(0.05)
        quiet_from = len(t.output)
        await asyncio.sleep(1.5)
        assert bytes(t.output[quiet_from:]) == b""
        t.type(b"x")
        await wait_until(lambda: "$ x" in t.screen()[0], what=lambda: t.screen()[0])
        await asyncio.sleep(0.3)  # let a stray repaint of the status or hint rows show up
        written = bytes(t.output[quiet_from:])
        assert b"C-b prefix" not in written and b"0:bash" not in written
