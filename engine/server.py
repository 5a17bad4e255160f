"""The HTTP + WebSocket API over a `SessionManager`: one aiohttp app, two transports.

Every running instance (the TUI included) serves it on a unix socket in the user's runtime
directory (0700 directory, 0600 socket, no token: the file mode is the access control), and
`ai-session server` also on TCP: 127.0.0.1 by default, anything else only with a token.

Routes keep the seed's shapes (health, sessions, execute, status, output) and fix what it got
wrong: `execute` reports `success` from the real exit code, `output` keeps its newlines,
`timeout_ms` is honoured, and errors are `{"error": ..., "code": ...}` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import os
import re
import socket
import struct
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from platformdirs import user_runtime_dir

from engine.ansi import plain_text
from engine.config import SessionConfig
from engine.errors import SessionAlreadyExists, SessionError
from engine.keys import encode_tmux_keys
from engine.manager import SessionManager
from engine.security import AuditLog, PolicyDenied, RateLimit, SecurityPolicy
from engine.session import ExitEvent, OutputEvent, Session, SessionEvent

log = logging.getLogger(__name__)

VERSION = "0.1.0"
SERVICE = "ai-session-server"
MAX_BODY = 1024 * 1024  # bytes in a request body
MAX_COMMAND = 64 * 1024  # characters in a command or a piece of input
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_API_SIZE = 1000  # columns or lines a client may ask for (a capture grows with their product)
LOOPBACK_HOST = re.compile(r"(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?", re.IGNORECASE)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 but tab and newline, and DEL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MANAGER = web.AppKey("manager", SessionManager)
POLICY = web.AppKey("policy", SecurityPolicy)
LIMIT = web.AppKey("rate_limit", RateLimit)
AUDIT = web.AppKey("audit", AuditLog)
TOKEN = web.AppKey("token", str)
ON_CREATED = web.AppKey("on_created", object)


class ApiError(Exception):
    """An answer with a 4xx status and a JSON body `{"error": message, "code": code}`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return web.json_response(
        {"error": message, "code": code, **extra}, status=status, headers=headers
    )


_HTTP_CODES = {
    400: "INVALID_REQUEST",
    415: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "INVALID_REQUEST",
    429: "RATE_LIMITED",
}


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a JSON error; nothing a client sends can make a 5xx."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error(exc.status, exc.code, str(exc), **exc.extra)
    except PolicyDenied as exc:
        return _error(403, "PERMISSION_DENIED", str(exc), rule=exc.rule)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason if exc.status != 413 else "request body too large"
        return _error(exc.status, _HTTP_CODES.get(exc.status, "INVALID_REQUEST"), message)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("API: %s %s failed", request.method, request.path)
        return _error(500, "INTERNAL", "internal error; see the server log")


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The token, on TCP (on the control socket the file mode decides who may connect)."""
    token = request.app.get(TOKEN)
    if token and not _on_unix_socket(request):
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        expected = f"Bearer {token}".encode()
        if not hmac.compare_digest(given, expected):
            raise ApiError(401, "UNAUTHORIZED", "missing or wrong 'Authorization: Bearer' token")
    return await handler(request)


@web.middleware
async def _browsers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Keep web pages out: a page the user visits could otherwise post to 127.0.0.1 (a form
    needs no CORS), or reach it under its own name after DNS rebinding."""
    if not _on_unix_socket(request):
        if "Origin" in request.headers:
            raise ApiError(403, "PERMISSION_DENIED", "requests from web pages are refused")
        host = request.headers.get("Host", "")
        if not request.app.get(TOKEN) and not LOOPBACK_HOST.fullmatch(host):
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                f"Host {host!r} is not this machine; without a token only localhost is served",
            )
    if request.body_exists and request.content_type != "application/json":
        raise ApiError(415, "INVALID_REQUEST", "send the body as Content-Type: application/json")
    return await handler(request)


@web.middleware
async def _rate(request: web.Request, handler: Handler) -> web.StreamResponse:
    wait = request.app[LIMIT].take(_client(request))
    if wait > 0:
        raise ApiError(
            429,
            "RATE_LIMITED",
            f"too many requests; retry in {wait:.2f} s",
            retry_after=max(1, math.ceil(wait)),
        )
    return await handler(request)


def _socket(request: web.Request) -> socket.socket | None:
    transport = request.transport
    return transport.get_extra_info("socket") if transport is not None else None


def _on_unix_socket(request: web.Request) -> bool:
    sock = _socket(request)
    return sock is not None and sock.family == socket.AF_UNIX


def _client(request: web.Request) -> str:
    """Who is asking (what the rate limit counts): the peer address, or on the control socket
    the peer's user (a new process per CLI call must not mean a fresh allowance)."""
    sock = _socket(request)
    if sock is not None and sock.family == socket.AF_UNIX:
        with contextlib.suppress(OSError):
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _, uid, _ = struct.unpack("3i", creds)
            return f"unix:uid={uid}"
        return "unix"
    return request.remote or "unknown"


# -- request helpers -------------------------------------------------------------------------


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "INVALID_REQUEST", f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_REQUEST", "the request body must be a JSON object")
    return data


def _field(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) and kind in (int, float):
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a number")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be {names}")
    return value


def _int_field(
    data: dict[str, Any], key: str, low: int, high: int, default: int | None = None
) -> int | None:
    value = _field(data, key, int, default)
    if value is not None and not low <= value <= high:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be between {low} and {high}")
    return value


def _text(value: str, key: str) -> str:
    """A string from a request that can be typed: not too long, valid Unicode, no NUL."""
    if len(value) > MAX_COMMAND or "\x00" in value:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is too long or holds a NUL")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is not valid Unicode text") from None
    return value


def _text_field(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = _field(data, key, str)
    if value is None and required:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is required")
    return None if value is None else _text(value, key)


def _session(request: web.Request) -> Session:
    name = request.match_info["name"]
    manager = request.app[MANAGER]
    session = manager.find_session(name) or manager.get_session(name)
    if session is None:
        raise ApiError(
            404, "SESSION_NOT_FOUND", f"no session named {name!r}; GET /sessions lists them"
        )
    return session


def _running(session: Session) -> None:
    if not session.status.is_running:
        raise ApiError(
            409,
            "SESSION_NOT_RUNNING",
            f"session {session.name!r} is not running ({session.status})",
        )


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _summary(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "name": session.name,
        "status": session.status.kind.capitalize(),
        "exit_code": session.status.exit_code,
        "created_at": _time(session.created_at),
        "last_activity": _time(session.last_activity),
        "pid": session.pid,
        "command": session.current_command,
        "columns": session.terminal.columns,
        "lines": session.terminal.lines,
    }


def _audit(request: web.Request, action: str, session: str, allowed: bool, detail: str) -> None:
    request.app[AUDIT].record(_client(request), action, session, allowed, detail)


def _check(
    request: web.Request, action: str, session: str, detail: str, check: Callable[[], None]
) -> None:
    """Run a policy check; a refusal is audited and becomes a 403."""
    try:
        check()
    except PolicyDenied as exc:
        _audit(request, action, session, False, f"{exc.rule}: {exc} ({detail[:200]})")
        raise


# -- handlers -----------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "status": "healthy",
            "service": SERVICE,
            "version": VERSION,
            "timestamp": _time(datetime.now(UTC)),
            "sessions": len(request.app[MANAGER].sessions),
        }
    )


async def list_sessions(request: web.Request) -> web.Response:
    sessions = [_summary(s) for s in request.app[MANAGER].sessions]
    return web.json_response({"sessions": sessions, "total": len(sessions)})


async def create_session(request: web.Request) -> web.Response:
    data = await _body(request)
    manager = request.app[MANAGER]
    name = _field(data, "name", str)
    if name is not None and not NAME.fullmatch(name):
        raise ApiError(
            400, "INVALID_REQUEST", "'name' must be 1-64 letters, digits, '_', '.' or '-'"
        )
    if name is not None and manager.find_session(name) is not None:
        raise ApiError(409, "SESSION_EXISTS", f"a session named {name!r} already exists")
    given = _text_field(data, "working_directory") or str(Path.home())
    if not Path(given).is_absolute():
        raise ApiError(400, "INVALID_REQUEST", "'working_directory' must be an absolute path")
    directory = str(Path(given).resolve())  # checked and used as one path
    shell = _text_field(data, "shell")
    command = _text_field(data, "command")
    environment = _field(data, "environment", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in environment.items()):
        raise ApiError(400, "INVALID_REQUEST", "'environment' must map strings to strings")
    for key, value in environment.items():
        _text(key, "environment")
        _text(value, "environment")
    ai = _field(data, "enable_ai_features", bool, False)
    columns = _int_field(data, "columns", 1, MAX_API_SIZE, 80)
    lines = _int_field(data, "lines", 1, MAX_API_SIZE, 24)
    label = name or "(new)"
    policy = request.app[POLICY]
    _check(request, "create", label, given, lambda: policy.check_directory(directory))
    _check(
        request, "create", label, str(environment), lambda: policy.check_environment(environment)
    )
    for program in (command, shell):  # what the session will run, checked like a command
        if program is not None:
            _check(request, "create", label, program, lambda p=program: policy.check_command(p))
    config = SessionConfig(
        name=name,
        working_directory=Path(directory),
        shell=shell,
        shell_command=command,
        environment=dict(environment),
        pty_size=(lines or 24, columns or 80),
        enable_ai_features=ai,
    )
    try:
        config.validate()
        session = await manager.create_session_with_config(config)
    except SessionAlreadyExists as exc:
        raise ApiError(409, "SESSION_EXISTS", str(exc)) from None
    except (SessionError, ValueError) as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    try:
        await session.start()
    except SessionError as exc:
        await manager.remove_session(session.id)
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None
    _audit(request, "create", session.name, True, command or shell or "(default shell)")
    adopt = request.app.get(ON_CREATED)
    if callable(adopt):
        adopt(session)
    body = _summary(session)
    return web.json_response(body, status=201)


async def get_session(request: web.Request) -> web.Response:
    return web.json_response(_summary(_session(request)))


async def delete_session(request: web.Request) -> web.Response:
    session = _session(request)
    await request.app[MANAGER].remove_session(session.id)
    _audit(request, "delete", session.name, True, "")
    return web.json_response({"name": session.name, "id": session.id, "deleted": True})


async def session_status(request: web.Request) -> web.Response:
    session = _session(request)
    config = session.config
    return web.json_response(
        {
            **_summary(session),
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
    session = _session(request)
    data = await _body(request)
    command = _text_field(data, "command", required=True)
    assert command is not None
    if _CONTROLS.search(command):  # they would edit the line the shell reads (C-u, DEL, ...)
        raise ApiError(400, "INVALID_REQUEST", "'command' holds control characters")
    timeout_ms = _int_field(data, "timeout_ms", 1, 3_600_000)
    _running(session)
    policy = request.app[POLICY]
    _check(request, "execute", session.name, command, lambda: policy.check_command(command))
    _audit(request, "execute", session.name, True, command)
    try:
        result = await session.execute(
            command, timeout=timeout_ms / 1000 if timeout_ms is not None else None
        )
    except SessionError as exc:
        raise ApiError(409, "SESSION_NOT_RUNNING", str(exc)) from None
    error = None
    if result.timed_out:
        error = "timed out; the command was interrupted (C-c)"
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
            "truncated": result.truncated,
        }
    )


async def output(request: web.Request) -> web.Response:
    session = _session(request)
    raw = (await session.read_output()).decode("utf-8", "replace")
    return web.json_response(
        {
            "session_name": session.name,
            "output": plain_text(raw),
            "raw_output": raw,
            "timestamp": _time(datetime.now(UTC)),
            "size_bytes": len(raw.encode()),
        }
    )


async def send_input(request: web.Request) -> web.Response:
    session = _session(request)
    data = await _body(request)
    keys = _field(data, "keys", list, [])
    if not all(isinstance(k, str) for k in keys):
        raise ApiError(400, "INVALID_REQUEST", "'keys' must be a list of strings")
    keys = [_text(k, "keys") for k in keys]
    text = _text_field(data, "text")
    literal = _field(data, "literal", bool, False)
    if not keys and text is None:
        raise ApiError(400, "INVALID_REQUEST", "send 'keys' (tmux key names) or 'text'")
    _running(session)
    payload = text.encode() if text is not None else b""
    payload += encode_tmux_keys(
        keys, literal=literal, cursor_keys_application=session.terminal.cursor_keys_application
    )
    typed = payload.decode("utf-8", "replace")  # what reaches the program, not the key names
    policy = request.app[POLICY]
    _check(request, "input", session.name, typed, lambda: policy.check_input(typed))
    await session.send_input(payload)
    _audit(request, "input", session.name, True, typed)
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
    session = _session(request)
    ansi = request.query.get("ansi", "0") not in ("0", "false", "")
    text = session.capture_pane(
        ansi=ansi, start=_row_param(request, "start"), end=_row_param(request, "end")
    )
    cursor = session.terminal.cursor
    return web.json_response(
        {
            "session_name": session.name,
            "screen": text,
            "columns": session.terminal.columns,
            "lines": session.terminal.lines,
            "cursor": {"x": cursor.x, "y": cursor.y, "hidden": cursor.hidden},
            "title": session.terminal.title,
            "alternate_screen": session.terminal.alternate_screen,
        }
    )


async def resize(request: web.Request) -> web.Response:
    session = _session(request)
    data = await _body(request)
    columns = _int_field(data, "columns", 1, MAX_API_SIZE)
    lines = _int_field(data, "lines", 1, MAX_API_SIZE)
    if columns is None or lines is None:
        raise ApiError(400, "INVALID_REQUEST", "'columns' and 'lines' are required")
    _running(session)
    session.set_size(lines, columns)
    return web.json_response({"session_name": session.name, "columns": columns, "lines": lines})


async def stream(request: web.Request) -> web.StreamResponse:
    """WebSocket: the current screen (with colours) first, then live output, then the exit."""
    session = _session(request)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    queue: asyncio.Queue[SessionEvent | None] = asyncio.Queue()
    lagged = False

    def on_event(event: SessionEvent) -> None:
        nonlocal lagged
        if isinstance(event, OutputEvent) and queue.qsize() >= 1024:
            lagged = True  # the client reads slowly: send it a fresh screen when it catches up
            return
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

    unsubscribe = session.subscribe(on_event)

    async def reader() -> None:  # the client may only close; anything else is ignored
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        await queue.put(None)

    reading = asyncio.create_task(reader())
    try:
        await ws.send_json(snapshot())
        if session.status.is_terminated:
            await ws.send_json({"type": "exit", "exit_code": session.status.exit_code})
            return ws
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            event = await queue.get()
            if event is None:
                break
            if isinstance(event, ExitEvent):
                await ws.send_json({"type": "exit", "exit_code": event.exit_code})
                break
            text = decoder.decode(event.data)
            if text:
                await ws.send_json({"type": "output", "data": text})
            if lagged and queue.empty():  # output was dropped: the screen as it is now
                lagged = False
                await ws.send_json(snapshot())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
        reading.cancel()
        await ws.close()
    return ws


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


# -- the application and its transports ---------------------------------------------------------


def create_app(
    manager: SessionManager,
    *,
    policy: SecurityPolicy | None = None,
    rate_limit: RateLimit | None = None,
    audit: AuditLog | None = None,
    token: str | None = None,
    on_created: Callable[[Session], None] | None = None,
) -> web.Application:
    """The API over `manager` (shared with the TUI, if any: the same sessions)."""
    # Rate before auth: wrong tokens are counted too.
    app = web.Application(middlewares=[_errors, _rate, _browsers, _auth], client_max_size=MAX_BODY)
    app[MANAGER] = manager
    app[POLICY] = policy or SecurityPolicy()
    app[LIMIT] = rate_limit or RateLimit()
    app[AUDIT] = audit or AuditLog()
    if token:
        app[TOKEN] = token
    if on_created is not None:
        app[ON_CREATED] = on_created
    app.router.add_get("/health", health)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/sessions", list_sessions)
    app.router.add_post("/sessions", create_session)
    app.router.add_get("/sessions/{name}", get_session)
    app.router.add_delete("/sessions/{name}", delete_session)
    app.router.add_get("/sessions/{name}/status", session_status)
    app.router.add_post("/sessions/{name}/execute", execute)
    app.router.add_get("/sessions/{name}/output", output)
    app.router.add_post("/sessions/{name}/input", send_input)
    app.router.add_get("/sessions/{name}/screen", screen)
    app.router.add_post("/sessions/{name}/resize", resize)
    app.router.add_get("/sessions/{name}/stream", stream)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise ValueError(
            f"refusing to listen on {host} without a token: every client on the network could "
            "run commands as you. Pass --token or set AI_SESSION_TOKEN (or use 127.0.0.1)."
        )


def runtime_dir() -> Path:
    """Where instances put their control sockets: $XDG_RUNTIME_DIR/ai-session, else a private
    directory under the temp dir. Created 0700; refused if someone else owns it."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = (
        Path(user_runtime_dir("ai-session"))
        if base
        else Path(tempfile.gettempdir()) / f"ai-session-{os.getuid()}"
    )
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user; refusing to use it")
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path


class Server:
    """The API served on the control socket and, optionally, on TCP."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.socket_path: Path | None = None
        self.tcp_address: tuple[str, int] | None = None
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(
        self, socket_path: Path | None = None, host: str | None = None, port: int | None = None
    ) -> None:
        await self._runner.setup()
        if socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()  # a previous instance of ours with this pid died
            old = os.umask(0o177)
            try:
                site: web.BaseSite = web.UnixSite(self._runner, str(socket_path))
                await site.start()
            finally:
                os.umask(old)
            socket_path.chmod(0o600)
            self.socket_path = socket_path
        if host is not None and port is not None:
            check_bind(host, self.app.get(TOKEN))
            site = web.TCPSite(self._runner, host, port)
            await site.start()
            bound = [a for a in self._runner.addresses if isinstance(a, tuple)]
            self.tcp_address = (bound[-1][0], bound[-1][1]) if bound else (host, port)

    async def close(self) -> None:
        await self._runner.cleanup()
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()


def default_socket_path() -> Path:
    return runtime_dir() / f"{os.getpid()}.sock"


# -- the OpenAPI document ------------------------------------------------------------------------


def _schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _answers(ok: str, *errors: int, status: str = "200") -> dict[str, Any]:
    out: dict[str, Any] = {
        status: {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}}
    }
    for code in (*errors, 401, 429):
        out[str(code)] = {
            "description": "error",
            "content": {"application/json": {"schema": _schema_ref("Error")}},
        }
    return out


def _op(
    summary: str, answers: dict[str, Any], body: str | None = None, required: bool = True
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": answers}
    if body is not None:
        operation["requestBody"] = _json_body(_schema_ref(body), required)
    return operation


_NAME_PARAM = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "ai-session API", "version": VERSION},
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "code"],
                "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
            },
            "CreateSession": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": NAME.pattern},
                    "working_directory": {"type": "string"},
                    "shell": {"type": "string"},
                    "command": {"type": "string"},
                    "environment": {"type": "object", "additionalProperties": {"type": "string"}},
                    "enable_ai_features": {"type": "boolean"},
                    "columns": {"type": "integer", "minimum": 1, "maximum": MAX_API_SIZE},
                    "lines": {"type": "integer", "minimum": 1, "maximum": MAX_API_SIZE},
                },
            },
            "Execute": {
                "type": "object",
                "required": ["command"],
                "properties": {
                    "command": {"type": "string"},
                    "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3_600_000},
                },
            },
            "Input": {
                "type": "object",
                "properties": {
                    "keys": {"type": "array", "items": {"type": "string"}},
                    "text": {"type": "string"},
                    "literal": {"type": "boolean"},
                },
            },
            "Resize": {
                "type": "object",
                "required": ["columns", "lines"],
                "properties": {
                    "columns": {"type": "integer", "minimum": 1, "maximum": MAX_API_SIZE},
                    "lines": {"type": "integer", "minimum": 1, "maximum": MAX_API_SIZE},
                },
            },
        }
    },
    "paths": {
        "/health": {"get": _op("Service health", _answers("healthy"))},
        "/openapi.json": {"get": _op("This document", _answers("OpenAPI"))},
        "/sessions": {
            "get": _op("List sessions", _answers("sessions and total")),
            "post": _op(
                "Create and start a session",
                _answers("the new session", 400, 403, 409, status="201"),
                "CreateSession",
                required=False,
            ),
        },
        "/sessions/{name}": {
            "parameters": [_NAME_PARAM],
            "get": _op("One session", _answers("the session", 404)),
            "delete": _op("Stop and forget", _answers("deleted", 404)),
        },
        "/sessions/{name}/status": {
            "parameters": [_NAME_PARAM],
            "get": _op("Status and config", _answers("status", 404)),
        },
        "/sessions/{name}/execute": {
            "parameters": [_NAME_PARAM],
            "post": _op(
                "Run a shell command, wait for its exit code",
                _answers("exit code and output", 400, 403, 404, 409),
                "Execute",
            ),
        },
        "/sessions/{name}/output": {
            "parameters": [_NAME_PARAM],
            "get": _op("Output since the last read", _answers("output", 404)),
        },
        "/sessions/{name}/input": {
            "parameters": [_NAME_PARAM],
            "post": _op(
                "Type keys (tmux names) or text",
                _answers("bytes sent", 400, 403, 404, 409),
                "Input",
            ),
        },
        "/sessions/{name}/screen": {
            "parameters": [
                _NAME_PARAM,
                {"name": "ansi", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
                {"name": "start", "in": "query", "schema": {"type": "string"}},
                {"name": "end", "in": "query", "schema": {"type": "string"}},
            ],
            "get": _op("The screen, like capture-pane", _answers("screen", 400, 404)),
        },
        "/sessions/{name}/resize": {
            "parameters": [_NAME_PARAM],
            "post": _op(
                "Resize the pseudo-terminal", _answers("new size", 400, 404, 409), "Resize"
            ),
        },
        "/sessions/{name}/stream": {
            "parameters": [_NAME_PARAM],
            "get": _op(
                "WebSocket: the screen, then live output, then the exit",
                _answers("switching protocols", 404, status="101"),
            ),
        },
    },
}
