"""Closing the outer terminal (SIGHUP) ends the app as a quit does: no control socket left
behind, the programs in the panes hung up."""

from __future__ import annotations

import os
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
