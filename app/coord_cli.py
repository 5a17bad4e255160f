"""The agents' verbs, from inside a pane: `msg`, `inbox`, `decide`, `outcome`, `tokens`,
`task submit|list|take|done|capable|distribute`, `trace start|end|list`.

Each acts as an agent: the pane's own session ($AI_SESSION_ID, else $AI_SESSION_NAME, as tmux
takes $TMUX_PANE), or `--agent NAME`. They talk to the instance through app.client (standard
library only: one `ai-session msg` is a new Python each time, and must start fast).
"""

from __future__ import annotations

import json
import os
import sys

from app.cli import _table
from app.client import quote

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms here)
if TYPE_CHECKING:
    from typing import Any

    Argument = tuple[tuple[str, ...], dict[str, Any]]

VERBS = ("msg", "inbox", "decide", "outcome", "tokens", "task", "trace")
TASK_ACTIONS = ("submit", "list", "take", "done", "capable", "distribute")
TRACE_ACTIONS = ("start", "end", "list")
LONG_POLL = 600.0  # seconds one inbox request may wait (the server's bound); --wait alone repeats
TIMED_OUT = 124  # exit status when `inbox --wait` saw nothing (like timeout(1) and `wait`)
NOTHING = 1  # exit status when `task take` found no task the agent can do

_AGENT: Argument = (
    ("--agent",),
    {"help": "act as this agent's session (default: this pane's, $AI_SESSION_NAME)"},
)
_FLAG = {"action": "store_true"}


def arguments(verb: str) -> list[Argument]:
    """A verb's arguments as argparse's add_argument takes them (app.cli builds the parser)."""
    table: dict[str, list[Argument]] = {
        "msg": [
            _AGENT,
            (("--to",), {"help": "the receiving agent's session"}),
            (("--all",), {**_FLAG, "help": "to every agent but this one"}),
            (
                ("--type",),
                {
                    "help": "task_request, task_assignment, data_share (default), "
                    "status_update, broadcast, question, answer"
                },
            ),
            (("--priority",), {"help": "low, normal (default), high, critical"}),
            (("--reply-to",), {"type": int, "help": "the id of the message this answers"}),
            (("--json",), {"help": "the payload as JSON instead of TEXT"}),
            (("text",), {"nargs": "*", "help": "the message (- : read stdin)"}),
        ],
        "inbox": [
            _AGENT,
            (
                ("--wait",),
                {
                    "type": float,
                    "nargs": "?",
                    "const": -1.0,
                    "help": "wait up to SECONDS for a message (no value: until one comes)",
                },
            ),
            (("-n", "--count"), {"type": int, "help": "take at most N messages"}),
            (("--json",), {**_FLAG, "help": "one JSON object a line"}),
        ],
        "decide": [
            _AGENT,
            (("--option",), {"action": "append", "help": "a choice (repeat: two or more)"}),
            (("--selected",), {"help": "the option chosen"}),
            (("--confidence",), {"type": float, "help": "0 to 1"}),
            (("--why",), {"help": "the rationale"}),
            (("--type",), {"help": "approach, tool_selection, ..., generic (default)"}),
            (("--context",), {"action": "append", "help": "KEY=VALUE (repeat)"}),
        ],
        "outcome": [
            _AGENT,
            (("id",), {"help": "the decision's id (decide printed it)"}),
            (("--success",), {**_FLAG, "help": "it worked"}),
            (("--failure",), {**_FLAG, "help": "it did not"}),
            (("--note",), {"help": "what happened"}),
        ],
        "tokens": [
            _AGENT,
            (("--input",), {"type": int, "default": 0, "help": "tokens in (prompt)"}),
            (("--output",), {"type": int, "default": 0, "help": "tokens out (completion)"}),
            (("--model",), {"help": "the model that spent them"}),
            (("--json",), {**_FLAG, "help": "print the usage as JSON"}),
        ],
        "task": [
            _AGENT,
            (("action",), {"choices": TASK_ACTIONS, "help": "what to do"}),
            (
                ("words",),
                {"nargs": "*", "help": "submit: DESCRIPTION; take, done: ID; capable: CAPS"},
            ),
            (("--require",), {"action": "append", "help": "submit: a capability needed"}),
            (("--priority",), {"help": "submit: low, normal (default), high, critical"}),
            (("--effort",), {"type": float, "help": "submit: estimated minutes"}),
            (("--failure",), {**_FLAG, "help": "done: it failed"}),
            (("--note",), {"help": "done: what came of it"}),
            (("--status",), {"help": "list: pending, assigned, done or failed"}),
            (("--json",), {**_FLAG, "help": "list: JSON"}),
        ],
        "trace": [
            _AGENT,
            (("action",), {"choices": TRACE_ACTIONS, "help": "what to do"}),
            (("words",), {"nargs": "*", "help": "start: NAME; end: SPAN_ID"}),
            (("--parent",), {"help": "start: the parent span's id"}),
            (("--meta",), {"action": "append", "help": "start: KEY=VALUE (repeat)"}),
            (("--error",), {**_FLAG, "help": "end: the work failed"}),
            (("--json",), {**_FLAG, "help": "list: JSON"}),
        ],
    }
    return table[verb]


class UsageError(Exception):
    """A command line that cannot work (exit 2, like argparse)."""


def run(client: Any, args: Any) -> int:
    """Run one verb; API errors reach app.cli as ClientError (it prints them)."""
    try:
        return _RUN[args.subcommand](client, args)
    except UsageError as exc:
        print(f"ai-session {args.subcommand}: {exc}", file=sys.stderr)
        return 2


def _me(args: Any, required: bool = True) -> str | None:
    """The agent this command acts as: --agent, else the pane's own session."""
    name = args.agent or os.environ.get("AI_SESSION_ID") or os.environ.get("AI_SESSION_NAME")
    if not name and required:
        raise UsageError(
            "not inside an ai-session pane ($AI_SESSION_NAME is unset): give --agent NAME"
        )
    return name or None


def _pairs(items: list[str] | None, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} wants KEY=VALUE, not {item!r}")
        out[key] = value
    return out


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- messages ------------------------------------------------------------------------------------


def _msg(client: Any, args: Any) -> int:
    me = _me(args)
    if bool(args.to) == bool(args.all):
        raise UsageError("say who gets it: --to NAME or --all")
    if args.json is not None:
        if args.text:
            raise UsageError("give TEXT or --json, not both")
        try:
            payload = json.loads(args.json)
        except ValueError as exc:
            raise UsageError(f"--json is not JSON: {exc}") from None
    elif args.text == ["-"]:
        payload = sys.stdin.read()
    elif args.text:
        payload = " ".join(args.text)
    else:
        raise UsageError("nothing to send: give TEXT, - (stdin) or --json")
    body: dict[str, Any] = {"from": me, "payload": payload}
    if args.all:
        body["all"] = True
    else:
        body["to"] = args.to
    for key, value in (("type", args.type), ("priority", args.priority)):
        if value is not None:
            body[key] = value
    if args.reply_to is not None:
        body["reply_to"] = args.reply_to
    _write(f"{client.request('POST', '/messages', body)['id']}\n")
    return 0


def _line(message: dict[str, Any]) -> str:
    """`#12 10:32:01 alice → bob [question, high] the payload`"""
    payload = message["payload"]
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    when = str(message["time"])[11:19]
    to = message["to"] or "all"
    return (
        f"#{message['id']} {when} {message['from']} → {to} "
        f"[{message['type']}, {message['priority']}] {text}"
    )


def _inbox(client: Any, args: Any) -> int:
    me = _me(args)
    assert me is not None
    path = "/agents/" + quote(me) + "/inbox"
    forever = args.wait is not None and args.wait < 0
    wait = LONG_POLL if forever else (args.wait or 0.0)
    while True:
        params: dict[str, Any] = {"wait": min(wait, LONG_POLL)}
        if args.count is not None:
            params["limit"] = args.count
        answer = client.request("GET", path, params=params)
        messages = answer["messages"]
        if messages or not forever:
            break
    if args.json:
        _write("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages))
    else:
        _write("".join(_line(m) + "\n" for m in messages))
    if answer.get("dropped"):
        print(
            f"ai-session inbox: {answer['dropped']} messages were dropped when the inbox was full",
            file=sys.stderr,
        )
    return TIMED_OUT if not messages and args.wait is not None else 0


# -- decisions and tokens ------------------------------------------------------------------------


def _decide(client: Any, args: Any) -> int:
    me = _me(args)
    if not args.option:
        raise UsageError("give the choices: --option A --option B")
    if args.selected is None or args.confidence is None:
        raise UsageError("give --selected OPTION and --confidence 0..1")
    body: dict[str, Any] = {
        "agent": me,
        "options": args.option,
        "selected": args.selected,
        "confidence": args.confidence,
        "rationale": args.why or "",
        "context": _pairs(args.context, "--context"),
    }
    if args.type:
        body["type"] = args.type
    _write(f"{client.request('POST', '/decisions', body)['id']}\n")
    return 0


def _outcome(client: Any, args: Any) -> int:
    me = _me(args)
    if args.success == args.failure:
        raise UsageError("say how it went: --success or --failure")
    if not str(args.id).isdigit():
        raise UsageError(f"a decision id is a number (decide printed it), not {args.id!r}")
    body: dict[str, Any] = {"agent": me, "success": bool(args.success)}
    if args.note is not None:
        body["note"] = args.note
    client.request("POST", f"/decisions/{args.id}/outcome", body)
    return 0


def _tokens(client: Any, args: Any) -> int:
    me = _me(args)
    body: dict[str, Any] = {"agent": me, "input": args.input, "output": args.output}
    if args.model:
        body["model"] = args.model
    usage = client.request("POST", "/tokens", body)
    if args.json:
        _write(json.dumps(usage) + "\n")
    else:
        _write(
            f"{usage['agent']}: {usage['input']:,} in, {usage['output']:,} out, "
            f"{usage['burn_rate']:,.0f} tokens/min\n"
        )
    return 0


# -- tasks ---------------------------------------------------------------------------------------


def _task(client: Any, args: Any) -> int:
    action = args.action
    if action == "submit":
        return _submit(client, args)
    if action == "list":
        return _list_tasks(client, args)
    if action == "distribute":
        return _distribute(client, args)
    me = _me(args)
    assert me is not None
    if action == "capable":
        if not args.words:
            raise UsageError("name the capabilities: task capable rust api ...")
        answer = client.request(
            "PUT", "/agents/" + quote(me) + "/capabilities", {"capabilities": args.words}
        )
        _write(f"{answer['agent']}: {' '.join(answer['capabilities'])}\n")
        return 0
    if action == "take":
        if args.words:
            task = client.request("POST", f"/tasks/{_task_id(args)}/take", {"agent": me})
        else:
            task = client.request("POST", "/tasks/take", {"agent": me})["task"]
            if task is None:
                print("ai-session task take: no pending task this agent can do", file=sys.stderr)
                return NOTHING
        _write(f"{task['id']}\t{task['description']}\n")
        return 0
    body: dict[str, Any] = {"agent": me, "success": not args.failure}
    if args.note is not None:
        body["note"] = args.note
    client.request("POST", f"/tasks/{_task_id(args)}/done", body)
    return 0


def _task_id(args: Any) -> str:
    if len(args.words) != 1 or not args.words[0].isdigit():
        raise UsageError(f"task {args.action} wants one task id (task list shows them)")
    return str(args.words[0])


def _submit(client: Any, args: Any) -> int:
    if not args.words:
        raise UsageError("describe the task: task submit DESCRIPTION [--require CAP]...")
    body: dict[str, Any] = {"description": " ".join(args.words)}
    me = _me(args, required=False)
    if me:
        body["from"] = me
    if args.require:
        body["requirements"] = args.require
    if args.priority:
        body["priority"] = args.priority
    if args.effort is not None:
        body["estimated_effort"] = args.effort
    _write(f"{client.request('POST', '/tasks', body)['id']}\n")
    return 0


def _list_tasks(client: Any, args: Any) -> int:
    params = {"status": args.status} if args.status else None
    answer = client.request("GET", "/tasks", params=params)
    if args.json:
        _write(json.dumps(answer, ensure_ascii=False) + "\n")
        return 0
    rows = [("ID", "STATUS", "PRIORITY", "AGENT", "NEEDS", "DESCRIPTION")]
    for t in answer["tasks"]:
        rows.append(
            (
                str(t["id"]),
                t["status"],
                t["priority"],
                t["agent"] or "-",
                ",".join(t["requirements"]) or "-",
                t["description"],
            )
        )
    _table(rows)
    return 0


def _distribute(client: Any, args: Any) -> int:
    answer = client.request("POST", "/tasks/distribute", {})
    lines = [
        f"{a['task']['id']}\t→ {a['agent']}\t{a['task']['description']}" for a in answer["assigned"]
    ]
    lines += [f"{u['task']['id']}\tnot assigned: {u['reason']}" for u in answer["unassigned"]]
    _write("".join(line + "\n" for line in lines))
    return 0


# -- traces --------------------------------------------------------------------------------------


def _trace(client: Any, args: Any) -> int:
    if args.action == "list":
        answer = client.request("GET", "/traces")
        if args.json:
            _write(json.dumps(answer, ensure_ascii=False) + "\n")
        else:
            lines: list[str] = []
            for tree in answer["traces"]:
                _tree_lines(tree, 0, lines)
            _write("".join(line + "\n" for line in lines))
        return 0
    if len(args.words) != 1:
        what = "NAME" if args.action == "start" else "SPAN_ID (trace start printed it)"
        raise UsageError(f"trace {args.action} wants one {what}")
    if args.action == "start":
        body: dict[str, Any] = {"name": args.words[0], "metadata": _pairs(args.meta, "--meta")}
        me = _me(args, required=False)
        if me:
            body["agent"] = me
        if args.parent:
            body["parent"] = args.parent
        _write(f"{client.request('POST', '/traces/spans', body)['span_id']}\n")
        return 0
    status = "error" if args.error else "ok"
    client.request("POST", f"/traces/spans/{quote(args.words[0])}/end", {"status": status})
    return 0


def _tree_lines(node: dict[str, Any], depth: int, out: list[str]) -> None:
    took = "" if node["duration"] is None else f" {node['duration']:.3f}s"
    out.append(f"{'  ' * depth}{node['name']} [{node['status']}{took}] {node['span_id']}")
    for child in node["children"]:
        _tree_lines(child, depth + 1, out)


_RUN = {
    "msg": _msg,
    "inbox": _inbox,
    "decide": _decide,
    "outcome": _outcome,
    "tokens": _tokens,
    "task": _task,
    "trace": _trace,
}
