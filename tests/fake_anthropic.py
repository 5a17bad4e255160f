"""A stand-in for the Anthropic Messages API on 127.0.0.1, enough for Claude Code to run a turn
offline: it streams a Bash tool call when the newest prompt says RUNLS, else a short answer, with
fixed usage figures, so a test sees Claude Code's real permission dialog, its real hooks and the
transcript it really writes."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

USAGE = {
    "input_tokens": 1200,
    "output_tokens": 42,
    "cache_creation_input_tokens": 300,
    "cache_read_input_tokens": 5000,
}
TOOL_COMMAND = "rm -rf build && ls"  # asks permission (echo would not: it is read-only)


def _newest_prompt(body: dict[str, Any]) -> tuple[str, bool]:
    """The person's words since the last answer, and whether a tool's result is among them."""
    texts: list[str] = []
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "assistant":
            break
        content = message.get("content")
        texts.append(json.dumps(content))
    joined = "\n".join(texts)
    return joined, '"tool_result"' in joined


async def _messages(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    if request.path.endswith("count_tokens"):
        return web.json_response({"input_tokens": 1200})
    prompt, answered = _newest_prompt(body)
    number = next(request.app[COUNTER])
    message_id = f"msg_fake{number:04d}"
    content: list[dict[str, Any]]
    if body.get("tools") and "RUNLS" in prompt and not answered:
        call = {"command": TOOL_COMMAND, "description": "Say hi"}
        content = [{"type": "tool_use", "id": f"toolu_{number:04d}", "name": "Bash", "input": call}]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": "Done."}]
        stop = "end_turn"
    model = body.get("model", "claude-test")
    if not body.get("stream"):
        return web.json_response(
            {"id": message_id, "type": "message", "role": "assistant", "model": model,
             "content": content, "stop_reason": stop, "stop_sequence": None, "usage": USAGE},
            headers={"request-id": f"req_fake{number:04d}"},
        )  # fmt: skip
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "request-id": f"req_fake{number:04d}"}
    )
    await response.prepare(request)

    async def event(name: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    start = {"id": message_id, "type": "message", "role": "assistant", "model": model,
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**USAGE, "output_tokens": 1}}  # fmt: skip
    await event("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(content):
        if block["type"] == "text":
            opened = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opened = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        await event("content_block_start", {"type": "content_block_start", "index": index,
                                            "content_block": opened})  # fmt: skip
        await event("content_block_delta", {"type": "content_block_delta", "index": index,
                                            "delta": delta})  # fmt: skip
        await event("content_block_stop", {"type": "content_block_stop", "index": index})
    await event("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": stop, "stop_sequence": None},
                                  "usage": {"output_tokens": USAGE["output_tokens"]}})  # fmt: skip
    await event("message_stop", {"type": "message_stop"})
    await response.write_eof()
    return response


async def _anything(request: web.Request) -> web.Response:
    return web.json_response({})


COUNTER = web.AppKey("counter", itertools.count)


async def fake_anthropic() -> AsyncIterator[str]:
    """The API's base URL while it runs."""
    app = web.Application()
    app[COUNTER] = itertools.count(1)
    app.router.add_post("/v1/messages", _messages)
    app.router.add_post("/v1/messages/count_tokens", _messages)
    app.router.add_route("*", "/{tail:.*}", _anything)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
