"""Sessions on real PTYs running real bash: lifecycle, execute(), input/output, errors."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import bash_config, wait_for_screen, wait_until

from engine import (
    ExitEvent,
    OutputEvent,
    PermissionDenied,
    ProcessError,
    Session,
    SessionConfig,
    SessionError,
    SessionManager,
    SessionStatus,
)

# -- execute ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "true",
        "false",
        "ls /nonexistent-path",
        "(exit 42)",
        "f() { return 7; }; f",
        "test 1 -gt 2",
        "grep -q x /dev/null",
    ],
)
async def test_execute_reports_the_exact_exit_code(bash: Session, command: str) -> None:
    expected = subprocess.run(["bash", "--norc", "-c", command], capture_output=True).returncode
    result = await bash.execute(command, timeout=10)
    assert result.exit_code == expected
    assert result.success is (expected == 0)
    assert not result.timed_out
    assert isinstance(result.duration_ms, float)  # measured, never a fixed sleep


async def test_execute_output_keeps_newlines_without_echo_or_prompt(bash: Session) -> None:
    result = await bash.execute("printf 'one\\ntwo\\n'; echo three >&2")
    assert result.output == "one\ntwo\nthree\n"
    assert result.raw_output == "one\r\ntwo\r\nthree\r\n"


async def test_execute_handles_quotes_multiline_and_heredocs(bash: Session) -> None:
    result = await bash.execute("echo \"it's 'quoted'\" $((6*7))")
    assert result.output == "it's 'quoted' 42\n"
    result = await bash.execute("cat <<'EOF'\nline 1\n  line 2 $HOME\nEOF")
    assert result.output == "line 1\n  line 2 $HOME\n"


async def test_execute_strips_colours_but_raw_output_keeps_them(bash: Session) -> None:
    result = await bash.execute("printf '\\033[31mred\\033[0m\\n'")
    assert result.output == "red\n"
    assert "\x1b[31m" in result.raw_output


async def test_execute_keeps_shell_state_between_commands(bash: Session, tmp_path: Path) -> None:
    await bash.execute(f"cd {tmp_path} && export GREETING=hello")
    result = await bash.execute('pwd; echo "$GREETING"')
    assert result.output == f"{tmp_path}\nhello\n"


async def test_execute_large_output_is_complete(bash: Session) -> None:
    result = await bash.execute("seq 1 20000")
    assert result.output.split("\n")[:-1] == [str(i) for i in range(1, 20001)]
    assert result.exit_code == 0


async def test_concurrent_executes_are_serialised(bash: Session) -> None:
    results = await asyncio.gather(*(bash.execute(f"echo {i}; (exit {i})") for i in range(5)))
    assert [(r.output, r.exit_code) for r in results] == [(f"{i}\n", i) for i in range(5)]


async def test_execute_timeout_interrupts_and_the_shell_recovers(bash: Session) -> None:
    result = await bash.execute("echo started; sleep 30", timeout=0.5)
    assert result.timed_out and result.exit_code is None and not result.success
    assert result.output == "started\n"
    after = await bash.execute("echo recovered")
    assert (after.output, after.exit_code) == ("recovered\n", 0)


async def test_execute_default_timeout_comes_from_the_config(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(timeout=0.3))
    await session.start()
    result = await session.execute("sleep 5")
    assert result.timed_out


async def test_execute_that_exits_the_shell_reports_its_code(bash: Session) -> None:
    result = await bash.execute("exit 5")
    assert result.exit_code == 5
    assert await bash.wait() == 5
    assert bash.status == SessionStatus.exited(5)


async def test_execute_needs_a_running_session(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config())
    with pytest.raises(ProcessError, match="not running"):
        await session.execute("true")


# -- input, output, screen ----------------------------------------------------------------------


async def test_send_input_and_read_output(bash: Session) -> None:
    await bash.read_output()
    await bash.send_input("echo hi-there\r")
    seen = bytearray()

    async def read() -> bool:
        seen.extend(await bash.read_output())
        return b"hi-there\r\n" in seen

    deadline = asyncio.get_running_loop().time() + 10
    while not await read():
        assert asyncio.get_running_loop().time() < deadline, seen
        await asyncio.sleep(0.01)
    assert await bash.read_output() == b"" or b"$" in seen  # nothing is returned twice


async def test_read_output_is_bounded_by_output_buffer_size(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(output_buffer_size=1000))
    await session.start()
    result = await session.execute("seq 1 5000")
    assert result.exit_code == 0
    data = await session.read_output()
    assert len(data) <= 1000
    assert b"5000\r\n" in data
    assert session.output_dropped > 0


async def test_screen_shows_what_a_person_would_see(bash: Session) -> None:
    await bash.send_input("printf 'a\\tb\\n\\033[1mbold\\033[0m\\n'\r")
    await wait_for_screen(bash, "bold")
    lines = bash.capture_pane().split("\n")
    assert "a       b" in lines
    row = lines.index("bold")
    assert bash.terminal.cell(0, row).bold


async def test_resize_reaches_the_program(bash: Session) -> None:
    await bash.resize(columns=100, lines=30)
    assert (bash.terminal.lines, bash.terminal.columns) == (30, 100)
    result = await bash.execute("stty size")
    assert result.output == "30 100\n"


async def test_terminal_answers_cursor_position_queries(bash: Session) -> None:
    result = await bash.execute(
        "printf '\\033[5;9H\\033[6n'; read -rs -d R -t 5 pos; echo \"${pos#*[}\""
    )
    assert result.output.strip() == "5;9"


async def test_utf8_from_the_program_arrives_whole(bash: Session) -> None:
    result = await bash.execute("for i in $(seq 3000); do printf '日本語✓'; done; echo")
    assert result.output == "日本語✓" * 3000 + "\n"


async def test_environment_and_working_directory(manager: SessionManager, tmp_path: Path) -> None:
    config = bash_config(
        working_directory=tmp_path, name="env-check", environment={"MY_VAR": "x y"}
    )
    session = await manager.create_session_with_config(config)
    await session.start()
    result = await session.execute(
        'echo "$PWD|$TERM|$COLORTERM|$MY_VAR|$AI_SESSION_NAME|$AI_SESSION_ID|${TMUX:-none}"'
    )
    assert result.output == f"{tmp_path}|xterm-256color|truecolor|x y|env-check|{session.id}|none\n"


async def test_subscribers_get_output_and_exit_events(bash: Session) -> None:
    events: list[object] = []
    unsubscribe = bash.subscribe(events.append)
    await bash.send_input("echo bye; exit 3\r")
    assert await bash.wait() == 3
    assert any(isinstance(e, OutputEvent) and b"bye" in e.data for e in events)
    assert events[-1] == ExitEvent(3)
    unsubscribe()


async def test_all_output_is_read_before_the_exit_event(manager: SessionManager) -> None:
    script = "import sys; sys.stdout.write('x' * 200000 + 'END'); sys.stdout.flush()"
    config = SessionConfig(shell_command=f'{sys.executable} -c "{script}"')
    session = await manager.create_session_with_config(config)
    await session.start()
    assert await session.wait() == 0
    data = await session.read_output()
    assert data.endswith(b"END") and data.count(b"x") == 200000


async def test_full_screen_program_leaves_the_shell_screen_intact(
    bash: Session, tmp_path: Path
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("first line\nsecond line\n")
    await bash.execute(f"cd {tmp_path}; echo before-vim")
    before = bash.capture_pane()
    await bash.send_input("vim -u NONE -i NONE notes.txt\r")
    await wait_for_screen(bash, "second line")
    assert bash.terminal.alternate_screen
    await bash.send_input("\x1b:q!\r")
    await wait_until(lambda: not bash.terminal.alternate_screen, 10, "vim to quit")
    await wait_for_screen(bash, "$ vim -u NONE -i NONE notes.txt")
    after = bash.capture_pane()
    assert after.startswith(before.rstrip())
    assert "second line" not in after


# -- lifecycle and errors -----------------------------------------------------------------------


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its new parent counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


async def test_stop_hangs_up_the_shell_and_its_jobs_and_leaves_no_zombie(bash: Session) -> None:
    result = await bash.execute("sleep 300 & echo $!")
    job = int(result.output.split()[-1])  # after bash's "[1] PID" job notice
    await bash.send_input("sleep 400\r")
    # Hang up once bash waits on it: a SIGHUP that lands while bash is still forking it races
    # with bash's own job bookkeeping (it then may not pass the hangup on).
    await wait_until(lambda: bash.current_command == "sleep", 5, "sleep 400 in the foreground")
    pid = bash.pid
    assert pid is not None
    await bash.stop()
    assert bash.status.kind == "exited"
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left
    await wait_until(lambda: _gone(job), 5, "the background job to get SIGHUP")


async def test_stop_kills_a_program_that_ignores_sighup(manager: SessionManager) -> None:
    script = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); print('ready', flush=True); time.sleep(100)"
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=[sys.executable, "-c", script])
    )
    await session.start()
    await wait_for_screen(session, "ready")
    await session.stop(grace=0.3)
    assert session.status == SessionStatus.exited(-9)


async def test_stop_is_idempotent_and_input_after_stop_fails_clearly(bash: Session) -> None:
    await bash.stop()
    await bash.stop()
    with pytest.raises(ProcessError, match="not running"):
        await bash.send_input("echo hi\r")


async def test_missing_shell_is_a_clear_error(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(SessionConfig(shell="/no/such/shell"))
    with pytest.raises(ProcessError, match="/no/such/shell"):
        await session.start()
    assert session.status.kind == "error"


async def test_missing_working_directory_is_a_clear_error(
    manager: SessionManager, tmp_path: Path
) -> None:
    missing = tmp_path / "gone"
    session = await manager.create_session_with_config(bash_config(working_directory=missing))
    with pytest.raises(SessionError, match="gone"):
        await session.start()


async def test_unreadable_working_directory_is_permission_denied(
    manager: SessionManager, tmp_path: Path
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can enter any directory")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o000)
    session = await manager.create_session_with_config(bash_config(working_directory=locked))
    with pytest.raises(PermissionDenied):
        await session.start()


@pytest.mark.parametrize("size", [(0, 80), (24, 0), (-1, -1)])
async def test_zero_pty_size_is_a_clear_error(
    manager: SessionManager, size: tuple[int, int]
) -> None:
    session = await manager.create_session_with_config(bash_config(pty_size=size))
    with pytest.raises(SessionError, match="pty_size"):
        await session.start()


async def test_bad_resize_and_double_start_are_errors(bash: Session) -> None:
    with pytest.raises(SessionError, match="invalid"):
        await bash.resize(columns=10, lines=0)
    with pytest.raises(SessionError, match="already started"):
        await bash.start()


async def test_a_stopped_session_never_disturbs_the_next_one(manager: SessionManager) -> None:
    # Regression: a finaliser closing a recycled fd number once hung up the next session.
    for _ in range(3):
        first = await manager.create_session_with_config(bash_config())
        await first.start()
        await first.stop()
        del first
        gc.collect()
    second = await manager.create_session_with_config(bash_config())
    await second.start()
    gc.collect()
    result = await second.execute("echo alive")
    assert result.output == "alive\n" and second.status.is_running


# -- manager ----------------------------------------------------------------------------------------


async def test_manager_names_finds_lists_and_removes(manager: SessionManager) -> None:
    a = await manager.create_session()
    b = await manager.create_session()
    named = await manager.create_session_with_config(bash_config(name="build"))
    assert (a.name, b.name) == ("0", "1")
    assert manager.find_session("build") is named
    assert manager.get_session(a.id) is a
    assert manager.list_sessions() == [a.id, b.id, named.id]
    with pytest.raises(SessionError, match="already exists"):
        await manager.create_session_with_config(bash_config(name="build"))
    await named.start()
    await manager.remove_session(named.id)
    assert named.status.kind == "exited"
    assert manager.find_session("build") is None
    with pytest.raises(SessionError, match="no session"):
        await manager.remove_session(named.id)


async def test_cleanup_terminated_removes_only_dead_sessions(manager: SessionManager) -> None:
    alive = await manager.create_session_with_config(bash_config())
    dead = await manager.create_session_with_config(bash_config())
    await alive.start()
    await dead.start()
    await dead.execute("exit 0")
    await dead.wait()
    assert await manager.cleanup_terminated() == 1
    assert manager.list_sessions() == [alive.id]


async def test_restore_session_keeps_id_and_creation_time(manager: SessionManager) -> None:
    from datetime import UTC, datetime

    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    restored = await manager.restore_session(
        "550e8400-e29b-41d4-a716-446655440000", bash_config(name="old"), created
    )
    assert (restored.id, restored.created_at, restored.name) == (
        "550e8400-e29b-41d4-a716-446655440000",
        created,
        "old",
    )
    await restored.start()
    assert (await restored.execute("echo back")).output == "back\n"
    with pytest.raises(SessionError, match="already registered"):
        await manager.restore_session(restored.id, bash_config(), created)


async def test_metadata(bash: Session) -> None:
    bash.set_metadata("project", {"name": "my-app"})
    assert bash.get_metadata("project") == {"name": "my-app"}
    assert bash.get_metadata("missing") is None


async def test_a_failing_subscriber_does_not_stop_output_or_other_subscribers(
    bash: Session,
) -> None:
    seen: list[bytes] = []

    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    bash.subscribe(broken)
    bash.subscribe(lambda e: seen.append(getattr(e, "data", b"")))
    result = await bash.execute("echo still-flowing")
    assert result.output == "still-flowing\n"
    assert any(b"still-flowing" in chunk for chunk in seen)


async def test_history_holds_the_command_as_typed_and_no_plumbing(
    manager: SessionManager,
) -> None:
    session = await manager.create_session_with_config(
        bash_config(environment={"HISTCONTROL": "ignorespace", "HISTFILE": "/dev/null"})
    )
    await session.start()
    await session.execute("echo one")
    await session.execute("echo\ntwo")  # pasted, as a person would: two history lines
    await session.execute("echo\n!!")  # `!` would expand: ` . FILE`, which history ignores
    result = await session.execute("history")
    assert [line.split(None, 1)[1] for line in result.output.splitlines()] == [
        "echo one",
        "echo",
        "two",
        "history",
    ]


async def test_current_command_and_path_follow_the_foreground_program(
    bash: Session, tmp_path: Path
) -> None:
    assert bash.current_command == "bash"
    await bash.execute(f"cd {tmp_path}")
    assert bash.current_path == str(tmp_path)
    await bash.send_input("sleep 30\r")
    await wait_until(lambda: bash.current_command == "sleep", what="sleep in the foreground")
    await bash.send_input("\x03")
    await wait_until(lambda: bash.current_command == "bash", what="bash back in the foreground")


# -- found in review: processes that outlive the shell, floods, leaks ---------------------------


async def test_a_leftover_writer_cannot_freeze_the_loop_after_the_shell_exits(
    manager: SessionManager,
) -> None:
    command = "sh -c '(trap \"\" HUP; exec yes) & sleep 0.3; exit 3'"
    session = await manager.create_session_with_config(SessionConfig(shell_command=command))
    await session.start()
    assert await asyncio.wait_for(session.wait(), 10) == 3


async def test_short_grace_stop_finishes_even_when_a_grandchild_holds_the_terminal(
    manager: SessionManager,
) -> None:
    command = ["sh", "-c", "(trap '' HUP; exec sleep 3) & exec sleep 30"]
    session = await manager.create_session_with_config(SessionConfig(shell_command=command))
    await session.start()
    await wait_until(lambda: session.current_command == "sleep")
    await session.stop(grace=0.1)
    assert session.status.kind == "exited"
    assert await asyncio.wait_for(session.wait(), 5) == session.status.exit_code


async def test_execute_with_huge_output_is_bounded_and_fast_enough(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(output_buffer_size=100_000))
    await session.start()
    result = await asyncio.wait_for(
        session.execute("head -c 4000000 /dev/zero | tr '\\0' x; echo; echo END"), 60
    )
    assert result.exit_code == 0 and result.truncated
    assert len(result.raw_output) <= 100_000 and result.output.endswith("END\n")


def test_sessions_left_running_when_their_loop_ends_leak_no_fds() -> None:
    import threading

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def start_and_forget() -> int | None:
        session = Session(bash_config())
        await session.start()
        return session.pid

    before = fds()
    pids: list[int | None] = []
    for _ in range(3):
        thread = threading.Thread(target=lambda: pids.append(asyncio.run(start_and_forget())))
        thread.start()
        thread.join()
    gc.collect()
    assert fds() <= before
    for pid in pids:
        assert pid is not None and _gone(pid)


async def test_resize_beyond_what_a_pty_can_hold_is_refused_without_changing_anything(
    bash: Session,
) -> None:
    with pytest.raises(SessionError, match="1 to 10000"):
        await bash.resize(columns=70_000, lines=24)
    assert bash.config.pty_size == (24, 80) and bash.terminal.columns == 80


async def test_a_flood_is_drawn_completely_with_a_bounded_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cat` of output slower to parse than to read (not plain ASCII): parsed in slices
    (engine/ingest.py), the PTY paused while too much waits, every line drawn by the time
    wait() returns."""
    import engine.session
    from engine.pty import READ_BUDGET, READ_SIZE

    monkeypatch.setattr(engine.session, "MAX_BACKLOG", 64 * 1024)
    path = tmp_path / "big.log"
    path.write_text("".join(f"\x1b[32mligne\x1b[0m n° {i}\n" for i in range(40_000)))
    session = Session(SessionConfig(shell_command=f"cat {path}", pty_size=(24, 80)))
    peak = pauses = 0

    def watch(event: object) -> None:
        nonlocal peak
        peak = max(peak, len(session._backlog))

    session.subscribe(watch)
    await session.start()
    assert session._pty is not None
    pause = session._pty.pause_reading

    def counted_pause() -> None:
        nonlocal pauses
        pauses += 1
        pause()

    session._pty.pause_reading = counted_pause  # type: ignore[method-assign]
    assert await session.wait() == 0
    assert pauses > 0 and 0 < peak <= 64 * 1024 + READ_BUDGET + READ_SIZE
    rows = [row for row in session.capture_pane().splitlines() if row]
    assert rows[-1] == "ligne n° 39999" and rows[0] == "ligne n° 39977"
    assert session.terminal.history_size == 10_000
    assert session.terminal.scrollback[-1].text == "ligne n° 39976"


async def test_floods_read_less_far_ahead_while_someone_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While keys are being typed (engine.ingest.typing), a flood's backlog stays small, so
    the loop gets back to the keys sooner; the output is still complete."""
    import engine.session
    from engine import ingest
    from engine.pty import READ_BUDGET, READ_SIZE

    monkeypatch.setattr(engine.session, "TYPING_BACKLOG", 16 * 1024)
    path = tmp_path / "big.log"
    path.write_text("".join(f"\x1b[32mligne\x1b[0m n° {i}\n" for i in range(20_000)))
    session = Session(SessionConfig(shell_command=f"cat {path}", pty_size=(24, 80)))
    peak = 0

    def watch(event: object) -> None:
        nonlocal peak
        ingest.note_input()  # someone keeps typing
        peak = max(peak, len(session._backlog))

    ingest.note_input()
    session.subscribe(watch)
    await session.start()
    assert await session.wait() == 0
    assert ingest.typing()
    assert 0 < peak <= 16 * 1024 + READ_BUDGET + READ_SIZE
    assert [row for row in session.capture_pane().splitlines() if row][-1] == "ligne n° 19999"


async def test_cat_of_100_mb_keeps_memory_flat(tmp_path: Path) -> None:
    """Issue 4's check: 100 MB through a pane, memory bounded by the caps, not the input."""
    block = "".join(f"\x1b[36m{i:06d}\x1b[0m {'log line text ' * 8}\n" for i in range(8000))
    path = tmp_path / "100mb.log"
    with path.open("w") as f:
        size = 0
        while size < 100_000_000:
            f.write(block)
            size += len(block)
        f.write("the end\n")
    session = Session(SessionConfig(shell_command=f"cat {path}", pty_size=(50, 200)))

    def rss() -> int:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    gc.collect()
    before = rss()
    await session.start()
    assert await session.wait() == 0
    grown = rss() - before
    assert [row for row in session.capture_pane().splitlines() if row][-1] == "the end"
    assert session.terminal.history_size == 10_000
    assert grown < 64 * 1024 * 1024, f"memory grew by {grown / 2**20:.0f} MiB"


async def test_a_terminal_without_a_session_has_no_foreground_group(tmp_path: Path) -> None:
    """Between the program's exit and the loop seeing it, the terminal has no session and
    tcgetpgrp answers 0: that must never become killpg(0, SIGHUP) — the caller's own group
    (it hung up whole test runs when a DELETE raced an exit)."""
    from engine.pty import Pty

    exits: list[int] = []
    pty = Pty(
        ["/bin/sh", "-c", "exit 3"],
        cwd=str(tmp_path),
        env={"PATH": os.environ["PATH"]},
        rows=24,
        cols=80,
        on_data=lambda data: None,
        on_exit=exits.append,
    )
    pty.start()
    os.waitid(os.P_PID, pty.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped, loop not run
    assert pty.fd >= 0 and os.tcgetpgrp(pty.fd) == 0
    assert pty.foreground_pid() is None
    assert await pty.terminate(grace=0.5) == 3  # and this test's process is still here
    assert exits == [3]


@pytest.mark.parametrize("environment", [{"A=B": "x"}, {"": "x"}, {"OK": "a\x00b"}])
async def test_an_environment_execve_would_refuse_is_refused_before_forking(
    manager: SessionManager, environment: dict[str, str]
) -> None:
    """execve raises ValueError for these in the child, which ptyprocess does not catch: the
    forked child would carry on as a second copy of this process."""
    session = await manager.create_session_with_config(bash_config(environment=environment))
    parent = os.getpid()
    with pytest.raises(ProcessError, match="not valid"):
        await session.start()
    assert os.getpid() == parent and session.status.kind == "error"
    assert manager.get(session.id) is None  # a failed start frees the name


async def test_a_child_starts_with_default_signals(bash: Session) -> None:
    """Python ignores SIGPIPE (and SIGXFSZ); an ignored signal stays ignored across exec, so
    children got it too and `yes | head -1` complained of a broken pipe. Not any more: nothing
    a program can catch is ignored or blocked when it starts, as under tmux."""
    result = await bash.execute("yes | head -1; grep -E '^Sig(Ign|Blk)' /proc/self/status")
    lines = result.output.splitlines()
    assert lines[0] == "y" and not any("Broken pipe" in line for line in lines)
    masks = dict(line.split(":\t") for line in lines[1:])
    for name in ("SigIgn", "SigBlk"):
        bits = int(masks[name], 16)
        catchable = [n for n in range(1, 32) if bits & (1 << (n - 1))]
        assert catchable == [], (name, catchable)  # 32, 33: glibc's own, set by posix_spawn


async def test_a_restored_screen_sits_above_a_fresh_shell(manager: SessionManager) -> None:
    """The snapshot's screen and history show, the dead program's alternate screen and modes
    do not, and the new prompt starts on a line of its own."""
    from engine.terminal import Terminal

    old = Terminal(40, 6)
    old.feed(b"".join(b"old line %d\r\n" % i for i in range(10)) + b"half typed")
    old.feed(b"\x1b[?1049h\x1b[?1000h\x1b[?2004h\x1b[?25lVIM SCREEN")
    session = await manager.create_session_with_config(bash_config(pty_size=(6, 40)))
    session.restore_screen(old)
    assert not session.terminal.alternate_screen
    assert session.terminal.mouse_tracking is None and not session.terminal.bracketed_paste
    await session.start()
    await wait_for_screen(session, "$ ")
    lines = session.capture_pane(start=-100).splitlines()
    assert lines[-2:] == ["half typed", "$"] and "old line 0" in lines
    assert "VIM SCREEN" not in "\n".join(lines)
    assert not session.terminal.cursor.hidden
    with pytest.raises(SessionError):
        session.restore_screen(Terminal(40, 6))


async def test_the_foreground_command_line_is_read_whole(bash: Session) -> None:
    assert bash.foreground_command_line is None  # the shell at its prompt
    await bash.send_input("sh -c 'sleep 30; :' 'two words'\n")
    expected = "sh -c 'sleep 30; :' 'two words'"
    await wait_until(
        lambda: bash.foreground_command_line == expected,
        what=lambda: f"{expected!r}, not {bash.foreground_command_line!r}",
    )
    bash.send_signal("INT")
