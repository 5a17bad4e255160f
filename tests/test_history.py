"""Commands as records: the shell's OSC 133 marks turn each command into a `CommandRecord`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Session, SessionError, SessionManager
from engine.history import CommandHistory, CommandRecord
from engine.session import CommandEvent, SessionEvent
from engine.terminal import Terminal
from tests.conftest import bash_config, wait_for_screen, wait_until
from tests.test_execute import sh_config  # dash: no PS0, so no C mark

CONFIGS = {"bash": bash_config, "sh": sh_config}


@pytest.fixture(params=["bash", "sh"])
async def shell(request: pytest.FixtureRequest, manager: SessionManager) -> Session:
    """A started bash, then a started dash, each at its `$ ` prompt, 60x12."""
    config = CONFIGS[request.param](pty_size=(12, 60))
    session = await manager.create_session_with_config(config)
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


async def run(session: Session, line: str, prompt: bool = True) -> CommandRecord:
    """Type `line` and Enter at the prompt, as a person would; the record it made."""
    if prompt:
        await at_prompt(session)  # sh would echo what is typed ahead before its prompt
    count = session.history.count
    await session.send_input(line + "\r")
    await wait_until(
        lambda: session.history.count > count,
        what=lambda: f"a record of {line!r}; screen:\n{session.capture_pane()}",
    )
    record = session.history.last
    assert record is not None
    return record


async def at_prompt(session: Session) -> None:
    """Wait until the shell waits at an empty prompt."""
    term = session.terminal
    await wait_until(
        lambda: term.prompt_mark == "B" and term.prompt_input == (term.cursor.y, term.cursor.x),
        what=lambda: session.capture_pane(),
    )


# -- the tracker alone, fed marks -------------------------------------------------------------


def test_marks_make_a_command_with_its_output_and_status() -> None:
    term = Terminal(20, 4)
    term.feed(b"\x1b]7;file://host/tmp/a%20b\x07\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07")
    term.feed(b"ls\r\n\x1b]133;C\x07one\r\n\x1b[31mtwo\x1b[0m\r\n\r\n")
    assert term.screen.commands.take() == []  # running
    term.feed(b"\x1b]133;D;3\x07\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07")
    (done,) = term.screen.commands.take()
    assert (done.command, done.output, done.exit_code, done.cwd) == (
        "ls",
        "one\ntwo",
        3,
        "/tmp/a b",
    )
    assert done.ended_at >= done.started_at
    term.feed(b"\r\n\x1b]133;D;0\x07\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07")  # Enter alone
    assert term.screen.commands.take() == []


def test_a_command_and_its_output_scrolled_far_into_the_history() -> None:
    term = Terminal(10, 3)
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07echo 0123456789abc\r\n\x1b]133;C\x07")
    term.feed("".join(f"line {i}\r\n" for i in range(100)).encode())
    term.feed(b"\x1b]133;D;0\x07")
    (done,) = term.screen.commands.take()
    assert done.command == "echo 0123456789abc"  # wrapped rows joined
    assert done.output.split("\n") == [f"line {i}" for i in range(100)]
    assert not done.output_truncated


def test_output_that_left_the_history_is_marked_truncated() -> None:
    term = Terminal(10, 3, scrollback=20)
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07seq\r\n\x1b]133;C\x07")
    term.feed("".join(f"{i}\r\n" for i in range(100)).encode() + b"\x1b]133;D;0\x07")
    (done,) = term.screen.commands.take()
    assert done.output_truncated and done.output.split("\n")[-1] == "99"


def test_a_clear_keeps_the_marks_on_their_lines() -> None:
    term = Terminal(20, 4)
    prompt = b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07"
    term.feed(prompt + b"x\r\n\x1b]133;C\x07a\r\nb\r\n\x1b]133;D;0\x07")
    term.feed(prompt + b"clear\r\n\x1b]133;C\x07\x1b[H\x1b[2J\x1b[3J\x1b]133;D;0\x07")
    term.feed(prompt + b"echo hi\r\n\x1b]133;C\x07hi\r\n\x1b]133;D;0\x07" + prompt)
    assert [(d.command, d.output) for d in term.screen.commands.take()] == [
        ("x", "a\nb"),
        ("clear", ""),
        ("echo hi", "hi"),
    ]


def test_a_running_commands_output_start_follows_a_reflow() -> None:
    term = Terminal(20, 6)
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07make\r\n\x1b]133;C\x07")
    term.feed(b"A" * 30 + b"\r\nend\r\n")
    term.resize(12, 6)
    term.resize(50, 6)
    term.feed(b"\x1b]133;D;2\x07")
    (done,) = term.screen.commands.take()
    assert (done.command, done.output, done.exit_code) == ("make", "A" * 30 + "\nend", 2)


def test_a_d_mark_without_the_shells_key_ends_nothing() -> None:
    term = Terminal(20, 4)
    term.screen.prompt_key = "k1"
    term.feed(b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07cat\r\n\x1b]133;C\x07")
    term.feed(b"a\x1b]133;D;0\x07b\r\n")
    assert term.screen.commands.take() == []
    term.feed(b"\x1b]133;D;1;aisk=k1\x07")
    (done,) = term.screen.commands.take()
    assert (done.output, done.exit_code) == ("ab", 1)


def test_records_round_trip_and_history_filters() -> None:
    now = datetime.now(UTC)
    history = CommandHistory(size=2)
    for seq, code in enumerate([0, 1, 2], 1):
        history.add(
            CommandRecord("id", "s", seq, f"c{seq}", "/", now, now + timedelta(seconds=1), code, "")
        )
    assert [r.seq for r in history.records()] == [2, 3] and history.next_seq() == 4
    assert [r.seq for r in history.records(failed=True, limit=1)] == [3]
    record = history.records()[0]
    assert record.failed and record.duration == 1.0
    assert CommandRecord.from_dict(record.to_dict()) == record


# -- real shells ---------------------------------------------------------------------------------


async def test_commands_become_records(shell: Session, tmp_path: Path) -> None:
    events: list[SessionEvent] = []
    shell.subscribe(events.append)
    echo = await run(shell, "echo hello; echo world")
    assert (echo.command, echo.output, echo.exit_code, echo.seq) == (
        "echo hello; echo world",
        "hello\nworld",
        0,
        1,
    )
    failed = await run(shell, "ls /nonexistent-dir; (exit 7)")
    assert failed.exit_code == 7 and failed.failed and "nonexistent-dir" in failed.output
    await at_prompt(shell)
    await shell.send_input("\r")  # Enter alone: no record
    await wait_until(lambda: shell.capture_pane().rstrip().endswith("$\n$"))
    await run(shell, f"cd {tmp_path}")
    here = await run(shell, "pwd")
    assert (here.cwd, here.output, here.seq) == (str(tmp_path), str(tmp_path), 4)
    assert echo.started_at <= echo.ended_at  # type: ignore[operator]
    assert [e.record.seq for e in events if isinstance(e, CommandEvent)] == [1, 2, 3, 4]
    assert [r.command for r in shell.history.records(failed=True)] == [failed.command]


async def test_a_command_line_over_several_prompts(shell: Session) -> None:
    await shell.send_input("for i in 1 2; do\r")
    await wait_until(lambda: shell.terminal.prompt_mark == "S", what=shell.capture_pane)
    await shell.send_input("echo x$i\r")
    await wait_until(lambda: shell.capture_pane().count("\n>") == 2, what=shell.capture_pane)
    record = await run(shell, "done", prompt=False)
    assert record.command == "for i in 1 2; do\necho x$i\ndone"
    assert record.output == "x1\nx2"


async def test_long_output_into_the_history_and_a_clear(shell: Session) -> None:
    record = await run(shell, "seq 1 500")
    assert record.output.split("\n") == [str(i) for i in range(1, 501)]
    await at_prompt(shell)
    await run(shell, "clear")
    assert (await run(shell, "echo after")).output == "after"


async def test_a_fake_d_mark_in_the_output_is_output(shell: Session) -> None:
    record = await run(shell, r"printf 'a\033]133;D;0\007b\n'; (exit 4)")
    assert (record.output, record.exit_code) == ("ab", 4)


async def test_execute_makes_a_record_with_the_command_as_given(shell: Session) -> None:
    result = await shell.execute("echo one; (exit 3)")
    assert result.exit_code == 3
    last = shell.history.last
    assert last is not None and (last.command, last.exit_code, last.output) == (
        "echo one; (exit 3)",
        3,
        "one",
    )
    long = "echo " + "y" * 1200  # through a file: `. FILE` shows, the record says the command
    await shell.execute(long)
    assert shell.history.last is not None and shell.history.last.command == long


async def test_records_reach_the_event_log(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    await run(session, "false")
    events, _ = manager.events.since(0)
    (event,) = [e for e in events if e.type == "command"]
    assert event.data["command"] == "false" and event.data["exit_code"] == 1
    assert session.history.last is not None
    assert event.data["command_seq"] == 1
    assert event.data["duration"] == session.history.last.duration  # the record's own figure
    assert "output" not in event.data


async def test_a_slow_subscription_loses_output_never_a_record(bash: Session) -> None:
    async with bash.subscribe(max_bytes=64) as events:
        # More than one read's worth (64 KiB): several output events, however a loaded
        # machine batches the reads (in one event, nothing had to be dropped).
        await run(bash, "seq 1 30000; (exit 9)")
        records = []
        while not records:
            event = await events.__anext__()
            if isinstance(event, CommandEvent):
                records.append(event.record)
    assert events.dropped > 0 and records[0].exit_code == 9


async def test_parse_output_fills_parsed(manager: SessionManager, tmp_path: Path) -> None:
    """A record carries engine.output's facts: a compiler error with its file:line."""
    source = tmp_path / "bad.c"
    source.write_text("int main(void) { return x; }\n")
    session = await manager.create_session_with_config(
        bash_config(parse_output=True, working_directory=tmp_path)
    )
    await session.start()
    record = await run(session, "gcc -c bad.c -o /dev/null")
    assert record.parsed is not None and record.parsed["kind"] == "build"
    assert record.parsed["status"] == "failed"
    [error] = record.parsed["errors"]
    assert (error["file"], error["line"]) == ("bad.c", 1) and "x" in error["message"]
    plain = await manager.create_session_with_config(bash_config())
    await plain.start()
    assert (await run(plain, "seq 1 4")).parsed is None  # parse_output is off


@pytest.mark.parametrize("where", ["session", "process"])
async def test_integration_can_be_turned_off(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "process":
        monkeypatch.setenv("AI_SESSION_SHELL_INTEGRATION", "0")
        config = bash_config()
    else:
        config = bash_config(environment={"AI_SESSION_SHELL_INTEGRATION": "0"})
    session = await manager.create_session_with_config(config)
    await session.start()
    await wait_for_screen(session, "$ ")
    await session.send_input("echo plain\r")
    await wait_until(lambda: "plain\n$" in session.capture_pane(), what=session.capture_pane)
    assert session.terminal.prompt_mark is None and len(session.history) == 0
    assert "PS0" not in (await session.read_output()).decode()
    with pytest.raises(SessionError, match="turned shell integration off"):
        await session.execute("true")


async def test_integration_off_in_the_config(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(shell_integration=False))
    await session.start()
    await wait_for_screen(session, "$ ")
    with pytest.raises(SessionError, match="turned shell integration off"):
        await session.execute("true")


# -- the store, the API ------------------------------------------------------------------------


async def test_records_are_stored_and_read_back(tmp_path: Path) -> None:
    from engine.store import Store

    now = datetime.now(UTC).replace(microsecond=0)
    async with await Store.open(tmp_path / "db.sqlite") as store:
        ids = []
        for seq, (sid, code) in enumerate([("a", 0), ("b", 2), ("a", 1), ("a", None)], 1):
            record = CommandRecord(
                sid, f"name-{sid}", seq, f"cmd {seq}", "/tmp", now, now, code, f"out {seq}\n"
            )
            ids.append(await store.add_command(record))
        got = await store.commands("a")
        assert [(r.seq, r.exit_code, r.output, r.id) for r in got] == [
            (1, 0, "out 1\n", ids[0]),
            (3, 1, "out 3\n", ids[2]),
            (4, None, "out 4\n", ids[3]),
        ]
        assert got[0].started_at == now and got[0].session == "name-a"
        assert [r.seq for r in await store.commands(failed=True)] == [2, 3]
        assert [r.seq for r in await store.commands(limit=2)] == [3, 4]


async def test_the_api_lists_a_sessions_commands_and_the_store_keeps_them(tmp_path: Path) -> None:
    from tests.api_support import serve

    async for api in serve(tmp_path):
        await api.create("hist", tmp_path)
        session = api.manager.find_session("hist")
        assert session is not None
        await wait_for_screen(session, "$ ")
        for command in ["echo one", "(exit 5)", "echo three"]:
            status, _ = await api.call("POST", "/sessions/hist/execute", {"command": command})
            assert status == 200
        status, data = await api.call("GET", "/sessions/hist/history")
        assert status == 200 and data["session"] == "hist"
        assert [
            (c["seq"], c["command"], c["exit_code"], c["output"]) for c in data["commands"]
        ] == [
            (1, "echo one", 0, "one"),
            (2, "(exit 5)", 5, ""),
            (3, "echo three", 0, "three"),
        ]
        status, data = await api.call("GET", "/sessions/hist/history?failed=1&output=false")
        assert [c["command"] for c in data["commands"]] == ["(exit 5)"]
        assert "output" not in data["commands"][0]
        status, data = await api.call("GET", "/sessions/hist/history?limit=0")
        assert status == 400 and "limit" in data["error"]
        status, _ = await api.call("GET", "/sessions/nope/history")
        assert status == 404
        status, page = await api.call("GET", "/events?since=0")
        commands = [e for e in page["events"] if e["type"] == "command"]
        assert [(e["command_seq"], e["command"], e["exit_code"]) for e in commands] == [
            (1, "echo one", 0),
            (2, "(exit 5)", 5),
            (3, "echo three", 0),
        ]
        assert all(e["session"] == "hist" and "output" not in e for e in commands)
    from engine.store import Store  # the Snapshotter stored each record as it came

    async with await Store.open(tmp_path / "api-data" / "ai-session.db") as store:
        for _ in range(500):
            stored = await store.commands()
            if len(stored) == 3:
                break
            await asyncio.sleep(0.01)
        assert [r.command for r in stored] == ["echo one", "(exit 5)", "echo three"]
        await wait_until(lambda: all(r.id is not None for r in session.history))
        assert [r.id for r in session.history] == [r.id for r in stored]  # ids noted in memory
        assert stored[1].exit_code == 5 and stored[0].session == "hist"


# -- copy mode and the pane -------------------------------------------------------------------

_PROMPT = b"\x1b]133;A\x07$ \x1b]133;B;ais_c=1\x07"


def _commands(term: Terminal, *runs: tuple[str, list[str], int]) -> None:
    """Feed prompts, command lines, outputs and statuses as bash with its marks writes them."""
    for command, output, code in runs:
        term.feed(_PROMPT + command.encode() + b"\r\n\x1b]133;C\x07")
        term.feed("".join(line + "\r\n" for line in output).encode())
        term.feed(f"\x1b]133;D;{code}\x07".encode())
    term.feed(_PROMPT)


def test_copy_mode_moves_between_prompts_and_outputs_as_tmux() -> None:
    from engine.copymode import CopyMode

    term = Terminal(30, 6)
    _commands(
        term,
        ("seq 3", ["1", "2", "3"], 0),
        ("false", [], 1),
        ("ls", [f"file{i}" for i in range(8)], 0),
    )
    mode = CopyMode(term, height=6)
    assert mode.text(mode.line) == "$"
    mode.key("{")
    assert (mode.text(mode.line), mode.column, mode.top) == ("$ ls", 0, mode.line)  # at the top
    mode.key("{")
    assert mode.text(mode.line) == "$ false"
    mode.key("alt+ctrl+up")  # tmux's M-C-Up
    assert mode.text(mode.line) == "$ seq 3"
    assert not mode.previous_prompt()  # none above: stays
    mode.key(")")  # next-prompt -o: the output's first line
    assert mode.text(mode.line) == "1"
    mode.key(")")  # `false` printed nothing: its output starts where the next prompt is
    mode.key(")")
    assert mode.text(mode.line) == "file0"
    mode.key("(")  # back to where `false`'s (empty) output starts: the next prompt's line
    assert mode.text(mode.line) == "$ ls"
    mode.key("alt+ctrl+down")  # tmux's M-C-Down
    assert mode.text(mode.line) == "$" and mode.top == mode.bottom_top  # the live screen
    assert not mode.next_prompt()


def test_prompt_marks_stay_on_their_lines_through_reflows_and_scrolling() -> None:
    from engine.copymode import CopyMode

    term = Terminal(20, 5, scrollback=400)
    runs = [
        (f"echo {i} " + "w" * (i % 25), [f"out{i} " + "x" * (i % 30)], i % 3) for i in range(60)
    ]
    _commands(term, *runs)
    for columns in (13, 31, 7, 20):
        term.resize(columns, 5)
        mode = CopyMode(term, height=5)
        for mark in term.screen.commands.prompts:
            if mark.prompt < mode.first:
                continue
            assert mode.text(mark.prompt).startswith("$"), (columns, mark)
            if mark.output is not None and mark.done:
                assert mode.text(mark.output).startswith("out"), (columns, mark)
        seen = []
        while mode.previous_prompt():
            seen.append(mode.text(mode.line))
        assert seen and all(line.startswith("$ echo") for line in seen)


def test_copy_mode_selects_and_copies_one_commands_output() -> None:
    from engine.copymode import CopyMode

    term = Terminal(30, 6)
    _commands(term, ("seq 3", ["1", "2", "3"], 0), ("ls", [f"file{i}" for i in range(8)], 0))
    mode = CopyMode(term, height=6)
    mode.key("{")
    mode.key("{")  # on `$ seq 3`
    mode.key("O")
    assert mode.selected_text() == "1\n2\n3\n"
    mode.key("}")
    mode.key("j")  # inside the output of ls: the view shows its end (it is taller than 6)
    mode.key("O")
    assert mode.selected_text() == "".join(f"file{i}\n" for i in range(8))
    assert mode.text(mode.line) == "file7" and mode.top + mode.height > mode.line
    assert mode.key("y") == "copy"


async def test_a_failed_command_is_marked_at_its_prompt(running: tuple[object, object]) -> None:
    from textual.pilot import Pilot

    from app.main import AiSessionApp

    app, pilot = running
    assert isinstance(app, AiSessionApp) and isinstance(pilot, Pilot)
    pane = app.pane
    assert pane is not None
    await pilot.press(*"true", "enter")
    await pilot.press(*"(exit 3)", "enter")
    await wait_until(lambda: pane.session.history.count == 2, what=pane.session.capture_pane)
    await pilot.pause()

    def rows() -> list[str]:
        return [pane.render_line(y).text for y in range(pane.size.height)]

    await wait_until(
        lambda: any("[exit 3]" in row for row in rows()), what=lambda: "\n".join(rows())
    )
    (failed,) = [row for row in rows() if "[exit 3]" in row]
    assert failed.startswith("$ (exit 3)") and failed.endswith("[exit 3]")
    assert len(failed) == pane.size.width
    assert not any("[exit" in row for row in rows() if row.startswith("$ true"))
    row = rows().index(failed)
    label = pane.render_line(row)
    (segment,) = [s for s in label if s.text == "[exit 3]"]
    assert segment.style is not None and segment.style.color is not None  # the theme's $error
    await pilot.press("ctrl+b", "left_square_bracket")  # copy mode shows it too
    await wait_until(lambda: pane.copy is not None)
    await pilot.press("{")
    await pilot.pause()
    assert pane.copy is not None and pane.copy.text(pane.copy.line) == "$ (exit 3)"
    assert any(r.endswith("[exit 3]") for r in rows())


async def test_the_failed_mark_never_covers_wide_text(running: tuple[object, object]) -> None:
    """A row of wide characters that leaves no room in cells (though it would in characters)
    keeps its text; the mark goes only where the row is blank."""
    from app.main import AiSessionApp

    app, pilot = running
    assert isinstance(app, AiSessionApp)
    pane = app.pane
    assert pane is not None
    width = pane.size.width
    n = (width - 26) // 2 + 2  # 17 + 2n cells: no room for the mark; 17 + n characters: room
    assert 17 + 2 * n <= width and 17 + n + 9 <= width < 17 + 2 * n + 9
    command = f"echo {'界' * n}; (exit 4)"
    await pilot.press(*command, "enter")  # type: ignore[attr-defined]
    await wait_until(lambda: pane.session.history.count == 1, what=pane.session.capture_pane)
    await pilot.pause()  # type: ignore[attr-defined]
    rows = [pane.render_line(y).text for y in range(pane.size.height)]
    assert any(row.startswith(f"$ {command}") for row in rows), rows
    assert not any("[exit 4]" in row for row in rows)


def test_a_terminal_image_keeps_the_command_marks() -> None:
    term = Terminal(30, 6)
    _commands(term, ("false", [], 1), ("ls", ["a", "b"], 0))
    term.feed(b"make\r\n\x1b]133;C\x07building\r\n")  # running when the image is taken
    term.screen.commands.take()
    copy = Terminal.load(term.dump())
    assert copy.screen.commands == term.screen.commands
    copy.feed(b"done\r\n\x1b]133;D;2\x07")
    (done,) = copy.screen.commands.take()
    assert (done.command, done.output, done.exit_code) == ("make", "building\ndone", 2)


async def test_a_line_cancelled_with_c_c_is_no_command(shell: Session) -> None:
    await at_prompt(shell)
    await shell.send_input("echo never")
    await wait_until(lambda: "echo never" in shell.capture_pane())
    await shell.send_input("\x03")
    await wait_until(lambda: shell.capture_pane().rstrip().endswith("\n$"), what=shell.capture_pane)
    # bash marks a command it runs; sh's screen cannot tell a line typed ending in ^C from one
    # cancelled, so there only the next command counts
    line = "echo ^C" if shell.terminal.prompt_options.get("ais_c") else "echo next"
    record = await run(shell, line)
    assert (record.seq, record.command, record.output) == (1, line, line[5:])


def _read_slowly(screen: Any, start: tuple[int, int], end: tuple[int, int]) -> str:
    """read_output's answer built cell by cell from every row (the reference)."""
    from engine import history

    out = []
    for line in range(start[0], end[0] + 1):
        row = history._row(screen, line)
        if row is None:
            continue
        cells, wrapped = row
        text = history._text(
            cells, start[1] if line == start[0] else 0, end[1] if line == end[0] else None
        )
        out.append(text if line == end[0] or wrapped else text.rstrip(" ") + "\n")
    lines = [x.rstrip(" ") for x in "".join(out).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False))
def test_output_read_from_the_history_by_whole_lines_equals_cell_by_cell(rng: Any) -> None:
    """read_output takes a history line's stored text whole (fast: a 20000-line command costs
    milliseconds): wide characters, combining marks and wrapped lines read the same as cells."""
    from engine.history import absolute, read_output

    columns = rng.randint(2, 30)
    term = Terminal(columns=columns, lines=rng.randint(2, 8), scrollback=rng.randint(5, 200))
    alphabet = "ab c界🙂e\u0301 x"
    for _ in range(rng.randint(1, 60)):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3 * columns)))
        term.feed(text + rng.choice(["\r\n", "\r\n", " "]))
    screen = term.screen
    end = (absolute(screen, screen.cursor.y), screen.cursor.x)
    start = (screen.history.dropped + rng.randint(0, len(screen.history)), rng.randint(0, 2))
    assert read_output(screen, start, end)[0] == _read_slowly(screen, start, end)


@given(
    st.lists(
        st.text(st.sampled_from("ab 日"), max_size=30) | st.text("xy", max_size=45), max_size=90
    ),
    st.sampled_from([4, 9, 10, 23]),
    st.lists(st.integers(-5, 200), min_size=1, max_size=12),
)
def test_wrap_flags_read_in_chunks_are_each_lines_own(
    texts: list[str], columns: int, probes: list[int]
) -> None:
    """The reflow bookkeeping reads the history's wrapped flags a chunk at a time, backwards
    from the cursor; any order of lookups and spans gives each line's own flag (cold blocks,
    raw runs, lines already dropped, the screen's rows)."""
    from engine.history import _wrapped, _Wraps

    t = Terminal(10, 4, scrollback=60)
    t.scrollback.HOT, t.scrollback.BLOCK = 6, 4  # tiny, so cold blocks appear
    t.feed("".join(f"{text}\r\n" for text in texts).encode())
    t.resize(columns, 4)
    screen = t.screen
    wraps = _Wraps(screen)
    for probe in probes:
        line = screen.history.dropped + probe
        assert wraps(line) == _wrapped(screen, line)
    first, last = sorted((screen.history.dropped + probes[0], screen.history.dropped + probes[-1]))
    wraps = _Wraps(screen)  # afresh: the span reads back from nothing
    assert wraps.span(first, last) == [_wrapped(screen, line) for line in range(first, last)]
