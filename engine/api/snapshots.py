"""/snapshots: take, list, show, delete and restore snapshots, and export a pane's recording.

Snapshots outlive the sessions they show, so they are admin business: a token scoped to one
session gets 403 here. Without a database (persistence is off, or the store failed to open)
every route answers 409 SNAPSHOTS_OFF saying why, never a 5xx.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine.api.common import (
    MANAGER,
    ApiError,
    audit,
    body,
    principal,
    query_flag,
    query_int,
    summary,
    text_field,
    time_text,
)
from engine.errors import SessionError, StoreError
from engine.snapshots import Snapshotter
from engine.store import SnapshotData, SnapshotInfo
from engine.terminal import Terminal

SNAPSHOTS = web.AppKey("snapshots", Snapshotter)
MAX_NOTE = 1000  # characters in a note


def _snapshotter(request: web.Request) -> Snapshotter:
    if not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "snapshots need an admin client")
    snapshotter = request.app.get(SNAPSHOTS)
    if snapshotter is None or snapshotter.store is None:
        raise ApiError(
            409, "SNAPSHOTS_OFF", "snapshots are off: this instance has no database (see its log)"
        )
    return snapshotter


def _store_error(exc: SessionError) -> ApiError:
    if isinstance(exc, StoreError) and exc.code == "NOT_FOUND":
        return ApiError(404, "SNAPSHOT_NOT_FOUND", str(exc))
    return ApiError(
        409, "STORE_ERROR" if isinstance(exc, StoreError) else "SESSION_ERROR", str(exc)
    )


def _snapshot_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "INVALID_REQUEST", f"snapshot id {raw[:40]!r} is not a number")
    return int(raw)


def info_json(info: SnapshotInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "created_at": time_text(info.created_at),
        "kind": info.kind,
        "trigger": info.trigger,
        "note": info.note,
        "sessions": list(info.sessions),
        "panes": info.panes,
        "stored_bytes": info.stored_bytes,
        "raw_bytes": info.raw_bytes,
    }


def snapshot_json(snapshot: SnapshotData, ansi: bool) -> dict[str, Any]:
    """A snapshot with each pane's screen as it was (`capture-pane -p [-e]`)."""
    panes = []
    for pane in snapshot.panes:
        terminal = Terminal.from_image(pane.image)
        panes.append(
            {
                "session_id": pane.session_id,
                "session_name": pane.session_name,
                "window": pane.window,
                "window_name": pane.window_name,
                "pane_index": pane.pane_index,
                "cwd": pane.cwd,
                "command": pane.command,
                "title": pane.title,
                "columns": pane.columns,
                "lines": pane.lines,
                "history": len(terminal.scrollback),
                "screen": terminal.capture(ansi=ansi),
            }
        )
    return {
        "id": snapshot.id,
        "created_at": time_text(snapshot.created_at),
        "kind": snapshot.kind,
        "trigger": snapshot.trigger,
        "note": snapshot.note,
        "layout": snapshot.layout,
        "panes": panes,
    }


async def list_snapshots(request: web.Request) -> web.Response:
    snapshotter = _snapshotter(request)
    limit = query_int(request, "limit", 1, 100_000)
    session = request.query.get("session") or None
    assert snapshotter.store is not None
    try:
        infos = await snapshotter.store.list_snapshots(session, limit)
    except SessionError as exc:
        raise _store_error(exc) from None
    return web.json_response({"snapshots": [info_json(i) for i in infos], "total": len(infos)})


async def create_snapshot(request: web.Request) -> web.Response:
    snapshotter = _snapshotter(request)
    data = await body(request, {"session", "note"})
    name = text_field(data, "session")
    note = text_field(data, "note") or ""
    if len(note) > MAX_NOTE:
        raise ApiError(400, "INVALID_REQUEST", f"'note' is over {MAX_NOTE} characters")
    target = None
    if name is not None:
        manager = request.app[MANAGER]
        target = manager.find_session(name) or manager.get_session(name)
        if target is None:
            raise ApiError(404, "SESSION_NOT_FOUND", f"no session named {name!r}")
    try:
        snapshot_id = await snapshotter.take(target, note=note)
    except SessionError as exc:
        raise _store_error(exc) from None
    audit(request, "snapshot", name or "*", True, f"snapshot {snapshot_id}")
    assert snapshotter.store is not None
    store = snapshotter.store
    recent = await store.list_snapshots(limit=16)  # it is the newest, unless another process
    info = next((i for i in recent if i.id == snapshot_id), None)  # wrote at the same moment
    if info is None:
        info = next(i for i in await store.list_snapshots() if i.id == snapshot_id)
    return web.json_response(info_json(info), status=201)


async def show_snapshot(request: web.Request) -> web.Response:
    snapshotter = _snapshotter(request)
    try:
        snapshot = await snapshotter.load(_snapshot_id(request))
    except SessionError as exc:
        raise _store_error(exc) from None
    return web.json_response(snapshot_json(snapshot, query_flag(request, "ansi")))


async def delete_snapshot(request: web.Request) -> web.Response:
    snapshotter = _snapshotter(request)
    snapshot_id = _snapshot_id(request)
    assert snapshotter.store is not None
    try:
        deleted = await snapshotter.store.delete_snapshot(snapshot_id)
    except SessionError as exc:
        raise _store_error(exc) from None
    if not deleted:
        raise ApiError(404, "SNAPSHOT_NOT_FOUND", f"no snapshot {snapshot_id}")
    audit(request, "snapshot-delete", "*", True, f"snapshot {snapshot_id}")
    return web.json_response({"id": snapshot_id, "deleted": True})


async def restore_snapshot(request: web.Request) -> web.Response:
    snapshotter = _snapshotter(request)
    snapshot_id = _snapshot_id(request)
    await body(request, set())
    try:
        _, sessions = await snapshotter.restore(snapshot_id)
    except SessionError as exc:
        raise _store_error(exc) from None
    audit(request, "snapshot-restore", "*", True, f"snapshot {snapshot_id}")
    return web.json_response(
        {"id": snapshot_id, "sessions": [summary(s) for s in sessions.values()]}, status=201
    )


async def export_snapshot(request: web.Request) -> web.StreamResponse:
    """The recorded output of one pane of a snapshot, up to when it was taken, as asciicast v3
    (`?version=2` for asciinema 2.x)."""
    snapshotter = _snapshotter(request)
    pane_number = query_int(request, "pane", 0, 10_000) or 0
    version = query_int(request, "version", 2, 3) or 3
    try:
        snapshot = await snapshotter.load(_snapshot_id(request))
        if pane_number >= len(snapshot.panes):
            raise ApiError(400, "INVALID_REQUEST", f"snapshot has {len(snapshot.panes)} panes")
        pane = snapshot.panes[pane_number]
        lines = await snapshotter.recording_asciicast(pane, snapshot.created_at, version)
    except SessionError as exc:
        raise _store_error(exc) from None
    text = "".join(line + "\n" for line in lines)
    return web.Response(text=text, content_type="application/x-asciicast")


def add_routes(app: web.Application, snapshotter: Snapshotter | None) -> None:
    if snapshotter is not None:
        app[SNAPSHOTS] = snapshotter
    app.router.add_get("/snapshots", list_snapshots)
    app.router.add_post("/snapshots", create_snapshot)
    app.router.add_get("/snapshots/{id}", show_snapshot)
    app.router.add_delete("/snapshots/{id}", delete_snapshot)
    app.router.add_post("/snapshots/{id}/restore", restore_snapshot)
    app.router.add_get("/snapshots/{id}/asciicast", export_snapshot)
