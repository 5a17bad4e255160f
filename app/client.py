"""Talking to a running instance from the CLI: its control socket, or a server URL.

Standard library only, and a small HTTP/1.1 client of its own on the bare `_socket`: every
`ai-session list-sessions` starts a new Python, and aiohttp (~150 ms to import here), http.client
(~45 ms: the email parser, ssl) or even socket.py (~7 ms: its enums) would cost more than the
request. One request per connection (`Connection: close`, read to the end); no read timeout, so
`exec` and `wait` last as long as the server lets them.
"""

from __future__ import annotations

import _socket
import json
import os

from engine.paths import find_socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms here)
if TYPE_CHECKING:
    from typing import Any


class ClientError(Exception):
    """The instance answered with an error, or there is no instance to talk to. `data` is the
    error body (`{"error", "code", ...}`; e.g. `command` with SESSION_BUSY)."""

    def __init__(
        self, message: str, code: str = "", status: int = 0, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.data = data or {}


_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str) -> str:
    """Percent-encode everything but RFC 3986's unreserved characters (urllib.parse.quote with
    safe="", without importing urllib.parse)."""
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in text.encode())


def session_path(name: str, *rest: str) -> str:
    """A session's URL path, its name one path segment whatever it holds (`a/b`, `..`)."""
    return "/sessions/" + quote(name) + "".join("/" + part for part in rest)


class Client:
    """Requests to one instance; JSON in, JSON out, API errors raised as `ClientError`."""

    def __init__(
        self, server: str | None = None, socket: str | None = None, token: str | None = None
    ) -> None:
        self.token = token or os.environ.get("AI_SESSION_TOKEN") or None
        self.socket = None
        if server:
            from urllib.parse import urlsplit

            url = urlsplit(server if "://" in server else "http://" + server)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ClientError(f"--server wants a URL like http://127.0.0.1:3000, not {server}")
            self.tls = url.scheme == "https"
            self.host = url.hostname
            self.port = url.port or (443 if self.tls else 80)
            self.prefix = url.path.rstrip("/")
            self.netloc = url.netloc.rpartition("@")[2]
            self.where = server
        else:
            found = find_socket(socket)
            if found is None:
                from engine.paths import runtime_dir

                raise ClientError(
                    f"no running ai-session instance (no control socket in {runtime_dir()}); "
                    "start one with `ai-session` or `ai-session server`, or pass --server URL"
                )
            self.socket = found
            self.tls, self.prefix, self.netloc = False, "", "ai-session"
            self.where = f"socket {self.socket}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        *,
        raw: bool = False,
    ) -> Any:
        """One request; the decoded JSON answer (`raw`: the body's bytes, for routes that
        answer a file). Errors (an API error, no answer) raise."""
        target = self.prefix + path
        if params:
            target += "?" + "&".join(
                f"{quote(k)}={quote(str(v))}" for k, v in params.items() if v is not None
            )
        payload = b"" if body is None else json.dumps(body).encode()
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.netloc}",
            "Connection: close",
            "Accept: application/json",
            "User-Agent: ai-session-cli",
        ]
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + payload
        try:
            status, reason, data = _parse_response(self._exchange(request))
        except (OSError, ValueError) as exc:
            raise ClientError(
                f"cannot reach the instance at {self.where}: {exc or type(exc).__name__}"
            ) from None
        if raw and status < 400:
            return data
        try:
            answer = json.loads(data) if data else {}
        except ValueError:
            answer = {"error": data[:200].decode(errors="replace").strip() or reason, "code": ""}
        if status >= 400:
            if not isinstance(answer, dict):
                answer = {"error": str(answer)}
            error = str(answer.get("error") or reason or f"HTTP {status}")
            raise ClientError(error, str(answer.get("code") or ""), status, answer)
        return answer

    def _exchange(self, request: bytes) -> bytes:
        """Send the request, read the answer to the end (the server closes the connection)."""
        if self.socket is not None:
            conn: Any = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                conn.connect(self.socket)
                return _send_and_read(conn, request)
            finally:
                conn.close()
        import socket

        conn = socket.create_connection((self.host, self.port), timeout=10)
        try:
            conn.settimeout(None)  # connected: now wait as long as the answer takes
            if self.tls:
                import ssl

                conn = ssl.create_default_context().wrap_socket(conn, server_hostname=self.host)
            return _send_and_read(conn, request)
        finally:
            conn.close()


def _send_and_read(conn: Any, request: bytes) -> bytes:
    conn.sendall(request)
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_response(raw: bytes) -> tuple[int, str, bytes]:
    """Status, reason and body of one whole HTTP/1.1 response (Content-Length, chunked or to
    the end)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("the connection closed before a whole answer" if raw else "no answer")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {lines[0][:80]!r}")
    status, reason = int(parts[1]), parts[2].strip() if len(parts) > 2 else ""
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out: list[bytes] = []
        at = 0
        while True:
            end = body.index(b"\r\n", at)
            size = int(body[at:end].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return status, reason, b"".join(out)
            out.append(body[end + 2 : end + 2 + size])
            at = end + 2 + size + 2
    if "content-length" in headers:
        return status, reason, body[: int(headers["content-length"])]
    return status, reason, body
