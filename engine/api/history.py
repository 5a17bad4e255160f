"""/sessions/{name}/history: the commands a session's shell ran, as records (engine/history.py).

Answered from the session's own history in memory (the newest records it keeps); the store keeps
them all (`Store.commands`). `?failed=true` keeps non-zero exits, `?limit=N` the newest N,
`?output=false` leaves each command's output out (a listing, not a transcript).
"""

from __future__ import annotations

from aiohttp import web

from engine.api.common import lookup, query_flag, query_int

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


async def history(request: web.Request) -> web.Response:
    session = lookup(request)
    limit = query_int(request, "limit", 1, MAX_LIMIT)
    failed = query_flag(request, "failed")
    with_output = request.query.get("output", "1").lower() not in ("0", "false", "no")
    records = session.history.records(failed=failed, limit=limit or DEFAULT_LIMIT)
    commands = []
    for record in records:
        data = record.to_dict()
        if not with_output:
            del data["output"], data["parsed"]
        commands.append(data)
    return web.json_response({"session": session.name, "commands": commands})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sessions/{name}/history", history)
