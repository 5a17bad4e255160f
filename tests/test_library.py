"""The engine as a library an orchestrator builds on: names or ids everywhere, exact under
concurrent removal, lossless output for many readers, signals, respawn, tmux's -J."""

from __future__ import annotations

import asyncio
import gc
import itertools
import shutil
import sys
import tempfile
import weakref
from pathlib import Path

import pytest
from tmux_oracle import tmux_pane

from engine import (
    ExitEvent,
    OutputEvent,
    Session,
    SessionAlreadyExists,
    SessionConfig,
    SessionError,
    SessionManager,
    SessionNotFound,
    Terminal,
)
from engine.manager import release_memory
from engine.session import signal_number
from tests.conftest import BASH, bash_config, wait_for_screen, wait_until

READY = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); print('rea' + 'dy', flush=True); time.sleep(60)"


async def started(manager: SessionManager, **kwargs: object) -> Session:
    session = await manager.create_session_with_config(bash_config(**kwargs))
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


def process_state(pid: int) -> str | None:
    """The state letter of a process (Z for a zombie), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()[0].decode()


# -- the manager: names or ids, races, failed starts ----------------------------------------------


async def test_every_verb_takes_a_name_or_an_id(manager: SessionManager) -> None:
    session = await started(manager, name="agent")
    assert manager.get("agent") is session and manager.get(session.id) is session
    assert manager.get("nobody") is None
    manager.rename_session("agent", "agent-2")
    assert manager.get("agent") is None and manager.get("agent-2") is session
    manager.rename_session(session.id, "agent-3")
    assert session.name == "agent-3" and session.config.name == "agent-3"
    other = await manager.create_session_with_config(bash_config(name="other"))
    with pytest.raises(SessionAlreadyExists):
        manager.rename_session("agent-3", "other")
    for bad in ("", " ", ".", "..", "a/b"):
        with pytest.raises(ValueError):
            manager.rename_session("agent-3", bad)
        with pytest.raises(ValueError):
            await manager.create_session_with_config(bash_config(name=bad))
    await manager.remove_session("agent-3")
    await manager.remove_session(other.id)
    assert manager.sessions == []
    with pytest.raises(SessionNotFound):
        await manager.remove_session("agent-3")
    with pytest.raises(SessionNotFound):
        manager.rename_session("agent-3", "x")


async def test_concurrent_removes_of_a_session_slow_to_die_one_wins(
    manager: SessionManager,
) -> None:
    session = await manager.create_session_with_config(
        SessionConfig(name="slow", shell_command=[sys.executable, "-c", READY])
    )
    await session.start()
    await wait_for_screen(session, "ready")  # SIGHUP is ignored now: stop() has to SIGKILL
    results = await asyncio.gather(
        *(manager.remove_session("slow") for _ in range(5)), return_exceptions=True
    )
    assert results.count(None) == 1
    assert all(isinstance(r, SessionNotFound) for r in results if r is not None)
    assert session.status.kind == "exited" and session.status.signal == "SIGKILL"
    assert manager.get("slow") is None


async def test_a_failed_start_frees_the_name(manager: SessionManager, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    session = await manager.create_session_with_config(
        bash_config(name="build", working_directory=missing)
    )
    with pytest.raises(SessionError, match="working_directory"):
        await session.start()
    assert session.status.kind == "error" and manager.get("build") is None
    bad_program = await manager.create_session_with_config(
        SessionConfig(name="build", shell_command=["no-such-program-here"])
    )
    with pytest.raises(SessionError, match="not found"):
        await bad_program.start()
    again = await started(manager, name="build")
    assert manager.get("build") is again
    created = [e for e in manager.events.since(0)[0] if e.type == "created"]
    assert [e.session_id for e in created] == [again.id]  # the failed ones never ran


async def test_close_stops_every_session_and_trim_is_harmless(manager: SessionManager) -> None:
    sessions = [await started(manager) for _ in range(3)]
    await manager.close()
    assert all(s.status.kind == "exited" for s in sessions) and manager.sessions == []
    closed = [e for e in manager.events.since(0)[0] if e.type == "closed"]
    assert len(closed) == 3
    assert release_memory() in (True, False)


# -- output: subscribe as an iterator, cursors, dropped bytes -----------------------------------


async def test_subscribe_as_an_async_iterator_ends_after_the_exit(bash: Session) -> None:
    seen = bytearray()
    async with bash.subscribe() as events:
        await bash.send_input("echo from-''iterator; exit 4\r")
        last = None
        async for event in events:
            if isinstance(event, OutputEvent):
                seen += event.data
            last = event
    assert last == ExitEvent(4) and b"from-iterator" in seen
    after = [event async for event in bash.subscribe()]  # exited: the exit at once
    assert after == [ExitEvent(4)]


async def test_a_slow_iterator_loses_the_oldest_output_never_the_exit(
    manager: SessionManager,
) -> None:
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=["seq", "1", "20000"])
    )
    events = session.subscribe(max_bytes=4096)
    await session.start()
    assert await session.wait() == 0
    got = [event async for event in events]  # read only once it is all over
    assert got[-1] == ExitEvent(0)
    output = [e for e in got if isinstance(e, OutputEvent)]
    kept = sum(len(e.data) for e in output)
    assert events.dropped > 0 and events.dropped + kept == session.output_offset
    assert output[0].offset == events.dropped  # the gap shows in the offsets
    assert all(a.offset + len(a.data) == b.offset for a, b in itertools.pairwise(output))


async def test_two_readers_each_get_everything(bash: Session) -> None:
    await bash.send_input("seq 1 500; read -r; seq 501 1000\r")
    await wait_for_screen(bash, "500")
    early = bash.output_since(0)  # one reader reads halfway, the other only at the end
    assert early.dropped == 0 and early.start == 0
    await bash.send_input("\r")
    await wait_for_screen(bash, "1000")
    rest = bash.output_since(early.next)
    everything = bash.output_since(0)
    assert rest.start == early.next and rest.dropped == 0
    assert early.data + rest.data == everything.data and everything.next == bash.output_offset
    assert b"1\r\n2\r\n3\r\n" in early.data and b"\r\n999\r\n1000\r\n" in rest.data


async def test_a_late_reader_is_told_what_it_missed(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=["seq", "1", "3000"], output_buffer_size=1000)
    )
    await session.start()
    assert await session.wait() == 0
    expected = "".join(f"{i}\r\n" for i in range(1, 3001)).encode()
    assert session.output_offset == len(expected)
    late = session.output_since(0)
    kept = expected[-1000:]
    cut = kept.index(b"\n") + 1  # after a drop, from the next line's start
    assert cut > 1 and late.data.startswith(b"2") and late.data.endswith(b"3000\r\n")
    assert late.dropped == len(expected) - 1000 + cut and late.start == late.dropped
    assert late.data == kept[cut:] and late.next == len(expected)
    assert session.output_since(late.next).data == b""
    assert session.output_since(10**9).data == b""  # past the end: empty, at the end
    with pytest.raises(ValueError):
        session.output_since(-1)
    # read_output() has its own cursor and still works as in the seed
    first = await session.read_output()
    assert first == kept[cut:] and session.output_dropped == late.dropped
    assert await session.read_output() == b""


async def test_a_slice_never_starts_or_ends_inside_a_character(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(
        bash_config(output_buffer_size=1001)  # 3-byte characters: the cut falls inside one
    )
    await session.start()
    await wait_for_screen(session, "$ ")
    await session.send_input("printf '日本語%.0s' $(seq 700); printf 'E''ND'\r")
    await wait_for_screen(session, "END")
    got = session.output_since(0)
    assert "語END" in got.data.decode("utf-8")  # strict: no partial character
    assert got.dropped == got.start and got.dropped > 0
    # a character half written: the slice stops before it until the rest comes
    await session.send_input("printf '\\xe6\\x97'; sleep 0.3; printf '\\xa5x'\r")
    start = session.output_offset
    await wait_until(lambda: "日x" in session.output_since(start).data.decode("utf-8"))


async def test_output_that_is_not_utf8_is_never_skipped(manager: SessionManager) -> None:
    # Bytes 0x80-0xBF that no lead byte claims (binary, Latin-1) are output like any other:
    # a reader whose cursor sits on them gets them, and nothing is counted as dropped.
    session = await manager.create_session_with_config(
        SessionConfig(
            shell_command=[
                "/bin/sh",
                "-c",
                "stty -echo; printf 'ab'; read x; printf '\\200\\201\\202cd'; read x",
            ]
        )
    )
    await session.start()
    await wait_until(lambda: session.output_offset == 2)
    assert await session.read_output() == b"ab"
    await session.send_input("\r")
    await wait_until(lambda: session.output_since(0).data.endswith(b"cd"))
    got = session.output_since(2)
    assert (got.data, got.start, got.dropped) == (b"\x80\x81\x82cd", 2, 0)
    assert (await session.read_output()).endswith(b"\x80\x81\x82cd")
    assert session.output_dropped == 0


async def test_a_removed_session_never_runs_again(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(SessionConfig(shell_command=["sleep", "60"]))
    await manager.remove_session(session.id)
    with pytest.raises(SessionError, match="removed"):
        await session.start()
    assert session.pid is None
    # A respawn(kill=True) already stopping the program when the session is removed must not
    # start a new one behind the manager's back.
    session = await manager.create_session_with_config(
        SessionConfig(
            shell_command=["/bin/sh", "-c", "trap 'exit 0' HUP; while :; do sleep 0.05; done"]
        )
    )
    await session.start()
    respawn = asyncio.create_task(session.respawn(kill=True))
    await asyncio.sleep(0)  # let it reach the stop it waits for
    await manager.remove_session(session.id)
    with pytest.raises(SessionError, match="removed"):
        await respawn
    assert not session.status.is_running
    assert session.pid is None or process_state(session.pid) in (None, "Z")


# -- signals, respawn, size -------------------------------------------------------------------


def test_signal_names_and_numbers() -> None:
    assert signal_number("int") == signal_number("SIGINT") == signal_number(2) == 2
    assert signal_number("15") == signal_number(" TERM ") == 15
    for bad in ("NOPE", 0, 999, "", True):
        with pytest.raises(ValueError):
            signal_number(bad)  # type: ignore[arg-type]


async def test_send_signal_to_the_foreground_job_or_the_whole_session(bash: Session) -> None:
    await bash.send_input("sleep 300 & echo bg''=$!\r")
    await wait_until(lambda: "bg=" in bash.capture_pane() and "$ " in bash.capture_pane())
    background = int(bash.capture_pane().split("bg=")[1].split()[0])
    await bash.send_input("sleep 30\r")
    await wait_until(lambda: bash.current_command == "sleep", what="sleep in the foreground")
    bash.send_signal("INT")  # what C-c does: the job stops, the shell stays
    await wait_until(lambda: bash.current_command == "bash", what="bash back in the foreground")
    assert bash.status.is_running and process_state(background) not in (None, "Z")
    bash.send_signal("KILL", foreground=False)  # every process of the session
    assert await asyncio.wait_for(bash.wait(), 10) == -9
    await wait_until(lambda: process_state(background) in (None, "Z"), what="the job killed")
    with pytest.raises(SessionError, match="not running"):
        bash.send_signal("TERM")


async def test_respawn_starts_the_program_again_in_the_same_session(
    manager: SessionManager,
) -> None:
    session = await started(manager, name="agent", pty_size=(5, 40))
    seen: list[object] = []
    session.subscribe(seen.append)
    with pytest.raises(SessionError, match="still running"):
        await session.respawn()
    await session.send_input("seq 1 20; exit 2\r")
    assert await session.wait() == 2
    first_pid, offset = session.pid, session.output_offset
    history = session.terminal.history_size
    await session.respawn()
    assert session.status.is_running and session.exited_at is None
    assert session.pid != first_pid and manager.get("agent") is session
    await wait_for_screen(session, "$ ")
    assert session.terminal.history_size >= history  # tmux keeps the history
    assert "1\n2\n3" in session.capture_pane(start="-")
    assert session.output_offset > offset  # offsets go on
    respawned = [e for e in manager.events.since(0)[0] if e.type == "respawned"]
    assert [e.data["pid"] for e in respawned] == [session.pid]
    result_pid = session.pid
    await session.respawn(kill=True)
    assert session.pid != result_pid and session.status.is_running
    await wait_for_screen(session, "$ ")
    await session.send_input("exit 5\r")
    assert await session.wait() == 5
    assert ExitEvent(2) in seen and seen[-1] == ExitEvent(5)  # subscribers stay


async def test_wait_after_a_failed_respawn_says_why(manager: SessionManager) -> None:
    folder = Path(tempfile.mkdtemp())
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=["true"], working_directory=folder)
    )
    await session.start()
    assert await session.wait() == 0
    folder.rmdir()
    with pytest.raises(SessionError, match="does not exist"):
        await session.respawn()
    with pytest.raises(SessionError, match="could not start: working_directory"):
        await asyncio.wait_for(session.wait(), 10)


async def test_resize_takes_columns_and_lines_by_keyword(bash: Session) -> None:
    await bash.resize(columns=100, lines=30)
    assert (bash.terminal.columns, bash.terminal.lines) == (100, 30)
    assert bash.config.pty_size == (30, 100)
    await bash.send_input("stty size\r")
    await wait_for_screen(bash, "30 100")
    with pytest.raises(TypeError):
        await bash.resize(30, 100)  # type: ignore[misc]


# -- shell_command: a string goes to the shell, a list is the argv ---------------------------


async def test_a_string_runs_in_the_shell_and_a_list_as_argv(
    manager: SessionManager, tmp_path: Path
) -> None:
    config = SessionConfig(
        shell_command="echo one && echo two | tr a-z A-Z; exit 3", working_directory=tmp_path
    )
    session = await manager.create_session_with_config(config)
    await session.start()
    assert await session.wait() == 3
    assert "one\nTWO" in session.capture_pane()
    argv = ["printf", "%s|", "a b", "$HOME", "&&"]
    session = await manager.create_session_with_config(SessionConfig(shell_command=argv))
    await session.start()
    assert await session.wait() == 0
    assert session.capture_pane().startswith("a b|$HOME|&&|")


def test_a_plain_command_line_is_the_program_itself() -> None:
    """What bash -c does with one simple command (exec it), done for every shell: dash 0.5.12
    would fork and wait, and the session's pid would be dash's, not the program's."""
    bash = shutil.which("bash")
    assert SessionConfig(shell_command=BASH).argv() == [bash, "--norc", "--noprofile"]
    assert SessionConfig(shell_command="vim 'a b.txt'").argv()[1:] == ["a b.txt"]
    shell = "/bin/sh"
    for line in ("make && make test", "FOO=1 env", "echo $HOME", "exit 3", "cd /tmp", "a > b"):
        assert SessionConfig(shell=shell, shell_command=line).argv() == [
            shutil.which(shell),
            "-c",
            line,
        ]
    with pytest.raises(SessionError):
        SessionConfig(shell_command=[]).argv()
    with pytest.raises(SessionError):
        SessionConfig(shell_command="  ").argv()


async def test_bash_from_a_string_is_the_session_process(manager: SessionManager) -> None:
    for shell in ("/bin/sh", "/bin/bash"):
        session = await manager.create_session_with_config(
            bash_config(shell=shell)  # the string BASH, whatever runs strings
        )
        await session.start()
        await wait_for_screen(session, "$ ")
        assert session.current_command == "bash"
        with open(f"/proc/{session.pid}/comm") as f:
            assert f.read().strip() == "bash"
        await session.send_input("exit 0\r")
        assert await session.wait() == 0


# -- capture with join_wrapped (tmux -J) -----------------------------------------------------

JOIN_CASES = {
    "long": b"a" * 45 + b"\r\nshort\r\n",
    "wrap_at_space": b"0123456789012345678 abcdef\r\n",
    "wide_at_the_edge": "0123456789012345678日x\r\n".encode(),
    "exact_width": b"01234567890123456789\r\nnext\r\n",
    "history": b"".join(b"line%02d-" % i + b"y" * 30 + b"\r\n" for i in range(8)),
    "history_wrap_at_space": b"".join(b"0123456789012345678 word%d\r\n" % i for i in range(6)),
}


def tmux_capture_joined(data: bytes, columns: int, lines: int) -> str:
    """`tmux capture-pane -pJ -S -` of `data` shown in a fresh tmux pane."""
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp, "feed.bin")
        feed.write_bytes(data)
        command = f"stty -echo -opost; cat {feed}"
        with tmux_pane(tmp, command, columns, lines, "set -g history-limit 10000\n") as tmux:
            return tmux("capture-pane", "-pJ", "-S", "-")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("name", sorted(JOIN_CASES))
def test_join_wrapped_matches_tmux(name: str) -> None:
    data = JOIN_CASES[name]
    terminal = Terminal(columns=20, lines=6)
    terminal.feed(data)
    theirs = tmux_capture_joined(data, 20, 6)
    # tmux ends every row with a newline; capture() puts them between rows.
    assert terminal.capture(start="-", join_wrapped=True) == theirs.removesuffix("\n")
    plain = terminal.capture(start="-")
    assert plain.count("\n") >= terminal.capture(start="-", join_wrapped=True).count("\n")


async def test_capture_pane_joins_a_long_line(manager: SessionManager) -> None:
    session = await started(manager, pty_size=(10, 20))
    await session.send_input("printf '%s' {1..25}; echo\r")
    digits = "".join(str(i) for i in range(1, 26))
    await wait_until(lambda: digits in session.capture_pane(join_wrapped=True).split("\n"))
    assert digits not in session.capture_pane()
    colored = session.capture_pane(ansi=True, join_wrapped=True)
    assert digits in colored.split("\n")


# -- memory: a removed session is freed at once -----------------------------------------------


async def test_a_removed_session_is_freed_without_the_cycle_collector(
    manager: SessionManager,
) -> None:
    """No reference cycles (session <-> PTY, screen <-> parser, rows' factory): a session is
    freed as soon as it is let go, and malloc_trim can hand its memory back at once."""
    session = await started(manager)
    await session.send_input("seq 1 2000\r")
    await wait_for_screen(session, "2000")
    refs = [weakref.ref(o) for o in (session, session.terminal, session.terminal.screen)]
    await manager.remove_session(session.id)
    gc.collect()
    gc.disable()
    try:
        del session
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def test_the_runtime_dir_is_never_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone who can write the parent (the temp dir) could point the name at a directory of
    # ours: it must be refused, not made 0700 and used.
    from engine.paths import runtime_dir

    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o755)
    (tmp_path / "ai-session").symlink_to(target)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(PermissionError, match="symbolic link"):
        runtime_dir()
    assert target.stat().st_mode & 0o777 == 0o755


def test_every_public_member_says_what_it_is_for() -> None:
    """The library's reference is its docstrings: none of engine's names, nor their public
    methods and properties, goes without one."""
    import inspect

    import engine

    missing = []
    for name in engine.__all__:
        obj = getattr(engine, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for member, value in vars(obj).items():
            function = (
                value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            )
            if member.startswith("_") or not (callable(function) or isinstance(value, property)):
                continue
            if not (getattr(function, "__doc__", None) or "").strip():
                missing.append(f"{name}.{member}")
    assert missing == []
