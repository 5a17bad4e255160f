"""Snapshots as a user takes and restores them: C-b S with a note, the panel (C-b g) and its
restore, --restore, and the real app killed with SIGKILL then started again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from conftest import BASH, at_prompt, split, wait_for_screen, wait_until
from test_raw_keys import outer

from app.main import AiSessionApp
from engine import SessionConfig
from widgets.panels import SnapshotsPanel

SIZE = (120, 36)


def _app(tmp_path: Path, **kwargs: object) -> AiSessionApp:
    config = SessionConfig(shell_command=BASH, environment={"PS1": "$ "})
    return AiSessionApp(config, database=tmp_path / "db" / "ai-session.db", **kwargs)  # type: ignore[arg-type]


async def test_prefix_s_takes_a_snapshot_with_a_note_and_the_panel_restores_it(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        assert app.pane is not None
        await app.pane.session.send_input("echo kept in the $((1 + 1)) pictures\n")
        await wait_for_screen(app.pane.session, "kept in the 2 pictures")
        await split(app, pilot, "percent_sign")
        await pilot.press("ctrl+b", "S")
        await pilot.press(*"my note", "enter")
        assert app.snapshotter is not None
        await wait_until(lambda: any("snapshot 1 taken" in m for _, m in app.messages))
        [info] = await app.snapshotter.snapshots()
        assert (info.kind, info.note, info.panes) == ("workspace", "my note", 2)

        await pilot.press("ctrl+b", "g")
        await wait_until(lambda: bool(app.query(SnapshotsPanel)), what="the panel")
        panel = app.query_one(SnapshotsPanel)
        await wait_until(
            lambda: (
                panel.preview.terminal is not None
                and "kept in the 2 pictures" in panel.preview.terminal.capture()
            ),
            what="the preview",
        )
        await pilot.press("enter")
        await wait_until(lambda: len(app.windows) == 2, what="the restored window")
        assert not app.query(SnapshotsPanel)
        restored = app.window
        assert len(restored.panes) == 2
        first = restored.pane_by_index(0)
        assert first is not None
        await wait_for_screen(first.session, "kept in the 2 pictures")
        await at_prompt(first)


async def test_restore_flag_starts_from_the_newest_workspace_snapshot(tmp_path: Path) -> None:
    first = _app(tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await at_prompt(first.pane)
        assert first.pane is not None and first.snapshotter is not None
        await first.pane.session.send_input("echo from the $((1 + 1)) first run\n")
        await wait_for_screen(first.pane.session, "from the 2 first run")
        await first.snapshotter.take(note="first")
        await pilot.press("ctrl+b", "c")
        await wait_until(lambda: len(first.windows) == 2)
    again = _app(tmp_path, restore=True)
    async with again.run_test(size=SIZE):
        # the newest workspace snapshot is the one taken as the first app closed: both windows
        await wait_until(lambda: len(again.windows) == 2, what="two windows back")
        pane = again.windows[0].pane_by_index(0)
        assert pane is not None
        await wait_for_screen(pane.session, "from the 2 first run")


async def test_the_panel_toggles_and_snapshots_off_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "not a directory"
    blocker.write_text("")
    app = AiSessionApp(
        SessionConfig(shell_command=BASH, environment={"PS1": "$ "}),
        database=blocker / "ai-session.db",
    )
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        assert any("snapshots are off" in m for _, m in app.messages)
        await pilot.press("ctrl+b", "g")
        await wait_until(lambda: any("there is no database" in m for _, m in app.messages))
        assert not app.query(SnapshotsPanel)
        await pilot.press("ctrl+b", "S")
        await pilot.press("enter")
        await wait_until(lambda: any("snapshots are off" in m for _, m in app.messages[1:]))
        assert app.pane is not None and app.pane.session.status.is_running  # all still runs


async def test_kill_9_then_start_again_offers_the_workspace_back(tmp_path: Path) -> None:
    """Both runs share the test's own data directory (conftest gives each test one)."""
    with outer(["bash", "--norc"], tmp_path) as t:
        await wait_until(lambda: "$" in "".join(t.screen()), timeout=30, what="the prompt")
        t.type(b"echo before the crash\r")
        await wait_until(lambda: "before the crash" in "\n".join(t.screen()), timeout=30)
        t.type(b"\x02%")
        await wait_until(lambda: "│" in t.screen()[3], timeout=30, what="a split")
        t.type(b"\x02S")
        await wait_until(lambda: "snapshot note" in "\n".join(t.screen()), timeout=30)
        t.type(b"crash test\r")
        await wait_until(lambda: "snapshot 1 taken" in "\n".join(t.screen()), timeout=30)
        os.kill(t.proc.pid, signal.SIGKILL)
        await wait_until(lambda: not t.proc.isalive(), what="the app killed")
    with outer(["bash", "--norc"], tmp_path) as t:
        offer = "restore its 2 panes"
        await wait_until(
            lambda: offer in "\n".join(t.screen()),
            timeout=30,
            what=lambda: "the offer:\n" + "\n".join(t.screen()),
        )
        t.type(b"y")
        await wait_until(
            lambda: "before the crash" in "\n".join(t.screen()) and "│" in t.screen()[3],
            timeout=30,
            what=lambda: "the workspace back:\n" + "\n".join(t.screen()),
        )
        assert "restored 2 panes" in "\n".join(t.screen())
        # the restored window has its old number (the status line, once the message is gone)
        await wait_until(lambda: "0:" in t.screen()[-1], timeout=30, what=lambda: t.screen()[-1])


async def test_prefix_s_then_enter_takes_one_without_a_note_and_escape_takes_none(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        assert app.snapshotter is not None
        await pilot.press("ctrl+b", "S", "escape")
        await pilot.press("ctrl+b", "S", "enter")
        await wait_until(lambda: any("snapshot 1 taken" in m for _, m in app.messages))
        [info] = await app.snapshotter.snapshots()
        assert info.note == "" and info.trigger == "manual"


async def test_the_timeline_steps_back_and_restores_the_pane_as_it_was(tmp_path: Path) -> None:
    from widgets.panels import Timeline

    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await at_prompt(app.pane)
        assert app.pane is not None and app.snapshotter is not None
        session = app.pane.session
        await session.send_input("echo early $((2 + 3))\n")
        await wait_for_screen(session, "early 5")
        await app.snapshotter.take(session)
        await session.send_input("clear; echo later $((3 + 4))\n")
        await wait_for_screen(session, "later 7")
        await pilot.press("ctrl+b", "T")
        await wait_until(lambda: bool(app.query(Timeline)), what="the timeline")
        timeline = app.query_one(Timeline)

        def shown() -> str:
            terminal = timeline.view.terminal
            return terminal.capture() if terminal is not None else ""

        await wait_until(lambda: "later 7" in shown(), what=shown)
        await pilot.press("home")
        await wait_until(lambda: "later 7" not in shown(), what=shown)
        while timeline.point is None or timeline.point.kind != "snapshot":  # step to it
            before = timeline.index
            await pilot.press("right")
            assert timeline.index != before, "the snapshot is not on the timeline"
        await wait_until(lambda: "early 5" in shown() and "later 7" not in shown(), what=shown)
        await pilot.press("enter")
        await wait_until(lambda: len(app.windows) == 2, what="the restored pane's window")
        restored = app.window.pane_by_index(0)
        assert restored is not None and restored.session is not session
        await wait_for_screen(restored.session, "early 5")
        assert "later 7" not in restored.session.capture_pane(start="-")
        assert any("restored 1 panes" in m for _, m in app.messages)
