"""The HTTP + WebSocket API over a `SessionManager`: one aiohttp app, two transports.

Every running instance (the TUI included) serves it on a unix socket in the user's runtime
directory (0700 directory, 0600 socket, no token: the file mode is the access control), and
`ai-session server` also on TCP: 127.0.0.1 by default, anything else only with a token.

This module holds what is not a route: the middlewares (errors, web pages, who is asking, rate
limits), `create_app`, and `Server`, which serves the app and answers even the requests
aiohttp's parser refuses (an oversized URL or header) with a JSON error. The routes live in
engine/api/ by resource.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import os
import re
import resource
import secrets
import socket
import struct
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server as WebServer

from engine.api import agents as agent_routes
from engine.api import context as context_routes
from engine.api import coordination as coordination_routes
from engine.api import events as events_routes
from engine.api import history as history_routes
from engine.api import openapi as openapi_routes
from engine.api import sessions as session_routes
from engine.api import snapshots as snapshot_routes
from engine.api.common import (
    AUDIT,
    AUTH_LIMIT,
    INSTANCE,
    LIMIT,
    MANAGER,
    MAX_BODY,
    ON_CREATED,
    POLICY,
    PRINCIPAL,
    SERVICE,
    SOCKET_LIMIT,
    TOKEN,
    TOKENS,
    VERSION,
    ApiError,
    error_response,
    time_text,
)
from engine.api.openapi import OPENAPI
from engine.api.sessions import engine_error
from engine.errors import PermissionDenied, SessionError
from engine.manager import SessionManager
from engine.paths import default_socket_path, runtime_dir
from engine.security import (
    AuditLog,
    PolicyDenied,
    Principal,
    RateLimit,
    SecurityPolicy,
    TokenStore,
    same_secret,
)
from engine.session import Session
from engine.snapshots import Snapshotter

__all__ = [
    "OPENAPI",
    "SERVICE",
    "VERSION",
    "ApiError",
    "Server",
    "check_bind",
    "create_app",
    "default_socket_path",
    "is_loopback",
    "runtime_dir",
]

log = logging.getLogger(__name__)

LOOPBACK_HOST = re.compile(r"(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?", re.IGNORECASE)
TOKEN_VARIABLE = "AI_SESSION_TOKEN"
SHUTDOWN_GRACE = 1.0  # seconds requests in flight get to finish when the server stops

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MIN_TOKEN_LENGTH = 16  # characters a token needs off loopback
MAX_CONNECTIONS = 1000  # per transport, at most (see `_connection_cap`)
REQUEST_TIMEOUT = 15.0  # seconds a connection may hold without a whole request (`_Handler`)

_HTTP_CODES = {
    400: "INVALID_REQUEST",
    415: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    414: "INVALID_REQUEST",
    429: "RATE_LIMITED",
    431: "INVALID_REQUEST",
}


# -- middlewares ----------------------------------------------------------------------------------


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a JSON error; nothing a client sends can make a 5xx."""
    try:
        return await handler(request)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, str(exc), **exc.extra)
        if exc.close:
            response.force_close()
        return response
    except PolicyDenied as exc:
        return error_response(403, "PERMISSION_DENIED", str(exc), rule=exc.rule)
    except PermissionDenied as exc:
        return error_response(403, "PERMISSION_DENIED", str(exc))
    except SessionError as exc:  # a race a route did not catch: the session changed under it
        error = engine_error(exc)
        return error_response(error.status, error.code, str(error), **error.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason if exc.status != 413 else "request body too large"
        return error_response(exc.status, _HTTP_CODES.get(exc.status, "INVALID_REQUEST"), message)
    except asyncio.CancelledError:
        raise
    except ConnectionError as exc:  # the client went away mid-answer (a stream): not a fault
        log.debug("API: %s %s: the client went away: %s", request.method, request.path, exc)
        return error_response(400, "INVALID_REQUEST", "connection lost")
    except Exception:
        log.exception("API: %s %s failed", request.method, request.path)
        return error_response(500, "INTERNAL", "internal error; see the server log")


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
async def _access(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is asking, then their rate limit.

    On TCP a server token (`Authorization: Bearer`, the scheme in any case) makes an admin
    client, a scoped token a client of one session; a wrong or missing token is refused and
    counted against the address in a separate, stricter bucket, so a flood of wrong tokens
    cannot use up the allowance of the client that has the right one. On the control socket
    the file mode decides who may connect (admin; a scoped token given there narrows it)."""
    app = request.app
    address = _peer(request)
    scheme, _, credential = request.headers.get("Authorization", "").strip().partition(" ")
    bearer = credential.strip() if scheme.lower() == "bearer" and credential.strip() else None
    token = app.get(TOKEN)
    scope = app[TOKENS].lookup(bearer) if bearer is not None else None
    unix = _on_unix_socket(request)
    who: Principal | None = None
    if scope is not None:
        who = Principal(
            scope.label, address, admin=False, session_id=scope.session_id,
            read_only=scope.read_only,
        )  # fmt: skip
    elif unix:
        who = Principal(address, address)
    elif token and bearer is not None and same_secret(bearer, token):
        who = Principal("token:admin", address)
    elif not token and not request.headers.get("Authorization"):
        who = Principal(address, address)  # loopback only (Host check, check_bind)
    if who is None:
        reason = "wrong token" if request.headers.get("Authorization") else "no token"
        if not token:
            reason += " (this server has no token: only scoped tokens are accepted)"
        wait = app[AUTH_LIMIT].take(address)
        if wait > 0:
            app[AUDIT].unrecorded_failures += 1  # the next record's count includes it
            raise _rate_limited(wait, "too many failed authentications")
        app[AUDIT].record_failure(address, f"{reason}: {request.method} {request.path[:200]}")
        raise ApiError(
            401, "UNAUTHORIZED", f"missing or wrong 'Authorization: Bearer' token ({reason})"
        )
    if who.read_only and request.method not in ("GET", "HEAD"):
        raise ApiError(403, "PERMISSION_DENIED", "this token is read-only")
    request[PRINCIPAL] = who
    limit = app.get(SOCKET_LIMIT) if unix else app[LIMIT]
    if limit is not None:
        wait = limit.take(who.client)
        if wait > 0:
            raise _rate_limited(wait, "too many requests")
    return await handler(request)


def _rate_limited(wait: float, what: str) -> ApiError:
    return ApiError(
        429, "RATE_LIMITED", f"{what}; retry in {wait:.2f} s", retry_after=max(1, math.ceil(wait))
    )


def _socket(request: web.Request) -> socket.socket | None:
    transport = request.transport
    return transport.get_extra_info("socket") if transport is not None else None


def _on_unix_socket(request: web.Request) -> bool:
    sock = _socket(request)
    return sock is not None and sock.family == socket.AF_UNIX


def _peer(request: web.Request) -> str:
    """Where a request comes from: the peer address, or on the control socket the peer's user
    (a new process per CLI call must not mean a new identity)."""
    sock = _socket(request)
    if sock is not None and sock.family == socket.AF_UNIX:
        with contextlib.suppress(OSError):
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _, uid, _ = struct.unpack("3i", creds)
            return f"unix:uid={uid}"
        return "unix"
    return request.remote or "unknown"


# -- the application ----------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "status": "healthy",
            "service": SERVICE,
            "version": VERSION,
            "timestamp": time_text(datetime.now(UTC)),
            "sessions": len(request.app[MANAGER].sessions),
        }
    )


def create_app(
    manager: SessionManager,
    *,
    policy: SecurityPolicy | None = None,
    rate_limit: RateLimit | None = None,
    audit: AuditLog | None = None,
    token: str | None = None,
    on_created: Callable[[Session], None] | None = None,
    socket_rate_limit: RateLimit | None = None,
    auth_rate_limit: RateLimit | None = None,
    snapshots: Snapshotter | None = None,
) -> web.Application:
    """The API over `manager` (shared with the TUI, if any: the same sessions).

    `rate_limit` applies per client on TCP (default 1000/s, bursts of 2000);
    `socket_rate_limit` on the control socket (default: none, the socket is private);
    `auth_rate_limit` to failed authentications per address (default 10/s, bursts of 50).
    A `token` given here is taken out of this process's environment, so no session inherits it.
    """
    app = web.Application(middlewares=[_errors, _browsers, _access], client_max_size=MAX_BODY)
    app[MANAGER] = manager
    app[POLICY] = policy or SecurityPolicy()
    app[LIMIT] = rate_limit or RateLimit()
    app[AUTH_LIMIT] = auth_rate_limit or RateLimit(10.0, 50)
    if socket_rate_limit is not None:
        app[SOCKET_LIMIT] = socket_rate_limit
    app[AUDIT] = audit or AuditLog()
    app[TOKENS] = TokenStore()
    app[INSTANCE] = secrets.token_hex(8)
    if token:
        app[TOKEN] = token
        if os.environ.get(TOKEN_VARIABLE) == token:
            del os.environ[TOKEN_VARIABLE]
    if on_created is not None:
        app[ON_CREATED] = on_created
    app.router.add_get("/health", health)
    openapi_routes.add_routes(app)
    events_routes.add_routes(app)
    session_routes.add_routes(app)
    history_routes.add_routes(app)
    context_routes.add_routes(app)
    snapshot_routes.add_routes(app, snapshots)
    coordination_routes.add_routes(app)
    agent_routes.add_routes(app)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token, or with one short enough to
    guess."""
    if is_loopback(host):
        return
    if not token:
        raise ValueError(
            f"refusing to listen on {host} without a token: every client on the network could "
            "run commands as you. Pass --token or set AI_SESSION_TOKEN (or use 127.0.0.1)."
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"refusing to listen on {host} with a token of {len(token)} characters: the network "
            f"could guess it; use {MIN_TOKEN_LENGTH} or more (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe())')"
        )


# -- transports ---------------------------------------------------------------------------------


def _connection_cap() -> int:
    """Connections each transport keeps at most: well inside the file limit, which sessions
    (a terminal and a process handle each) and the store share."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 16
    return max(16, min(MAX_CONNECTIONS, soft // 4))


class _Handler(RequestHandler):
    """aiohttp's connection handler, answering what its parser refuses (before any middleware
    runs) with the API's JSON errors, and without a traceback in the log for a client's
    mistake. A connection must bring a whole request every REQUEST_TIMEOUT seconds unless one
    is being answered (a stream, a long poll), and each transport (socket, TCP) takes at most
    `_connection_cap()` at once: clients that open connections and send nothing, or half a
    request, cannot use up the file descriptors and shut everyone else out."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        family = getattr(sock, "family", None)
        manager = self._manager
        same = [
            h
            for h in (manager.connections if manager is not None else [])
            if getattr(h.transport and h.transport.get_extra_info("socket"), "family", None)
            == family
        ]
        if len(same) > _connection_cap():
            log.warning("API: refused a connection: %d are open already", len(same) - 1)
            transport.close()
            return
        self._requests_seen = 0
        self._watchdog = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT, self._check_idle)

    def _check_idle(self) -> None:
        if self.transport is None:
            return
        if not self._request_in_progress and self._request_count == self._requests_seen:
            log.debug("API: closed a connection that sent no whole request in time")
            self.force_close()  # closes the transport too
            return
        self._requests_seen = self._request_count
        self._watchdog = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT, self._check_idle)

    def connection_lost(self, exc: BaseException | None) -> None:
        watchdog = getattr(self, "_watchdog", None)
        if watchdog is not None:
            watchdog.cancel()
        super().connection_lost(exc)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            response = error_response(500, "INTERNAL", "internal error; see the server log")
        else:
            if isinstance(exc, LineTooLong):
                status, text = 431, "request line or header too long"
            else:
                text = (
                    f"malformed HTTP request: {str(getattr(exc, 'message', '') or message)[:200]}"
                )
            log.debug("API: refused a request from %s: %s", request.remote, exc)
            response = error_response(status, _HTTP_CODES.get(status, "INVALID_REQUEST"), text)
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was sent already; cannot send the error")
        response.force_close()
        return response


class _WebServer(WebServer):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> WebServer:
        server = await super()._make_server()
        server.__class__ = _WebServer  # same object, our connection handler
        return server


class Server:
    """The API served on the control socket and, optionally, on TCP."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.socket_path: Path | None = None
        self.tcp_address: tuple[str, int] | None = None
        # aiohttp waits up to a minute for requests in flight when it stops; long polls (events,
        # wait) last far longer and the sessions close right after anyway: a second, then cancel
        self._runner = _Runner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
        )

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
