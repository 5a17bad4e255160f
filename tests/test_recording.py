"""Output recording: real bash sessions record what they print with its times; the recording
replays to the live screen, up to any moment, and exports as asciicast v3."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from engine import Session, SessionManager
from engine.config import load_session_defaults, session_defaults
from engine.recording import (
    RecordedExit,
    RecordedOutput,
    RecordedResize,
    Recorder,
    RecordingBlock,
    asciicast,
    events,
    replay,
    timeline,
)
from engine.terminal import Terminal
from tests.conftest import bash_config, wait_for_screen, wait_until


def live(session: Session) -> str:
    return session.terminal.capture(ansi=True, start="-")


async def replayed_equals_live(session: Session) -> Terminal:
    """Wait until the replay of everything recorded shows exactly the live screen and
    history (output may still be arriving when the text first shows)."""
    assert session.recorder is not None
    recorder = session.recorder
    await wait_until(
        lambda: replay(recorder.blocks()).capture(ansi=True, start="-") == live(session),
        what=lambda: (
            f"replay equal to the live screen; replay:\n"
            f"{replay(recorder.blocks()).capture(start='-')}\nlive:\n{session.capture_pane(start='-')}"
        ),
    )
    term = replay(recorder.blocks())
    assert (term.cursor.x, term.cursor.y) == (session.terminal.cursor.x, session.terminal.cursor.y)
    return term


async def at_prompt_after(session: Session, line: str) -> None:
    """Wait for `line` on a row of its own, then the prompt."""
    await wait_until(
        lambda: session.capture_pane().endswith(f"\n{line}\n$"), what=session.capture_pane
    )


def check_asciicast(lines: list[str]) -> tuple[dict[str, object], list[list[object]]]:
    """Validate asciicast v3 line by line: the header, then [interval >= 0, code, text]."""
    header = json.loads(lines[0])
    assert header["version"] == 3
    term = header["term"]
    assert isinstance(term["cols"], int) and term["cols"] > 0
    assert isinstance(term["rows"], int) and term["rows"] > 0
    assert isinstance(header["timestamp"], int)
    out = []
    for line in lines[1:]:
        assert "\n" not in line
        event = json.loads(line)
        assert isinstance(event, list) and len(event) == 3
        interval, code, data = event
        assert isinstance(interval, int | float) and interval >= 0
        assert code in ("o", "r", "x")
        assert isinstance(data, str)
        data.encode("utf-8")  # a lone surrogate would fail here
        if code == "r":
            assert re.fullmatch(r"\d+x\d+", data)
        if code == "x":
            assert re.fullmatch(r"-?\d+", data)
        out.append(event)
    return header, out


async def test_printf_output_is_recorded_with_increasing_times(bash: Session) -> None:
    assert bash.recorder is not None and bash.recorder.recording
    await bash.send_input("printf 'one\\n'; printf '\\033[31mtwo\\033[0m\\n'\r")
    await wait_for_screen(bash, "two")
    got = list(events(bash.recorder.blocks()))
    outputs = [e for e in got if isinstance(e, RecordedOutput)]
    data = b"".join(e.data for e in outputs)
    assert b"one\r\n" in data and b"\x1b[31mtwo\x1b[0m" in data
    times = [e.time for e in got]
    assert times == sorted(times) and times == timeline(bash.recorder.blocks())
    assert abs(times[-1] - time.time()) < 60  # wall-clock seconds, as asciicast wants
    # Offsets run on without a gap from the session's first byte.
    assert outputs[0].offset == 0
    for a, b in itertools.pairwise(outputs):
        assert b.offset == a.offset + len(a.data)
    await replayed_equals_live(bash)


async def test_replay_up_to_a_moment_shows_the_screen_then(bash: Session) -> None:
    await bash.send_input("printf 'before\\n'\r")
    await wait_for_screen(bash, "before")
    await replayed_equals_live(bash)
    assert bash.recorder is not None
    middle = timeline(bash.recorder.blocks())[-1]
    await bash.send_input("clear; printf 'after\\n'\r")
    await wait_for_screen(bash, "after")
    await wait_until(lambda: "before" not in bash.capture_pane())
    then = replay(bash.recorder.blocks(), until=middle).capture()
    assert "before" in then and "after" not in then
    await replayed_equals_live(bash)


async def test_resizes_are_recorded_and_replayed(bash: Session) -> None:
    await bash.send_input("printf 'x%.0s' {1..150}; echo\r")
    await wait_for_screen(bash, "x" * 80)
    bash.set_size(columns=50, lines=12)
    await bash.send_input("printf 'small\\n'\r")
    await wait_for_screen(bash, "small")
    assert bash.recorder is not None
    resizes = [e for e in events(bash.recorder.blocks()) if isinstance(e, RecordedResize)]
    assert [(r.columns, r.lines) for r in resizes] == [(50, 12)]
    term = await replayed_equals_live(bash)
    assert (term.columns, term.lines) == (50, 12)
    lines = list(asciicast(bash.recorder.blocks()))
    header, cast = check_asciicast(lines)
    assert header["term"] == {"cols": 80, "rows": 24, "type": "xterm-256color"}
    assert [e[2] for e in cast if e[1] == "r"] == ["50x12"]


async def test_the_cap_drops_the_oldest_blocks_and_counts_them(manager: SessionManager) -> None:
    session = await manager.create_session_with_config(bash_config(record_output=False))
    await session.start()
    assert session.recorder is None
    recorder = Recorder(session, max_bytes=16 << 10, block_bytes=4 << 10, seal_after=None)
    sealed: list[RecordingBlock] = []
    recorder.on_block = sealed.append
    recorder.start()
    await wait_for_screen(session, "$ ")
    # Random text barely compresses: some 80 KiB of blocks for a cap of 16 KiB.
    await session.send_input("head -c 60000 /dev/urandom | base64 -w 76; echo done\r")
    await at_prompt_after(session, "done")
    kept = recorder.blocks()
    assert recorder.dropped_bytes > 0 and recorder.dropped_blocks > 0
    # Blocks end on whole outputs (a read can be larger than a block): the newest is kept.
    assert recorder.stored_bytes <= 16 << 10 or len([b for b in kept if b in sealed]) == 1
    assert sum(len(b.data) for b in sealed) == recorder.stored_bytes + recorder.dropped_bytes
    assert kept[0].start_offset > 0  # the first output is gone
    assert [b.start_offset for b in kept] == sorted(b.start_offset for b in kept)
    # The recording replays onto a keyframe of the screen where it starts: here the live
    # output fed to a terminal up to that offset.
    start = kept[0].start_offset
    keyframe = Terminal(columns=80, lines=24)
    keyframe.feed(session.output_since(0).data[:start])
    expected = keyframe.capture(ansi=True)
    await wait_until(lambda: replay(recorder.blocks()).capture() != "")
    term = replay(recorder.blocks(), base=keyframe, base_offset=start)
    assert term.capture(ansi=True, start="-") == live(session)
    # Without its keyframe asciicast starts blank; with it the first event paints it.
    again = Terminal(columns=80, lines=24)
    again.feed(session.output_since(0).data[:start])
    _, cast = check_asciicast(list(asciicast(kept, base=again)))
    first = cast[0]
    assert first[0] == 0 and first[1] == "o"
    assert str(first[2]).startswith("\x1b[0m\x1b[H\x1b[2J")
    painted = Terminal(columns=80, lines=24)
    painted.feed(str(first[2]))
    assert painted.capture(ansi=True) == expected
    with pytest.raises(ValueError, match="not kept"):
        replay(kept, base=Terminal(), base_offset=0)


async def test_a_character_split_between_reads_stays_whole(bash: Session) -> None:
    # The shell writes the euro sign's first two bytes, sleeps, then its last one.
    await bash.send_input("printf 'A\\342\\202'; sleep 0.3; printf '\\254B\\n'\r")
    await wait_for_screen(bash, "A€B")
    assert bash.recorder is not None
    outputs = [e.data for e in events(bash.recorder.blocks()) if isinstance(e, RecordedOutput)]
    assert any(data.endswith(b"A\xe2\x82") for data in outputs), outputs  # it was split
    _, cast = check_asciicast(list(asciicast(bash.recorder.blocks(), title="split")))
    text = "".join(str(e[2]) for e in cast if e[1] == "o")
    assert "A€B" in text and "\ufffd" not in text
    await replayed_equals_live(bash)


async def test_asciicast_v3_of_a_session_that_exits(bash: Session, tmp_path: Path) -> None:
    await bash.send_input("printf '\\033[1mbold\\033[0m ünï\\n'; exit 3\r")
    assert await bash.wait() == 3
    assert bash.recorder is not None
    sealed: list[RecordingBlock] = []
    bash.recorder.on_block = sealed.append
    lines = list(asciicast(bash.recorder.blocks(), title="demo"))
    header, cast = check_asciicast(lines)
    assert header["title"] == "demo"
    assert abs(int(str(header["timestamp"])) - time.time()) < 60
    assert cast[-1][1:] == ["x", "3"]
    text = "".join(str(e[2]) for e in cast if e[1] == "o")
    assert "\x1b[1mbold\x1b[0m ünï" in text
    assert sum(float(str(e[0])) for e in cast) < 60
    assert sealed == []  # the exit sealed the open block already: nothing left to seal
    bash.recorder.flush()
    assert sealed == []
    path = tmp_path / "demo.cast"
    path.write_text("\n".join(lines) + "\n")
    assert path.read_text().count("\n") == len(lines)


async def test_asciinema_plays_the_v2_export(bash: Session, tmp_path: Path) -> None:
    """The reference player (asciinema 2.x, a test dependency) reads our v2 file and prints
    what the program wrote; its v3 reader (asciinema 3) does not install here."""
    await bash.send_input("printf '\\033[32mgreen\\033[0m \\u00e9t\\u00e9\\n'\r")
    await wait_for_screen(bash, "green été")
    await bash.send_input("exit 0\r")
    await bash.wait()
    assert bash.recorder is not None
    lines = list(asciicast(bash.recorder.blocks(), title="v2", version=2))
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] == bash.terminal.columns
    times = [json.loads(line)[0] for line in lines[1:]]
    assert times == sorted(times)  # v2 counts from the start
    path = tmp_path / "demo.cast"
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "asciinema"), "cat", str(path)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert b"\x1b[32mgreen\x1b[0m \xc3\xa9t\xc3\xa9" in done.stdout
    with pytest.raises(ValueError):
        list(asciicast(bash.recorder.blocks(), version=4))


async def test_a_respawn_goes_on_in_the_same_recording(bash: Session) -> None:
    await bash.send_input("printf 'first run\\n'; exit\r")
    await bash.wait()
    recorder = bash.recorder
    assert recorder is not None and not recorder.recording  # the exit stopped it
    bash.set_size(columns=70, lines=20)  # while nothing records: the next block says so
    await bash.respawn()
    assert bash.recorder is recorder and recorder.recording
    await wait_for_screen(bash, "$ ")
    await bash.send_input("printf 'second run\\n'\r")
    await wait_for_screen(bash, "second run")
    term = await replayed_equals_live(bash)
    assert (term.columns, term.lines) == (70, 20)
    exits = [e for e in events(recorder.blocks()) if isinstance(e, RecordedExit)]
    assert [e.code for e in exits] == [0]
    _, cast = check_asciicast(list(asciicast(recorder.blocks())))
    assert [e[1:] for e in cast if e[1] in "rx"] == [["x", "0"], ["r", "70x20"]]


async def test_blocks_seal_at_their_size_and_on_block_sees_each(bash: Session) -> None:
    assert bash.recorder is not None
    recorder = Recorder(bash, block_bytes=1024, seal_after=None)  # a second one, small blocks
    sealed: list[RecordingBlock] = []
    recorder.on_block = sealed.append
    recorder.start()
    await bash.send_input("seq 1 5000; echo end\r")
    await at_prompt_after(bash, "end")
    assert len(sealed) >= 2
    assert recorder.blocks()[: len(sealed)] == sealed
    for a, b in itertools.pairwise(sealed):
        assert a.end_time <= b.start_time and a.start_offset < b.start_offset
    recorder.stop()
    assert not recorder.recording and recorder.blocks() == sealed
    data = b"".join(e.data for e in events(sealed) if isinstance(e, RecordedOutput))
    assert b"4999\r\n5000\r\n" in data


def test_record_output_in_the_config_file(tmp_path: Path) -> None:
    assert session_defaults({}).record_output is True
    path = tmp_path / "config.toml"
    path.write_text("[session]\nrecord_output = false\nmonitor_silence = 5\n")
    config = load_session_defaults(path)
    assert config.record_output is False and config.monitor_silence == 5
    assert load_session_defaults(tmp_path / "absent.toml").record_output is True
    with pytest.raises(ValueError, match="record_output must be bool"):
        session_defaults({"record_output": "no"})
    with pytest.raises(ValueError, match="unknown session setting 'record_ouptut'"):
        session_defaults({"record_ouptut": False})


async def test_an_idle_block_seals_after_a_while(bash: Session) -> None:
    """Output followed by quiet is stored within `seal_after` seconds, not when a block
    fills (which may be never)."""
    recorder = Recorder(bash, seal_after=0.05)
    sealed: list[RecordingBlock] = []
    recorder.on_block = sealed.append
    recorder.start()
    await bash.send_input("printf 'quiet now\\n'\r")
    await wait_for_screen(bash, "quiet now")
    await wait_until(lambda: bool(sealed) and recorder.blocks() == sealed, what="sealed")
    data = b"".join(e.data for e in events(sealed) if isinstance(e, RecordedOutput))
    assert b"quiet now" in data


def test_a_damaged_block_is_a_clear_error() -> None:
    garbage = RecordingBlock(1.0, 2.0, 100, 80, 24, b"not zstd at all")
    with pytest.raises(ValueError, match="offset 100"):
        replay([garbage])
    cut = RecordingBlock(1.0, 2.0, 0, 80, 24, zstandard.compress(b"\x00\x05\x80"))
    with pytest.raises(ValueError, match="truncated"):
        list(events([cut]))
