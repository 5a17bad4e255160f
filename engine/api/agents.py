"""/agents: each pane's agent state (engine/agents.py), and the two ways an agent tells it.

`GET /agents` lists every session's state a client may see, `GET /agents/{name}` one;
`POST /agents/{name}/state` {state, reason?, question?} is an explicit report (`ai-session
state`), `POST /agents/{name}/hook?kind=claude` takes a Claude Code hook's JSON as it is
(`ai-session hook claude`). A session-scoped token sees and reports only its own session.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from engine.agents import AgentState, AgentStatus
from engine.api.common import (
    MANAGER,
    MAX_BODY,
    ApiError,
    audit,
    body,
    lookup,
    principal,
    read_raw,
    text_field,
)
from engine.session import Session

STATES = [s.value for s in AgentState if s != AgentState.EXITED]  # what may be reported


def _status(request: web.Request, session: Session) -> AgentStatus:
    status = request.app[MANAGER].agents.status(session.id)
    if status is None:  # registered but never seen yet (not started)
        raise ApiError(
            409, "AGENT_UNKNOWN", f"nothing is known yet of {session.name!r}'s agent state"
        )
    return status


def _json(request: web.Request, status: AgentStatus) -> dict[str, Any]:
    """The status, with the tokens the agent reported itself (`ai-session tokens`, the hub's
    profiler) beside those read from its CLI's transcript."""
    usage = request.app[MANAGER].hub.token_usage(status.session)
    reported = usage.to_dict() if usage.reports else None
    return {**status.to_json(), "reported_tokens": reported}


async def list_agents(request: web.Request) -> web.Response:
    who = principal(request)
    agents = [
        _json(request, s)
        for s in request.app[MANAGER].agents.statuses()
        if who.may_touch(s.session_id)
    ]
    return web.json_response({"agents": agents, "total": len(agents)})


async def get_agent(request: web.Request) -> web.Response:
    session = lookup(request)
    return web.json_response(_json(request, _status(request, session)))


async def report_state(request: web.Request) -> web.Response:
    """An explicit report: it outranks what the screen says until the screen changes."""
    session = lookup(request)
    data = await body(request, {"state", "reason", "question"})
    state = text_field(data, "state", required=True)
    if state not in STATES:
        raise ApiError(
            400, "INVALID_REQUEST", f"'state' must be one of {', '.join(STATES)}, not {state!r:.40}"
        )
    reason = text_field(data, "reason")
    question = text_field(data, "question")
    try:
        status = request.app[MANAGER].agents.report(session.id, state, reason, question)
    except KeyError:  # removed meanwhile
        raise ApiError(404, "SESSION_NOT_FOUND", f"session {session.name!r} is gone") from None
    except ValueError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    audit(request, "agent-state", session.name, True, state)
    return web.json_response(_json(request, status))


async def hook(request: web.Request) -> web.Response:
    """A Claude Code hook's JSON, as Claude Code sends it on the hook's stdin."""
    session = lookup(request)
    kind = request.query.get("kind", "claude")
    if kind != "claude":
        raise ApiError(400, "INVALID_REQUEST", f"unknown hook kind {kind!r:.40}: only 'claude'")
    raw = await read_raw(request)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "request body too large")
    try:
        payload = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "INVALID_REQUEST", f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "INVALID_REQUEST", "a hook payload is a JSON object")
    try:
        status = request.app[MANAGER].agents.hook(session.id, payload, kind)
    except KeyError:
        raise ApiError(404, "SESSION_NOT_FOUND", f"session {session.name!r} is gone") from None
    except ValueError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    event = payload.get("hook_event_name")
    refused = request.app[MANAGER].agents.refused_transcript(session.id)
    ignored = f"; transcript ignored: {refused}" if refused else ""
    audit(request, "agent-hook", session.name, True, f"{kind} {str(event)[:60]}{ignored}")
    return web.json_response(_json(request, status))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/agents", list_agents)
    app.router.add_get("/agents/{name}", get_agent)
    app.router.add_post("/agents/{name}/state", report_state)
    app.router.add_post("/agents/{name}/hook", hook)
