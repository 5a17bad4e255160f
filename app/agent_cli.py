"""The agent verbs: `ai-session state working|waiting|idle [--reason R] [--question Q]`,
`ai-session agents [--json]` and `ai-session hook claude`.

Inside a pane the session is the pane's own ($AI_SESSION_ID / $AI_SESSION_NAME, as tmux takes
$TMUX_PANE); `-t NAME` names another. `hook claude` is what Claude Code's hooks run: it reads
the hook's JSON on stdin and passes it to the instance; it prints nothing on stdout (Claude
Code reads some hooks' stdout) and always exits 0, with a one-line note on stderr when it could
not deliver, so a missing instance never breaks Claude Code. Standard library and app.client
only (each call is a new process).
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from app.client import Client

VERBS = ("state", "agents", "hook")
MAX_HOOK_INPUT = 1 << 20  # bytes of hook JSON read from stdin (the API's body limit)
_TARGET = (("-t", "--target"), {"help": "session name or id (default: this pane's)"})


def arguments(verb: str) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    if verb == "state":
        return [
            _TARGET,
            (("--reason",), {"help": "why (default: reported)"}),
            (("--question",), {"help": "what it waits on (with waiting)"}),
            (("state",), {"choices": ["working", "waiting", "idle"], "help": "the state"}),
        ]
    if verb == "agents":
        return [(("--json",), {"action": "store_true", "help": "print the API's JSON"})]
    return [_TARGET, (("kind",), {"choices": ["claude"], "help": "whose hook (claude)"})]


def run(args: Any) -> int:
    """Run `args.subcommand`; exit status as the CLI returns it."""
    from app.client import Client, ClientError

    if args.subcommand == "hook":
        return _hook(args)
    try:
        client = Client(args.server, args.socket, args.token)
        if args.subcommand == "state":
            return _state(client, args)
        return _agents(client, args)
    except ClientError as exc:
        message = f"{exc} ({exc.code})" if exc.code else str(exc)
        print(f"ai-session {args.subcommand}: {message}", file=sys.stderr)
        return 1


def _path(name: str, *rest: str) -> str:
    from app.client import quote

    return "/agents/" + quote(name) + "".join("/" + part for part in rest)


def _state(client: Client, args: Any) -> int:
    from app.cli import _this_session

    target = _this_session(args, "state")
    if not target:
        return 2
    body = {"state": args.state}
    if args.reason is not None:
        body["reason"] = args.reason
    if args.question is not None:
        body["question"] = args.question
    client.request("POST", _path(target, "state"), body)
    return 0


def _agents(client: Client, args: Any) -> int:
    answer = client.request("GET", "/agents")
    if args.json:
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
        return 0
    from app.cli import _table

    _table(rows(answer["agents"]))
    return 0


def rows(agents: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per agent: name, state, since, agent CLI, tokens in/out and context used, and
    why or what it waits on (the first row is the header)."""
    out: list[tuple[str, ...]] = [("NAME", "STATE", "SINCE", "AGENT", "TOKENS", "WHY")]
    for agent in agents:
        tokens = agent.get("tokens")
        spent = "-"
        if tokens:
            spent = f"{tokens['input'] + tokens['cache_read'] + tokens['cache_write']:,}/"
            spent += f"{tokens['output']:,}"
            if tokens.get("context_used") and tokens.get("context_window"):
                spent += f" ({tokens['context_used'] / tokens['context_window']:.0%})"
        reason, question = agent.get("reason"), agent.get("question")
        why = f"{reason}: {question}" if reason and question else question or reason or ""
        kind = agent.get("kind") or agent.get("command") or "-"
        out.append((agent["session"], agent["state"], agent["since"][11:19], kind, spent, why))
    return out


def _hook(args: Any) -> int:
    """Claude Code's hook: deliver stdin's JSON, never fail (exit 0, a note on stderr)."""
    import os

    from app.client import Client, ClientError

    try:
        raw = sys.stdin.buffer.read(MAX_HOOK_INPUT + 1)
    except (OSError, ValueError):
        raw = b""
    target = args.target or os.environ.get("AI_SESSION_ID") or os.environ.get("AI_SESSION_NAME")
    if not target:
        return _note("not inside an ai-session pane (no $AI_SESSION_NAME) and no -t; ignored")
    if len(raw) > MAX_HOOK_INPUT:
        return _note(f"hook input over {MAX_HOOK_INPUT} bytes; ignored")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return _note("the hook input is not JSON; ignored")
    try:
        client = Client(args.server, args.socket, args.token)
        client.request("POST", _path(target, "hook"), payload, params={"kind": args.kind})
    except ClientError as exc:
        return _note(str(exc))
    except Exception as exc:  # whatever happens, Claude Code goes on
        return _note(f"{type(exc).__name__}: {exc}")
    return 0


def _note(text: str) -> int:
    print(f"ai-session hook: {text.splitlines()[0] if text else 'failed'}", file=sys.stderr)
    return 0
