"""Command-line entry points: `ai-session` (the TUI, or a verb) and `ai-session-server`.

`ai-session [--prefix C-a] [--theme T] [-c DIR] [command ...]` starts the multiplexer. With a
verb first (`list`, `exec`, `send-keys`, `events`, ...) it talks to a running instance instead:
through $AI_SESSION_SOCKET inside a pane, the newest instance's control socket outside, or
`--server URL`. `ai-session server` runs the API without a UI (`ai-session-server` is the
seed's name for it).

A verb is one short request, so it must start fast: this module imports only the standard
library at the top, the verbs use the small stdlib client (app.client) and engine.paths, and
Textual, aiohttp and the rest of the engine load only on the TUI and server paths
(`python -X importtime` shows it).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms here)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Argument = tuple[tuple[str, ...], dict[str, Any]]  # argparse's add_argument(*flags, **spec)

# verb -> canonical verb (tmux's long and short names where tmux has the verb)
SUBCOMMANDS = {
    "create": "create",
    "new": "create",
    "new-session": "create",
    "list": "list",
    "ls": "list-sessions",
    "list-sessions": "list-sessions",
    "exec": "exec",
    "kill": "kill",
    "kill-session": "kill",
    "send-keys": "send-keys",
    "send": "send-keys",
    "capture-pane": "capture-pane",
    "capturep": "capture-pane",
    "events": "events",
    "wait": "wait",
    "signal": "signal",
    "respawn": "respawn",
    "respawn-pane": "respawn",
    "server": "server",
    "snapshot": "snapshot",
    "parse": "parse",
    "history": "history",
    "compress": "compress",
    "context": "context",
    "state": "state",
    "agents": "agents",
    "hook": "hook",
    # the agents' verbs (app/coord_cli.py)
    "msg": "msg",
    "inbox": "inbox",
    "decide": "decide",
    "outcome": "outcome",
    "tokens": "tokens",
    "task": "task",
    "trace": "trace",
}
COORD_VERBS = ("msg", "inbox", "decide", "outcome", "tokens", "task", "trace")


def main(argv: list[str] | None = None) -> int:
    argv = _connection_first(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return command_main(argv)
    if argv and not argv[0].startswith("-") and not _runnable(argv[0]):
        verbs = ", ".join(sorted(set(SUBCOMMANDS.values())))
        print(
            f"ai-session: unknown command {argv[0]!r} (not a verb, nor a program on PATH)\n"
            f"verbs: {verbs}; or `ai-session PROGRAM [ARGS]` to run a program in the TUI",
            file=sys.stderr,
        )
        return 2
    return tui_main(argv)


def _connection_first(argv: list[str]) -> list[str]:
    """`ai-session --server URL list` as `ai-session list --server URL`: where to connect may
    come before the verb too (as `tmux -L NAME` does)."""
    given, i = [], 0
    while i < len(argv) and argv[i].split("=", 1)[0] in ("--server", "--socket", "--token"):
        step = 1 if "=" in argv[i] else 2
        given += argv[i : i + step]
        i += step
    if given and i < len(argv) and argv[i] in SUBCOMMANDS:
        return [argv[i], *given, *argv[i + 1 :]]
    return argv


def _runnable(word: str) -> bool:
    """Whether `ai-session WORD ...` means "run WORD in the TUI": a program on PATH, a path, or a
    shell command line in one argument (`ai-session 'make && make test'`, as tmux takes it)."""
    import shutil

    return "/" in word or any(c.isspace() for c in word) or shutil.which(word) is not None


def server_main(argv: list[str] | None = None) -> int:
    """`ai-session-server [--host] [--port] [--token]`: the seed's name for `ai-session server`."""
    return command_main(["server", *(sys.argv[1:] if argv is None else argv)])


def tui_main(argv: list[str]) -> int:
    import argparse
    from pathlib import Path

    from app import textual_env  # noqa: F401  (before anything imports Textual: themes do)
    from app.keymap import parse_key
    from engine.config import SessionConfig
    from themes import DEFAULT_THEME, THEMES

    parser = argparse.ArgumentParser(
        prog="ai-session",
        description="A terminal multiplexer for watching AI agents work. Verbs talk to a "
        f"running instance: {', '.join(sorted(set(SUBCOMMANDS.values())))} "
        "(ai-session VERB --help).",
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="program and arguments to run (default: $SHELL)"
    )
    parser.add_argument("-c", "--cwd", type=Path, default=None, help="working directory")
    parser.add_argument("--no-hints", action="store_true", help="hide the key hint bar")
    parser.add_argument("--prefix", default="C-b", help="prefix key in tmux notation (default C-b)")
    parser.add_argument(
        "--theme", default=DEFAULT_THEME, choices=sorted(THEMES), help="colour theme"
    )
    parser.add_argument(
        "--restore",
        nargs="?",
        const=True,
        default=False,
        metavar="ID",
        help="start from a snapshot (default: the newest workspace snapshot)",
    )
    args = parser.parse_args(argv)
    if args.restore not in (True, False) and not str(args.restore).isdigit():
        parser.error(f"--restore wants a snapshot id, not {args.restore!r}")
    # The app's panes are where agents run: their commands feed a context for the panels
    config = SessionConfig(
        shell_command=_program(args.command), enable_ai_features=True, parse_output=True
    )
    if args.cwd is not None:
        config.working_directory = args.cwd
    try:
        config.validate()
    except Exception as exc:  # a clear message, not a traceback, before the screen is taken
        print(f"ai-session: {exc}", file=sys.stderr)
        return 2
    _reachable_from_panes()
    from app import collector
    from app.main import AiSessionApp  # Textual (and its settings, app.textual_env) load here

    app = AiSessionApp(
        config,
        show_hints=not args.no_hints,
        prefix=parse_key(args.prefix),
        theme=args.theme,
        restore=args.restore if isinstance(args.restore, bool) else int(args.restore),
    )
    collector.rarer_full_passes()  # keys are not kept waiting by the cycle collector
    result = app.run()
    return result or 0


def _program(words: list[str]) -> str | list[str] | None:
    """A pane's command as tmux takes it: one argument is a shell command line (`sh -c`),
    several are the program's argv as is; none is the default shell."""
    if not words:
        return None
    return words[0] if len(words) == 1 and any(c.isspace() for c in words[0]) else list(words)


def _reachable_from_panes() -> None:
    """Programs in the panes call `ai-session list`, `send-keys`, ... (like tmux inside tmux):
    if this command is not on PATH (a venv not activated), its directory goes at the end."""
    import shutil
    from pathlib import Path

    here = Path(sys.argv[0]).resolve().parent
    if shutil.which("ai-session") is None and (here / "ai-session").exists():
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + str(here)


# -- verbs -------------------------------------------------------------------------------------

# argparse.REMAINDER's value: the rest of the command line, options included
REMAINDER = "..."


def _arguments(verb: str) -> list[Argument]:
    """A verb's arguments as argparse's add_argument takes them; both parsers read this."""
    if verb == "server":
        return [
            (("--host",), {"default": "127.0.0.1"}),
            (("--port",), {"type": int, "default": 3000}),
            (("--token",), {"help": "required off loopback ($AI_SESSION_TOKEN)"}),
            (
                ("--token-file",),
                {"help": "read the token from this file (not seen in ps or /proc)"},
            ),
            (("--config",), {"help": "config file ([security] table)"}),
            (
                ("--rate",),
                {"type": float, "default": 1000.0, "help": "requests a second per client"},
            ),
        ]
    if verb == "parse":  # offline: no connection options
        return [
            (
                ("file",),
                {"nargs": "?", "default": "-", "help": "the output to parse (- or none: stdin)"},
            ),
            (("--command",), {"help": "the command line that printed it (picks the parser)"}),
            (("--compact",), {"action": "store_true", "help": "one line of JSON"}),
        ]
    if verb == "snapshot":
        from app.snapshot_cli import arguments as snapshot_arguments

        return [*_CONNECTION, *snapshot_arguments()]
    if verb == "compress":
        from app.compress_cli import arguments as compress_arguments

        return compress_arguments()  # offline: no connection options
    if verb in ("state", "agents", "hook"):
        from app.agent_cli import arguments as agent_arguments

        return [*_CONNECTION, *agent_arguments(verb)]
    if verb in COORD_VERBS:
        from app.coord_cli import arguments as coord_arguments

        return [*_CONNECTION, *coord_arguments(verb)]
    flag = {"action": "store_true"}
    name = (("name",), {"help": "session name or id"})
    target = (("-t", "--target"), {"required": True, "help": "session name or id"})
    timeout = (("--timeout",), {"type": float, "help": "seconds (default: none)"})
    arguments: dict[str, list[Argument]] = {
        "create": [
            (("name",), {"nargs": "?"}),
            (("-c", "--cwd"), {"help": "working directory"}),
            (("--shell",), {"help": "shell to run"}),
        ],
        "list": [],
        "list-sessions": [],
        "exec": [timeout, name, (("command",), {"nargs": REMAINDER})],
        "kill": [name],
        "respawn": [name, (("-k", "--kill"), {**flag, "help": "kill the program if it runs"})],
        "wait": [name, (("--timeout",), {"type": float, "help": "seconds (default: forever)"})],
        "signal": [
            name,
            (("signal",), {"help": "INT, SIGTERM, 15, ..."}),
            (("--session",), {**flag, "help": "every process of the session, not only the job"}),
        ],
        "send-keys": [
            target,
            (("-l", "--literal"), {**flag, "help": "send the keys as plain text"}),
            (("keys",), {"nargs": "+"}),
        ],
        "capture-pane": [
            target,
            (("-p",), {**flag, "help": "print (the only mode; accepted for tmux)"}),
            (("-e",), {**flag, "help": "keep colours and attributes"}),
            (("-J",), {**flag, "help": "join wrapped lines"}),
            (("-S", "--start"), {"help": "first row (negative: history, '-': oldest)"}),
            (("-E", "--end"), {"help": "last row"}),
        ],
        "history": [
            (("-t", "--target"), {"help": "session name or id (default: this pane's)"}),
            (("--failed",), {**flag, "help": "only commands that ended with a non-zero status"}),
            (("--json",), {**flag, "help": "the records as JSON lines, with their output"}),
            (("-n", "--count"), {"type": int, "help": "the newest N (default: 100)"}),
        ],
        "context": [
            (("-t", "--target"), {"help": "session name or id (default: this pane's)"}),
            (("--json",), {**flag, "help": "print the API's JSON"}),
            (("-n", "--count"), {"type": int, "help": "only the newest N messages"}),
            (("-m", "--message"), {"type": int, "help": "print one message in full"}),
        ],
        "events": [
            (
                ("--since",),
                {"type": int, "help": "replay the events after this seq (default: now)"},
            ),
            (("--session",), {"help": "only this session's events (name or id)"}),
            (
                ("-n", "--count"),
                {
                    "type": int,
                    "help": "exit after this many events (notes such as dropped do not count)",
                },
            ),
        ],
    }
    return [*_CONNECTION, *arguments[verb]]


_CONNECTION: list[Argument] = [
    (("--server",), {"help": "talk to this URL instead of the control socket"}),
    (("--socket",), {"help": "control socket path (default: $AI_SESSION_SOCKET)"}),
    (("--token",), {"help": "API token (default: $AI_SESSION_TOKEN)"}),
]


def _dest(flags: tuple[str, ...]) -> str:
    long = [f for f in flags if f.startswith("--")]
    return (long or list(flags))[0].lstrip("-").replace("-", "_")


def _quick_parse(verb: str, argv: list[str]) -> Any:
    """The common case of a verb's command line, parsed without argparse (which costs a call
    ~12 ms here, most of it compiling regular expressions). Options come first, as with tmux,
    `--opt=value` or `--opt value`; anything else (help, errors, `--`, an option after the
    first word) returns None and argparse parses it, with its messages."""
    import types

    arguments = _arguments(verb)
    values: dict[str, Any] = {}
    options: dict[str, tuple[str, dict[str, Any]]] = {}
    positionals = []
    for flags, spec in arguments:
        dest = _dest(flags)
        values[dest] = spec.get("default", False if spec.get("action") == "store_true" else None)
        if flags[0].startswith("-"):
            options.update(dict.fromkeys(flags, (dest, spec)))
        else:
            positionals.append((dest, spec))
    at = 0
    while at < len(argv) and argv[at].startswith("-") and argv[at] != "-":
        word, has_value, value = argv[at].partition("=")
        if word not in options:
            return None
        dest, spec = options[word]
        action = spec.get("action")
        if action == "store_true":
            if has_value:
                return None
            values[dest] = True
        elif action not in (None, "append"):
            return None
        else:
            if not has_value:
                at += 1
                if at == len(argv) or not _plain_value(argv[at]):
                    return None
                value = argv[at]
            try:
                converted = spec.get("type", str)(value)
            except ValueError:
                return None
            values[dest] = [*(values[dest] or []), converted] if action else converted
        at += 1
    words = argv[at:]
    if any(w.startswith("-") and w != "-" for w in words) and not (
        positionals and positionals[-1][1].get("nargs") == REMAINDER
    ):
        return None
    for dest, spec in positionals:
        nargs = spec.get("nargs")
        if nargs is None and words:
            values[dest], words = words[0], words[1:]
        elif nargs == "?":
            values[dest], words = (words[0], words[1:]) if words else (spec.get("default"), [])
        elif nargs in ("+", "*", REMAINDER) and (words or nargs != "+"):
            values[dest], words = words, []
        else:
            return None
        if nargs == REMAINDER and values[dest][:1] == ["--"]:
            return None  # argparse's own handling of `--`
    if words or any(
        (spec.get("required") and values[_dest(flags)] is None)
        or ("choices" in spec and values[_dest(flags)] not in spec["choices"])
        for flags, spec in arguments
    ):
        return None
    return types.SimpleNamespace(**values)


def _plain_value(word: str) -> bool:
    """A word argparse takes as an option's value: not option-like, or `-`, or a negative
    number (`-S -100`)."""
    return not word.startswith("-") or word == "-" or word[1:].replace(".", "", 1).isdigit()


def _parser(verb: str) -> Any:
    """The argparse parser of one verb: help, errors and what `_quick_parse` leaves to it."""
    import argparse

    class Formatter(argparse.HelpFormatter):
        """argparse's, with the width from os: its own asks shutil, which costs ~8 ms to import
        (argparse makes a formatter for every add_argument)."""

        def __init__(self, prog: str) -> None:
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns - 2
            except (OSError, ValueError):
                width = 78
            super().__init__(prog, width=max(40, width))

    parser = argparse.ArgumentParser(
        prog=f"ai-session {verb}", description=_HELP[verb], formatter_class=Formatter
    )
    if verb == "create":
        parser.usage = "ai-session create [NAME] [-c DIR] [--shell SHELL] [-- COMMAND ...]"
    for flags, spec in _arguments(verb):
        parser.add_argument(*flags, **spec)
    return parser


_HELP = {
    "create": "create and start a session; print its name",
    "list": "sessions as a table",
    "list-sessions": "sessions, one line each (tmux)",
    "exec": "run a command at the session's shell prompt, print its output, exit with its code",
    "kill": "stop and forget a session",
    "send-keys": "type keys (tmux names) into a pane",
    "capture-pane": "print a pane's screen",
    "events": "print the instance's events as JSON lines, as they happen",
    "wait": "wait for a session's program to exit; exit with its code (124 on timeout)",
    "signal": "send a signal to a session's foreground job (or, --session, all of it)",
    "respawn": "start a session's program again (-k: kill it first if it still runs)",
    "server": "serve the API without a UI",
    "snapshot": "take, list, show, restore, delete or export (asciicast) snapshots",
    "parse": "print the facts in a command's output as JSON (tests, builds, git, ...; offline)",
    "history": "the commands a session's shell ran: seq, exit code, duration, cwd, command",
    "compress": "compress a terminal log (file or stdin) for a reader or a model; offline",
    "context": "a session's AI context: token and storage figures, then its messages",
    "state": "report this pane's agent state (working, waiting --question Q, idle)",
    "agents": "every pane's agent state: waiting on what, since when, tokens",
    "hook": "take a Claude Code hook's JSON on stdin (point Claude Code's hooks here)",
    "msg": "send a message to another agent (--to NAME) or to all (--all); print its id",
    "inbox": "take this agent's messages, highest priority first (--wait: wait for one; "
    "exits 124 when none came)",
    "decide": "log a decision: --option A --option B --selected A --confidence 0.8 --why ...; "
    "print its id",
    "outcome": "the outcome of a decision: ID --success or --failure [--note ...]",
    "tokens": "report tokens this agent spent: --input N --output N [--model M]; without "
    "them, what it spent so far",
    "task": "tasks by capability: submit DESCRIPTION [--require CAP]..., list, take [ID] (the "
    "best one this agent can do; exits 1 when none), done ID [--failure] [--note ...], "
    "capable CAP... (declare what this agent can do), distribute",
    "trace": "trace spans: start NAME [--parent ID] [--meta k=v] (prints the span id), "
    "end ID [--error], list",
}


def parse(verb: str, argv: list[str]) -> Any:
    """A verb's arguments: the quick parser's, else argparse's (which exits 2 on an error)."""
    args = _quick_parse(verb, argv)
    if args is not None:
        return args
    parser = _parser(verb)  # `snapshot show --ansi 3`: options between the positionals
    if verb == "snapshot" or verb in COORD_VERBS:
        return parser.parse_intermixed_args(argv)
    return parser.parse_args(argv)


def command_main(argv: list[str]) -> int:
    verb = SUBCOMMANDS[argv[0]]
    rest = argv[1:]
    command: list[str] = []
    if verb == "create" and "--" in rest:  # what follows `--` is the program to run
        cut = rest.index("--")
        rest, command = rest[:cut], rest[cut + 1 :]
    args = parse(verb, rest)
    args.subcommand = verb
    if verb == "create":
        args.command = command
    if verb == "server":
        return _serve(args)
    if verb == "snapshot":
        from app.snapshot_cli import run as snapshot

        return snapshot(args)
    if verb == "parse":
        return _parse_output(args)
    if verb == "compress":
        from app.compress_cli import run as compress

        return compress(args)
    if verb in ("state", "agents", "hook"):
        from app.agent_cli import run as agent_verb

        return agent_verb(args)
    from app.client import Client, ClientError

    try:
        return _VERBS[verb](Client(args.server, args.socket, args.token), args)
    except ClientError as exc:
        print(f"ai-session: {_describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ai-session events | head`
        sys.stderr.close()
        return 0


def _parse_output(args: Any) -> int:
    """`ai-session parse [FILE|-] [--command CMD] [--compact]`: engine.output's facts as JSON.
    Needs no instance. Reads at most the head and tail the parser would look at."""
    import json

    from engine.output import OutputParser

    try:
        if args.file == "-":
            data, cut = _read_capped(sys.stdin.buffer)
        else:
            with open(args.file, "rb") as stream:
                data, cut = _read_capped(stream)
    except OSError as exc:
        print(f"ai-session parse: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if b"\0" in data:
        print(f"ai-session parse: {args.file} looks binary (NUL bytes), not text", file=sys.stderr)
        return 1
    result = OutputParser().parse(data.decode("utf-8", "replace"), args.command)
    result.truncated = result.truncated or cut
    if args.compact:
        out = json.dumps(result.to_dict(), ensure_ascii=False, separators=(",", ":"))
    else:
        out = json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
    try:
        _write(out + "\n")
    except BrokenPipeError:  # `ai-session parse log | head`
        sys.stderr.close()
    return 0


PARSE_HEAD = 2 << 20  # bytes of head and of tail `parse` reads (the parser's own cap, in bytes)


def _read_capped(stream: Any) -> tuple[bytes, bool]:
    """A stream's bytes, or its first and last PARSE_HEAD when longer (and True), in bounded
    memory."""
    head = stream.read(PARSE_HEAD)
    tail = b""
    total = len(head)
    while chunk := stream.read(1 << 20):
        total += len(chunk)
        tail = (tail + chunk)[-PARSE_HEAD:]
    if total == len(head) + len(tail):
        return head + tail, False
    return head + b"\n" + tail, True


def _describe(exc: Any) -> str:
    """One line for an error: the API's message (which names what runs when a session is busy)
    and code."""
    message = str(exc)
    if exc.code == "SESSION_BUSY":
        message += "; exec runs only at an empty shell prompt"
    return f"{message} ({exc.code})" if exc.code else message


def _create(client: Any, args: Any) -> int:
    from pathlib import Path

    body: dict[str, Any] = {"working_directory": str(Path(args.cwd or os.getcwd()).resolve())}
    if args.name:
        body["name"] = args.name
    if args.shell:
        body["shell"] = args.shell
    if args.command:
        body["command"] = _program(args.command)
    created = client.request("POST", "/sessions", body)
    print(created["name"])
    return 0


def _list(client: Any, args: Any) -> int:
    sessions = client.request("GET", "/sessions")["sessions"]
    if args.subcommand == "list-sessions":
        lines = []
        for s in sessions:
            lines.append(
                f"{s['name']}: {s.get('command') or '-'} [{s['columns']}x{s['lines']}] "
                f"({_state(s)})"
            )
        _write("".join(line + "\n" for line in lines))
        return 0
    rows = [("NAME", "STATUS", "PID", "COMMAND", "SIZE", "CREATED")]
    for s in sessions:
        rows.append(
            (
                s["name"],
                _state(s),
                str(s.get("pid") or "-"),
                s.get("command") or "-",
                f"{s['columns']}x{s['lines']}",
                s.get("created_at") or "-",
            )
        )
    _table(rows)
    return 0


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    """Rows as columns padded to their widest cell (the first row is the header)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    _write(
        "".join(
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n"
            for r in rows
        )
    )


def _state(summary: dict[str, Any]) -> str:
    """`running`, `exited 1`, `exited SIGKILL`: the status, and how the program ended."""
    state = str(summary["status"]).lower()
    if summary.get("signal"):
        return f"{state} {summary['signal']}"
    if summary.get("exit_code") is not None:
        return f"{state} {summary['exit_code']}"
    return state


def _exec(client: Any, args: Any) -> int:
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        print("ai-session exec: give a command to run", file=sys.stderr)
        return 2
    if not _seconds(args.timeout):
        return 2
    body: dict[str, Any] = {"command": " ".join(args.command)}
    if args.timeout is not None:
        body["timeout_ms"] = max(1, int(args.timeout * 1000))
    result = client.request("POST", _session(args.name, "execute"), body)
    _write(result["output"])  # as the command wrote it: `printf abc` gives abc
    if result["timed_out"]:
        print(f"ai-session: {result['error']}", file=sys.stderr)
        return 124
    return int(result["exit_code"]) if result["exit_code"] is not None else 1


def _seconds(value: float | None) -> bool:
    """A `--timeout` that means something (not NaN, infinite or negative); else say so."""
    if value is None or 0 <= value < float("inf"):
        return True
    print(f"ai-session: --timeout wants a number of seconds, not {value}", file=sys.stderr)
    return False


def _kill(client: Any, args: Any) -> int:
    client.request("DELETE", _session(args.name))
    return 0


def _send_keys(client: Any, args: Any) -> int:
    client.request(
        "POST", _session(args.target, "input"), {"keys": args.keys, "literal": args.literal}
    )
    return 0


def _capture(client: Any, args: Any) -> int:
    params = {"ansi": "1" if args.e else "0", "start": args.start, "end": args.end}
    if args.J:
        params["join_wrapped"] = "1"
    _write(client.request("GET", _session(args.target, "screen"), params=params)["screen"] + "\n")
    return 0


def _events(client: Any, args: Any) -> int:
    """Long-poll `GET /events` and print each event as it comes; after a dropped connection
    carry on from the last seq seen, so nothing is missed or printed twice. When the instance
    restarted (a new `instance`; its seqs count from 1 again) say so with
    `{"type": "restarted"}` and print the new instance's events from its first."""
    import json
    import time

    since = args.since
    first = client.request("GET", "/events", params={"wait": 0})
    instance = first.get("instance")
    if since is None:  # from now on: without `since` the server answers where the log is
        since = int(first["last_seq"])
    left = args.count
    gone_since = None  # when the instance stopped answering
    while left is None or left > 0:
        try:
            page = client.request(
                "GET", "/events", params={"since": since, "wait": 25, "instance": instance}
            )
        except Exception as exc:
            if getattr(exc, "status", 1):  # an API error: not a dropped connection
                raise
            now = time.monotonic()
            gone_since = gone_since or now
            if now - gone_since > RECONNECT:
                raise
            time.sleep(0.2)
            if not (args.server or args.socket):  # a new instance has a socket of its own
                import contextlib

                from app.client import Client, ClientError

                with contextlib.suppress(ClientError):  # none yet: keep trying
                    client = Client(None, None, args.token)
            continue
        gone_since = None
        out: list[dict[str, Any]] = []
        if page.get("instance") != instance:  # its page starts at its first event
            instance = page.get("instance")
            out.append({"type": "restarted", "instance": instance})
            since = 0
        if page.get("dropped"):
            out.append({"type": "dropped", "count": page["dropped"]})
        for event in page["events"]:
            since = max(since, int(event["seq"]))
            if args.session is None or args.session in (
                event.get("session"),
                event.get("session_id"),
            ):
                out.append(event)
        since = max(since, int(page.get("last_seq", since)))
        if left is not None:  # -n counts events, not the notes about them (dropped, restarted)
            kept: list[dict[str, Any]] = []
            for event in out:
                if "seq" in event:
                    if left == 0:
                        break
                    left -= 1
                kept.append(event)
            out = kept
        if out:
            _write("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in out))
            sys.stdout.flush()
    return 0


RECONNECT = 30.0  # seconds `events` keeps trying to reach a restarting instance


def _wait(client: Any, args: Any) -> int:
    import time

    if not _seconds(args.timeout):
        return 2
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:  # long polls of a minute at most: the server takes an hour at most
        left = 60.0 if deadline is None else min(60.0, max(0.0, deadline - time.monotonic()))
        summary = client.request("GET", _session(args.name, "wait"), params={"timeout": left})
        if summary.get("exited", str(summary.get("status")).lower() == "exited"):
            break
        if deadline is not None and time.monotonic() >= deadline:
            print(f"ai-session: {args.name} still runs after {args.timeout:g} s", file=sys.stderr)
            return 124
    if summary.get("signal"):
        import signal

        name = str(summary["signal"])
        try:
            return 128 + int(signal.Signals[name if name.startswith("SIG") else "SIG" + name])
        except KeyError:
            return 128
    code = summary.get("exit_code")
    return int(code) if code is not None else 1


def _history(client: Any, args: Any) -> int:
    """A session's command records: a table, or JSON lines (--json, output included)."""
    import json

    name = _this_session(args, "history")
    if not name:
        return 2
    if args.count is not None and args.count < 1:
        print("ai-session history: -n wants a count of 1 or more", file=sys.stderr)
        return 2
    params = {"failed": "1" if args.failed else "0", "output": "1" if args.json else "0"}
    if args.count is not None:
        params["limit"] = str(args.count)
    commands = client.request("GET", _session(name, "history"), params=params)["commands"]
    if args.json:
        _write("".join(json.dumps(c, separators=(",", ":")) + "\n" for c in commands))
        return 0
    rows = [("SEQ", "EXIT", "TIME", "CWD", "COMMAND")]
    for c in commands:
        duration = c.get("duration")
        rows.append(
            (
                str(c["seq"]),
                "-" if c.get("exit_code") is None else str(c["exit_code"]),
                "-" if duration is None else f"{duration:.2f}s",
                c.get("cwd") or "-",
                " ".join(str(c["command"]).split("\n"))[:200],
            )
        )
    _table(rows)
    return 0


def _signal(client: Any, args: Any) -> int:
    sig: str | int = int(args.signal) if args.signal.isdigit() else args.signal.upper()
    body = {"signal": sig, "target": "session" if args.session else "foreground"}
    client.request("POST", _session(args.name, "signal"), body)
    return 0


def _respawn(client: Any, args: Any) -> int:
    client.request("POST", _session(args.name, "respawn"), {"kill": args.kill})
    return 0


def _this_session(args: Any, verb: str) -> str | None:
    """`-t`, else the pane's own session (as tmux takes `$TMUX_PANE`); None, said, outside."""
    name = args.target or os.environ.get("AI_SESSION_ID") or os.environ.get("AI_SESSION_NAME")
    if not name:
        print(
            f"ai-session {verb}: give a session with -t NAME (outside a pane there is no "
            "current session)",
            file=sys.stderr,
        )
    return name or None


def _context(client: Any, args: Any) -> int:
    import json

    target = _this_session(args, "context")
    if not target:
        return 2
    if args.message is not None:
        answer = client.request("GET", _session(target, "context", str(args.message)))
        if args.json:
            _write(json.dumps(answer, indent=2) + "\n")
        else:
            _write(answer["message"]["content"].rstrip("\n") + "\n")
        return 0
    params = {} if args.count is None else {"limit": args.count}
    answer = client.request("GET", _session(target, "context"), params=params)
    if args.json:
        _write(json.dumps(answer, indent=2) + "\n")
        return 0
    _write(_context_text(answer))
    return 0


def _context_text(answer: dict[str, Any]) -> str:
    """The figures, labelled apart, then one line per message: id, role, time, tokens and
    its first line (a summary says which messages it stands for)."""
    summary, config = answer["summary"], answer["config"]
    tokens, storage = summary["tokens"], summary["storage"]
    counted = "estimated" if tokens["estimated"] else tokens["encoding"]
    lines = [
        f"{answer['session']}: {summary['messages']} messages, {tokens['current']:,} of "
        f"{config['max_tokens']:,} tokens ({counted}), {summary['compressions']} compressions",
        f"token reduction {tokens['reduction']:.1%}: {tokens['original']:,} tokens added, "
        f"{tokens['saved']:,} saved",
        f"storage: {storage['archived_messages']} originals archived, "
        f"{storage['original_bytes']:,} bytes -> {storage['zstd_bytes']:,} with zstd "
        f"({storage['ratio']:.1f}x)",
    ]
    for message in answer["messages"]:
        first = message["content"].split("\n", 1)[0]
        covers = message["summary_of"]
        role = f"summary of {len(covers)}" if covers else message["role"]
        lines.append(
            f"#{message['id']:<4} {message['timestamp'][11:19]} {role:<14} "
            f"{message['token_count'] or 0:>6} tok  {first[:100]}"
        )
    return "\n".join(lines) + "\n"


def _session(name: str, *rest: str) -> str:
    from app.client import session_path

    return session_path(name, *rest)


def _write(text: str) -> None:
    sys.stdout.write(text)


def _coordination(client: Any, args: Any) -> int:
    from app.coord_cli import run

    return run(client, args)


_VERBS: dict[str, Callable[[Any, Any], int]] = {
    "create": _create,
    "list": _list,
    "list-sessions": _list,
    "exec": _exec,
    "kill": _kill,
    "send-keys": _send_keys,
    "capture-pane": _capture,
    "events": _events,
    "wait": _wait,
    "history": _history,
    "signal": _signal,
    "respawn": _respawn,
    "context": _context,
    **dict.fromkeys(COORD_VERBS, _coordination),
}


def _serve(args: Any) -> int:
    import asyncio
    import contextlib
    import signal
    from pathlib import Path

    from engine import SessionManager
    from engine.paths import default_socket_path
    from engine.security import (
        AuditLog,
        RateLimit,
        SecurityPolicy,
        default_audit_path,
        default_config_path,
    )
    from engine.server import Server, check_bind, create_app

    if args.config is not None:
        args.config = Path(args.config)
    token = args.token or os.environ.get("AI_SESSION_TOKEN")
    try:
        if args.token_file is not None:
            # A command line is readable by every user (ps), the environment by every process
            # of ours (/proc/PID/environ): a file of mode 0600 is neither.
            try:
                token = Path(args.token_file).read_text().strip()
                shared = Path(args.token_file).stat().st_mode & 0o077
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"cannot read --token-file {args.token_file}: {exc}") from None
            if shared:
                print(
                    f"ai-session server: warning: --token-file {args.token_file} can be read by "
                    "other users; chmod 600 it",
                    file=sys.stderr,
                )
            if not token:
                raise ValueError(f"--token-file {args.token_file} is empty")
        check_bind(args.host, token)
        if args.rate <= 0:
            raise ValueError("--rate must be more than 0")
        # A file named on the command line must be there; the default one need not.
        policy = SecurityPolicy.load(
            args.config or default_config_path(), required=args.config is not None
        )
    except ValueError as exc:
        print(f"ai-session server: {exc}", file=sys.stderr)
        return 2
    audit = AuditLog(default_audit_path())

    async def run() -> int:
        from app.snapshots import new_instance
        from engine.snapshots import Snapshotter
        from engine.store import Store, StoreError

        manager = SessionManager()
        limit = RateLimit(args.rate, max(1, int(args.rate * 2)))
        store = None
        try:
            store = await Store.open()
        except StoreError as exc:  # the API serves on; snapshots answer SNAPSHOTS_OFF
            print(f"ai-session server: snapshots are off: {exc}", file=sys.stderr)
        snapshotter = Snapshotter(manager, store, instance=new_instance())
        server = Server(
            create_app(
                manager,
                policy=policy,
                rate_limit=limit,
                audit=audit,
                token=token,
                on_created=snapshotter.watch,
                snapshots=snapshotter,
            )
        )
        await snapshotter.load_records()  # before any client can make a record
        snapshotter.start()
        try:
            socket_path = default_socket_path()
            manager.socket_path = str(socket_path)
            await server.start(socket_path, args.host, args.port)
        except OSError as exc:
            print(
                f"ai-session server: cannot listen on {args.host}:{args.port}: {exc}",
                file=sys.stderr,
            )
            await server.close()
            await snapshotter.close(final=False)
            return 1
        host, port = server.tcp_address or (args.host, args.port)
        print(f"ai-session server: http://{host}:{port} and {socket_path}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.close()
            await snapshotter.close(final=True)
            await manager.close()
        return 0

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
