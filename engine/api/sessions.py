"""/sessions and everything under /sessions/{name}: create, list, drive, watch, stop.

Routes keep the seed's shapes (sessions, execute, status, output) and add what an orchestrator
needs to be told instead of polling: output by byte offset (`?since=`) for any number of
readers, a long-poll `wait` for the exit, signals, respawn, rename and metadata, and tokens
scoped to one session."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import shlex
import signal
from base64 import b64encode
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from engine.ansi import plain_text
from engine.api.common import (
    CONTROLS,
    HANGUP_CHECK,
    MANAGER,
    MAX_API_SIZE,
    MAX_BODY,
    MAX_METADATA,
    ON_CREATED,
    POLICY,
    TOKENS,
    ApiError,
    audit,
    body,
    check,
    client_gone,
    field,
    int_field,
    lookup,
    principal,
    query_flag,
    query_int,
    query_number,
    require_running,
    session_name,
    summary,
    text,
    text_field,
    time_text,
    until_closed,
)
from engine.config import ContextConfig, SessionConfig
from engine.errors import (
    IncompleteCommand,
    ProcessError,
    PtyError,
    ResourceExhausted,
    SessionAlreadyExists,
    SessionBusy,
    SessionError,
    SessionNotFound,
)
from engine.keys import encode_tmux_keys
from engine.session import (
    CommandEvent,
    ExitEvent,
    OutputEvent,
    SessionEvent,
    exit_signal,
    signal_number,
    utf8_complete,
)

MAX_WAIT = 3600.0  # seconds a long poll may ask for
WS_BACKLOG = 1024 * 1024  # output bytes queued for one slow WebSocket reader before it lags
MAX_OFFSET = 2**62

CREATE_FIELDS = frozenset(
    {
        "name",
        "working_directory",
        "shell",
        "command",
        "environment",
        "enable_ai_features",
        "context",
        "columns",
        "lines",
        "metadata",
        "monitor_silence",
    }
)
MAX_SILENCE = 86_400.0  # seconds monitor_silence may be set to


MAX_CONTEXT_TOKENS = 10_000_000


def _context_config(data: dict[str, Any]) -> ContextConfig | None:
    """`"context": {"max_tokens": N, "compression_threshold": F}` (it turns AI features on)."""
    given = field(data, "context", dict)
    if given is None:
        return None
    unknown = sorted(set(given) - {"max_tokens", "compression_threshold"})
    if unknown:
        raise ApiError(
            400,
            "INVALID_REQUEST",
            f"unknown field 'context.{unknown[0]}': known are max_tokens, compression_threshold",
        )
    default = ContextConfig()
    tokens = int_field(given, "max_tokens", 1, MAX_CONTEXT_TOKENS, default.max_tokens)
    threshold = field(given, "compression_threshold", (int, float), default.compression_threshold)
    if not 0 < threshold <= 1:
        raise ApiError(
            400, "INVALID_REQUEST", "'compression_threshold' must be a fraction in (0, 1]"
        )
    return ContextConfig(int(tokens or default.max_tokens), float(threshold))


def _silence(data: dict[str, Any]) -> float | None:
    value = field(data, "monitor_silence", (int, float))
    if value is not None and not 0 <= value <= MAX_SILENCE:
        raise ApiError(
            400, "INVALID_REQUEST", f"'monitor_silence' must be 0 (off) to {MAX_SILENCE:g} seconds"
        )
    return None if value is None else float(value)


def _command(data: dict[str, Any]) -> str | list[str] | None:
    """`command`: a string runs through the shell (`sh -c`, as tmux), a list is the argv."""
    value = field(data, "command", (str, list))
    if isinstance(value, list):
        if not value or not all(isinstance(word, str) for word in value):
            raise ApiError(400, "INVALID_REQUEST", "'command' as a list must be non-empty strings")
        return [text(word, "command") for word in value]
    return None if value is None else text(value, "command")


def engine_error(exc: SessionError) -> ApiError:
    """The answer for an engine error a route did not expect by name (a race, usually: the
    program exited or the session went away between the check and the call)."""
    if isinstance(exc, SessionBusy):
        return ApiError(409, "SESSION_BUSY", str(exc), command=exc.command)
    if isinstance(exc, IncompleteCommand):  # an open quote: the request's own fault
        return ApiError(400, "INVALID_REQUEST", str(exc))
    if isinstance(exc, SessionNotFound):
        return ApiError(404, "SESSION_NOT_FOUND", str(exc))
    if isinstance(exc, SessionAlreadyExists):
        return ApiError(409, "SESSION_EXISTS", str(exc))
    if isinstance(exc, ProcessError | PtyError):  # it exited between the check and the call
        return ApiError(409, "SESSION_NOT_RUNNING", str(exc))
    if isinstance(exc, ResourceExhausted):  # input waits for a program that does not read
        return ApiError(429, "RESOURCE_EXHAUSTED", str(exc), retry_after=1)
    return ApiError(409, "SESSION_ERROR", str(exc))


def _metadata(data: dict[str, Any]) -> dict[str, Any] | None:
    value: dict[str, Any] | None = field(data, "metadata", dict)
    if value is not None and len(json.dumps(value)) > MAX_METADATA:
        raise ApiError(400, "INVALID_REQUEST", f"'metadata' is over {MAX_METADATA} bytes as JSON")
    return value


# -- the collection -----------------------------------------------------------------------------


async def list_sessions(request: web.Request) -> web.Response:
    who = principal(request)
    sessions = [summary(s) for s in request.app[MANAGER].sessions if who.may_touch(s.id)]
    return web.json_response({"sessions": sessions, "total": len(sessions)})


async def create_session(request: web.Request) -> web.Response:
    if not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "a scoped token cannot create sessions")
    data = await body(request, CREATE_FIELDS)
    manager = request.app[MANAGER]
    name = field(data, "name", str)
    if name is not None:
        session_name(name)
        if manager.find_session(name) is not None or manager.get_session(name) is not None:
            raise ApiError(409, "SESSION_EXISTS", f"a session named {name!r} already exists")
    given = text_field(data, "working_directory") or str(Path.home())
    if not Path(given).is_absolute():
        raise ApiError(400, "INVALID_REQUEST", "'working_directory' must be an absolute path")
    directory = str(Path(given).resolve())  # checked and used as one path
    shell = text_field(data, "shell")
    command = _command(data)
    silence = _silence(data)
    environment = field(data, "environment", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in environment.items()):
        raise ApiError(400, "INVALID_REQUEST", "'environment' must map strings to strings")
    for key, value in environment.items():
        if not key or "=" in key:  # execve refuses them, in the forked child
            raise ApiError(
                400, "INVALID_REQUEST", f"'environment' name {key[:64]!r} is empty or has '='"
            )
        text(key, "environment")
        text(value, "environment")
    ai = field(data, "enable_ai_features", bool, False)
    context = _context_config(data)
    columns = int_field(data, "columns", 1, MAX_API_SIZE, 80)
    lines = int_field(data, "lines", 1, MAX_API_SIZE, 24)
    metadata = _metadata(data)
    label = name or "(new)"
    policy = request.app[POLICY]
    check(request, "create", label, given, lambda: policy.check_directory(directory))
    check(request, "create", label, str(environment), lambda: policy.check_environment(environment))
    program_line = shlex.join(command) if isinstance(command, list) else command
    for program in (program_line, shell):  # what the session will run, checked like a command
        if program is not None:
            check(request, "create", label, program, partial(policy.check_command, program))
    config = SessionConfig(
        name=name,
        working_directory=Path(directory),
        shell=shell,
        shell_command=command,
        environment=dict(environment),
        pty_size=(lines or 24, columns or 80),
        enable_ai_features=ai or context is not None,
        context_config=context or ContextConfig(),
        monitor_silence=silence or None,
    )
    try:
        config.validate()
        session = await manager.create_session_with_config(config)
    except SessionAlreadyExists as exc:
        raise ApiError(409, "SESSION_EXISTS", str(exc)) from None
    except (SessionError, ValueError) as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    if metadata:
        session.metadata.update(metadata)
    try:
        await session.start()
    except SessionError as exc:
        with contextlib.suppress(SessionError):  # the engine may have unregistered it already
            await manager.remove_session(session.id)
        if isinstance(exc, ResourceExhausted):  # the machine's fault, not the request's
            raise engine_error(exc) from None
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    audit(request, "create", session.name, True, program_line or shell or "(default shell)")
    adopt = request.app.get(ON_CREATED)
    if callable(adopt):
        adopt(session)
    return web.json_response(summary(session), status=201)


# -- one session --------------------------------------------------------------------------------


async def get_session(request: web.Request) -> web.Response:
    return web.json_response(summary(lookup(request)))


async def delete_session(request: web.Request) -> web.Response:
    """Stop and forget. Concurrent DELETEs of one session: the first stops it (which can take
    the grace period), the others are told at once it is gone."""
    session = lookup(request)
    try:  # the manager lets it go before stopping it: a concurrent DELETE or respawn 404s
        await request.app[MANAGER].remove_session(session.id)
    except SessionNotFound:
        raise ApiError(404, "SESSION_NOT_FOUND", f"session {session.name!r} is gone") from None
    request.app[TOKENS].forget(session.id)
    audit(request, "delete", session.name, True, "")
    return web.json_response({"name": session.name, "id": session.id, "deleted": True})


async def patch_session(request: web.Request) -> web.Response:
    """Rename (`name`), merge `metadata` (a key set to null is removed), and/or set
    `monitor_silence` (seconds; 0 or null: off)."""
    session = lookup(request)
    data = await body(request, {"name", "metadata", "monitor_silence"})
    new_name = field(data, "name", str)
    metadata = _metadata(data)
    if "monitor_silence" in data:
        session.set_monitor_silence(_silence(data))
    if new_name is not None and new_name != session.name:
        session_name(new_name)
        if request.app[MANAGER].get_session(new_name) not in (None, session):
            # names win over ids in a path: it would take the requests meant for that session
            raise ApiError(409, "SESSION_EXISTS", f"{new_name!r} is another session's id")
        old = session.name
        try:
            request.app[MANAGER].rename_session(session.id, new_name)
        except SessionAlreadyExists as exc:
            raise ApiError(409, "SESSION_EXISTS", str(exc)) from None
        except ValueError as exc:
            raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
        audit(request, "rename", new_name, True, f"from {old}")
    if metadata is not None:
        merged = {**session.metadata, **metadata}
        merged = {k: v for k, v in merged.items() if v is not None}
        if len(json.dumps(merged)) > MAX_METADATA:
            raise ApiError(400, "INVALID_REQUEST", f"metadata would be over {MAX_METADATA} bytes")
        session.update_metadata(metadata)  # a merge patch: one `metadata` event
    return web.json_response(summary(session))


async def session_status(request: web.Request) -> web.Response:
    session = lookup(request)
    config = session.config
    return web.json_response(
        {
            **summary(session),
            "cwd": session.terminal.cwd or session.current_path,
            "title": session.terminal.title,
            "config": {
                "enable_ai_features": config.enable_ai_features,
                "working_directory": str(config.working_directory),
                "shell": config.shell,
                "command": config.shell_command,
                "pty_size": [session.terminal.lines, session.terminal.columns],
            },
        }
    )


async def execute(request: web.Request) -> web.Response:
    session = lookup(request)
    data = await body(request, {"command", "timeout_ms"})
    command = text_field(data, "command", required=True)
    assert command is not None
    if CONTROLS.search(command):  # they would edit the line the shell reads (C-u, DEL, ...)
        raise ApiError(400, "INVALID_REQUEST", "'command' holds control characters")
    timeout_ms = int_field(data, "timeout_ms", 1, 3_600_000)
    require_running(session)
    policy = request.app[POLICY]
    check(request, "execute", session.name, command, lambda: policy.check_command(command))
    audit(request, "execute", session.name, True, command)
    try:
        result = await session.execute(
            command, timeout=timeout_ms / 1000 if timeout_ms is not None else None
        )
    except SessionError as exc:
        if isinstance(exc, SessionBusy):  # nothing was typed: say so next to the record above
            audit(request, "execute", session.name, False, f"busy ({exc.command}): {command}")
        raise engine_error(exc) from None
    error = None
    if result.timed_out:
        error = "timed out; C-c was sent and the command has ended"
        if result.still_running:
            error = (
                "timed out; C-c was sent but the shell is not back at its prompt (the command "
                "ignores the interrupt, or replaced the shell)"
            )
    elif result.exit_code != 0:
        error = f"exit code {result.exit_code}"
    return web.json_response(
        {
            "success": result.success,
            "exit_code": result.exit_code,
            "output": result.output,
            "raw_output": result.raw_output,
            "error": error,
            "execution_time_ms": round(result.duration_ms, 3),
            "timed_out": result.timed_out,
            "still_running": result.still_running,
            "truncated": result.truncated,
        }
    )


async def output(request: web.Request) -> web.Response:
    """`?since=OFFSET`: the bytes from that offset on, for any number of readers each with its
    own cursor (`next` is where to resume; `dropped_bytes` says how much was no longer kept).
    Without it, the seed's read-everything-since-the-last-read. `?base64=1` adds
    `raw_base64`, the bytes as the program wrote them (binary, another encoding)."""
    session = lookup(request)
    since = query_int(request, "since", 0, MAX_OFFSET)
    base64 = query_flag(request, "base64")
    # Without `since`, the session's one cursor, shared by every client: `since` keeps your own.
    piece = session.take_output() if since is None else session.output_since(since)
    data, start, next_offset, dropped = piece.data, piece.start, piece.next, piece.dropped
    raw = data.decode("utf-8", "replace")
    answer = {
        "session_name": session.name,
        "output": plain_text(raw),
        "raw_output": raw,
        "timestamp": time_text(datetime.now(UTC)),
        "size_bytes": len(data),
        "offset": start,
        "next": next_offset,
        "dropped_bytes": dropped,
    }
    if base64:  # the bytes exactly, whatever their encoding (raw_output is UTF-8 with U+FFFD)
        answer["raw_base64"] = b64encode(data).decode("ascii")
    return web.json_response(answer)


async def send_input(request: web.Request) -> web.Response:
    session = lookup(request)
    data = await body(request, {"keys", "text", "literal"})
    keys = field(data, "keys", list, [])
    if not all(isinstance(k, str) for k in keys):
        raise ApiError(400, "INVALID_REQUEST", "'keys' must be a list of strings")
    keys = [text(k, "keys") for k in keys]
    typed_text = text_field(data, "text")
    literal = field(data, "literal", bool, False)
    if not keys and typed_text is None:
        raise ApiError(400, "INVALID_REQUEST", "send 'keys' (tmux key names) or 'text'")
    require_running(session)
    payload = typed_text.encode() if typed_text is not None else b""
    payload += encode_tmux_keys(
        keys, literal=literal, cursor_keys_application=session.terminal.cursor_keys_application
    )
    typed = payload.decode("utf-8", "replace")  # what reaches the program, not the key names
    policy = request.app[POLICY]
    check(request, "input", session.name, typed, lambda: policy.check_input(typed))
    try:  # the program may have exited since the check above
        await session.send_input(payload)
    except SessionError as exc:
        raise engine_error(exc) from None
    audit(request, "input", session.name, True, typed)
    return web.json_response({"session_name": session.name, "bytes": len(payload)})


def _row_param(request: web.Request, key: str) -> int | str | None:
    value = request.query.get(key)
    if value is None or value == "-":
        return value
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a row number or '-'") from None


async def screen(request: web.Request) -> web.Response:
    session = lookup(request)
    shown = session.capture_pane(
        ansi=query_flag(request, "ansi"),
        start=_row_param(request, "start"),
        end=_row_param(request, "end"),
        join_wrapped=query_flag(request, "join_wrapped"),
    )
    cursor = session.terminal.cursor
    return web.json_response(
        {
            "session_name": session.name,
            "screen": shown,
            "columns": session.terminal.columns,
            "lines": session.terminal.lines,
            "cursor": {"x": cursor.x, "y": cursor.y, "hidden": bool(cursor.hidden)},
            "title": session.terminal.title,
            "alternate_screen": session.terminal.alternate_screen,
        }
    )


async def resize(request: web.Request) -> web.Response:
    session = lookup(request)
    data = await body(request, {"columns", "lines"})
    columns = int_field(data, "columns", 1, MAX_API_SIZE)
    lines = int_field(data, "lines", 1, MAX_API_SIZE)
    if columns is None or lines is None:
        raise ApiError(400, "INVALID_REQUEST", "'columns' and 'lines' are required")
    require_running(session)
    try:
        session.set_size(columns=columns, lines=lines)
    except SessionError as exc:
        raise engine_error(exc) from None
    return web.json_response({"session_name": session.name, "columns": columns, "lines": lines})


async def wait(request: web.Request) -> web.Response:
    """Long poll for the exit: the summary once exited, or after `timeout` seconds (default 30)
    the summary with `"exited": false` (never a 408: a timeout is an answer). A run killed by
    a respawn is an exit too: `exited` with its code, `status` the new run's."""
    session = lookup(request)
    timeout = query_number(request, "timeout", 0, MAX_WAIT, 30.0)
    if session.status.kind == "created":
        raise ApiError(409, "SESSION_NOT_RUNNING", f"session {session.name!r} was never started")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (timeout or 0.0)
    exited = asyncio.ensure_future(session.wait())
    try:
        while not exited.done() and not client_gone(request):
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.wait([exited], timeout=min(left, HANGUP_CHECK))
    finally:
        exited.cancel()
    if exited.done() and not exited.cancelled() and exited.exception() is not None:
        raise exited.exception()  # type: ignore[misc]  # e.g. a failed start: a SessionError
    answer = {**summary(session), "exited": session.status.is_terminated}
    if exited.done() and not exited.cancelled():
        # The run waited for ended; a respawn may have started the next one already (then
        # `status` says running): the exit is that run's.
        code = exited.result()
        answer.update(exited=True, exit_code=code, signal=exit_signal(code))
    return web.json_response(answer)


def parse_signal(value: Any) -> signal.Signals:
    """ "INT", "SIGINT", "int" or 2."""
    if isinstance(value, int | str):
        with contextlib.suppress(ValueError):
            return signal_number(value)
    raise ApiError(
        400, "INVALID_REQUEST", f"'signal' must be a signal name or number (got {value!r:.40})"
    )


async def send_signal(request: web.Request) -> web.Response:
    session = lookup(request)
    data = await body(request, {"signal", "target"})
    if data.get("signal") is None:
        raise ApiError(400, "INVALID_REQUEST", "'signal' is required")
    sig = parse_signal(data["signal"])
    target = field(data, "target", str, "foreground")
    if target not in ("foreground", "session"):
        raise ApiError(400, "INVALID_REQUEST", "'target' must be 'foreground' or 'session'")
    require_running(session)
    try:
        session.send_signal(int(sig), foreground=target == "foreground")
    except SessionError as exc:
        raise engine_error(exc) from None
    audit(request, "signal", session.name, True, f"{sig.name} to {target}")
    return web.json_response({"session_name": session.name, "signal": sig.name, "target": target})


async def respawn(request: web.Request) -> web.Response:
    """Start the session's program again (same config, name and id). `kill` ends a program
    still running first; without it a running session is a 409."""
    session = lookup(request)
    data = await body(request, {"kill"})
    kill = field(data, "kill", bool, False)
    if session.status.is_running and not kill:
        raise ApiError(
            409,
            "SESSION_RUNNING",
            f'session {session.name!r} is still running; send {{"kill": true}} (the CLI: '
            "respawn -k) to restart it",
        )
    what = session.command
    policy = request.app[POLICY]
    check(request, "respawn", session.name, what, lambda: policy.check_command(what))
    try:
        await session.respawn(kill=kill)  # SessionNotFound if a DELETE takes it meanwhile
    except SessionError as exc:
        raise engine_error(exc) from None
    audit(request, "respawn", session.name, True, what)
    return web.json_response(summary(session))


async def make_token(request: web.Request) -> web.Response:
    """A token that may only touch this session (and with `read_only` only read it)."""
    session = lookup(request)
    if not principal(request).admin:
        raise ApiError(403, "PERMISSION_DENIED", "only an admin client can make tokens")
    data = await body(request, {"read_only"})
    read_only = field(data, "read_only", bool, False)
    token = request.app[TOKENS].issue(session.id, read_only=read_only)
    audit(request, "token", session.name, True, "read-only" if read_only else "read-write")
    return web.json_response(
        {"token": token, "session": session.name, "session_id": session.id, "read_only": read_only},
        status=201,
    )


# -- the WebSocket stream -----------------------------------------------------------------------


async def stream(request: web.Request) -> web.StreamResponse:
    """WebSocket. Without `since`: the current screen (with colours), then live output, then
    the exit; a reader too slow for the output gets a fresh screen when it catches up. With
    `?since=OFFSET`: the output from that byte offset on, then live, without loss while the
    session keeps the bytes (`{"type": "dropped", "bytes": N}` when it no longer does); with
    `base64=1` too, each chunk's bytes exactly as `data_base64`."""
    session = lookup(request)
    since = query_int(request, "since", 0, MAX_OFFSET)
    base64 = query_flag(request, "base64")
    if base64 and since is None:
        raise ApiError(400, "INVALID_REQUEST", "base64 goes with since=OFFSET (the byte stream)")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    queue: asyncio.Queue[OutputEvent | ExitEvent | None] = asyncio.Queue()
    queued = 0  # output bytes waiting in the queue: bounded, whatever the reader's speed
    lagged = False

    def on_event(event: SessionEvent) -> None:
        nonlocal lagged, queued
        if isinstance(event, CommandEvent):
            return  # records go to /history and /events, not to the byte stream
        if isinstance(event, OutputEvent):
            if lagged or queued + len(event.data) > WS_BACKLOG:
                lagged = True  # caught up later from the session's buffer (or a screen)
                return
            queued += len(event.data)
        queue.put_nowait(event)  # the exit always gets through

    def snapshot() -> dict[str, Any]:
        cursor = session.terminal.cursor
        return {
            "type": "screen",
            "screen": session.capture_pane(ansi=True),
            "cursor": {"x": cursor.x, "y": cursor.y},
            "columns": session.terminal.columns,
            "lines": session.terminal.lines,
        }

    cursor = since or 0
    pending = b""  # the start of a character split between two chunks

    async def send_bytes(data: bytes, offset: int) -> None:
        """Output at `offset`, skipping what was sent already; whole characters only."""
        nonlocal cursor, pending
        end = offset + len(data)
        if end <= cursor:
            return
        if offset > cursor:  # bytes were skipped (a lag): fetch them from the session
            await catch_up()
            if end <= cursor:
                return
            if offset > cursor:  # the start of a character the session held back: say so
                await ws.send_json({"type": "dropped", "bytes": offset - cursor})
                cursor, pending = offset, b""
        data = pending + data[cursor - offset :]
        start = cursor - len(pending)
        cut = len(data) if base64 else utf8_complete(data)
        data, pending = data[:cut], data[cut:]
        cursor = end
        if data:
            message: dict[str, Any] = {"type": "output", "offset": start, "next": start + len(data)}
            if base64:
                message["data_base64"] = b64encode(data).decode("ascii")
            else:
                message["data"] = data.decode("utf-8", "replace")
            await ws.send_json(message)

    async def catch_up() -> None:
        nonlocal cursor, pending, lagged
        lagged = False  # from here every event is queued again (single-threaded: no gap)
        piece = session.output_since(cursor)
        if piece.dropped:
            pending = b""
            await ws.send_json({"type": "dropped", "bytes": piece.dropped})
        cursor = max(cursor, piece.start)
        if piece.data:
            await send_bytes(piece.data, piece.start)

    unsubscribe = session.subscribe(on_event)

    reading = asyncio.create_task(until_closed(ws, queue))
    try:
        if since is None:
            await ws.send_json(snapshot())
        else:
            await catch_up()
        if session.status.is_terminated and queue.empty():
            await _send_exit(ws, session.status.exit_code)
            return ws
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            event = await queue.get()
            if event is None:
                break
            if isinstance(event, ExitEvent):
                if since is not None:
                    await catch_up()  # anything the lag skipped
                await _send_exit(ws, event.exit_code)
                break
            queued -= len(event.data)
            if since is not None:
                await send_bytes(event.data, event.offset)
                if lagged and queue.empty():
                    await catch_up()
                continue
            shown = decoder.decode(event.data)
            if shown:
                await ws.send_json({"type": "output", "data": shown})
            if lagged and queue.empty():  # output was dropped: the screen as it is now
                lagged = False
                decoder.reset()
                await ws.send_json(snapshot())
    except (ConnectionError, asyncio.CancelledError):
        pass  # the reader went away
    finally:
        unsubscribe()
        reading.cancel()
        await ws.close()
    return ws


async def _send_exit(ws: web.WebSocketResponse, code: int | None) -> None:
    await ws.send_json({"type": "exit", "exit_code": code, "signal": exit_signal(code)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sessions", list_sessions)
    app.router.add_post("/sessions", create_session)
    app.router.add_get("/sessions/{name}", get_session)
    app.router.add_delete("/sessions/{name}", delete_session)
    app.router.add_patch("/sessions/{name}", patch_session)
    app.router.add_get("/sessions/{name}/status", session_status)
    app.router.add_post("/sessions/{name}/execute", execute)
    app.router.add_get("/sessions/{name}/output", output)
    app.router.add_post("/sessions/{name}/input", send_input)
    app.router.add_get("/sessions/{name}/screen", screen)
    app.router.add_post("/sessions/{name}/resize", resize)
    app.router.add_get("/sessions/{name}/stream", stream)
    app.router.add_get("/sessions/{name}/wait", wait)
    app.router.add_post("/sessions/{name}/signal", send_signal)
    app.router.add_post("/sessions/{name}/respawn", respawn)
    app.router.add_post("/sessions/{name}/token", make_token)
