"""Command-line entry points: `ai-session` (the TUI) and `ai-session-server`."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from app.keymap import parse_key
from engine import SessionConfig
from themes import DEFAULT_THEME, THEMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ai-session", description="A terminal multiplexer for watching AI agents work."
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
    from app.main import AiSessionApp

    app = AiSessionApp(
        config, show_hints=not args.no_hints, prefix=parse_key(args.prefix), theme=args.theme
    )
    result = app.run()
    return result or 0


def server_main(argv: list[str] | None = None) -> int:
    print(
        "ai-session-server: the HTTP API is not built yet; use the engine as a library for now.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
