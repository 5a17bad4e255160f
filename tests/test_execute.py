"""execute() on real shells: it types only at an empty prompt, shows nothing but the command,
takes long commands in every shell, and interrupts only what it started (issue 10)."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import bash_config, wait_for_screen, wait_until

from engine import Session, SessionConfig, SessionError, SessionManager
from engine.ansi import plain_text
from engine.errors import IncompleteCommand, ProcessError, SessionBusy
from engine.shell import can_type, integration_dir
from engine.terminal import Terminal

SH = "/bin/sh"  # dash here: no line editing, no PS0, a 4095-byte tty line


def sh_config(**kwargs: object) -> SessionConfig:
    environment = {"PS1": "$ ", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    environment.update(kwargs.pop("environment", {}))  # type: ignore[arg-type]
    return SessionConfig(shell=SH, environment=environment, **kwargs)  # type: ignore[arg-type]


CONFIGS = {"bash": bash_config, "sh": sh_config}


@pytest.fixture(params=["bash", "sh"])
async def shell(request: pytest.FixtureRequest, manager: SessionManager) -> Session:
    """A started bash, then a started dash, each at its `$ ` prompt."""
    session = await manager.create_session_with_config(CONFIGS[request.param]())
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


async def back_at_prompt(session: Session) -> None:
    """Wait for the shell's next prompt (execute() is busy until it shows)."""
    await wait_until(lambda: screen(session).endswith("\n$"), what=lambda: screen(session))


def foreground(session: Session) -> int | None:
    assert session._pty is not None
    return session._pty.foreground_pid()


def screen(session: Session) -> str:
    return session.capture_pane().rstrip("\n")


# -- the marks themselves ----------------------------------------------------------------------


def test_prompt_marks_are_tracked_and_draw_nothing() -> None:
    term = Terminal(20, 3)
    term.feed(b"\x1b]133;D;0\x07\x1b]133;A\x07$ \x1b]133;B;ais=42;ais_c=1\x07")
    assert term.display[0].rstrip() == "$"
    assert (term.prompt_mark, term.prompt_input, term.prompt_options) == (
        "B",
        (0, 2),
        {"ais": "42", "ais_c": "1"},
    )
    term.feed(b"ls\r\n\x1b]133;C\x07out\r\n\x1b]133;D;3\x07")
    assert (term.prompt_mark, term.prompt_input, term.last_exit_code) == ("D", None, 3)
    assert term.screen.osc_events == []  # tracked, not queued as unknown OSC


def test_an_empty_prompt_follows_a_resize() -> None:
    term = Terminal(20, 5)
    term.feed(b"1\r\n2\r\n3\r\n4\r\n\x1b]133;A\x07$ \x1b]133;B\x07")
    term.resize(30, 3)
    assert term.prompt_input == (term.cursor.y, term.cursor.x) == (2, 2)
    term.feed(b"typed")
    term.resize(25, 3)
    assert term.prompt_input is None  # not at the prompt's end any more: unknown


def test_what_is_typed_and_what_goes_through_a_file() -> None:
    assert can_type("ls -l | wc -l", history_expansion=True)
    assert can_type("[ ! -f x ] && echo hi!", history_expansion=True)
    assert not can_type('echo "a!b"', history_expansion=True)  # bash would expand !b
    assert can_type('echo "a!b"', history_expansion=False)  # sh has no history expansion
    for command in ["", "   ", "a\nb", "printf 'a\tb'", "x" * 1001]:
        assert not can_type(command, history_expansion=False), command


# -- it never types into a program ---------------------------------------------------------------


async def test_an_agent_asking_y_n_is_not_answered(bash: Session) -> None:
    await bash.send_input("read -p '[y/n] ' answer; echo \"got:$answer\"\r")
    await wait_for_screen(bash, "[y/n] ")
    with pytest.raises(SessionBusy, match="bash is running a command") as caught:
        await bash.execute("echo typed-by-execute", timeout=2)
    assert caught.value.command == "bash"  # `read` is a builtin: the shell itself runs it
    assert "typed-by-execute" not in screen(bash)
    await bash.send_input("y\r")
    await wait_for_screen(bash, "got:y")
    await back_at_prompt(bash)
    assert (await bash.execute("echo after")).output == "after\n"


async def test_a_program_reading_its_input_is_left_alone(shell: Session) -> None:
    # it says when it reads: python3 may be a wrapper (pyenv's shim) that execs it later
    await shell.send_input('python3 -c \'print("rea" + "dy"); print("said:" + input())\'\r')
    await wait_for_screen(shell, "ready")
    await wait_until(lambda: shell.current_command == "python3", what="python3 running")
    with pytest.raises(SessionBusy, match="python3 is running") as caught:
        await shell.execute("echo typed-by-execute", timeout=2)
    assert caught.value.command == "python3"
    await shell.send_input("mine\r")
    await wait_for_screen(shell, "said:mine")
    assert "typed-by-execute" not in screen(shell)


async def test_a_running_cat_is_neither_typed_into_nor_interrupted(shell: Session) -> None:
    await shell.send_input("cat\r")
    await wait_until(lambda: shell.current_command == "cat", what="cat running")
    for _ in range(2):
        with pytest.raises(SessionBusy, match="cat is running"):
            await shell.execute("echo typed-by-execute", timeout=0.2)
    assert shell.current_command == "cat"
    await shell.send_input("hello\r")
    await wait_until(lambda: screen(shell).count("hello") == 2, what=lambda: screen(shell))
    await shell.send_input("\x04")
    await back_at_prompt(shell)
    assert "typed-by-execute" not in screen(shell)
    assert (await shell.execute("echo after")).output == "after\n"


async def test_a_half_typed_line_is_kept(shell: Session) -> None:
    await shell.send_input("echo half")
    await wait_for_screen(shell, "$ echo half")
    with pytest.raises(SessionBusy, match="half typed"):
        await shell.execute("echo typed-by-execute", timeout=2)
    await shell.send_input("-done\r")
    await wait_for_screen(shell, "\nhalf-done")
    await back_at_prompt(shell)
    assert "typed-by-execute" not in screen(shell)
    assert (await shell.execute("echo after")).output == "after\n"


async def test_a_line_typed_then_erased_is_an_empty_prompt(shell: Session) -> None:
    await shell.send_input("oops")
    await wait_for_screen(shell, "$ oops")
    await shell.send_input("\x7f" * 4)
    await wait_until(lambda: "oops" not in screen(shell), what=lambda: screen(shell))
    result = await shell.execute("echo clean")
    assert (result.output, result.exit_code) == ("clean\n", 0)


async def test_dash_running_a_builtin_is_busy(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(sh_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    await session.send_input("read answer; echo got:$answer\r")
    await wait_until(lambda: screen(session).endswith("got:$answer"), what="the line echoed")
    with pytest.raises(SessionBusy, match="not at an empty prompt"):
        await session.execute("echo typed-by-execute", timeout=2)
    await session.send_input("n\r")
    await wait_for_screen(session, "got:n")
    assert "typed-by-execute" not in screen(session)


async def test_a_nested_shell_is_busy_and_the_outer_one_works_after(bash: Session) -> None:
    await bash.send_input("bash --norc --noprofile\r")
    await wait_until(lambda: screen(bash).count("$") == 2, what=lambda: screen(bash))
    await wait_until(lambda: foreground(bash) != bash.pid, what="the nested bash in front")
    with pytest.raises(SessionBusy, match="bash is running") as caught:
        await bash.execute("echo typed-by-execute", timeout=2)
    assert caught.value.command == "bash"
    assert "typed-by-execute" not in screen(bash)
    await bash.send_input("exit\r")
    await wait_until(lambda: foreground(bash) == bash.pid, what="the outer bash in front")
    await back_at_prompt(bash)
    result = await bash.execute("echo outer; echo $$")
    assert result.output == f"outer\n{bash.pid}\n"


async def test_a_program_that_is_not_a_shell_is_refused(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(SessionConfig(shell_command="cat"))
    await session.start()
    with pytest.raises(SessionError, match="runs cat, not a shell"):
        await session.execute("echo hi", timeout=2)
    assert "echo hi" not in screen(session)


# -- what shows ------------------------------------------------------------------------------------


async def test_the_screen_and_the_output_show_the_command_and_nothing_else(shell: Session) -> None:
    await shell.read_output()
    result = await shell.execute("echo visible; (exit 3)")
    assert (result.output, result.exit_code) == ("visible\n", 3)
    # execute() returns with the next prompt drawn
    assert screen(shell).splitlines() == ["$ echo visible; (exit 3)", "visible", "$"]
    raw = await shell.read_output()
    for plumbing in (b"printf", b"eval", b"\x1b]777", b"cmd-"):  # the old private marks
        assert plumbing not in raw, plumbing
    assert set(re.findall(rb"\x1b\](\d+)", raw)) == {b"133", b"7"}  # invisible: marks, cwd
    text = plain_text(raw.decode())
    assert "echo visible; (exit 3)" in text and "visible\n" in text


async def test_the_first_prompt_draws_only_the_prompt(shell: Session) -> None:
    assert screen(shell) == "$"
    assert shell.terminal.prompt_mark == "B"


async def test_the_users_prompt_command_still_runs_and_sees_the_status(
    manager: SessionManager,
) -> None:
    session = await manager.create_session_with_config(
        bash_config(environment={"PROMPT_COMMAND": 'echo "status=$?"'})
    )
    await session.start()
    result = await session.execute("(exit 4)")
    assert (result.output, result.exit_code) == ("", 4)  # its output is not the command's
    await wait_for_screen(session, "status=4")


async def test_the_integration_does_not_leak_into_child_processes(shell: Session) -> None:
    result = await shell.execute("env | grep -c -e ^PROMPT_COMMAND= -e ^_AIS_ -e ^ENV= ; true")
    if shell.current_command == "bash":
        assert result.output == "0\n"
    else:  # sh keeps bash's hook (a bash started from it integrates itself), never its own
        variables = (await shell.execute("env")).output.splitlines()
        assert not [line for line in variables if line.startswith(("ENV=", "_AIS_KEY="))]


async def test_a_bashrc_prompt_and_prompt_command_keep_working(
    manager: SessionManager, tmp_path: Path
) -> None:
    (tmp_path / ".bashrc").write_text('PS1="custom> "\nPROMPT_COMMAND="echo -n"\n')
    session = await manager.create_session_with_config(
        SessionConfig(shell="bash", environment={"HOME": str(tmp_path)})
    )
    await session.start()
    result = await session.execute("echo from-rc; (exit 2)")
    assert (result.output, result.exit_code) == ("from-rc\n", 2)
    assert screen(session).splitlines()[-3:] == [
        "custom> echo from-rc; (exit 2)",
        "from-rc",
        "custom>",
    ]


async def test_a_bashrc_with_set_u_keeps_the_marks(manager: SessionManager, tmp_path: Path) -> None:
    # Strict mode in a bashrc (nounset) must not stop the hooks installed after it.
    (tmp_path / ".bashrc").write_text('set -u\nPS1="strict> "\n')
    session = await manager.create_session_with_config(
        SessionConfig(shell="bash", environment={"HOME": str(tmp_path)})
    )
    await session.start()
    result = await session.execute("echo ok; (exit 3)")
    assert (result.output, result.exit_code) == ("ok\n", 3)
    assert "unbound" not in session.capture_pane()
    assert (await session.execute("echo $-")).output.count("u") == 1  # still set for the user


# -- long commands, every shell -----------------------------------------------------------------


@pytest.mark.parametrize("size", [10_000, 64 * 1024])
async def test_long_commands(shell: Session, size: int) -> None:
    result = await shell.execute(f"echo {'x' * size} | wc -c", timeout=20)
    assert (result.output.strip(), result.exit_code) == (str(size + 1), 0)
    lines = "\n".join(f"echo line{i}" for i in range(size // 12)) + "\n(exit 6)"
    result = await shell.execute(lines, timeout=20)
    assert result.output.split() == [f"line{i}" for i in range(size // 12)]
    assert result.exit_code == 6
    assert not list(integration_dir().glob("cmd-*"))  # the command files are gone


async def test_a_command_file_is_private(shell: Session) -> None:
    # Two lines with a `!` (bash would expand it, pasted or typed): a file, which lists itself.
    result = await shell.execute(f"stat -c %a {integration_dir()}/cmd-*  # !x\n")
    assert result.output == "600\n"
    assert stat.S_IMODE(os.stat(integration_dir()).st_mode) == 0o700


def test_a_killed_process_integration_dir_is_removed_by_the_next(tmp_path: Path) -> None:
    # A process killed (SIGKILL, or SIGTERM without a handler) cannot remove its directory at
    # exit: the next process that makes one removes it. Live processes' dirs stay.
    dead = _dead_pid()
    stale = tmp_path / f"ai-session-shell-{dead}-abc"
    live = tmp_path / f"ai-session-shell-{os.getpid()}-abc"
    for folder in (stale, live):
        folder.mkdir(mode=0o700)
        (folder / "ai-session-env.sh").write_text("")
    code = "from engine.shell import integration_dir; print(integration_dir())"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[1])}
    made = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(made).parent == tmp_path and not Path(made).exists()  # its own: gone at exit
    assert not stale.exists() and live.exists()


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


async def test_bash_shows_a_long_or_multiline_command_as_it_is(manager: SessionManager) -> None:
    """Pasted into readline (bracketed paste), not sourced from a file: the person watching
    and the history see the command itself, and Up + Enter runs it again."""
    session = await manager.create_session_with_config(bash_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    command = 'for i in 1 2; do\n  echo "n$i"\ndone'
    result = await session.execute(command)
    assert (result.output, result.exit_code) == ("n1\nn2\n", 0)
    assert screen(session).splitlines()[:3] == ["$ for i in 1 2; do", '  echo "n$i"', "done"]
    long = f"echo {'z' * 3000} | wc -c"
    assert (await session.execute(long)).output == "3001\n"
    assert "| wc -c" in screen(session) and "cmd-" not in screen(session)
    history = (await session.execute("history 3")).output
    assert "wc -c" in history and "cmd-" not in history
    assert not list(integration_dir().glob("cmd-*"))


async def test_multiline_commands_and_heredocs(shell: Session) -> None:
    result = await shell.execute("for i in 1 2; do\n  echo $i\ndone\ncat <<'EOF'\n$HOME\nEOF")
    assert result.output == "1\n2\n$HOME\n"


@pytest.mark.parametrize(
    "command", ["true", "false", "(exit 42)", "f() { return 7; }; f", "test 1 -gt 2", ""]
)
async def test_exit_codes_are_exact(shell: Session, command: str) -> None:
    expected = {"false": 1, "(exit 42)": 42, "f() { return 7; }; f": 7, "test 1 -gt 2": 1}
    assert (await shell.execute(command)).exit_code == expected.get(command, 0)


# -- state, timeouts, concurrency -----------------------------------------------------------------


async def test_cd_and_export_persist(shell: Session, tmp_path: Path) -> None:
    await shell.execute(f"cd {tmp_path} && export GREETING=hello")
    result = await shell.execute('pwd; echo "$GREETING"')
    assert result.output == f"{tmp_path}\nhello\n"


async def test_timeout_interrupts_what_it_started_and_the_shell_recovers(shell: Session) -> None:
    result = await shell.execute("echo started; sleep 30; echo not-reached", timeout=0.5)
    assert result.timed_out and result.exit_code is None and result.output == "started\n"
    after = await shell.execute("echo recovered; echo $?")
    assert (after.output, after.exit_code) == ("recovered\n0\n", 0)
    assert screen(shell).count("not-reached") == 1  # in the command line only


async def test_timeout_of_a_builtin_loop(shell: Session) -> None:
    result = await shell.execute("while :; do :; done", timeout=0.5)
    assert result.timed_out
    assert (await shell.execute("echo back")).output == "back\n"


async def test_concurrent_executes_are_serialised(shell: Session) -> None:
    results = await asyncio.gather(*(shell.execute(f"echo {i}; (exit {i})") for i in range(8)))
    assert [(r.output, r.exit_code) for r in results] == [(f"{i}\n", i) for i in range(8)]


async def test_execute_right_after_start_waits_for_the_prompt(manager: SessionManager) -> None:
    for config in (bash_config(), sh_config()):
        session = await manager.create_session_with_config(config)
        await session.start()
        assert (await session.execute("echo first")).output == "first\n"


async def test_an_empty_prompt_survives_a_resize(shell: Session) -> None:
    await shell.resize(columns=40, lines=10)
    await shell.resize(columns=100, lines=30)
    assert (await shell.execute("echo resized")).output == "resized\n"


def test_prompts_inside_a_running_command_are_not_the_shells() -> None:
    term = Terminal(20, 3)
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B\x07bash\r\n\x1b]133;C\x07")
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B\x07")  # `exec bash` inheriting an exported PS1
    assert term.prompt_mark == "C"
    term.feed(b"exit\r\n\x1b]133;D;0\x07\x1b]133;A\x07$ \x1b]133;B\x07")
    assert (term.prompt_mark, term.prompt_input) == ("B", (2, 2))


async def test_exec_of_a_shell_without_integration_is_busy_not_typed_into(bash: Session) -> None:
    await bash.send_input("exec bash --norc --noprofile\r")
    await wait_until(lambda: screen(bash).endswith("\n$"), what=lambda: screen(bash))
    with pytest.raises(SessionBusy, match="bash is running a command"):
        await bash.execute("echo typed-by-execute", timeout=2)
    assert "typed-by-execute" not in screen(bash)


async def test_a_wrapper_that_does_not_exec_the_shell(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(
        SessionConfig(
            shell_command="sh -c 'bash --norc --noprofile; exit 7'", environment={"PS1": "$ "}
        )
    )
    await session.start()
    result = await session.execute("echo $$; (exit 3)")
    assert result.exit_code == 3
    assert int(result.output) != session.pid  # the prompt's shell, a child of the session's


async def test_a_callers_integration_variables_are_not_run(
    manager: SessionManager, tmp_path: Path
) -> None:
    evil = tmp_path / "evil.sh"
    evil.write_text(f"touch {tmp_path}/ran\n")
    for config in (bash_config, sh_config):
        session = await manager.create_session_with_config(
            config(environment={"_AIS_ENV": str(evil), "_AIS_BASH": f". {evil}"})
        )
        await session.start()
        assert (await session.execute("echo ok")).output == "ok\n"
    assert not (tmp_path / "ran").exists()


async def test_the_users_own_env_file_still_runs_in_sh(
    manager: SessionManager, tmp_path: Path
) -> None:
    (tmp_path / "shrc").write_text("GREETING=from-shrc\n")
    session = await manager.create_session_with_config(
        sh_config(environment={"ENV": str(tmp_path / "shrc")})
    )
    await session.start()
    result = await session.execute('echo "$GREETING $ENV"')
    assert result.output == f"from-shrc {tmp_path / 'shrc'}\n"


async def test_a_caret_at_the_start_is_not_history_substitution(shell: Session) -> None:
    # bash takes a line starting with ^ as ^old^new (quick substitution) when typed
    result = await shell.execute("^x^y 2>/dev/null; echo ran")
    assert result.output == "ran\n"


async def test_execute_works_after_a_respawn_that_killed_a_running_command(
    shell: Session,
) -> None:
    await shell.send_input("sleep 100\r")
    await wait_until(lambda: shell.current_command == "sleep", what="sleep in the foreground")
    await shell.respawn(kill=True)
    result = await shell.execute("echo again")
    assert (result.output, result.exit_code) == ("again\n", 0)


async def test_output_is_whole_when_the_tty_does_not_echo(shell: Session) -> None:
    # sh's output starts after the echo of the typed line; with echo off there is none
    await shell.execute("stty -echo")
    result = await shell.execute("echo a; echo b")
    assert (result.output, result.exit_code) == ("a\nb\n", 0)
    await shell.execute("stty echo")


async def test_unicode_is_typed_as_it_is(shell: Session) -> None:
    result = await shell.execute("echo héllo ✓ 日本")
    assert result.output == "héllo ✓ 日本\n"
    await wait_until(lambda: "$ echo héllo ✓ 日本" in screen(shell), what=lambda: screen(shell))


async def test_a_prompt_framework_rebuilding_ps0_and_ps1_keeps_the_marks(
    manager: SessionManager,
) -> None:
    session = await manager.create_session_with_config(
        bash_config(environment={"PROMPT_COMMAND": "PS1='fw> '; PS0=''"})
    )
    await session.start()
    for i in range(3):
        result = await session.execute(f"echo {i}; (exit {i})")
        assert (result.output, result.exit_code) == (f"{i}\n", i)
    await wait_until(lambda: screen(session).endswith("fw>"), what=lambda: screen(session))


async def test_text_after_a_prompt_of_wide_characters_is_seen(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(environment={"PS1": "日本語> "}))
    await session.start()
    await wait_for_screen(session, "日本語> ")
    await session.send_input("ab")
    await wait_for_screen(session, "> ab")
    with pytest.raises(SessionBusy, match="half typed"):
        await session.execute("echo typed-by-execute", timeout=2)


@pytest.mark.parametrize("line", ['echo "unterminated', "echo a |", "echo a \\"])
async def test_an_unfinished_command_is_refused_at_once_and_cancelled(
    shell: Session, line: str
) -> None:
    """The shell asks for more (its continuation prompt) instead of running an open quote or
    a trailing `|`: execute says so at once, cancels the line, and the shell is usable."""
    started = time.monotonic()
    with pytest.raises(IncompleteCommand, match="unfinished"):
        await shell.execute(line, timeout=20)
    assert time.monotonic() - started < 10  # not the whole timeout
    result = await shell.execute("echo still-here")
    assert (result.exit_code, result.output) == (0, "still-here\n")


async def test_a_d_mark_in_the_output_does_not_end_the_command(shell: Session) -> None:
    """A command that prints a D mark (`cat` of a recorded shell session, a log) is not over:
    only the D of this session's own shell, signed with its key, ends it."""
    fake = "printf 'x\\033]133;D;7\\007\\033]133;A\\007$ \\033]133;B\\007'; echo real; (exit 3)"
    result = await shell.execute(fake)
    assert result.exit_code == 3 and result.output.endswith("real\n")
    assert (await shell.execute("echo next")).output == "next\n"


async def test_a_timeout_says_whether_the_command_is_still_running(shell: Session) -> None:
    """C-c is all execute may do: a program that ignores it is reported as still running
    (and the shell as busy), not as interrupted."""
    await shell.read_output()
    stubborn = "python3 -c 'import signal,time; signal.signal(2, signal.SIG_IGN); time.sleep(30)'"
    result = await shell.execute(stubborn, timeout=1)
    assert result.timed_out and result.still_running
    with pytest.raises(SessionBusy, match="python3"):
        await shell.execute("true")
    shell.send_signal("KILL")  # the foreground job
    await back_at_prompt(shell)
    result = await shell.execute("sleep 30", timeout=0.3)
    assert result.timed_out and not result.still_running  # sleep dies of C-c


async def test_a_bash_replaced_by_exec_says_so(manager: SessionManager) -> None:
    """`exec sh` leaves no shell that marks its prompt: execute says what happened and what
    to do, instead of "busy" for ever."""
    session = await manager.create_session_with_config(bash_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    await session.send_input("exec /bin/sh\r")
    await wait_until(lambda: session.current_command == "sh", what="sh replacing bash")
    with pytest.raises(SessionError, match="replaced by sh") as raised:
        await session.execute("true")
    assert not isinstance(raised.value, SessionBusy)
    await session.respawn(kill=True)
    assert (await session.execute("echo again")).output == "again\n"


# -- what a user's typing or a background job leaves --------------------------------------------


@pytest.mark.parametrize(
    ("typed", "running"),
    [
        ("python3 -c 'print(\"got:\", repr(input()))'\r", "python3"),
        ("sh -c 'sleep 1; exit 7'\r", "sh"),
    ],
)
async def test_an_execute_right_after_typed_input_waits_for_the_shell_to_take_it(
    shell: Session, typed: str, running: str
) -> None:
    """The shell reads typed input when it gets to it: until it echoes, the screen still
    shows the empty prompt. The program it starts must not get execute's line, nor its exit
    code be taken for the command's."""
    await shell.send_input(typed)
    with pytest.raises(SessionBusy):
        await shell.execute("echo typed-by-execute", timeout=2)
    await wait_until(lambda: shell.current_command == running, what="the typed command running")
    if running == "python3":
        await shell.send_input("mine\r")
        await wait_for_screen(shell, "got: 'mine'")
    await back_at_prompt(shell)
    assert "typed-by-execute" not in screen(shell)
    assert (await shell.execute("echo after")).output == "after\n"


async def test_sh_at_the_bottom_row_running_read_is_busy(manager: SessionManager) -> None:
    """The prompt's row scrolls away with output: where the cursor stands after the program's
    own `? ` is not the prompt, even in the same column."""
    session = await manager.create_session_with_config(sh_config())
    await session.start()
    await session.execute("seq 1 40")
    await session.send_input("printf '? '; read a; echo got=$a\r")
    await wait_until(lambda: screen(session).endswith("\n?"), what=lambda: screen(session))
    with pytest.raises(SessionBusy):
        await session.execute("echo typed-by-execute", timeout=2)
    await session.send_input("mine\r")
    await wait_for_screen(session, "got=mine")
    assert "typed-by-execute" not in screen(session)


async def test_a_background_jobs_output_after_the_prompt_does_not_block_execute(
    shell: Session,
) -> None:
    """Nothing was typed since the last command: the shell's line is empty whatever a job
    printed after its prompt."""
    await shell.execute("(sleep 0.3; echo BG-OUT) &")
    await wait_until(lambda: screen(shell).endswith("$ BG-OUT"), what=lambda: screen(shell))
    result = await shell.execute("echo after")
    assert result.exit_code == 0
    assert result.output.startswith("after\n")  # dash tells of the done job after it


async def test_a_session_killed_while_a_command_runs_is_not_an_exit_code(shell: Session) -> None:
    running = asyncio.create_task(shell.execute("sleep 30; echo not-reached"))
    await wait_until(lambda: shell.current_command == "sleep", what="sleep running")
    shell.send_signal("KILL", foreground=False)
    with pytest.raises(ProcessError, match="killed by SIGKILL"):
        await running


async def test_sh_takes_a_line_up_to_its_tty_limit_as_typed(manager: SessionManager) -> None:
    """dash reads the tty's cooked line (4095 bytes): up to MAX_TYPED_SH it is typed, and the
    screen shows the command, not a file to source."""
    session = await manager.create_session_with_config(sh_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    result = await session.execute(f"echo {'q' * 3900} | wc -c")
    assert (result.output, result.exit_code) == ("3901\n", 0)
    assert "| wc -c" in screen(session) and "cmd-" not in screen(session)


async def test_sh_reads_lines_again_after_a_program_left_the_terminal_raw(
    manager: SessionManager,
) -> None:
    """A program killed in raw mode leaves the tty so; bash's readline sets its own mode, but
    sh reads cooked lines and would never see an Enter: execute cooks the tty again."""
    session = await manager.create_session_with_config(sh_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    raw = "python3 -c 'import sys, time, tty; tty.setraw(0); time.sleep(30)'"
    result = await session.execute(raw, timeout=1)
    assert result.timed_out and not result.still_running
    result = await session.execute("echo cooked", timeout=5)
    assert (result.output, result.exit_code, result.timed_out) == ("cooked\n", 0, False)
    assert "$ echo cooked" in screen(session)  # echoed again, as before the raw program
