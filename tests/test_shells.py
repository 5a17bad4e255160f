"""zsh and fish sessions get shell integration too (engine/shell.py): after the user's own rc
files, their prompt keeps working and gains OSC 133 marks, so execute() and command records work
as in bash. Real shells in a temporary HOME; skipped where a shell is not installed."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from conftest import wait_for_screen, wait_until

from engine import Session, SessionConfig, SessionError, SessionManager
from engine.errors import IncompleteCommand
from engine.session import _C_MARK, OutputEvent, _Collector
from engine.shell import prepare

ZSH = shutil.which("zsh")
FISH = shutil.which("fish")
needs_zsh = pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(FISH is None, reason="fish is not installed")

# The user's rc: a prompt of their own showing the last status, a right prompt (on the line
# where commands are typed), and a zsh precmd hook of their own that rebuilds PS1 at every
# prompt, as prompt themes do (the marks must survive that).
ZSHRC = """\
PROMPT='zsh-user %# '
RPROMPT='[right]'
precmd() { (( ++USER_PRECMD )) }
__user_theme() { PS1="zsh-user[$?] %# " }
precmd_functions+=(__user_theme)
"""
FISH_CONFIG = """\
set -g fish_greeting
function fish_prompt
    printf 'fish-user[%s]> ' $status
end
function fish_right_prompt
    printf '[right]'
end
"""
PROMPTS = {"zsh": "zsh-user[", "fish": "fish-user["}


def make_home(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".zshrc").write_text(ZSHRC)
    (folder / ".config" / "fish").mkdir(parents=True)
    (folder / ".config" / "fish" / "config.fish").write_text(FISH_CONFIG)
    return folder


def config(name: str, home: Path, **environment: str) -> SessionConfig:
    program = ZSH if name == "zsh" else FISH
    assert program is not None
    env = {"HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **environment}
    return SessionConfig(shell=program, environment=env)


SHELLS = [pytest.param("zsh", marks=needs_zsh), pytest.param("fish", marks=needs_fish)]


@pytest.fixture(params=SHELLS)
async def shell(request: pytest.FixtureRequest, manager: SessionManager, tmp_path: Path) -> Session:
    """A started zsh, then a started fish, each at the user's prompt, marked."""
    return await started(manager, request.param, make_home(tmp_path / "home"))


async def started(manager: SessionManager, name: str, home: Path, **env: str) -> Session:
    """A started `name` (zsh, fish) with `home` for HOME, at its marked prompt."""
    session = await manager.create_session_with_config(config(name, home, **env))
    await session.start()
    await at_prompt(session)
    return session


async def at_prompt(session: Session) -> None:
    await wait_until(lambda: session.terminal.prompt_mark == "B", what=session.capture_pane)


def kind(session: Session) -> str:
    return "zsh" if session.config.shell == ZSH else "fish"


def last_line(session: Session) -> str:
    return session.capture_pane().rstrip("\n").splitlines()[-1]


async def test_the_users_prompt_shows_and_is_marked(shell: Session) -> None:
    name = kind(shell)
    await wait_for_screen(shell, PROMPTS[name] + "0]")
    options = shell.terminal.prompt_options
    assert options["ais_sh"] == name and options["ais"] == str(shell.pid)
    assert shell.terminal.prompt_input == (shell.terminal.cursor.y, shell.terminal.cursor.x)
    assert shell.terminal.cwd == str(shell.config.working_directory)  # OSC 7 with the prompt


async def test_execute_gives_output_and_exact_exit_codes(shell: Session) -> None:
    result = await shell.execute("echo hi")
    assert (result.exit_code, result.output, result.timed_out) == (0, "hi\n", False)
    assert (await shell.execute("false")).exit_code == 1
    assert (await shell.execute("sh -c 'exit 7'")).exit_code == 7
    # the user's prompt saw the status too: their own $?/$status is left alone
    assert last_line(shell).startswith(PROMPTS[kind(shell)] + "7]")
    # output without a final newline is all there, without the shell's end-of-line mark
    assert (await shell.execute("printf abc")).output == "abc"


async def test_multi_line_and_long_commands_are_pasted(shell: Session) -> None:
    """As a person pastes them: the screen shows the lines themselves, no file to source."""
    result = await shell.execute("echo one\necho two\nfalse")
    assert (result.exit_code, result.output) == (1, "one\ntwo\n")
    await wait_until(lambda: "\none\ntwo\n" in shell.capture_pane(), what=shell.capture_pane)
    assert "echo two" in shell.capture_pane()
    long = "echo " + "x" * 1500
    result = await shell.execute(long)
    assert (result.exit_code, result.output) == (0, "x" * 1500 + "\n")
    assert shell.history.records()[-1].command == long  # the record shows it as given
    assert "/cmd-" not in shell.capture_pane(start="-")


async def test_a_history_expansion_only_a_file_avoids_is_sourced(
    manager: SessionManager, tmp_path: Path
) -> None:
    """zsh would expand `!x` in a typed or pasted line: that one still goes through a file."""
    if ZSH is None:
        pytest.skip("zsh is not installed")
    session = await started(manager, "zsh", make_home(tmp_path / "home"))
    result = await session.execute("echo 'a!b'")
    assert (result.exit_code, result.output) == (0, "a!b\n")
    assert ". /" in session.capture_pane()


async def test_commands_become_records_with_cwd(shell: Session, tmp_path: Path) -> None:
    await shell.execute("echo first")
    await shell.execute(f"cd {tmp_path}")
    await shell.execute("pwd")
    await shell.execute("sh -c 'echo oops; exit 3'")
    await wait_until(lambda: len(shell.history) == 4, what=lambda: repr(list(shell.history)))
    first, cd, pwd, failed = shell.history.records()
    start = str(shell.config.working_directory)
    assert (first.command, first.output, first.exit_code, first.cwd) == (
        "echo first",
        "first",
        0,
        start,
    )
    assert (cd.command, cd.cwd) == (f"cd {tmp_path}", start)
    assert (pwd.output, pwd.cwd) == (str(tmp_path), str(tmp_path))
    assert (failed.output, failed.exit_code, failed.failed) == ("oops", 3, True)
    assert [r.seq for r in shell.history.records()] == [1, 2, 3, 4]
    assert shell.terminal.cwd == str(tmp_path)


async def test_a_timeout_interrupts_only_the_command(shell: Session) -> None:
    result = await shell.execute("sleep 30", timeout=0.5)
    assert result.timed_out and result.exit_code is None
    await at_prompt(shell)
    result = await shell.execute("echo after")
    assert (result.exit_code, result.output) == (0, "after\n")
    assert shell.status.kind == "running"


async def test_nothing_of_ours_leaks_into_the_shell(shell: Session) -> None:
    """The key, and for zsh our ZDOTDIR, are gone once the shell started: a nested shell
    starts as the user's own."""
    if kind(shell) == "zsh":
        line = 'print -r -- "${_AIS_KEY-nokey} ${ZDOTDIR-nozdotdir} ${_AIS_ZDOTDIR-none}"'
    else:
        line = "set -q _AIS_KEY; or echo nokey"
    result = await shell.execute(line)
    assert result.output.split() in (["nokey", "nozdotdir", "none"], ["nokey"])


async def test_the_off_switch_turns_them_off(manager: SessionManager, tmp_path: Path) -> None:
    home = make_home(tmp_path)
    for name, program in (("zsh", ZSH), ("fish", FISH)):
        if program is None:
            continue
        session = await manager.create_session_with_config(
            config(name, home, AI_SESSION_SHELL_INTEGRATION="0")
        )
        await session.start()
        await wait_for_screen(session, PROMPTS[name] + "0]")  # the user's prompt still works
        with pytest.raises(SessionError, match="turned shell integration off"):
            await session.execute("echo hi")
        assert session.terminal.prompt_mark is None
        assert session.history.records() == []


@needs_zsh
async def test_zsh_unfinished_line_is_refused(manager: SessionManager, tmp_path: Path) -> None:
    session = await started(manager, "zsh", make_home(tmp_path))
    with pytest.raises(IncompleteCommand):
        await session.execute("echo 'open")
    assert (await session.execute("echo ok")).output == "ok\n"


@needs_zsh
async def test_zsh_reads_the_users_zdotdir(manager: SessionManager, tmp_path: Path) -> None:
    """A ZDOTDIR of the user's own is where their files come from, and what they see."""
    dot = tmp_path / "dot"
    dot.mkdir()
    (dot / ".zshenv").write_text("export FROM_ZSHENV=yes\n")
    (dot / ".zshrc").write_text("PROMPT='dotdir %# '\n")
    session = await started(manager, "zsh", make_home(tmp_path / "home"), ZDOTDIR=str(dot))
    assert last_line(session).startswith("dotdir ")
    result = await session.execute('print -r -- "$FROM_ZSHENV $ZDOTDIR"')
    assert result.output == f"yes {dot}\n"


@needs_zsh
async def test_zsh_login_shell_reads_every_user_file(
    manager: SessionManager, tmp_path: Path
) -> None:
    """`zsh -l`: the user's .zshenv, .zprofile, .zshrc and .zlogin, in zsh's order, and their
    own precmd function runs at every prompt beside ours."""
    home = make_home(tmp_path)
    for name in ("zshenv", "zprofile", "zshrc", "zlogin"):
        with (home / f".{name}").open("a") as f:
            f.write(f"ORDER+=({name})\n")
    assert ZSH is not None
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=[ZSH, "-l"], environment={"HOME": str(home)})
    )
    await session.start()
    await at_prompt(session)
    result = await session.execute('print -r -- "$ORDER"; print -r -- $USER_PRECMD')
    assert result.output == "zshenv zprofile zshrc zlogin\n1\n"
    assert (await session.execute("print -r -- $USER_PRECMD")).output == "2\n"


def test_zsh_without_startup_files_gets_nothing_of_ours() -> None:
    """`zsh -f` would read no file of ours: its environment is left as it was."""
    for argv in (["zsh", "-f"], ["zsh", "-fi"], ["zsh", "--no-rcs"], ["zsh", "-o", "f"]):
        env = {"ZDOTDIR": "/home/me/zsh"}
        assert prepare(argv, env, "k") == argv
        if argv[1:2] == ["-o"]:  # `f` is the option's value: startup files are read
            assert env["_AIS_ZDOTDIR"] == "/home/me/zsh" and env["_AIS_KEY"] == "k"
        else:
            assert env == {"ZDOTDIR": "/home/me/zsh"}, argv


@needs_fish
async def test_fish_unfinished_line_answers_at_once(
    manager: SessionManager, tmp_path: Path
) -> None:
    """fish shows no continuation prompt: a line it cannot parse is sourced, and its error
    comes back instead of the editor waiting for more."""
    session = await started(manager, "fish", make_home(tmp_path))
    result = await session.execute("echo 'open", timeout=10)
    assert not result.timed_out and result.exit_code != 0
    assert "quotes are not balanced" in result.output


# A prompt a theme (or the user) redefines after the shell started: a new fish_prompt, a zsh
# precmd hook added after ours that sets PS1 (marked at once: B comes from zle-line-init).
LATER = [
    pytest.param("fish", "function fish_prompt; printf 'themed> '; end", marks=needs_fish),
    pytest.param("zsh", "late() { PS1='themed> ' }; precmd_functions+=(late)", marks=needs_zsh),
]


@pytest.mark.parametrize(("name", "redefine"), LATER)
async def test_a_prompt_redefined_later_is_marked(
    manager: SessionManager, tmp_path: Path, name: str, redefine: str
) -> None:
    session = await started(manager, name, make_home(tmp_path))
    await session.execute(redefine)
    for _ in range(2):  # the first prompt after it, and the ones after that
        assert last_line(session).startswith("themed>")
        result = await session.execute("echo fine")
        assert (result.exit_code, result.output) == (0, "fine\n")


async def test_typed_commands_become_records(shell: Session) -> None:
    """A person typing at the prompt (not execute): the line exactly, as the shell read it
    (its C mark carries it): not the right prompt beside it, nor zsh's PS2 or fish's indent
    of a continuation line."""
    for line, output, code in (
        ("echo typed", "typed", 0),
        ("sh -c 'exit 4'", "", 4),
        ("echo 'two\rlines'", "two\nlines", 0),
        ("echo '100%;é' \\%41", "100%;é %41", 0),
    ):
        count = shell.history.count
        await at_prompt(shell)
        await shell.send_input(line + "\r")
        await wait_until(lambda n=count: shell.history.count > n, what=shell.capture_pane)
        record = shell.history.records()[-1]
        assert (record.command, record.output, record.exit_code) == (
            line.replace("\r", "\n"),
            output,
            code,
        )


async def test_a_long_command_line_is_typed_and_read_back(shell: Session) -> None:
    """Up to 1000 bytes are typed; the C mark then carries them all (percent-encoded)."""
    result = await shell.execute("echo '" + "y;" * 450 + "'")
    assert (result.exit_code, result.output) == (0, "y;" * 450 + "\n")
    assert "y;y;" in shell.capture_pane()  # typed, not sourced from a file


async def test_a_c_mark_split_across_reads_still_starts_the_output() -> None:
    """execute() keeps a long C mark whole while it arrives in pieces."""
    loop = asyncio.get_running_loop()
    collector = _Collector(
        begin=_C_MARK, ended=loop.create_future(), back=loop.create_future(), limit=1 << 20
    )
    data = b"echo x\r\n\x1b]133;C;cmdline_url=" + b"x" * 300 + b"\x07out\r\n\x1b]133;D;5\x07"
    for at in range(0, len(data), 100):
        collector(OutputEvent(data[at : at + 100], at))
    assert collector.ended.result() == (5, b"out\r\n")


@needs_zsh
async def test_zsh_commands_that_change_how_it_draws_prompts(
    manager: SessionManager, tmp_path: Path
) -> None:
    """Each of these ends (D) even though it changes what zsh draws before the next prompt."""
    session = await started(manager, "zsh", make_home(tmp_path))
    for line in ("PROMPT_EOL_MARK=''", "printf partial", "unsetopt prompt_sp", "printf more"):
        result = await session.execute(line, timeout=10)
        assert (result.exit_code, result.timed_out) == (0, False), line
    assert [r.output for r in session.history.records()] == ["", "partial", "", "more"]
