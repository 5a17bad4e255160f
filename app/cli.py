"""Command-line entry points: `ai-session` (the TUI, or a subcommand) and `ai-session-server`.

`ai-session [--prefix C-a] [--theme T] [-c DIR] [command ...]` starts the multiplexer. With a
subcommand first (`list`, `exec`, `send-keys`, ...) it talks to a running instance instead:
through $AI_SESSION_SOCKET inside a pane, the newest instance's control socket outside, or
`--server URL`. `ai-session server` runs the API without a UI (`ai-session-server` is the
seed's name for it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import sys
import urllib.parse
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from engine import SessionConfig

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
    "server": "server",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        return command_main(argv)
    return tui_main(argv)


def server_main(argv: list[str] | None = None) -> int:
    """`ai-session-server [--host] [--port] [--token]`: the seed's name for `ai-session server`."""
    return command_main(["server", *(sys.argv[1:] if argv is None else argv)])


def tui_main(argv: list[str]) -> int:
    from app.keymap import parse_key
    from themes import DEFAULT_THEME, THEMES

    parser = argparse.ArgumentParser(
        prog="ai-session",
        description="A terminal multiplexer for watching AI agents work. Subcommands talk to a "
        f"running instance: {', '.join(sorted(set(SUBCOMMANDS.values())))} "
        "(ai-session SUBCOMMAND --help).",
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
    args = parser.parse_args(argv)
    config = SessionConfig(shell_command=shlex.join(args.command) if args.command else None)
    if args.cwd is not None:
        config.working_directory = args.cwd
    try:
        config.validate()
    except Exception as exc:  # a clear message, not a traceback, before the screen is taken
        print(f"ai-session: {exc}", file=sys.stderr)
        return 2
    _reachable_from_panes()
    from app.main import AiSessionApp

    app = AiSessionApp(
        config, show_hints=not args.no_hints, prefix=parse_key(args.prefix), theme=args.theme
    )
    result = app.run()
    return result or 0


def _reachable_from_panes() -> None:
    """Programs in the panes call `ai-session list`, `send-keys`, ... (like tmux inside tmux):
    if this command is not on PATH (a venv not activated), its directory goes at the end."""
    here = Path(sys.argv[0]).resolve().parent
    if shutil.which("ai-session") is None and (here / "ai-session").exists():
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + str(here)


# -- subcommands -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", help="talk to this URL instead of the control socket")
    common.add_argument("--socket", help="control socket path (default: $AI_SESSION_SOCKET)")
    common.add_argument("--token", help="API token (default: $AI_SESSION_TOKEN)")
    parser = argparse.ArgumentParser(prog="ai-session")
    sub = parser.add_subparsers(dest="subcommand", required=True)

    p = sub.add_parser(
        "create",
        parents=[common],
        help="create and start a session",
        usage="ai-session create [NAME] [-c DIR] [--shell SHELL] [-- COMMAND ...]",
    )
    p.add_argument("name", nargs="?")
    p.add_argument("-c", "--cwd", help="working directory")
    p.add_argument("--shell", help="shell to run")

    sub.add_parser("list", parents=[common], help="sessions as a table")
    sub.add_parser("list-sessions", parents=[common], help="sessions, one line each (tmux)")

    p = sub.add_parser("exec", parents=[common], help="run a command, print its output")
    p.add_argument("name")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")

    p = sub.add_parser("kill", parents=[common], help="stop and forget a session")
    p.add_argument("name")

    p = sub.add_parser("send-keys", parents=[common], help="type keys (tmux names) into a pane")
    p.add_argument("-t", "--target", required=True)
    p.add_argument("-l", "--literal", action="store_true", help="send the keys as plain text")
    p.add_argument("keys", nargs="+")

    p = sub.add_parser("capture-pane", parents=[common], help="print a pane's screen")
    p.add_argument("-t", "--target", required=True)
    p.add_argument("-p", action="store_true", help="print (the only mode; accepted for tmux)")
    p.add_argument("-e", action="store_true", help="keep colours and attributes")
    p.add_argument("-S", "--start", help="first row (negative: history, '-': oldest)")
    p.add_argument("-E", "--end", help="last row")

    p = sub.add_parser("server", help="serve the API without a UI")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--token", default=None, help="required off loopback ($AI_SESSION_TOKEN)")
    p.add_argument("--config", type=Path, default=None, help="config file ([security] table)")
    p.add_argument("--rate", type=float, default=50.0, help="requests a second per client")
    return parser


def command_main(argv: list[str]) -> int:
    argv = [SUBCOMMANDS[argv[0]], *argv[1:]]
    command: list[str] = []
    if argv[0] == "create" and "--" in argv:  # what follows `--` is the program to run
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = _parser().parse_args(argv)
    if args.subcommand == "create":
        args.command = command
    if args.subcommand == "server":
        return _serve(args)
    from app.client import ClientError

    try:
        return asyncio.run(_COMMANDS[args.subcommand](args))
    except ClientError as exc:
        code = f" ({exc.code})" if exc.code else ""
        print(f"ai-session: {exc}{code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _client(args: argparse.Namespace) -> Any:
    from app.client import Client

    return Client(server=args.server, socket=args.socket, token=args.token)


async def _create(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"working_directory": str(Path(args.cwd or os.getcwd()).resolve())}
    if args.name:
        body["name"] = args.name
    if args.shell:
        body["shell"] = args.shell
    if args.command:
        body["command"] = shlex.join(args.command)
    async with _client(args) as client:
        session = await client.request("POST", "/sessions", body)
    print(session["name"])
    return 0


async def _list(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        data = await client.request("GET", "/sessions")
    if args.subcommand == "list-sessions":
        for s in data["sessions"]:
            state = s["status"].lower() + (
                f" {s['exit_code']}" if s["exit_code"] is not None else ""
            )
            print(f"{s['name']}: {s['command'] or '-'} [{s['columns']}x{s['lines']}] ({state})")
        return 0
    rows = [("NAME", "STATUS", "PID", "COMMAND", "SIZE", "CREATED")]
    for s in data["sessions"]:
        rows.append(
            (
                s["name"],
                s["status"].lower(),
                str(s["pid"] or "-"),
                s["command"] or "-",
                f"{s['columns']}x{s['lines']}",
                s["created_at"],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _path(name: str) -> str:
    """A session name as one URL path segment, whatever it holds."""
    return "/sessions/" + urllib.parse.quote(name, safe="")


async def _exec(args: argparse.Namespace) -> int:
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        print("ai-session exec: give a command to run", file=sys.stderr)
        return 2
    body: dict[str, Any] = {"command": " ".join(args.command)}
    if args.timeout is not None:
        body["timeout_ms"] = max(1, int(args.timeout * 1000))
    async with _client(args) as client:
        result = await client.request("POST", _path(args.name) + "/execute", body)
    out = result["output"]
    sys.stdout.write(out if not out or out.endswith("\n") else out + "\n")
    if result["timed_out"]:
        print("ai-session: timed out; the command was interrupted", file=sys.stderr)
        return 124
    return int(result["exit_code"]) if result["exit_code"] is not None else 1


async def _kill(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        await client.request("DELETE", _path(args.name))
    return 0


async def _send_keys(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        await client.request(
            "POST", _path(args.target) + "/input", {"keys": args.keys, "literal": args.literal}
        )
    return 0


async def _capture(args: argparse.Namespace) -> int:
    params = {"ansi": "1" if args.e else "0"}
    if args.start is not None:
        params["start"] = args.start
    if args.end is not None:
        params["end"] = args.end
    async with _client(args) as client:
        data = await client.request("GET", _path(args.target) + "/screen", **params)
    print(data["screen"])
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "create": _create,
    "list": _list,
    "list-sessions": _list,
    "exec": _exec,
    "kill": _kill,
    "send-keys": _send_keys,
    "capture-pane": _capture,
}


def _serve(args: argparse.Namespace) -> int:
    from engine import SessionManager
    from engine.security import (
        AuditLog,
        RateLimit,
        SecurityPolicy,
        default_audit_path,
        default_config_path,
    )
    from engine.server import Server, check_bind, create_app, default_socket_path

    token = args.token or os.environ.get("AI_SESSION_TOKEN")
    try:
        check_bind(args.host, token)
        if args.rate <= 0:
            raise ValueError("--rate must be more than 0")
        policy = SecurityPolicy.load(args.config or default_config_path())
    except ValueError as exc:
        print(f"ai-session server: {exc}", file=sys.stderr)
        return 2
    audit = AuditLog(default_audit_path())

    async def run() -> int:
        manager = SessionManager()
        limit = RateLimit(args.rate, max(1, int(args.rate * 2)))
        server = Server(
            create_app(manager, policy=policy, rate_limit=limit, audit=audit, token=token)
        )
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
            await manager.close()
        return 0

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
