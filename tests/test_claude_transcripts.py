"""Claude Code's transcripts read as Claude Code writes them (tests/fixtures/claude): usage
counted once per message and request, the model, the context the last turn used, compactions;
read incrementally as the file grows, a partial last line held back, garbage skipped."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from engine import claude
from engine.agents import TokenTotals
from engine.claude import (
    ProjectFolder,
    TranscriptReader,
    config_dir,
    hook_transcript,
    project_folder,
    project_name,
)

FIXTURE = next((Path(__file__).parent / "fixtures" / "claude").glob("*.jsonl"))

WHOLE = TokenTotals(
    input=3 + 900 + 5 + 8 + 6,
    output=187 + 40 + 420 + 95 + 30,
    cache_read=11000 + 15200 + 5000,
    cache_write=4200 + 800 + 9100 + 2000,
    model="claude-sonnet-4-5-20250929",
    context_used=6 + 2000 + 5000,  # the last turn of the conversation (not the subagent's)
    context_window=200_000,
    compactions=2,
)


def test_the_fixture_totals() -> None:
    reader = TranscriptReader(FIXTURE)
    assert reader.update() == 18  # lines read, the blank one too
    assert reader.totals() == WHOLE
    assert reader.bad_lines == 1  # the line cut short (the array is not even parsed)
    assert [(c.trigger, c.pre_tokens) for c in reader.compactions] == [
        ("auto", 168023),
        ("manual", 41200),
    ]
    first = reader.compactions[0].time
    assert first is not None and first.isoformat() == "2026-11-30T09:06:00+00:00"
    assert reader.update() == 0  # nothing new
    assert reader.totals() == WHOLE


def test_read_as_it_grows_with_a_partial_last_line(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / "growing.jsonl"
    path.write_bytes(b"")
    reader = TranscriptReader(path)
    seen = 0
    # Claude Code appends; a reader may look at any byte boundary, even inside a character.
    for start in range(0, len(data), 997):
        with path.open("ab") as f:
            f.write(data[start : start + 997])
        seen += reader.update()
    assert seen == 18
    assert reader.totals() == WHOLE
    assert reader.offset == len(data)


def assistant(model: str, **usage: int) -> str:
    """One assistant line of a transcript, as Claude Code writes it."""
    message = {"id": "msg_1", "model": model, "usage": usage}
    return json.dumps({"type": "assistant", "requestId": "req_1", "message": message})


def test_a_half_written_line_waits_for_its_end(tmp_path: Path) -> None:
    line = assistant("claude-opus-4-1", input_tokens=10, output_tokens=3)
    path = tmp_path / "t.jsonl"
    path.write_text(line[:40])
    reader = TranscriptReader(path)
    assert reader.update() == 0
    assert reader.totals().input == 0 and reader.bad_lines == 0
    with path.open("a") as f:
        f.write(line[40:] + "\n")
    assert reader.update() == 1
    assert (reader.totals().input, reader.totals().output) == (10, 3)


def test_context_after_a_compaction_is_unknown_until_the_next_turn(tmp_path: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if '"manual"' in line)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines[: cut + 1]) + "\n")
    reader = TranscriptReader(path)
    reader.update()
    totals = reader.totals()
    assert totals.compactions == 2 and totals.context_used is None
    assert totals.context_window == 200_000


def test_a_replaced_or_truncated_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    shutil.copy(FIXTURE, path)
    reader = TranscriptReader(path)
    reader.update()
    path.write_text(FIXTURE.read_text().splitlines()[4] + "\n")  # shorter: started over
    reader.update()
    assert (reader.totals().input, reader.totals().output, reader.totals().compactions) == (
        3,
        187,
        0,
    )


def test_a_line_too_long_to_hold_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claude, "MAX_LINE", 1000)
    monkeypatch.setattr(claude, "READ_CHUNK", 300)
    path = tmp_path / "t.jsonl"
    huge = json.dumps({"type": "user", "message": {"content": "x" * 5000}})
    path.write_text(huge + "\n" + FIXTURE.read_text())
    reader = TranscriptReader(path)
    reader.update()
    assert reader.totals() == WHOLE
    assert reader.bad_lines == 2  # the long line, the line cut short


def test_a_long_context_window_is_inferred_from_what_was_used(tmp_path: Path) -> None:
    line = assistant("claude-sonnet-4-5", input_tokens=5, cache_read_input_tokens=350_000)
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n")
    reader = TranscriptReader(path)
    reader.update()
    assert (reader.totals().context_used, reader.totals().context_window) == (350_005, 1_000_000)


def test_odd_values_count_as_nothing(tmp_path: Path) -> None:
    odd = [
        {"type": "assistant", "message": "not an object"},
        {"type": "assistant", "message": {"id": "x", "usage": None}},
        {
            "type": "assistant",
            "message": {
                "id": "y",
                "model": 7,
                "usage": {
                    "input_tokens": -5,
                    "output_tokens": True,
                    "cache_read_input_tokens": "9",
                },
            },
        },
        {"type": "system", "subtype": "compact_boundary", "compactMetadata": "?"},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in odd))
    reader = TranscriptReader(path)
    reader.update()
    totals = reader.totals()
    assert (totals.input, totals.output, totals.cache_read, totals.model) == (0, 0, 0, None)
    assert totals.compactions == 1 and reader.compactions[0].pre_tokens is None


def test_where_claude_code_keeps_a_projects_transcripts(tmp_path: Path) -> None:
    assert project_name("/home/kim/src/my_shop.v2") == "-home-kim-src-my-shop-v2"
    assert config_dir({"HOME": "/home/kim"}) == Path("/home/kim/.claude")
    assert config_dir({"HOME": "/home/kim", "CLAUDE_CONFIG_DIR": str(tmp_path)}) == tmp_path
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path)}
    assert project_folder("/home/kim/src/shop", env) == tmp_path / "projects/-home-kim-src-shop"


def test_a_project_folder_is_listed_again_only_when_it_changed(tmp_path: Path) -> None:
    """Thousands of old transcripts cost one stat per look: the directory is read again only
    when a file was made or removed, and a file known is never stat'ed again (its first
    mtime is what says whether it was written since a claude started)."""
    folder = ProjectFolder(tmp_path / "projects" / "-home-kim-shop")
    folder.refresh()
    assert folder.files == {} and folder.listings == 0  # not there (yet)
    folder.path.mkdir(parents=True)
    old, new = folder.path / "old.jsonl", folder.path / "new.jsonl"
    old.write_text("{}\n")
    (folder.path / "notes.txt").write_text("")
    (folder.path / "link.jsonl").symlink_to(old)  # not a transcript Claude Code wrote
    os.utime(old, ns=(10**15, 10**15))
    os.utime(folder.path, ns=(10**15, 10**15))
    folder.refresh()
    folder.refresh()
    assert folder.files == {"old.jsonl": 10**15} and folder.listings == 1
    with old.open("a") as f:  # written to: the directory is the same
        f.write("{}\n")
    folder.refresh()
    assert folder.files == {"old.jsonl": 10**15} and folder.listings == 1
    new.write_text("{}\n")  # made: listed again
    folder.refresh()
    assert set(folder.files) == {"old.jsonl", "new.jsonl"} and folder.listings == 2
    assert folder.files["new.jsonl"] == new.stat().st_mtime_ns
    new.unlink()  # and removed
    folder.refresh()
    assert folder.files == {"old.jsonl": 10**15}


def test_a_hooks_transcript_lies_in_the_sessions_claude_config(tmp_path: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}
    folder = tmp_path / "cfg" / "projects" / "-home-kim-shop"
    folder.mkdir(parents=True)
    path = folder / "9a1c.jsonl"
    assert hook_transcript(str(path), None, None, env) == path.resolve()
    by_id = hook_transcript(None, "9a1c-77", "/home/kim/shop", env)
    assert by_id == folder.resolve() / "9a1c-77.jsonl"  # no transcript_path: by session id
    for session_id in ("../../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            hook_transcript(None, session_id, "/home/kim/shop", env)
    with pytest.raises(ValueError, match="not under"):
        hook_transcript(str(tmp_path / "other" / "x.jsonl"), None, None, env)
    with pytest.raises(ValueError, match="not under"):  # ~/.claude is not this session's
        hook_transcript(str(path), None, None, {"HOME": str(tmp_path)})
    with pytest.raises(ValueError, match="names no transcript"):
        hook_transcript(None, None, None, env)


def test_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    shutil.copy(FIXTURE, target)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with pytest.raises(OSError):
        TranscriptReader(link).update()


def test_read_in_slices(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    shutil.copy(FIXTURE, path)
    reader = TranscriptReader(path)
    reads = 0
    while reads == 0 or reader.behind:
        reader.update(limit=500)
        reads += 1
    assert reads > 10 and reader.totals() == WHOLE


def test_a_fifo_or_device_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "x.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        TranscriptReader(fifo).update()
    with pytest.raises(OSError, match="not a regular file"):
        TranscriptReader("/dev/zero").update()
