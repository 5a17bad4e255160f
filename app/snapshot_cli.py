"""`ai-session snapshot create|list|show|restore|delete|export`.

Through the running instance when there is one (it owns the sessions a snapshot is taken of
and restored into); `list`, `show`, `delete` and `export` also work with no instance running,
straight from the database (several processes may open it at once).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

ACTIONS = ("create", "list", "show", "restore", "delete", "export")
NEEDS_ID = ("show", "restore", "delete", "export")


def arguments() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    flag = {"action": "store_true"}
    return [
        (("action",), {"choices": ACTIONS, "help": "what to do"}),
        (("id",), {"nargs": "?", "help": "snapshot id (show, restore, delete, export)"}),
        (("-t", "--target"), {"help": "create: one session's snapshot (default: all)"}),
        (("-m", "--message"), {"help": "create: a note"}),
        (("-e", "--ansi"), {**flag, "help": "show: keep colours and attributes"}),
        (("--asciicast",), {**flag, "help": "export: asciicast v3 (the default)"}),
        (("--v2",), {**flag, "help": "export: asciicast v2, for asciinema 2.x"}),
        (("--pane",), {"type": int, "default": 0, "help": "show/export: pane number (0)"}),
        (("-o", "--output"), {"help": "export: write to this file (default: stdout)"}),
        (("--json",), {**flag, "help": "list/show: JSON"}),
    ]


def run(args: Any) -> int:
    from app.client import Client, ClientError

    if args.action in NEEDS_ID and (args.id is None or not str(args.id).isdigit()):
        print(f"ai-session snapshot {args.action}: give a snapshot id", file=sys.stderr)
        return 2
    try:
        client = Client(args.server, args.socket, args.token)
    except ClientError as exc:
        if args.action in ("create", "restore"):
            print(f"ai-session: {exc}", file=sys.stderr)
            if args.action == "restore":
                print(
                    f"(or start the app with it: ai-session --restore {args.id})", file=sys.stderr
                )
            return 1
        return _offline(args)
    try:
        return _online(client, args)
    except ClientError as exc:
        print(
            f"ai-session: {exc} ({exc.code})" if exc.code else f"ai-session: {exc}", file=sys.stderr
        )
        return 1


def _online(client: Any, args: Any) -> int:
    action = args.action
    if action == "create":
        body: dict[str, Any] = {}
        if args.target:
            body["session"] = args.target
        if args.message:
            body["note"] = args.message
        print(client.request("POST", "/snapshots", body)["id"])
    elif action == "list":
        _print_list(client.request("GET", "/snapshots")["snapshots"], args.json)
    elif action == "show":
        data = client.request("GET", f"/snapshots/{args.id}", params={"ansi": int(args.ansi)})
        _print_show(data, args)
    elif action == "restore":
        data = client.request("POST", f"/snapshots/{args.id}/restore", {})
        print(" ".join(s["name"] for s in data["sessions"]))
    elif action == "delete":
        client.request("DELETE", f"/snapshots/{args.id}")
    else:
        text = client.request(
            "GET",
            f"/snapshots/{args.id}/asciicast",
            params={"pane": args.pane, "version": 2 if args.v2 else 3},
            raw=True,
        )
        _write_out(text.decode(), args.output)
    return 0


def _offline(args: Any) -> int:
    """No instance runs: read the database directly (what the API would have answered)."""
    import asyncio

    from engine.api.snapshots import info_json, snapshot_json
    from engine.errors import SessionError
    from engine.snapshots import pane_asciicast
    from engine.store import Store

    async def go() -> int:
        store = await Store.open()
        try:
            if args.action == "list":
                _print_list([info_json(i) for i in await store.list_snapshots()], args.json)
            elif args.action == "show":
                _print_show(snapshot_json(await store.get_snapshot(int(args.id)), args.ansi), args)
            elif args.action == "delete":
                if not await store.delete_snapshot(int(args.id)):
                    print(f"ai-session: no snapshot {args.id}", file=sys.stderr)
                    return 1
            else:
                snapshot = await store.get_snapshot(int(args.id))
                if not 0 <= args.pane < len(snapshot.panes):
                    print(f"ai-session: snapshot has {len(snapshot.panes)} panes", file=sys.stderr)
                    return 1
                pane = snapshot.panes[args.pane]
                recorded = await store.recording(pane.session_id)
                version = 2 if args.v2 else 3
                lines = pane_asciicast(recorded, pane, snapshot.created_at, version)
                _write_out("".join(line + "\n" for line in lines), args.output)
            return 0
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except SessionError as exc:
        print(f"ai-session: {exc}", file=sys.stderr)
        return 1


def _print_list(snapshots: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(snapshots, indent=2))
        return
    rows = [("ID", "TAKEN", "KIND", "TRIGGER", "PANES", "SIZE", "SESSIONS", "NOTE")]
    for s in snapshots:
        rows.append(
            (
                str(s["id"]),
                s["created_at"].replace("T", " ")[:19],
                s["kind"],
                s["trigger"],
                str(s["panes"]),
                _size(s["stored_bytes"]),
                ",".join(s["sessions"]),
                s["note"],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _print_show(data: dict[str, Any], args: Any) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
        return
    panes = data["panes"]
    if not 0 <= args.pane < len(panes):
        raise SystemExit(f"ai-session: snapshot has {len(panes)} panes")
    pane = panes[args.pane]
    sys.stdout.write(pane["screen"] + "\n")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GiB"


def _write_out(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
