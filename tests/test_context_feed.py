"""A session's AI context fed by what happens in its pane: each finished command (typed by a
person or run by `execute`) becomes a Tool message with its output compressed; the store keeps
every message and the originals of folded ones; the API and `ai-session context` show it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import Api, serve
from conftest import bash_config, wait_for_screen, wait_until

from engine import SessionManager
from engine.config import ContextConfig
from engine.context import MessageRole
from engine.session import Session
from engine.store import Store


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def _messages(session: Session, count: int) -> None:
    context = session.context
    assert context is not None
    await wait_until(
        lambda: (
            len([m for m in context.messages if m.role is MessageRole.TOOL]) >= count
            or context.get_summary().compressions > 0
        ),
        what=lambda: [m.content for m in context.messages],
    )


async def test_typed_commands_become_tool_messages_with_their_exit_status(tmp_path: Path) -> None:
    async with SessionManager() as manager:
        config = bash_config(working_directory=tmp_path, enable_ai_features=True)
        session = await manager.create_session_with_config(config)
        await session.start()
        await wait_for_screen(session, "$")
        await session.send_input("printf 'line %s\\n' 1 2 3; false\r")
        await _messages(session, 1)
        await session.send_input("seq 1 5000\r")
        await _messages(session, 2)
        assert session.context is not None
        first, second = session.context.messages[-2:]
        assert first.role is MessageRole.TOOL and first.data["exit_code"] == 1
        assert first.content.startswith("$ printf 'line %s\\n' 1 2 3; false\n")
        assert "line 3" in first.content and first.content.endswith("[exit 1]")
        assert second.data["exit_code"] == 0 and second.data["command"] == "seq 1 5000"
        # the output is compressed: far fewer tokens than seq's 5000 lines
        assert second.token_count is not None and second.data["output_tokens"] > 5000
        assert second.token_count < second.data["output_tokens"] / 5
        assert "5000" in second.content


async def test_a_session_without_ai_features_has_no_context(tmp_path: Path) -> None:
    session = Session(bash_config(working_directory=tmp_path))
    assert session.context is None


async def test_an_invalid_context_config_is_refused_when_the_session_is_made(
    tmp_path: Path,
) -> None:
    with pytest.raises(Exception, match="max_tokens"):
        Session(
            bash_config(
                working_directory=tmp_path,
                enable_ai_features=True,
                context_config=ContextConfig(0, 0.5),
            )
        )


async def test_api_shows_the_context_and_the_store_keeps_it(api: Api, tmp_path: Path) -> None:
    await api.create("ctx", tmp_path, enable_ai_features=True)
    status, ran = await api.call("POST", "/sessions/ctx/execute", {"command": "ls /nonexistent"})
    assert status == 200 and ran["exit_code"] != 0
    session = api.manager.find_session("ctx")
    assert session is not None
    await _messages(session, 1)
    status, shown = await api.call("GET", "/sessions/ctx/context")
    assert status == 200
    [message] = [m for m in shown["messages"] if m["role"] == "tool"]
    assert message["data"]["command"] == "ls /nonexistent"
    assert "No such file or directory" in message["content"]
    assert shown["summary"]["tokens"]["current"] == sum(m["token_count"] for m in shown["messages"])
    assert set(shown["summary"]["storage"]) >= {"original_bytes", "zstd_bytes", "ratio"}
    status, one = await api.call("GET", f"/sessions/ctx/context/{message['id']}")
    assert status == 200 and one["message"]["content"] == message["content"]
    status, error = await api.call("GET", "/sessions/ctx/context/x")
    assert status == 400 and error["code"] == "INVALID_REQUEST"
    status, error = await api.call("GET", "/sessions/ctx/context/77")
    assert status == 404 and error["code"] == "MESSAGE_NOT_FOUND"
    await api.create("plain", tmp_path)
    status, error = await api.call("GET", "/sessions/plain/context")
    assert status == 409 and error["code"] == "CONTEXT_OFF"
    assert "enable_ai_features" in error["error"]
    # the store has it too (the snapshotter persists what the session's context adds)
    store = await Store.open(tmp_path / "api-data" / "ai-session.db")
    try:
        await wait_until_stored(store, session.id)
    finally:
        await store.close()


async def wait_until_stored(store: Store, session_id: str) -> None:
    import asyncio

    for _ in range(200):
        kept = await store.context(session_id)
        if any(m.data.get("command") == "ls /nonexistent" for m in kept):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not stored: {kept}")


async def test_a_context_size_given_at_creation_folds_past_it(api: Api, tmp_path: Path) -> None:
    """`"context": {...}` sets the context's size (and turns AI features on); past the
    threshold older commands fold into a summary whose originals stay readable."""
    await api.create("small", tmp_path, context={"max_tokens": 300, "compression_threshold": 0.5})
    session = api.manager.find_session("small")
    assert session is not None and session.context is not None
    context = session.context
    for n in range(6):
        status, _ = await api.call(
            "POST", "/sessions/small/execute", {"command": f"echo step {n}; ls /missing-{n}"}
        )
        assert status == 200
    await wait_until(
        lambda: any("missing-5" in m.content for m in context.messages),
        what=lambda: context.messages,
    )
    status, shown = await api.call("GET", "/sessions/small/context")
    assert shown["config"] == {"max_tokens": 300, "compression_threshold": 0.5}
    summary = shown["messages"][0]
    assert summary["role"] == "system" and summary["summary_of"]
    # the summary keeps the newest folded commands with their exit codes and errors
    assert re.search(
        r"\$ echo step \d; ls /missing-\d · exit 2 · errors: ls: cannot", summary["content"]
    )
    status, first = await api.call("GET", f"/sessions/small/context/{summary['summary_of'][0]}")
    assert status == 200 and "$ echo step 0; ls /missing-0" in first["message"]["content"]
    assert shown["summary"]["tokens"]["saved"] > 0
    assert shown["summary"]["storage"]["zstd_bytes"] > 0
    for bad, word in (
        ({"max_tokens": 0}, "max_tokens"),
        ({"compression_threshold": 1.5}, "compression_threshold"),
        ({"max_token": 5}, "context.max_token"),
        ("big", "context"),
    ):
        status, error = await api.call(
            "POST", "/sessions", {"working_directory": str(tmp_path), "context": bad}
        )
        assert status == 400 and word in error["error"], error
