"""/openapi.json is typed, and real answers of every route validate against it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, serve
from conftest import wait_until

from engine.server import OPENAPI

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = OPENAPI["components"]["schemas"][name]
    return schema


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of OpenAPI 3.0 schemas the document uses: type, nullable, enum, required,
    properties, additionalProperties, items, oneOf."""
    schema = _resolve(schema)
    if value is None:
        assert schema.get("nullable"), f"{where}: null where {schema} is not nullable"
        return
    if "oneOf" in schema:
        errors = []
        for option in schema["oneOf"]:
            try:
                validate(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches none of {errors}")
    kind = schema.get("type")
    if kind is not None:
        ok = isinstance(value, _TYPES[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        assert ok, f"{where}: {value!r:.60} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: {key!r} missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                validate(item, properties[key], f"{where}.{key}")
            elif extra is False:
                raise AssertionError(f"{where}: unexpected {key!r}")
            elif isinstance(extra, dict):
                validate(item, extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def test_every_answer_has_a_typed_schema() -> None:
    for path, method, operation in _operations():
        ok = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        if path.endswith("/stream"):
            assert set(operation["responses"]) >= {"101"}
            continue
        assert ok, (path, method)
        for code, answer in ok.items():
            if "application/x-asciicast" in answer["content"]:  # a file, not an answer
                continue
            schema = _resolve(answer["content"]["application/json"]["schema"])
            assert schema["type"] == "object" and schema["properties"], (path, method, code)
        for code, answer in operation["responses"].items():
            if code.startswith(("4", "5")):
                schema = _resolve(answer["content"]["application/json"]["schema"])
                assert schema["required"] == ["error", "code"]
        if "requestBody" in operation and not path.endswith("/hook"):  # a hook: Claude's JSON
            body = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
            assert body["additionalProperties"] is False  # unknown fields are refused


def _template(path: str) -> str:
    """The documented path a concrete request path matches."""
    path = path.split("?")[0]
    for documented in OPENAPI["paths"]:
        pattern = re.escape(documented).replace(r"\{name\}", "[^/]+").replace(r"\{id\}", "[^/]+")
        if re.fullmatch(pattern, path):
            return documented
    raise AssertionError(f"{path} is not documented")


class Checked:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.covered: set[tuple[str, str]] = set()

    async def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        if path.split("?")[0].endswith("/asciicast"):  # a file: its media type is checked
            async with self.api.http.get(self.api.url(path)) as r:
                template = _template(path)
                answers = OPENAPI["paths"][template]["get"]["responses"]
                assert str(r.status) in answers, (path, r.status, await r.text())
                if r.status == 200:
                    assert r.content_type == "application/x-asciicast"
                    self.covered.add((template, "get"))
                return await r.text()
        status, data = await self.api.call(method, path, body, **kw)
        template = _template(path)
        operation = OPENAPI["paths"][template][method.lower()]
        answer = operation["responses"].get(str(status))
        assert answer is not None, f"{method} {path}: {status} is not documented ({data})"
        validate(data, answer["content"]["application/json"]["schema"], f"{method} {path}")
        if status < 300:
            self.covered.add((template, method.lower()))
        return data


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def test_real_answers_validate_against_the_document(api: Api, tmp_path: Path) -> None:
    call = Checked(api)
    await call("GET", "/health")
    await call("GET", "/openapi.json")
    await call("GET", "/sessions")
    await call(
        "POST",
        "/sessions",
        {
            "name": "doc",
            "working_directory": str(tmp_path),
            "command": "bash --norc --noprofile",
            "environment": {"PS1": "$ "},
            "metadata": {"role": "docs"},
            "enable_ai_features": True,
        },
    )
    await call("GET", "/sessions")
    await call("GET", "/sessions/doc")
    await call("GET", "/sessions/doc/status")
    await call("POST", "/sessions/doc/execute", {"command": "echo hi"})
    await call("POST", "/sessions/doc/execute", {"command": "sleep 5", "timeout_ms": 50})
    await call("GET", "/sessions/doc/history")
    await call("GET", "/sessions/doc/history?failed=true&limit=5&output=false")
    await call("POST", "/sessions/doc/input", {"keys": ["echo", "Space", "x", "Enter"]})
    session = api.manager.find_session("doc")
    assert session is not None and session.context is not None
    context = session.context
    await wait_until(lambda: context.get_message_count() >= 1, what=lambda: context.messages)
    await call("GET", "/sessions/doc/context")
    await call("GET", "/sessions/doc/context?limit=1")
    await call("GET", "/sessions/doc/context/1")
    await call("GET", "/sessions/doc/context/99")
    await wait_until(lambda: api.manager.agents.status("doc") is not None)
    await call("GET", "/agents")
    await call("GET", "/agents/doc")
    await call("POST", "/agents/doc/state", {"state": "waiting", "question": "Ship it?"})
    await call(
        "POST",
        "/agents/doc/hook?kind=claude",
        {"hook_event_name": "Notification", "message": "Claude needs your permission to use Bash"},
    )
    await call("POST", "/agents/doc/state", {"state": "asleep"})
    await call("GET", "/agents/nope")
    await call("GET", "/sessions/doc/output")
    await call("GET", "/sessions/doc/output?since=0")
    await call("GET", "/sessions/doc/screen?ansi=1&join_wrapped=1")
    await call("POST", "/sessions/doc/resize", {"columns": 100, "lines": 30})
    await call("PATCH", "/sessions/doc", {"metadata": {"step": 2}})
    await call("POST", "/sessions/doc/token", {"read_only": True})
    await call("GET", "/sessions/doc/wait?timeout=0.01")
    await call("POST", "/sessions/doc/signal", {"signal": "KILL", "target": "session"})
    await call("GET", "/sessions/doc/wait?timeout=10")
    await call("POST", "/sessions/doc/respawn", {"kill": True})
    await call("GET", "/events?since=0")
    await call("GET", "/events?since=0&limit=1")
    taken = await call("POST", "/snapshots", {"session": "doc", "note": "docs"})
    await call("POST", "/snapshots", {})
    await call("GET", "/snapshots?limit=5")
    await call("GET", f"/snapshots/{taken['id']}?ansi=1")
    await call("GET", f"/snapshots/{taken['id']}/asciicast")
    await call("POST", f"/snapshots/{taken['id']}/restore", {})
    await call("DELETE", f"/snapshots/{taken['id']}")
    await call("GET", f"/snapshots/{taken['id']}")
    await call("GET", "/snapshots/x")
    await call("POST", "/snapshots", {"session": "nope"})
    # the agents' hub (a session messages itself)
    await call("POST", "/messages", {"from": "doc", "to": "doc", "payload": {"k": [1]}})
    await call("POST", "/messages", {"from": "doc", "all": True, "payload": "hi"})
    await call("GET", "/messages?agent=doc&limit=5")
    await call("GET", "/agents/doc/inbox?wait=0.01")
    await call("PUT", "/agents/doc/capabilities", {"capabilities": ["docs"]})
    task = await call("POST", "/tasks", {"description": "write", "requirements": ["docs"]})
    await call("POST", "/tasks", {"description": "fly", "requirements": ["wings"]})
    await call("POST", "/tasks/distribute", {})
    await call("POST", "/tasks/take", {"agent": "doc"})
    await call("POST", f"/tasks/{task['id']}/done", {"agent": "doc", "success": True})
    spare = await call("POST", "/tasks", {"description": "spare", "priority": "low"})
    await call("POST", f"/tasks/{spare['id']}/take", {"agent": "doc"})
    await call("POST", f"/tasks/{spare['id']}/take", {"agent": "doc"})  # 409
    await call("GET", "/tasks?status=done")
    decision = await call(
        "POST",
        "/decisions",
        {"agent": "doc", "options": ["a", "b"], "selected": "a", "confidence": 0.7},
    )
    await call("POST", f"/decisions/{decision['id']}/outcome", {"success": False, "note": "no"})
    await call(
        "POST", "/decisions", {"agent": "doc", "options": ["a"], "selected": "a", "confidence": 7}
    )
    await call("GET", "/decisions?type=generic")
    await call("GET", "/decisions/patterns")
    await call("POST", "/tokens", {"agent": "doc", "input": 10, "output": 5, "model": "m"})
    await call("GET", "/tokens")
    await call("GET", "/agents")  # with the tokens it reported
    span = await call("POST", "/traces/spans", {"name": "root", "agent": "doc"})
    child = await call("POST", "/traces/spans", {"name": "leaf", "parent": span["span_id"]})
    await call("POST", f"/traces/spans/{child['span_id']}/end", {"status": "error"})
    await call("POST", f"/traces/spans/{span['span_id']}/end", {})
    await call("GET", "/traces")
    await call("POST", "/messages", {"from": "nope", "to": "doc", "payload": 1})
    await call("POST", "/messages", {"from": "doc", "to": "doc", "payload": "x" * (2 << 20)})
    await call("GET", "/tasks?agent=nope")  # an unknown agent: 404, as /messages answers
    # errors validate too
    await call("GET", "/sessions/nope")
    await call("POST", "/sessions", {"nam": "x"})
    await call("POST", "/sessions/doc/respawn", {})
    await call("GET", "/events?since=x")
    await call("DELETE", "/sessions/doc")
    every = {(path, method) for path, method, _ in _operations() if not path.endswith("/stream")}
    assert every - call.covered == set()


async def test_every_event_type_has_its_own_schema_and_real_events_match_it(
    api: Api, tmp_path: Path
) -> None:
    """`Event` is one schema per type (a discriminator on `type`), every type of the engine's
    has one, and an event of each, made through the API, validates against its own."""
    from engine.events import EVENT_TYPES

    mapping = OPENAPI["components"]["schemas"]["Event"]["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(EVENT_TYPES)
    call = Checked(api)
    for name in ("ev", "other"):
        body = {
            "name": name,
            "working_directory": str(tmp_path),
            "command": "bash --norc --noprofile",
            "environment": {"PS1": "$ "},
            "monitor_silence": 0.2,
        }
        await call("POST", "/sessions", body)
    await call("POST", "/sessions/ev/execute", {"command": "printf '\\033]2;named\\007'; cd /"})
    await call("POST", "/sessions/ev/resize", {"columns": 90, "lines": 20})
    await call("PATCH", "/sessions/ev", {"metadata": {"step": 1}})
    await call("POST", "/agents/ev/state", {"state": "waiting", "question": "Ship it?"})
    await call("POST", "/messages", {"from": "ev", "to": "other", "payload": "hi"})
    await call("POST", "/tasks", {"description": "build", "from": "ev"})
    made = await call(
        "POST",
        "/decisions",
        {"agent": "ev", "type": "approach", "options": ["a", "b"], "selected": "a",
         "confidence": 0.5, "rationale": "r"},
    )  # fmt: skip
    await call("POST", f"/decisions/{made['id']}/outcome", {"success": True})
    await call("POST", "/tokens", {"agent": "ev", "input": 10, "output": 2})
    span = await call("POST", "/traces/spans", {"name": "review", "agent": "ev"})
    await call("POST", f"/traces/spans/{span['span_id']}/end", {"status": "ok"})
    await call("PATCH", "/sessions/other", {"name": "renamed"})
    await call("POST", "/sessions/renamed/respawn", {"kill": True})
    session = api.manager.find_session("ev")
    assert session is not None
    await wait_until(lambda: any(e.type == "silence" for e in api.manager.events.since(0)[0]))
    await call("DELETE", "/sessions/renamed")
    page = await call("GET", "/events?since=0&limit=1000")
    seen = {event["type"] for event in page["events"]}
    assert seen == set(EVENT_TYPES), set(EVENT_TYPES) - seen
    schemas = OPENAPI["components"]["schemas"]
    for event in page["events"]:
        validate(event, schemas[mapping[event["type"]].rsplit("/", 1)[-1]], event["type"])
