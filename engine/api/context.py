"""/sessions/{name}/context: what an agent working in a session would be sent.

The context holds the session's finished commands as Tool messages (their output compressed)
and folds older ones into summaries past its threshold; the figures come labelled apart
(tokens: what a model is sent, counted with cl100k; storage: the archived originals' zstd
bytes). A folded message's full text is one more GET away, so nothing is lost.
"""

from __future__ import annotations

from aiohttp import web

from engine.api.common import ApiError, lookup, query_int
from engine.context import SessionContext
from engine.session import Session

MAX_MESSAGES = 10_000


def _context(session: Session) -> SessionContext:
    if session.context is None:
        raise ApiError(
            409,
            "CONTEXT_OFF",
            f"session {session.name!r} keeps no AI context: create it with "
            '"enable_ai_features": true',
        )
    return session.context


async def show_context(request: web.Request) -> web.Response:
    """The summary figures and the messages held, oldest first (`?limit=N`: the newest N)."""
    session = lookup(request)
    context = _context(session)
    limit = query_int(request, "limit", 0, MAX_MESSAGES)
    messages = context.messages if limit is None else context.get_recent_messages(limit)
    return web.json_response(
        {
            "session": session.name,
            "session_id": session.id,
            "config": {
                "max_tokens": context.config.max_tokens,
                "compression_threshold": context.config.compression_threshold,
            },
            "summary": context.get_summary().to_dict(),
            "messages": [m.to_dict() for m in messages],
        }
    )


async def show_message(request: web.Request) -> web.Response:
    """One message in full by its id, folded into a summary or not."""
    session = lookup(request)
    context = _context(session)
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise ApiError(400, "INVALID_REQUEST", f"a message id is a whole number (got {raw!r:.40})")
    try:
        message = context.original(int(raw))
    except KeyError:
        raise ApiError(
            404, "MESSAGE_NOT_FOUND", f"no message {raw} in the context of {session.name!r}"
        ) from None
    return web.json_response({"session": session.name, "message": message.to_dict()})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sessions/{name}/context", show_context)
    app.router.add_get("/sessions/{name}/context/{id}", show_message)
