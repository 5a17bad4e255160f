"""The /openapi.json document: every route, its request body and a typed schema for each answer
(tests validate real responses against these, so the document cannot drift from the code)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine.agentscreen import AGENT_KINDS, AgentState
from engine.api.common import MAX_API_SIZE, NAME, VERSION

_S = {"type": "string"}
_I = {"type": "integer"}
_N = {"type": "number"}
_B = {"type": "boolean"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _obj(
    properties: dict[str, Any], required: list[str] | None = None, **more: Any
) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(properties) if required is None else required,
        "properties": properties,
        **more,
    }


def _event_schema(kind: str) -> str:
    """The component name of an event type's schema: `EventExit`, `EventMessage`."""
    return "Event" + kind.title().replace("_", "")


# Each event type's own fields (engine/events.py EVENT_TYPES; README "Events").
_EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "created": {"command": _S, "pid": _nullable(_I), "columns": _I, "lines": _I},
    "closed": {},
    "renamed": {"old_name": _S},
    "exit": {"exit_code": _nullable(_I), "signal": _nullable(_S), "exited_at": _S},
    "respawned": {"pid": _nullable(_I)},
    "activity": {"bytes": _I},
    "silence": {"seconds": _N},
    "resize": {"columns": _I, "lines": _I},
    "title": {"title": _S},
    "cwd": {"cwd": _nullable(_S)},
    "metadata": {"metadata": {"type": "object", "additionalProperties": True}},
    "command": {
        "command": _S,
        "exit_code": _nullable(_I),
        "cwd": _nullable(_S),
        "command_seq": _I,
        "duration": _nullable(_N),
    },
    "message": {
        "id": _I,
        "from": _nullable(_S),
        "to": _nullable(_S),
        "message_type": _S,
        "priority": _S,
        "preview": _S,
    },
    "task": {"id": _I, "status": _S, "agent": _nullable(_S), "description": _S},
    "decision": {
        "id": _I,
        "decision_type": _S,
        "selected": _nullable(_S),
        "confidence": _nullable(_N),
        "outcome": _nullable(_S),
    },
    "trace": {
        "trace_id": _S,
        "span_id": _S,
        "parent_id": _nullable(_S),
        "name": _S,
        "status": _nullable(_S),
        "phase": {"type": "string", "enum": ["start", "end"]},
    },
    "tokens": {
        "agent": _S,
        "input": _I,
        "output": _I,
        "model": _nullable(_S),
        "total_input": _I,
        "total_output": _I,
    },
    "agent": {
        "state": _S,
        "reason": _nullable(_S),
        "question": _nullable(_S),
        "kind": _nullable(_S),
        "command": _nullable(_S),
        "source": _nullable(_S),
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SUMMARY_FIELDS: dict[str, Any] = {
    "id": _S,
    "name": _S,
    "status": {"type": "string", "enum": ["created", "running", "exited", "error"]},
    "exit_code": _nullable(_I),
    "signal": _nullable(_S),
    "exited_at": _nullable({"type": "string", "format": "date-time"}),
    "created_at": {"type": "string", "format": "date-time"},
    "last_activity": {"type": "string", "format": "date-time"},
    "pid": _nullable(_I),
    "command": _nullable(_S),
    "columns": _I,
    "lines": _I,
    "metadata": {"type": "object", "additionalProperties": True},
}
_SIZE = {"type": "integer", "minimum": 1, "maximum": MAX_API_SIZE}
_SILENCE = {
    "type": "number",
    "minimum": 0,
    "maximum": 86_400,
    "nullable": True,
    "description": "seconds without output before a `silence` event (0 or null: off)",
}

_TOKENS = _obj(
    {
        "input": _I,
        "output": _I,
        "cache_read": _I,
        "cache_write": _I,
        "model": _nullable(_S),
        "context_used": _nullable(_I),
        "context_window": _nullable(_I),
        "compactions": _I,
    },
    description="what an agent CLI's transcript says it spent (Claude Code)",
)

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {"error": _S, "code": _S, "rule": _S, "field": _S, "command": _nullable(_S)},
        required=["error", "code"],
    ),
    # requests
    "CreateSession": _obj(
        {
            "name": {"type": "string", "pattern": NAME.pattern},
            "working_directory": _S,
            "shell": _S,
            "command": {
                "oneOf": [_S, {"type": "array", "items": _S, "minItems": 1}],
                "description": "a string runs through the shell (sh -c), a list is the argv",
            },
            "environment": {"type": "object", "additionalProperties": _S},
            "enable_ai_features": _B,
            "context": _obj(
                {
                    "max_tokens": {"type": "integer", "minimum": 1},
                    "compression_threshold": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "a fraction of max_tokens in (0, 1]",
                    },
                },
                required=[],
                additionalProperties=False,
                description="the AI context's size and when it folds (turns AI features on)",
            ),
            "columns": _SIZE,
            "lines": _SIZE,
            "metadata": {"type": "object", "additionalProperties": True},
            "monitor_silence": _SILENCE,
        },
        required=[],
        additionalProperties=False,
    ),
    "PatchSession": _obj(
        {
            "name": {"type": "string", "pattern": NAME.pattern},
            "metadata": {
                "type": "object",
                "description": "merged into the session's; a key set to null is removed",
                "additionalProperties": True,
            },
            "monitor_silence": _SILENCE,
        },
        required=[],
        additionalProperties=False,
    ),
    "Execute": _obj(
        {"command": _S, "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3_600_000}},
        required=["command"],
        additionalProperties=False,
    ),
    "Input": _obj(
        {"keys": {"type": "array", "items": _S}, "text": _S, "literal": _B},
        required=[],
        additionalProperties=False,
    ),
    "Resize": _obj({"columns": _SIZE, "lines": _SIZE}, additionalProperties=False),
    "Signal": _obj(
        {
            "signal": {"oneOf": [_S, _I], "description": "INT, SIGTERM, 15, ..."},
            "target": {"type": "string", "enum": ["foreground", "session"]},
        },
        required=["signal"],
        additionalProperties=False,
    ),
    "Respawn": _obj({"kill": _B}, required=[], additionalProperties=False),
    "CreateSnapshot": _obj(
        {
            "session": {"type": "string", "description": "one session's (default: all)"},
            "note": {"type": "string", "maxLength": 1000},
        },
        required=[],
        additionalProperties=False,
    ),
    "RestoreSnapshot": _obj({}, required=[], additionalProperties=False),
    "MakeToken": _obj({"read_only": _B}, required=[], additionalProperties=False),
    # answers
    "Health": _obj({"status": _S, "service": _S, "version": _S, "timestamp": _S, "sessions": _I}),
    "OpenAPI": _obj({"openapi": _S, "info": {"type": "object"}, "paths": {"type": "object"}}),
    "Session": _obj(_SUMMARY_FIELDS),
    "SessionList": _obj({"sessions": {"type": "array", "items": _ref("Session")}, "total": _I}),
    "SessionStatus": _obj(
        {
            **_SUMMARY_FIELDS,
            "cwd": _nullable(_S),
            "title": _S,
            "config": _obj(
                {
                    "enable_ai_features": _B,
                    "working_directory": _S,
                    "shell": _nullable(_S),
                    "command": _nullable({"oneOf": [_S, {"type": "array", "items": _S}]}),
                    "pty_size": {"type": "array", "items": _I},
                }
            ),
        }
    ),
    "Waited": _obj({**_SUMMARY_FIELDS, "exited": _B}),
    "Deleted": _obj({"name": _S, "id": _S, "deleted": _B}),
    "ExecuteResult": _obj(
        {
            "success": _B,
            "exit_code": _nullable(_I),
            "output": _S,
            "raw_output": _S,
            "error": _nullable(_S),
            "execution_time_ms": _N,
            "timed_out": _B,
            "still_running": _B,
            "truncated": _B,
        }
    ),
    "Output": _obj(
        {
            "session_name": _S,
            "output": _S,
            "raw_output": _S,
            "timestamp": _S,
            "size_bytes": _I,
            "offset": _I,
            "next": _I,
            "dropped_bytes": _I,
            "raw_base64": _S,
        },
        required=[
            "session_name",
            "output",
            "raw_output",
            "timestamp",
            "size_bytes",
            "offset",
            "next",
            "dropped_bytes",
        ],
    ),
    "InputResult": _obj({"session_name": _S, "bytes": _I}),
    "Screen": _obj(
        {
            "session_name": _S,
            "screen": _S,
            "columns": _I,
            "lines": _I,
            "cursor": _obj({"x": _I, "y": _I, "hidden": _B}),
            "title": _S,
            "alternate_screen": _B,
        }
    ),
    "Size": _obj({"session_name": _S, "columns": _I, "lines": _I}),
    "Signalled": _obj(
        {
            "session_name": _S,
            "signal": _S,
            "target": {"type": "string", "enum": ["foreground", "session"]},
        }
    ),
    "Token": _obj({"token": _S, "session": _S, "session_id": _S, "read_only": _B}),
    "Event": {
        "oneOf": [_ref(_event_schema(kind)) for kind in _EVENT_FIELDS],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                kind: f"#/components/schemas/{_event_schema(kind)}" for kind in _EVENT_FIELDS
            },
        },
        "description": "One of the instance's events: the envelope and its type's own fields",
    },
    **{
        _event_schema(kind): _obj(
            {
                "seq": _I,
                "type": {"type": "string", "enum": [kind]},
                "time": _S,
                "session": _nullable(_S),
                "session_id": _nullable(_S),
                **fields,
            },
            additionalProperties=True,  # a later version may add fields
        )
        for kind, fields in _EVENT_FIELDS.items()
    },
    "SnapshotInfo": _obj(
        {
            "id": _I,
            "created_at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": ["pane", "workspace"]},
            "trigger": _S,
            "note": _S,
            "sessions": {"type": "array", "items": _S},
            "panes": _I,
            "stored_bytes": _I,
            "raw_bytes": _I,
        }
    ),
    "SnapshotList": _obj(
        {"snapshots": {"type": "array", "items": _ref("SnapshotInfo")}, "total": _I}
    ),
    "Snapshot": _obj(
        {
            "id": _I,
            "created_at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": ["pane", "workspace"]},
            "trigger": _S,
            "note": _S,
            "layout": _nullable({"type": "object", "additionalProperties": True}),
            "panes": {
                "type": "array",
                "items": _obj(
                    {
                        "session_id": _S,
                        "session_name": _S,
                        "window": _I,
                        "window_name": _S,
                        "pane_index": _I,
                        "cwd": _nullable(_S),
                        "command": _nullable(_S),
                        "title": _S,
                        "columns": _I,
                        "lines": _I,
                        "history": _I,
                        "screen": _S,
                    }
                ),
            },
        }
    ),
    "SnapshotDeleted": _obj({"id": _I, "deleted": _B}),
    "Restored": _obj({"id": _I, "sessions": {"type": "array", "items": _ref("Session")}}),
    "CommandRecord": _obj(
        {
            "id": _nullable(_I),
            "session_id": _S,
            "session": _S,
            "seq": _I,
            "command": _S,
            "cwd": _nullable(_S),
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": _nullable({"type": "string", "format": "date-time"}),
            "duration": _nullable(_N),
            "exit_code": _nullable(_I),
            "failed": _B,
            "output": _S,
            "output_truncated": _B,
            "parsed": _nullable({"type": "object", "additionalProperties": True}),
        },
        required=[
            "id",
            "session_id",
            "session",
            "seq",
            "command",
            "cwd",
            "started_at",
            "ended_at",
            "duration",
            "exit_code",
            "failed",
            "output_truncated",
        ],
        description="`output` and `parsed` are left out with ?output=false",
    ),
    "History": _obj({"session": _S, "commands": {"type": "array", "items": _ref("CommandRecord")}}),
    "ContextMessage": _obj(
        {
            "id": _I,
            "role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
            "content": _S,
            "timestamp": {"type": "string", "format": "date-time"},
            "token_count": _nullable(_I),
            "estimated": _B,
            "summary_of": {"type": "array", "items": _I},
            "data": {"type": "object", "additionalProperties": True},
        }
    ),
    "Context": _obj(
        {
            "session": _S,
            "session_id": _S,
            "config": _obj({"max_tokens": _I, "compression_threshold": _N}),
            "summary": _obj(
                {
                    "messages": _I,
                    "compressions": _I,
                    "tokens": _obj(
                        {
                            "current": _I,
                            "original": _I,
                            "saved": _I,
                            "reduction": _N,
                            "compression_ratio": _N,
                            "encoding": _S,
                            "estimated": _B,
                        },
                        description="what a model is sent, counted with the encoding",
                    ),
                    "storage": _obj(
                        {
                            "archived_messages": _I,
                            "original_bytes": _I,
                            "zstd_bytes": _I,
                            "ratio": _N,
                        },
                        description="the folded originals, kept zstd-compressed",
                    ),
                }
            ),
            "messages": {"type": "array", "items": _ref("ContextMessage")},
        }
    ),
    "ContextOriginal": _obj({"session": _S, "message": _ref("ContextMessage")}),
    "Agent": _obj(
        {
            "session": _S,
            "session_id": _S,
            "state": {"type": "string", "enum": [s.value for s in AgentState]},
            "since": {"type": "string", "format": "date-time"},
            "reason": _nullable(_S),
            "question": _nullable({**_S, "description": "as it appears on screen (waiting)"}),
            "kind": _nullable(
                {"type": "string", "enum": list(AGENT_KINDS), "description": "the agent CLI"}
            ),
            "command": _nullable(_S),
            "source": {"type": "string", "enum": ["screen", "report", "hook", "process"]},
            "tokens": _nullable({**_TOKENS, "description": "read from the agent CLI's transcript"}),
        }
    ),
    "AgentList": _obj({"agents": {"type": "array", "items": _ref("Agent")}, "total": _I}),
    "ReportState": _obj(
        {
            "state": {
                "type": "string",
                "enum": [s.value for s in AgentState if s != AgentState.EXITED],
            },
            "reason": _S,
            "question": {**_S, "description": "what the agent waits on (with state waiting)"},
        },
        required=["state"],
        additionalProperties=False,
    ),
    "ClaudeHook": _obj(
        {"hook_event_name": _S, "session_id": _S, "transcript_path": _S, "message": _S},
        required=["hook_event_name"],
        additionalProperties=True,
        description="a Claude Code hook's JSON as Claude Code writes it to the hook's stdin",
    ),
    "EventPage": _obj(
        {
            "events": {"type": "array", "items": _ref("Event")},
            "last_seq": _I,
            "dropped": _I,
            "instance": _S,
        }
    ),
}


_TIME = {"type": "string", "format": "date-time"}
_PRIORITY = {
    "oneOf": [
        {"type": "string", "enum": ["low", "normal", "medium", "high", "critical"]},
        {"type": "integer", "minimum": 0, "maximum": 3},
    ]
}
_ANY = {"nullable": True, "description": "any JSON value"}
_JSON_OBJECT = {"type": "object", "additionalProperties": True}
_WORDS = {"type": "array", "items": _S}
_TASK_FIELDS: dict[str, Any] = {
    "id": _I,
    "description": _S,
    "requirements": _WORDS,
    "priority": {"type": "string", "enum": ["low", "normal", "high", "critical"]},
    "estimated_effort": {**_N, "description": "minutes"},
    "metadata": _JSON_OBJECT,
    "status": {"type": "string", "enum": ["pending", "assigned", "done", "failed"]},
    "agent": _nullable(_S),
    "submitted_by": _nullable(_S),
    "submitted_at": _TIME,
    "assigned_at": _nullable(_TIME),
    "finished_at": _nullable(_TIME),
    "note": _nullable(_S),
    "decision_id": _nullable(_I),
}
_SPAN_FIELDS: dict[str, Any] = {
    "trace_id": _S,
    "span_id": _S,
    "parent_id": _nullable(_S),
    "name": _S,
    "metadata": _JSON_OBJECT,
    "agent": _nullable(_S),
    "start": _TIME,
    "end": _nullable(_TIME),
    "status": {"type": "string", "enum": ["running", "ok", "error"]},
    "duration": _nullable(_N),
}
_RATE = _nullable({"type": "number", "minimum": 0, "maximum": 1})

COORDINATION_SCHEMAS: dict[str, Any] = {
    # requests
    "SendMessage": _obj(
        {
            "from": {**_S, "description": "the sending agent's session"},
            "to": {**_S, "description": "the receiving agent's session"},
            "all": {**_B, "description": "true: to every agent but the sender"},
            "type": {"type": "string", "description": "task_request, data_share, question, ..."},
            "priority": _PRIORITY,
            "payload": _ANY,
            "reply_to": _I,
        },
        required=["from", "payload"],
        additionalProperties=False,
    ),
    "SubmitTask": _obj(
        {
            "description": _S,
            "requirements": {**_WORDS, "description": "capabilities an agent needs, all of them"},
            "priority": _PRIORITY,
            "estimated_effort": {"type": "number", "minimum": 0, "description": "minutes"},
            "metadata": _JSON_OBJECT,
            "from": {**_S, "description": "the submitting agent's session"},
        },
        required=["description"],
        additionalProperties=False,
    ),
    "TakeTask": _obj({"agent": _S}, additionalProperties=False),
    "TaskDone": _obj(
        {"agent": _S, "success": _B, "note": _S}, required=["agent"], additionalProperties=False
    ),
    "Distribute": _obj({}, required=[], additionalProperties=False),
    "SetCapabilities": _obj({"capabilities": _WORDS}, additionalProperties=False),
    "MakeDecision": _obj(
        {
            "agent": _S,
            "type": {"type": "string", "description": "task_assignment, approach, generic, ..."},
            "options": {**_WORDS, "minItems": 1},
            "selected": {**_S, "description": "one of the options"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": _S,
            "context": _JSON_OBJECT,
        },
        required=["agent", "options", "selected", "confidence"],
        additionalProperties=False,
    ),
    "DecisionOutcome": _obj(
        {"success": _B, "note": _S, "agent": _S}, required=["success"], additionalProperties=False
    ),
    "ReportTokens": _obj(
        {
            "agent": _S,
            "input": {"type": "integer", "minimum": 0},
            "output": {"type": "integer", "minimum": 0},
            "model": _S,
        },
        required=["agent"],
        additionalProperties=False,
    ),
    "StartSpan": _obj(
        {
            "name": _S,
            "agent": _S,
            "parent": {**_S, "description": "the parent span's id"},
            "metadata": _JSON_OBJECT,
        },
        required=["name"],
        additionalProperties=False,
    ),
    "EndSpan": _obj(
        {"status": {"type": "string", "enum": ["ok", "error"]}},
        required=[],
        additionalProperties=False,
    ),
    # answers
    "Message": _obj(
        {
            "id": _I,
            "from": _S,
            "to": _nullable({**_S, "description": "null: a broadcast"}),
            "type": _S,
            "priority": {"type": "string", "enum": ["low", "normal", "high", "critical"]},
            "payload": _ANY,
            "time": _TIME,
            "reply_to": _nullable(_I),
        }
    ),
    "MessageList": _obj({"messages": {"type": "array", "items": _ref("Message")}, "total": _I}),
    "Inbox": _obj(
        {
            "agent": _S,
            "messages": {"type": "array", "items": _ref("Message")},
            "pending": _I,
            "dropped": {**_I, "description": "messages the full inbox dropped, ever"},
        }
    ),
    "Task": _obj(_TASK_FIELDS),
    "TaskList": _obj(
        {
            "tasks": {"type": "array", "items": _ref("Task")},
            "total": _I,
            "capabilities": {"type": "object", "additionalProperties": _WORDS},
        }
    ),
    "TakenTask": _obj({"agent": _S, "task": {"oneOf": [_ref("Task")], "nullable": True}}),
    "Distribution": _obj(
        {
            "assigned": {
                "type": "array",
                "items": _obj({"task": _ref("Task"), "agent": _S, "decision_id": _I}),
            },
            "unassigned": {
                "type": "array",
                "items": _obj({"task": _ref("Task"), "reason": _S}),
            },
        }
    ),
    "Capabilities": _obj({"agent": _S, "capabilities": _WORDS}),
    "Decision": _obj(
        {
            "id": _I,
            "type": _S,
            "options": _WORDS,
            "selected": _S,
            "confidence": _N,
            "rationale": _S,
            "context": _JSON_OBJECT,
            "agent": _nullable(_S),
            "time": _TIME,
            "outcome": _nullable({"type": "string", "enum": ["success", "failure"]}),
            "note": _nullable(_S),
            "outcome_time": _nullable(_TIME),
        }
    ),
    "DecisionList": _obj({"decisions": {"type": "array", "items": _ref("Decision")}, "total": _I}),
    "DecisionPatterns": _obj(
        {
            "total": _I,
            "with_outcome": _I,
            "success_rate": _RATE,
            "mean_confidence": _RATE,
            "by_type": {
                "type": "object",
                "additionalProperties": _obj(
                    {"total": _I, "with_outcome": _I, "successes": _I, "success_rate": _RATE}
                ),
            },
            "calibration": {
                "type": "array",
                "items": _obj(
                    {
                        "range": _S,
                        "low": _N,
                        "high": _N,
                        "decisions": _I,
                        "mean_confidence": _RATE,
                        "success_rate": _RATE,
                    },
                    description="stated confidence against observed success, per bucket",
                ),
            },
        }
    ),
    "TokenUsage": _obj(
        {
            "agent": _S,
            "input": _I,
            "output": _I,
            "total": _I,
            "reports": _I,
            "model": _nullable(_S),
            "first": _nullable(_TIME),
            "last": _nullable(_TIME),
            "burn_rate": {**_N, "description": "tokens a minute over `window` seconds"},
            "window": _N,
            "series": {
                "type": "array",
                "items": _I,
                "description": "tokens per bucket, oldest first (a sparkline)",
            },
            "bucket_seconds": _N,
        }
    ),
    "TokenList": _obj({"usage": {"type": "array", "items": _ref("TokenUsage")}}),
    "Span": _obj(_SPAN_FIELDS),
    "SpanTree": _obj({**_SPAN_FIELDS, "children": {"type": "array", "items": _ref("SpanTree")}}),
    "Traces": _obj({"traces": {"type": "array", "items": _ref("SpanTree")}, "total": _I}),
}
SCHEMAS.update(COORDINATION_SCHEMAS)
SCHEMAS["Agent"]["properties"]["reported_tokens"] = _nullable(
    {
        **COORDINATION_SCHEMAS["TokenUsage"],
        "description": "reported by the agent (`ai-session tokens`)",
    }
)


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "error",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for code in (*codes, 401, 403, 429)
    }


def _answers(schema: str, *errors: int, status: str = "200") -> dict[str, Any]:
    ok = {"description": schema, "content": {"application/json": {"schema": _ref(schema)}}}
    return {status: ok, **_errors(*errors)}


def _op(
    summary: str, answers: dict[str, Any], body: str | None = None, required: bool = True
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": answers}
    if body is not None:
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_NAME = {"name": "name", "in": "path", "required": True, "schema": _S}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_SINCE = _query("since", {"type": "integer", "minimum": 0}, "byte offset to read from")
_WS = {"101": {"description": "switching protocols (WebSocket)"}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "ai-session API", "version": VERSION},
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}, {}],
    "paths": {
        "/health": {"get": _op("Service health", _answers("Health"))},
        "/openapi.json": {"get": _op("This document", _answers("OpenAPI"))},
        "/events": {
            "parameters": [
                _query("since", {"type": "integer", "minimum": 0}, "last sequence number seen"),
                _query("wait", {"type": "number", "minimum": 0}, "long poll: seconds to wait"),
                _query("limit", {"type": "integer", "minimum": 1}, "events in one page"),
                _query(
                    "instance",
                    _S,
                    "the `instance` `since` came from; another (a restart): from the start",
                ),
            ],
            "get": _op(
                "Events after `since`: a WebSocket when upgraded, else a long poll",
                {**_answers("EventPage", 400), **_WS},
            ),
        },
        "/sessions": {
            "get": _op("List sessions", _answers("SessionList")),
            "post": _op(
                "Create and start a session",
                _answers("Session", 400, 409, status="201"),
                "CreateSession",
                required=False,
            ),
        },
        "/sessions/{name}": {
            "parameters": [_NAME],
            "get": _op("One session", _answers("Session", 404)),
            "delete": _op("Stop and forget", _answers("Deleted", 404)),
            "patch": _op(
                "Rename and/or merge metadata", _answers("Session", 400, 404, 409), "PatchSession"
            ),
        },
        "/sessions/{name}/status": {
            "parameters": [_NAME],
            "get": _op("Status and config", _answers("SessionStatus", 404)),
        },
        "/sessions/{name}/execute": {
            "parameters": [_NAME],
            "post": _op(
                "Run a shell command at the prompt, wait for its exit code (409 SESSION_BUSY "
                "when a program runs in the foreground)",
                _answers("ExecuteResult", 400, 404, 409),
                "Execute",
            ),
        },
        "/sessions/{name}/output": {
            "parameters": [
                _NAME,
                _SINCE,
                _query("base64", {"type": "string", "enum": ["0", "1"]}, "add raw_base64"),
            ],
            "get": _op(
                "Output from a byte offset (`since`), else since the last read",
                _answers("Output", 400, 404),
            ),
        },
        "/sessions/{name}/input": {
            "parameters": [_NAME],
            "post": _op(
                "Type keys (tmux names) or text", _answers("InputResult", 400, 404, 409), "Input"
            ),
        },
        "/sessions/{name}/screen": {
            "parameters": [
                _NAME,
                _query("ansi", {"type": "string", "enum": ["0", "1"]}, "keep colours"),
                _query("start", _S, "first row (negative: history; '-': the oldest)"),
                _query("end", _S, "last row ('-': the last visible)"),
                _query("join_wrapped", {"type": "string", "enum": ["0", "1"]}, "tmux -J"),
            ],
            "get": _op("The screen, like capture-pane", _answers("Screen", 400, 404)),
        },
        "/sessions/{name}/resize": {
            "parameters": [_NAME],
            "post": _op("Resize the pseudo-terminal", _answers("Size", 400, 404, 409), "Resize"),
        },
        "/sessions/{name}/stream": {
            "parameters": [
                _NAME,
                _SINCE,
                _query(
                    "base64", {"type": "string", "enum": ["0", "1"]}, "data_base64 (with since)"
                ),
            ],
            "get": _op(
                "WebSocket: the screen (or the output from `since`), live output, the exit",
                {**_WS, **_errors(400, 404)},
            ),
        },
        "/sessions/{name}/history": {
            "parameters": [
                _NAME,
                _query("failed", _B, "only commands that ended with a non-zero status"),
                _query("limit", {"type": "integer", "minimum": 1}, "the newest N (100)"),
                _query("output", _B, "false: leave each command's output out"),
            ],
            "get": _op("The commands the shell ran, oldest first", _answers("History", 400, 404)),
        },
        "/sessions/{name}/wait": {
            "parameters": [
                _NAME,
                _query("timeout", {"type": "number", "minimum": 0}, "seconds (default 30)"),
            ],
            "get": _op("Long poll for the exit", _answers("Waited", 400, 404, 409)),
        },
        "/sessions/{name}/signal": {
            "parameters": [_NAME],
            "post": _op(
                "Send a signal to the foreground job or the whole session",
                _answers("Signalled", 400, 404, 409),
                "Signal",
            ),
        },
        "/sessions/{name}/respawn": {
            "parameters": [_NAME],
            "post": _op(
                "Start the program again (same name and id)",
                _answers("Session", 400, 404, 409),
                "Respawn",
                required=False,
            ),
        },
        "/sessions/{name}/context": {
            "parameters": [
                _NAME,
                _query("limit", {"type": "integer", "minimum": 0}, "the newest N messages"),
            ],
            "get": _op(
                "The session's AI context: figures and messages (enable_ai_features)",
                _answers("Context", 400, 404, 409),
            ),
        },
        "/sessions/{name}/context/{id}": {
            "parameters": [_NAME, _ID],
            "get": _op(
                "One context message in full, folded into a summary or not",
                _answers("ContextOriginal", 400, 404, 409),
            ),
        },
        "/snapshots": {
            "parameters": [
                _query("session", _S, "only this session's (name or id)"),
                _query("limit", {"type": "integer", "minimum": 1}, "the newest N"),
            ],
            "get": _op("Snapshots, newest first", _answers("SnapshotList", 400, 409)),
            "post": _op(
                "Take a snapshot of every session (a workspace) or of one",
                _answers("SnapshotInfo", 400, 404, 409, status="201"),
                "CreateSnapshot",
                required=False,
            ),
        },
        "/snapshots/{id}": {
            "parameters": [
                _ID,
                _query("ansi", {"type": "boolean"}, "screens with colours (capture-pane -e)"),
            ],
            "get": _op(
                "A snapshot with each pane's screen as it was",
                _answers("Snapshot", 400, 404, 409),
            ),
            "delete": _op("Delete a snapshot", _answers("SnapshotDeleted", 400, 404, 409)),
        },
        "/snapshots/{id}/restore": {
            "parameters": [_ID],
            "post": _op(
                "Restore: new sessions in the old directories, old screens above fresh shells",
                _answers("Restored", 400, 404, 409, status="201"),
                "RestoreSnapshot",
                required=False,
            ),
        },
        "/snapshots/{id}/asciicast": {
            "parameters": [
                _ID,
                _query("pane", {"type": "integer", "minimum": 0}, "which pane (default 0)"),
                _query("version", {"type": "integer", "enum": [2, 3]}, "asciicast v3 or v2"),
            ],
            "get": _op(
                "The pane's recorded output up to the snapshot, as asciicast v3",
                {
                    "200": {
                        "description": "asciicast v3 (newline-delimited JSON)",
                        "content": {"application/x-asciicast": {"schema": _S}},
                    },
                    **_errors(400, 404, 409),
                },
            ),
        },
        "/messages": {
            "parameters": [
                _query("agent", _S, "only messages from or to this agent (and broadcasts)"),
                _query("since", {"type": "integer", "minimum": 0}, "the oldest after this id"),
                _query("limit", {"type": "integer", "minimum": 0}, "at most N (200)"),
            ],
            "get": _op("Agent messages, oldest first", _answers("MessageList", 400, 404)),
            "post": _op(
                "Send a message to an agent (`to`) or to all but the sender (`all`); a payload"
                " over 1 MiB as JSON (or a body over the request limit) is 413"
                " PAYLOAD_TOO_LARGE: share a file path instead",
                _answers("Message", 400, 404, 413, status="201"),
                "SendMessage",
            ),
        },
        "/agents/{name}/inbox": {
            "parameters": [
                _NAME,
                _query("wait", {"type": "number", "minimum": 0}, "long poll: seconds"),
                _query("limit", {"type": "integer", "minimum": 1}, "take at most N"),
            ],
            "get": _op(
                "Take the agent's messages, highest priority first", _answers("Inbox", 400, 404)
            ),
        },
        "/agents/{name}/capabilities": {
            "parameters": [_NAME],
            "put": _op(
                "Set what the agent can do (tasks go to agents with all their requirements)",
                _answers("Capabilities", 400, 404),
                "SetCapabilities",
            ),
        },
        "/tasks": {
            "parameters": [
                _query("status", _S, "pending, assigned, done or failed"),
                _query("agent", _S, "only this agent's (a session: 404 if there is none)"),
                _query("limit", {"type": "integer", "minimum": 0}, "the newest N"),
            ],
            "get": _op(
                "Tasks and agents' capabilities (a session-scoped token sees the pending tasks"
                " it is capable of and those it submitted or holds)",
                _answers("TaskList", 400, 404),
            ),
            "post": _op("Submit a task", _answers("Task", 400, 404, status="201"), "SubmitTask"),
        },
        "/tasks/distribute": {
            "post": _op(
                "Give pending tasks to capable agents; say why the rest cannot go",
                _answers("Distribution", 400),
                "Distribute",
                required=False,
            ),
        },
        "/tasks/take": {
            "post": _op(
                "The agent takes the best pending task it can do (null: none)",
                _answers("TakenTask", 400, 404),
                "TakeTask",
            ),
        },
        "/tasks/{id}/take": {
            "parameters": [_ID],
            "post": _op("The agent takes this task", _answers("Task", 400, 404, 409), "TakeTask"),
        },
        "/tasks/{id}/done": {
            "parameters": [_ID],
            "post": _op(
                "The agent finished its task (success or failure)",
                _answers("Task", 400, 404, 409),
                "TaskDone",
            ),
        },
        "/decisions": {
            "parameters": [
                _query("agent", _S, "only this agent's"),
                _query("type", _S, "only this type"),
                _query("limit", {"type": "integer", "minimum": 0}, "the newest N (200)"),
            ],
            "get": _op("Decisions, oldest first", _answers("DecisionList", 400, 404)),
            "post": _op(
                "Log a decision", _answers("Decision", 400, 404, status="201"), "MakeDecision"
            ),
        },
        "/decisions/patterns": {
            "parameters": [
                _query("agent", _S, "only this agent's"),
                _query("type", _S, "only this type"),
            ],
            "get": _op(
                "Success rates by type and confidence calibration",
                _answers("DecisionPatterns", 400, 404),
            ),
        },
        "/decisions/{id}/outcome": {
            "parameters": [_ID],
            "post": _op(
                "The decision's outcome (once)",
                _answers("Decision", 400, 404, 409),
                "DecisionOutcome",
            ),
        },
        "/tokens": {
            "parameters": [_query("agent", _S, "only this agent's")],
            "get": _op("Token usage per agent", _answers("TokenList", 400, 404)),
            "post": _op(
                "Report tokens an agent spent; answers its usage",
                _answers("TokenUsage", 400, 404, status="201"),
                "ReportTokens",
            ),
        },
        "/traces": {
            "parameters": [_query("limit", {"type": "integer", "minimum": 0}, "the newest N")],
            "get": _op("Traces as trees of spans", _answers("Traces", 400)),
        },
        "/traces/spans": {
            "post": _op(
                "Start a span (a child with `parent`)",
                _answers("Span", 400, 404, status="201"),
                "StartSpan",
            ),
        },
        "/traces/spans/{id}/end": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": _S}],
            "post": _op(
                "End a span, ok or error",
                _answers("Span", 400, 404, 409),
                "EndSpan",
                required=False,
            ),
        },
        "/agents": {
            "get": _op("Every session's agent state, in creation order", _answers("AgentList")),
        },
        "/agents/{name}": {
            "parameters": [_NAME],
            "get": _op("One session's agent state", _answers("Agent", 404, 409)),
        },
        "/agents/{name}/state": {
            "parameters": [_NAME],
            "post": _op(
                "Report the agent's state (outranks the screen until the screen changes)",
                _answers("Agent", 400, 404),
                "ReportState",
            ),
        },
        "/agents/{name}/hook": {
            "parameters": [
                _NAME,
                _query("kind", {"type": "string", "enum": ["claude"]}, "whose hook (claude)"),
            ],
            "post": _op(
                "A Claude Code hook's JSON: Notification, Stop, PreToolUse ... set the state",
                _answers("Agent", 400, 404),
                "ClaudeHook",
            ),
        },
        "/sessions/{name}/token": {
            "parameters": [_NAME],
            "post": _op(
                "A token scoped to this session (admin clients only)",
                _answers("Token", 400, 404, status="201"),
                "MakeToken",
                required=False,
            ),
        },
    },
}


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi)
