"""The agents' half of the API over `manager.hub` (engine/hub.py): messages and inboxes, tasks
and capabilities, decisions and their patterns, token reports, trace spans.

Agents are sessions: every field naming the caller (`from`, `agent`) must name an existing
session, and a token scoped to one session may act only as that session (and read only what
concerns it). A message's recipient must be a session too. Unknown agents, tasks, decisions
or spans are 404s, values out of range 400s, a payload over the bus's limit a 413, a state
that does not allow the request (a task taken twice) a 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from engine.api.common import (
    HANGUP_CHECK,
    MANAGER,
    MAX_BODY,
    ApiError,
    audit,
    body,
    client_gone,
    field,
    principal,
    query_int,
    query_number,
    text,
    text_field,
)
from engine.coordination import MAX_PAYLOAD, MessagePriority, MessageType, Task
from engine.errors import CoordinationError
from engine.hub import AgentHub
from engine.observability import Decision, DecisionType

MAX_WAIT = 600.0  # seconds an inbox long poll may wait
MAX_LIST = 10_000  # records in one listing
MAX_OPTIONS = 100  # options of one decision
MAX_NAME = 200  # characters of an option, a capability, a model or a span name
MAX_NOTE = 64 * 1024  # characters of a rationale or a note

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _hub(request: web.Request) -> AgentHub:
    return request.app[MANAGER].hub


def _coordination_errors(what: str) -> Callable[[Handler], Handler]:
    """The route's CoordinationErrors as API errors: NOT_FOUND → 404 `{WHAT}_NOT_FOUND`,
    TOO_LARGE → 413 PAYLOAD_TOO_LARGE, CONFLICT → 409, the rest → 400."""

    def wrap(handler: Handler) -> Handler:
        async def route(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except CoordinationError as exc:
                status, code = {
                    CoordinationError.NOT_FOUND: (404, f"{what}_NOT_FOUND"),
                    CoordinationError.TOO_LARGE: (413, "PAYLOAD_TOO_LARGE"),
                    CoordinationError.CONFLICT: (409, "CONFLICT"),
                }.get(exc.code, (400, "INVALID_REQUEST"))
                raise ApiError(status, code, str(exc)) from None

        return route

    return wrap


# -- who is asking -------------------------------------------------------------------------------


def _agent_name(request: web.Request, name: str, key: str, *, recipient: bool = False) -> str:
    """The session `name` (or id) names, as its name, which this client may act as; 404 when
    there is none. A scoped token naming any agent but its own gets 403 whether that agent
    exists or not (which names exist is not its to learn), unless it names the `recipient` of
    a message it sends."""
    manager = request.app[MANAGER]
    session = manager.find_session(name) or manager.get_session(name)
    who = principal(request)
    if not recipient and not who.admin and (session is None or session.id != who.session_id):
        audit(request, "act-as", name[:64], False, f"{request.method} {request.path[:200]}")
        raise ApiError(
            403, "PERMISSION_DENIED", f"this token is scoped to another session, not {name[:64]!r}"
        )
    if session is None:
        raise ApiError(
            404,
            "AGENT_NOT_FOUND",
            f"{key!r}: no session named {name[:64]!r} (agents are sessions; GET /sessions)",
        )
    return session.name


def _acting(request: web.Request, data: dict[str, Any], key: str) -> str:
    """The agent the caller acts as (`data[key]`, required): an existing session this client
    may act as."""
    name = _acting_maybe(request, data, key)
    if name is None:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is required: the agent's session")
    return name


def _acting_maybe(request: web.Request, data: dict[str, Any], key: str) -> str | None:
    """`_acting` for an optional field: left out, a scoped token acts as its own session and
    an admin client as nobody in particular (None)."""
    who = principal(request)
    value = field(data, key, str)
    if value is None:
        if who.admin or who.session_id is None:
            return None
        value = who.session_id
    name = _agent_name(request, value, key)
    return name


def _may_act(request: web.Request, name: str) -> None:
    who = principal(request)
    session = request.app[MANAGER].find_session(name)
    if not who.admin and (session is None or session.id != who.session_id):
        audit(request, "act-as", name, False, f"{request.method} {request.path[:200]}")
        raise ApiError(
            403, "PERMISSION_DENIED", f"this token is scoped to another session, not {name!r}"
        )


def _reading(request: web.Request) -> str | None:
    """`?agent=` for a listing: any for an admin, only its own for a scoped token (the
    default then)."""
    name = request.query.get("agent") or None
    who = principal(request)
    if name is not None:
        name = _agent_name(request, name, "agent")
    if who.admin:
        return name
    own = _own_name(request)
    if own is None or (name is not None and name != own):
        raise ApiError(403, "PERMISSION_DENIED", "this token is scoped to another session")
    return own


def _own_name(request: web.Request) -> str | None:
    """The name of the session a scoped token belongs to (None: gone, or an admin client)."""
    who = principal(request)
    return next((s.name for s in request.app[MANAGER].sessions if s.id == who.session_id), None)


def _limit(request: web.Request, default: int) -> int:
    return query_int(request, "limit", 0, MAX_LIST) or default


def _short(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = text_field(data, key, required)
    if value is not None and len(value) > MAX_NAME:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is longer than {MAX_NAME} characters")
    return value


def _note(data: dict[str, Any], key: str) -> str | None:
    value = text_field(data, key)
    if value is not None and len(value) > MAX_NOTE:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is longer than {MAX_NOTE} characters")
    return value


def _words(data: dict[str, Any], key: str, most: int = MAX_OPTIONS) -> list[str]:
    values = field(data, key, list, [])
    if len(values) > most or not all(isinstance(v, str) for v in values):
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a list of at most {most} strings")
    for value in values:
        if len(value) > MAX_NAME:
            raise ApiError(400, "INVALID_REQUEST", f"an item of {key!r} is over {MAX_NAME} chars")
        text(value, key)
    return list(values)


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(field(data, key, dict, {}))


# -- messages ------------------------------------------------------------------------------------


@_coordination_errors("AGENT")
async def send_message(request: web.Request) -> web.Response:
    try:
        data = await body(request, {"from", "to", "all", "type", "priority", "payload", "reply_to"})
    except web.HTTPRequestEntityTooLarge:  # over the body limit: the bus's own answer
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"the message is too large: the request body is over {MAX_BODY:,} bytes and a "
            f"payload may be {MAX_PAYLOAD:,} bytes as JSON (share a file path for anything "
            "bigger)",
        ) from None
    hub = _hub(request)
    sender = _acting(request, data, "from")
    to = field(data, "to", str)
    everyone = field(data, "all", bool, False)
    if (to is None) == (not everyone):
        raise ApiError(400, "INVALID_REQUEST", "give 'to' (an agent) or 'all': true, not both")
    if "payload" not in data:
        raise ApiError(400, "INVALID_REQUEST", "'payload' is required (any JSON value)")
    kind = field(data, "type", str)
    level = field(data, "priority", (str, int), "normal")
    reply_to = field(data, "reply_to", int)
    hub.ensure_agent(sender)
    if everyone:
        message = hub.bus.broadcast(
            sender,
            data["payload"],
            MessageType.parse(kind) if kind else MessageType.BROADCAST,
            MessagePriority.parse(level),
            reply_to,
        )
    else:
        recipient = _agent_name(request, to, "to", recipient=True)
        hub.ensure_agent(recipient)
        message = hub.bus.send(
            sender,
            recipient,
            data["payload"],
            MessageType.parse(kind) if kind else MessageType.DATA_SHARE,
            MessagePriority.parse(level),
            reply_to,
        )
    return web.json_response(message.to_dict(), status=201)


async def list_messages(request: web.Request) -> web.Response:
    agent = _reading(request)
    since = query_int(request, "since", 0, 2**62)
    limit = _limit(request, 200)
    if since is None:  # the newest
        messages = _hub(request).messages(agent, limit)
    else:  # the oldest after `since`: a reader pages on with the last id it got
        later = _hub(request).bus.history(agent)
        messages = [m for m in later if m.id > since][:limit]
    return web.json_response({"messages": [m.to_dict() for m in messages], "total": len(messages)})


@_coordination_errors("AGENT")
async def inbox(request: web.Request) -> web.Response:
    """Take the agent's messages (highest priority first); `?wait=S` waits for the first.
    A GET that changes state: a read-only token is refused."""
    name = _agent_name(request, request.match_info["name"], "name")
    if principal(request).read_only:  # taking them is a change: GET /messages only reads
        audit(request, "inbox", name, False, "read-only token")
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            "a read-only token cannot take messages from an inbox; GET /messages?agent= reads "
            "them without taking",
        )
    wait = query_number(request, "wait", 0, MAX_WAIT, 0.0) or 0.0
    limit = query_int(request, "limit", 1, MAX_LIST)
    hub = _hub(request)
    hub.ensure_agent(name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    messages = hub.bus.receive_nowait(name, limit)
    while not messages and name in hub.bus and not client_gone(request):
        left = deadline - loop.time()
        if left <= 0:
            break
        messages = await hub.bus.receive(name, min(left, HANGUP_CHECK), limit)
    pending = hub.bus.pending(name) if name in hub.bus else 0
    dropped = hub.bus.dropped(name) if name in hub.bus else 0
    return web.json_response(
        {
            "agent": name,
            "messages": [m.to_dict() for m in messages],
            "pending": pending,
            "dropped": dropped,
        }
    )


# -- tasks ---------------------------------------------------------------------------------------


def _number_id(request: web.Request, what: str) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "INVALID_REQUEST", f"a {what} id is a whole number (got {raw[:40]!r})")
    return int(raw)


@_coordination_errors("TASK")
async def submit_task(request: web.Request) -> web.Response:
    data = await body(
        request,
        {"description", "requirements", "priority", "estimated_effort", "metadata", "from"},
    )
    submitter = _acting_maybe(request, data, "from")
    description = _note(data, "description")
    if not description or not description.strip():
        raise ApiError(400, "INVALID_REQUEST", "'description' is required")
    effort = field(data, "estimated_effort", (int, float), 0)
    task = Task(
        description,
        tuple(_words(data, "requirements")),
        MessagePriority.parse(field(data, "priority", (str, int), "normal")),
        effort,
        _object(data, "metadata"),
        submitted_by=submitter,
    )
    _hub(request).tasks.submit_task(task)
    return web.json_response(task.to_dict(), status=201)


async def list_tasks(request: web.Request) -> web.Response:
    """Tasks of a status and/or assignee. An admin client sees every task; a scoped token
    only those its session may act on: pending ones it has the capabilities for, and those
    it submitted or holds (another agent's task, with its metadata, is not its to read)."""
    status = request.query.get("status") or None
    agent = request.query.get("agent") or None
    if agent is not None:
        agent = _agent_name(request, agent, "agent")
    tasks = _hub(request).tasks
    try:
        found = tasks.tasks(status, agent)
    except CoordinationError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    who = principal(request)
    if not who.admin:
        own = _own_name(request)
        found = [t for t in found if own is not None and tasks.concerns(t, own)]
    found = found[-_limit(request, MAX_LIST) :]
    return web.json_response(
        {
            "tasks": [t.to_dict() for t in found],
            "total": len(found),
            "capabilities": {a: list(c) for a, c in tasks.capabilities().items()},
        }
    )


@_coordination_errors("TASK")
async def take_task(request: web.Request) -> web.Response:
    data = await body(request, {"agent"})
    agent = _acting(request, data, "agent")
    task = _hub(request).tasks.take(agent, _number_id(request, "task"))
    assert task is not None  # a named task is taken or refused
    return web.json_response(task.to_dict())


@_coordination_errors("TASK")
async def take_next(request: web.Request) -> web.Response:
    """The best pending task the agent can do, taken; `task` null when there is none."""
    data = await body(request, {"agent"})
    agent = _acting(request, data, "agent")
    task = _hub(request).tasks.take(agent)
    return web.json_response({"agent": agent, "task": None if task is None else task.to_dict()})


@_coordination_errors("TASK")
async def task_done(request: web.Request) -> web.Response:
    data = await body(request, {"agent", "success", "note"})
    agent = _acting(request, data, "agent")
    success = field(data, "success", bool, True)
    task_id = _number_id(request, "task")
    task = _hub(request).tasks.complete(task_id, success, _note(data, "note"), agent)
    return web.json_response(task.to_dict())


@_coordination_errors("TASK")
async def distribute(request: web.Request) -> web.Response:
    await body(request, set())
    if not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "distributing tasks takes an admin client")
    result = _hub(request).tasks.distribute_tasks()
    return web.json_response(
        {
            "assigned": [
                {"task": a.task.to_dict(), "agent": a.agent, "decision_id": a.decision.id}
                for a in result.assigned
            ],
            "unassigned": [
                {"task": u.task.to_dict(), "reason": u.reason} for u in result.unassigned
            ],
        }
    )


@_coordination_errors("AGENT")
async def set_capabilities(request: web.Request) -> web.Response:
    data = await body(request, {"capabilities"})
    name = _agent_name(request, request.match_info["name"], "name")
    caps = _hub(request).tasks.register_capabilities(name, _words(data, "capabilities"))
    return web.json_response({"agent": name, "capabilities": list(caps)})


# -- decisions -----------------------------------------------------------------------------------


@_coordination_errors("DECISION")
async def make_decision(request: web.Request) -> web.Response:
    data = await body(
        request, {"agent", "type", "options", "selected", "confidence", "rationale", "context"}
    )
    agent = _acting(request, data, "agent")
    options = _words(data, "options")
    selected = _short(data, "selected", required=True)
    confidence = field(data, "confidence", (int, float))
    if confidence is None:
        raise ApiError(400, "INVALID_REQUEST", "'confidence' is required (0 to 1)")
    decision = _hub(request).decisions.track(
        field(data, "type", str, "generic"),
        options,
        selected or "",
        confidence,
        _note(data, "rationale") or "",
        _object(data, "context"),
        agent,
    )
    return web.json_response(decision.to_dict(), status=201)


@_coordination_errors("DECISION")
async def decision_outcome(request: web.Request) -> web.Response:
    data = await body(request, {"success", "note", "agent"})
    decisions = _hub(request).decisions
    decision = decisions.get(_number_id(request, "decision"))
    # `agent` names who reports the outcome; the permission check is on the decision's own
    # agent below, so the field changes nothing a caller may do. It is kept (not refused) so
    # clients that send it, as they do on every other decision route, keep working, and a
    # scoped token that names another session is still refused (403) and audited.
    if "agent" in data:
        _acting(request, data, "agent")
    if decision.agent is not None:
        _may_act(request, decision.agent)
    elif not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "this decision is not this session's")
    success = field(data, "success", bool)
    if success is None:
        raise ApiError(400, "INVALID_REQUEST", "'success' is required (true or false)")
    decision = decisions.record_outcome(decision.id, success, _note(data, "note"))
    return web.json_response(decision.to_dict())


def _decisions(request: web.Request, limit: int | None) -> list[Decision]:
    kind = request.query.get("type") or None
    try:
        return _hub(request).decisions.decisions(
            _reading(request), None if kind is None else DecisionType.parse(kind), limit
        )
    except CoordinationError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None


async def list_decisions(request: web.Request) -> web.Response:
    found = _decisions(request, _limit(request, 200))
    return web.json_response({"decisions": [d.to_dict() for d in found], "total": len(found)})


async def decision_patterns(request: web.Request) -> web.Response:
    """The patterns of every decision kept (of one agent and/or type, with `?agent=`/`?type=`;
    a scoped token's own)."""
    return web.json_response(
        _hub(request).decisions.analyze_patterns(_decisions(request, None)).to_dict()
    )


# -- tokens --------------------------------------------------------------------------------------


@_coordination_errors("AGENT")
async def report_tokens(request: web.Request) -> web.Response:
    data = await body(request, {"agent", "input", "output", "model"})
    agent = _acting(request, data, "agent")
    counts = []
    for key in ("input", "output"):
        value = field(data, key, int, 0)
        if not 0 <= value <= 10**12:
            raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be tokens from 0 to 10^12")
        counts.append(value)
    hub = _hub(request)
    hub.record_tokens(agent, counts[0], counts[1], _short(data, "model"))
    return web.json_response(hub.token_usage(agent).to_dict(), status=201)


async def list_tokens(request: web.Request) -> web.Response:
    agent = _reading(request)
    hub = _hub(request)
    agents = [agent] if agent is not None else hub.profiler.agents()
    return web.json_response({"usage": [hub.token_usage(a).to_dict() for a in agents]})


# -- traces --------------------------------------------------------------------------------------


@_coordination_errors("SPAN")
async def start_span(request: web.Request) -> web.Response:
    data = await body(request, {"name", "agent", "parent", "metadata"})
    agent = _acting_maybe(request, data, "agent")
    name = _short(data, "name", required=True) or ""
    span = _hub(request).tracer.start_span(
        name, _object(data, "metadata"), field(data, "parent", str), agent
    )
    return web.json_response(span.to_dict(), status=201)


@_coordination_errors("SPAN")
async def end_span(request: web.Request) -> web.Response:
    data = await body(request, {"status"})
    tracer = _hub(request).tracer
    span = tracer.get(request.match_info["id"])
    if span.agent is not None:
        _may_act(request, span.agent)
    elif not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "this span is not this session's")
    span = tracer.end_span(span.span_id, field(data, "status", str, "ok"))
    return web.json_response(span.to_dict())


async def traces(request: web.Request) -> web.Response:
    trees = _hub(request).tracer.get_traces(_limit(request, 100))
    who = principal(request)
    if not who.admin:
        own = {s.name for s in request.app[MANAGER].sessions if s.id == who.session_id}
        trees = [t for t in trees if t.span.agent in own]
    return web.json_response({"traces": [t.to_dict() for t in trees], "total": len(trees)})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/messages", send_message)
    app.router.add_get("/messages", list_messages)
    app.router.add_get("/agents/{name}/inbox", inbox)
    app.router.add_put("/agents/{name}/capabilities", set_capabilities)
    app.router.add_post("/tasks", submit_task)
    app.router.add_get("/tasks", list_tasks)
    app.router.add_post("/tasks/distribute", distribute)
    app.router.add_post("/tasks/take", take_next)
    app.router.add_post("/tasks/{id}/take", take_task)
    app.router.add_post("/tasks/{id}/done", task_done)
    app.router.add_post("/decisions", make_decision)
    app.router.add_get("/decisions", list_decisions)
    app.router.add_get("/decisions/patterns", decision_patterns)
    app.router.add_post("/decisions/{id}/outcome", decision_outcome)
    app.router.add_post("/tokens", report_tokens)
    app.router.add_get("/tokens", list_tokens)
    app.router.add_post("/traces/spans", start_span)
    app.router.add_post("/traces/spans/{id}/end", end_span)
    app.router.add_get("/traces", traces)
