"""Snapshots taken from live sessions, kept in a real SQLite file, restored as new sessions."""

from __future__ import annotations

import asyncio
import gc
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import bash_config, wait_for_screen, wait_until

from engine import Session, SessionManager
from engine.errors import SessionError
from engine.snapshots import Snapshotter, public_environment, screen_digest
from engine.store import Store, StoreError


@pytest.fixture
async def kept(tmp_path: Path) -> AsyncIterator[tuple[SessionManager, Snapshotter]]:
    manager = SessionManager()
    store = await Store.open(tmp_path / "data" / "snapshots.db")
    snapshotter = Snapshotter(manager, store, instance=f"{os.getpid()}-test")
    yield manager, snapshotter
    await snapshotter.close(final=False)
    await manager.close()


async def _shell(manager: SessionManager, cwd: Path, **env: str) -> Session:
    session = await manager.create_session_with_config(
        bash_config(working_directory=cwd, pty_size=(10, 50), environment=env)
    )
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


def test_secrets_never_reach_a_snapshot() -> None:
    env = {"PATH": "/bin", "GITHUB_TOKEN": "x", "db_password": "y", "MY_API_KEY": "z", "A": "1"}
    assert public_environment(env) == {"PATH": "/bin", "A": "1"}


async def test_a_pane_snapshot_keeps_screen_history_cwd_and_no_secrets(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    manager, snapshotter = kept
    session = await _shell(manager, tmp_path, SECRET_THING="hush", VISIBLE="yes")
    await session.send_input("for i in $(seq 1 40); do echo line $i; done\n")
    await wait_for_screen(session, "line 40")
    snapshot_id = await snapshotter.take(session, note="before the refactor")
    [info] = await snapshotter.snapshots()
    assert (info.id, info.kind, info.trigger, info.note) == (
        snapshot_id,
        "pane",
        "manual",
        "before the refactor",
    )
    snapshot = await snapshotter.load(snapshot_id)
    [pane] = snapshot.panes
    assert pane.cwd == str(tmp_path) and pane.session_id == session.id
    assert "SECRET_THING" not in pane.environment and pane.environment["VISIBLE"] == "yes"
    assert "SECRET_THING" not in pane.config["environment"]
    preview = await snapshotter.preview(snapshot_id)
    assert preview is not None
    assert preview.capture(start="-") == session.terminal.capture(start="-")
    assert await snapshotter.preview(snapshot_id, pane=3) is None


async def test_restore_brings_the_screen_back_above_a_fresh_shell_with_the_command_typed(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    manager, snapshotter = kept
    (tmp_path / "sub dir").mkdir()
    session = await _shell(manager, tmp_path)
    await session.send_input("cd 'sub dir'; echo remembered\n")
    await wait_for_screen(session, "remembered")
    await session.send_input("sh -c 'sleep 60; :' 'an argument'\n")
    await wait_until(lambda: session.foreground_command_line == "sh -c 'sleep 60; :' 'an argument'")
    await wait_for_screen(session, "'an argument'")  # its echo drawn, as a person saw it
    snapshot_id = await snapshotter.take(session)
    _, restored = await snapshotter.restore(snapshot_id, base=bash_config())
    again = restored[session.id]
    assert again.id != session.id and again.name != session.name
    typed = "$ sh -c 'sleep 60; :' 'an argument'"  # on the old screen too, above the prompt
    await wait_until(
        lambda: again.capture_pane().count(typed) == 2,
        what=lambda: f"the command typed at the new prompt:\n{again.capture_pane()}",
    )
    text = again.capture_pane(start="-")
    assert "remembered" in text and text.rstrip().endswith(typed + "\n" + typed)
    assert again.current_command == "bash"  # typed, not run
    assert again.current_path == str(tmp_path / "sub dir")
    session.send_signal("INT")


async def test_automatic_snapshots_store_only_changed_screens(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    manager, snapshotter = kept
    session = await _shell(manager, tmp_path)
    first = await snapshotter.tick()
    assert first is not None
    assert await snapshotter.tick() is None  # nothing changed
    digest = screen_digest(session.terminal)
    await session.send_input("echo changed\n")
    await wait_until(lambda: screen_digest(session.terminal) != digest)
    await wait_until(lambda: session.terminal.capture().rstrip().endswith("changed\n$"))
    second = await snapshotter.tick()
    assert second is not None and second != first
    kinds = {(i.kind, i.trigger) for i in await snapshotter.snapshots()}
    assert kinds == {("workspace", "auto")}


async def test_a_program_exit_takes_its_last_screen(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    manager, snapshotter = kept
    session = await _shell(manager, tmp_path)
    snapshotter.watch(session)
    await session.send_input("echo build failed; exit 3\n")
    await session.wait()

    async def exit_snapshot() -> bool:
        return any(i.trigger == "exit" for i in await snapshotter.snapshots())

    deadline = asyncio.get_running_loop().time() + 10
    while not await exit_snapshot():
        assert asyncio.get_running_loop().time() < deadline, "no exit snapshot"
        await asyncio.sleep(0.02)
    [info] = [i for i in await snapshotter.snapshots() if i.trigger == "exit"]
    preview = await snapshotter.preview(info.id)
    assert preview is not None and "build failed" in preview.capture()


async def test_without_a_store_snapshots_say_they_are_off(tmp_path: Path) -> None:
    async with SessionManager() as manager:
        snapshotter = Snapshotter(manager, None, instance="x")
        session = await _shell(manager, tmp_path)
        with pytest.raises(StoreError, match="off"):
            await snapshotter.take(session)
        assert await snapshotter.snapshots() == []
        snapshotter.start()  # nothing to do, and no error
        await snapshotter.close()


async def test_nothing_to_snapshot_is_an_error(kept: tuple[SessionManager, Snapshotter]) -> None:
    _, snapshotter = kept
    with pytest.raises(SessionError, match="nothing to snapshot"):
        await snapshotter.take()


async def test_retention_says_what_it_removed(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    from engine.store import Retention

    manager, snapshotter = kept
    session = await _shell(manager, tmp_path)
    old = await snapshotter.take(session, trigger="auto")
    assert snapshotter.store is not None
    said: list[list[int]] = []
    snapshotter.on_pruned = said.append
    snapshotter.retention = Retention(keep_all_seconds=0, hourly_for_seconds=0, daily_for_days=0)
    await snapshotter.take(session, trigger="auto")
    removed = await snapshotter.prune()  # the newest is always kept
    assert old in removed and said == [removed]


async def test_closing_keeps_the_last_of_every_recording(tmp_path: Path) -> None:
    """The open block of each recording is stored before the database closes (it was lost:
    the sessions' exits came after)."""
    from engine.recording import events

    async with SessionManager() as manager:
        store = await Store.open(tmp_path / "db" / "x.db")
        snapshotter = Snapshotter(manager, store, instance="closing")
        session = await _shell(manager, tmp_path)
        snapshotter.watch(session)
        await session.send_input("echo last words\n")
        await wait_until(lambda: session.terminal.capture().count("last words") == 2)
        await snapshotter.close(final=False)
        again = await Store.open(tmp_path / "db" / "x.db")
        blocks = await again.recording(session.id)
        await again.close()
    text = b"".join(getattr(e, "data", b"") for e in events(blocks))
    assert text.count(b"last words") == 2


async def test_a_restored_pane_goes_on_from_its_command_history_and_ai_context(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    """The old commands are listed after a restore, numbering goes on, and the agent's context
    holds what it held (its folded originals readable) with the new commands after them."""
    from engine.config import ContextConfig

    manager, snapshotter = kept
    session = await manager.create_session_with_config(
        bash_config(
            working_directory=tmp_path,
            enable_ai_features=True,
            context_config=ContextConfig(max_tokens=200, compression_threshold=0.5),
        )
    )
    snapshotter.watch(session)
    await session.start()
    for n in range(4):
        await session.execute(f"echo step {n}; ls /missing-{n}")
    context = session.context
    assert context is not None
    await wait_until(lambda: context.get_message_count() > 0 and len(session.history) == 4)
    await wait_until(lambda: any("missing-3" in m.content for m in context.messages))
    assert context.get_summary().compressions > 0
    snapshot_id = await snapshotter.take(session)  # also waits for what the store was given
    _, restored = await snapshotter.restore(snapshot_id, base=bash_config())
    again = restored[session.id]
    assert [r.command for r in again.history] == [
        f"echo step {n}; ls /missing-{n}" for n in range(4)
    ]
    assert again.context is not None
    assert [(m.id, m.content) for m in again.context.messages] == [
        (m.id, m.content) for m in context.messages
    ]
    assert again.context.original(1).content == context.original(1).content
    before, after = context.get_summary(), again.context.get_summary()
    assert (after.compressions, after.original_tokens) == (
        before.compressions,
        before.original_tokens,
    )
    assert (after.original_bytes, after.archived_messages) == (
        before.original_bytes,
        before.archived_messages,
    )
    await again.execute("echo after")
    await wait_until(lambda: len(again.history) == 5)
    assert again.history.last is not None and again.history.last.seq == 5
    await wait_until(lambda: "echo after" in again.context.messages[-1].content)  # type: ignore[union-attr]
    assert again.context.messages[-1].id == max(m.id or 0 for m in context.messages) + 1
    stored = await snapshotter.store.commands(again.id)  # type: ignore[union-attr]
    assert [r.command for r in stored][-2:] == ["echo step 3; ls /missing-3", "echo after"]


async def test_a_removed_session_is_not_kept_alive_by_its_snapshots(
    kept: tuple[SessionManager, Snapshotter], tmp_path: Path
) -> None:
    """Watching a session subscribes to it; once it is removed (and its exit kept) the
    subscription goes, or every session ever made would stay in memory."""
    manager, snapshotter = kept
    for exits_first in (False, True):
        session = await _shell(manager, tmp_path)
        snapshotter.watch(session)
        if exits_first:
            await session.send_input("exit\n")
            await session.wait()
        refs = [weakref.ref(o) for o in (session, session.terminal)]
        await manager.remove_session(session.id)
        del session
        await wait_until(lambda: not snapshotter._pending, what="the exit's records kept")
        gc.collect()
        assert [r() for r in refs] == [None, None], exits_first
