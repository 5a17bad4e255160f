"""What every route shares: the app's keys, `ApiError`, request parsing and the session
summary. Errors are `{"error": message, "code": CODE}` with a 4xx status; nothing a client
sends may make a 5xx."""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from engine.manager import SessionManager
from engine.security import AuditLog, PolicyDenied, Principal, RateLimit, SecurityPolicy, TokenStore
from engine.session import Session

VERSION = "0.1.0"
SERVICE = "ai-session-server"
MAX_BODY = 1024 * 1024  # bytes in a request body
MAX_COMMAND = 64 * 1024  # characters in a command or a piece of input
MAX_METADATA = 64 * 1024  # bytes of a session's metadata, as JSON
NAME = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9_.-]{1,64}")  # "." and ".." name directories
NAME_RULE = "1-64 letters, digits, '_', '.' or '-' (not '.' or '..')"
MAX_API_SIZE = 1000  # columns or lines a client may ask for (a capture grows with their product)
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 but tab and newline, and DEL

MANAGER = web.AppKey("manager", SessionManager)
POLICY = web.AppKey("policy", SecurityPolicy)
LIMIT = web.AppKey("rate_limit", RateLimit)  # per client on TCP
SOCKET_LIMIT = web.AppKey("socket_rate_limit", RateLimit)  # absent: the socket is not throttled
AUTH_LIMIT = web.AppKey("auth_rate_limit", RateLimit)  # failed authentications, per address
AUDIT = web.AppKey("audit", AuditLog)
TOKEN = web.AppKey("token", str)
TOKENS = web.AppKey("tokens", TokenStore)
ON_CREATED = web.AppKey("on_created", object)
INSTANCE = web.AppKey("instance", str)  # new at every start: event seqs count from 1 again
PRINCIPAL = web.RequestKey("principal", Principal)


class ApiError(Exception):
    """An answer with a 4xx status and a JSON body `{"error": message, "code": code}`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra
        self.close = False  # end the connection after the answer (its body was not read)


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return web.json_response(
        {"error": message, "code": code, **extra}, status=status, headers=headers
    )


def time_text(value: datetime) -> str:
    """ISO 8601 in UTC ending in Z, as every time in the API is written."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


# -- request bodies ------------------------------------------------------------------------------


def _not_json(constant: str) -> Any:
    """NaN and Infinity: Python reads them, no JSON parser reads them back from an answer."""
    raise ValueError(f"{constant} is not a JSON number")


async def read_raw(request: web.Request) -> bytes:
    """The request's body: a 415 for one in any Content-Encoding (a truncated gzip body decoded
    to nothing, taken for `{}`), a 400 for one that was cut off (the client went away: nobody
    reads the answer, nothing to log)."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # a JSON body this small needs none; a cut gzip read as {}
        raise _unread(
            request, 415, f"Content-Encoding {encoding[:40]!r} is not taken: send the JSON as it is"
        )
    try:
        return await request.read()
    except (HttpProcessingError, RequestPayloadError, ConnectionError) as exc:
        message = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        reason = message.strip().splitlines()[-1].strip()
        raise _unread(request, 400, f"unreadable body: {reason[:200]}") from None


def _unread(request: web.Request, status: int, message: str) -> ApiError:
    """The error for a body left unread. The rest of it is neither read after the answer (it
    would fail again, with a traceback) nor taken for a next request: the connection ends
    with the answer."""
    request.content.feed_eof()
    error = ApiError(status, "INVALID_REQUEST", message)
    error.close = True
    return error


async def body(request: web.Request, known: Collection[str]) -> dict[str, Any]:
    """The JSON object sent, refusing fields the route does not know (a typo such as
    `working_dir` must not fall back to the default silently)."""
    if not request.can_read_body:
        return {}
    raw = await read_raw(request)
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "INVALID_REQUEST", f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_REQUEST", "the request body must be a JSON object")
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            choices = ", ".join(sorted(known)) or "none"
            raise ApiError(
                400,
                "INVALID_REQUEST",
                f"unknown field {key[:64]!r}{hint} (fields: {choices})",
                field=key[:64],
            )
    return data


# What a JSON client calls Python's types, for error messages.
JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


def field(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) and kind in (int, float):
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a number")
    if not isinstance(value, kind):
        kinds = (kind,) if isinstance(kind, type) else kind
        names = " or ".join(JSON_KINDS.get(k, k.__name__) for k in kinds)
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be {names}", field=key)
    return value


def int_field(
    data: dict[str, Any], key: str, low: int, high: int, default: int | None = None
) -> int | None:
    value = field(data, key, int, default)
    if value is not None and not low <= value <= high:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be between {low} and {high}")
    return value if value is None else int(value)


def text(value: str, key: str) -> str:
    """A string from a request that can be typed: not too long, valid Unicode, no NUL."""
    if len(value) > MAX_COMMAND or "\x00" in value:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is too long or holds a NUL")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is not valid Unicode text") from None
    return value


def text_field(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = field(data, key, str)
    if value is None and required:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} is required")
    return None if value is None else text(value, key)


def session_name(value: str, key: str = "name") -> str:
    if not NAME.fullmatch(value):
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be {NAME_RULE}")
    return value


def _number(value: float) -> str:
    """A bound as a person writes it: 600, 0.5, 4611686018427387904 (not 4.61169e+18)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def query_number(
    request: web.Request, key: str, low: float, high: float, default: float | None = None
) -> float | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a number") from None
    if not low <= value <= high:  # NaN fails too
        raise ApiError(
            400, "INVALID_REQUEST", f"{key!r} must be between {_number(low)} and {_number(high)}"
        )
    return value


def query_int(request: web.Request, key: str, low: int, high: int) -> int | None:
    value = query_number(request, key, low, high)
    if value is not None and value != int(value):
        raise ApiError(400, "INVALID_REQUEST", f"{key!r} must be a whole number")
    return None if value is None else int(value)


def client_gone(request: web.Request) -> bool:
    """Whether the client hung up: aiohttp does not cancel a handler then, so a long poll
    checks now and then instead of waiting its hour for nobody."""
    transport = request.transport
    return transport is None or transport.is_closing()


HANGUP_CHECK = 1.0  # seconds between two looks at whether a long poll's client is still there


FLAG_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def query_flag(request: web.Request, key: str) -> bool:
    """A yes/no query parameter (`1`/`0`, `true`/`false`, `yes`/`no`; absent: no); a 400 for
    anything else, so a typo is not taken for either."""
    value = request.query.get(key)
    if value is None or value == "":
        return False
    flag = FLAG_VALUES.get(value.lower())
    if flag is None:
        raise ApiError(
            400, "INVALID_REQUEST", f"{key!r} is 1 or 0 (true/false), not {value[:40]!r}", field=key
        )
    return flag


# -- sessions -----------------------------------------------------------------------------------


def lookup(request: web.Request) -> Session:
    """The session the path names (by name or id), if this client may touch it."""
    name = request.match_info["name"]
    manager = request.app[MANAGER]
    session = manager.find_session(name) or manager.get_session(name)  # names win over ids
    who = principal(request)
    # A scoped token gets the same answer for every other name, there or not: which
    # sessions exist is not its to learn.
    if not who.admin and (session is None or not who.may_touch(session.id)):
        raise ApiError(403, "PERMISSION_DENIED", "this token is scoped to another session")
    if session is None:
        raise ApiError(
            404, "SESSION_NOT_FOUND", f"no session named {name!r}; GET /sessions lists them"
        )
    return session


def require_running(session: Session) -> None:
    if not session.status.is_running:
        raise ApiError(
            409,
            "SESSION_NOT_RUNNING",
            f"session {session.name!r} is not running ({session.status.describe()})",
        )


def summary(session: Session) -> dict[str, Any]:
    """What every route says about a session (GET /sessions lists these)."""
    status = session.status
    exited_at = session.exited_at
    return {
        "id": session.id,
        "name": session.name,
        "status": status.kind,
        "exit_code": status.exit_code,
        "signal": status.signal,
        "exited_at": time_text(exited_at) if exited_at is not None else None,
        "created_at": time_text(session.created_at),
        "last_activity": time_text(session.last_activity),
        "pid": session.pid,
        "command": session.current_command,
        "columns": session.terminal.columns,
        "lines": session.terminal.lines,
        "metadata": dict(session.metadata),
    }


# -- audit --------------------------------------------------------------------------------------


def audit(request: web.Request, action: str, session: str, allowed: bool, detail: str) -> None:
    request.app[AUDIT].record(principal(request).label, action, session, allowed, detail)


def check(
    request: web.Request, action: str, session: str, detail: str, rule: Callable[[], None]
) -> None:
    """Run a policy check; a refusal is audited and becomes a 403."""
    try:
        rule()
    except PolicyDenied as exc:
        audit(request, action, session, False, f"{exc.rule}: {exc} ({detail})")
        raise


async def until_closed(ws: web.WebSocketResponse, queue: asyncio.Queue[Any]) -> None:
    """Read a WebSocket whose client may only close it (anything else is ignored), then
    put None in `queue` so the sender stops."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break
    await queue.put(None)
