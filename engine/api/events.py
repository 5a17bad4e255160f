"""/events: the instance's one event stream (engine.events), so an orchestrator is told of every
created/closed/renamed session, exit, silence, activity and state change instead of polling.

`?since=SEQ` resumes after the last sequence number a client saw. A WebSocket upgrade streams
(replay, then live); a plain GET is a long poll (`&wait=S`). Events no longer kept are reported
as a count (`dropped`), never skipped in silence. A scoped token sees its own session's events.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from engine.api.common import (
    HANGUP_CHECK,
    INSTANCE,
    MANAGER,
    MAX_BODY,
    client_gone,
    principal,
    query_int,
    query_number,
    until_closed,
)
from engine.events import Event, EventLog
from engine.security import Principal

MAX_PAGE = 1000  # events in one long-poll answer
MAX_WAIT = 600.0  # seconds a long poll may wait
WS_BACKLOG = 1024 * 1024  # bytes of events queued for one slow WebSocket reader before it lags


def _visible(who: Principal, event: Event) -> bool:
    return who.admin or (event.session_id is not None and event.session_id == who.session_id)


def _log(request: web.Request) -> EventLog:
    return request.app[MANAGER].events


def _other_instance(request: web.Request) -> bool:
    """`?instance=` names an instance other than this one: the client's seq is an earlier
    instance's (this one restarted and counts from 1 again)."""
    given = request.query.get("instance")
    return bool(given) and given != request.app[INSTANCE]


def _since(request: web.Request) -> int | None:
    """`?since=`, from the start when it is an earlier instance's: named by `instance`, or
    beyond the newest seq, everything this log holds is news to that client."""
    since = query_int(request, "since", 0, 2**62)
    if since is not None and (since > _log(request).last_seq or _other_instance(request)):
        return 0
    return since


async def events(request: web.Request) -> web.StreamResponse:
    since = _since(request)
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await _websocket(request, since)
    return await _long_poll(request, since)


async def _long_poll(request: web.Request, since: int | None) -> web.Response:
    """`{"events": [...], "last_seq": N, "dropped": N, "instance": ID}`; pass `last_seq` as the
    next `since` and `instance` as `instance`: after a restart the answer comes at once, from
    this instance's first event, with the new `instance`.
    Without `since`, only what happens from now on (an empty page at once unless `wait`)."""
    log = _log(request)
    wait = query_number(request, "wait", 0, MAX_WAIT, 0.0) or 0.0
    if _other_instance(request):
        wait = 0.0  # answer at once: the client learns of the restart from `instance`
    limit = query_int(request, "limit", 1, MAX_PAGE) or MAX_PAGE
    who = principal(request)
    seq = log.last_seq if since is None else since
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        found, dropped = await log.wait(seq, min(max(0.0, remaining), HANGUP_CHECK))
        page = [e for e in found if _visible(who, e)][:limit]
        full = len(page) == limit  # more may follow: resume after the last one given
        last = page[-1].seq if full else found[-1].seq if found else seq
        ended = asyncio.get_running_loop().time() >= deadline
        if page or dropped or ended or client_gone(request):
            return web.json_response(
                {
                    "events": [e.to_json() for e in page],
                    "last_seq": last,
                    "dropped": dropped,
                    "instance": request.app[INSTANCE],
                }
            )
        seq = last  # only other sessions' events came: keep waiting for this client's


async def _websocket(request: web.Request, since: int | None) -> web.StreamResponse:
    """Each message is one event; `{"type": "dropped", "count": N}` first when events after
    `since` are no longer kept. A reader slower than the events is caught up from the log
    (still in order, still complete while the log keeps them), so its queue stays bounded."""
    log = _log(request)
    who = principal(request)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()  # (seq, its JSON)
    queued = 0
    lagged = False
    sent = log.last_seq if since is None else since

    def on_event(event: Event) -> None:
        nonlocal queued, lagged
        if not _visible(who, event):
            return
        text = json.dumps(event.to_json())  # once: its size now, the same text sent later
        if lagged or queued + len(text) > WS_BACKLOG:
            lagged = True
            return
        queued += len(text)
        queue.put_nowait((event.seq, text))

    async def send(seq: int, text: str) -> None:
        nonlocal sent
        if seq <= sent:
            return  # replayed already
        await ws.send_str(text)
        sent = seq

    async def catch_up() -> None:
        nonlocal lagged
        lagged = False  # single-threaded: every event after this line is queued again
        found, dropped = log.since(sent)
        if dropped:
            await ws.send_json({"type": "dropped", "count": dropped})
        for event in found:
            if _visible(who, event):
                await send(event.seq, json.dumps(event.to_json()))

    unsubscribe = log.subscribe(on_event)

    reading = asyncio.create_task(until_closed(ws, queue))
    try:
        await catch_up()
        while True:
            item = await queue.get()
            if item is None:
                break
            queued -= len(item[1])
            await send(*item)
            if lagged and queue.empty():
                await catch_up()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
        reading.cancel()
        await ws.close()
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/events", events)
