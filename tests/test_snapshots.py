"""What the screen looks like: SVG snapshots of layouts, colours, themes and copy mode.

Each pane runs tests/fixtures/show_colours.py (fixed output, then waits), so the pictures are
deterministic. Update after a deliberate change with `pytest tests/test_snapshots.py
--snapshot-update` and look at the report before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import wait_until
from textual.pilot import Pilot

from app.main import AiSessionApp
from engine import SessionConfig

SAMPLE = Path(__file__).parent / "fixtures" / "show_colours.py"


def _app(theme: str = "ai-session-dark") -> AiSessionApp:
    config = SessionConfig(shell_command=f"{sys.executable} {SAMPLE}")
    return AiSessionApp(config, theme=theme)


async def _shown(pilot: Pilot, panes: int = 1) -> None:
    app = pilot.app
    assert isinstance(app, AiSessionApp)
    await wait_until(
        lambda: (
            len(app.window.panes) == panes
            and all("wide:" in p.session.capture_pane() for p in app.window.panes.values())
        ),
        30,
        what="every pane's sample",
    )
    app.update_status()
    await pilot.pause(0.1)


def test_single_pane_colours_dark(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(80, 16), run_before=_shown)


def test_single_pane_colours_light(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("ai-session-light"), terminal_size=(80, 16), run_before=_shown)


def test_three_panes_split_both_ways(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def split(pilot: Pilot) -> None:
        await _shown(pilot)
        await pilot.press("ctrl+b", "percent_sign")
        await _shown(pilot, 2)
        await pilot.press("ctrl+b", "quotation_mark")
        await _shown(pilot, 3)

    assert snap_compare(_app(), terminal_size=(100, 26), run_before=split)


def test_copy_mode_with_selection_and_search(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def copy(pilot: Pilot) -> None:
        await _shown(pilot)
        await pilot.press("ctrl+b", "left_square_bracket", "g", "j", "v", "j", "$")
        await pilot.press("slash", *"bold", "enter")
        app = pilot.app
        assert isinstance(app, AiSessionApp)
        await wait_until(
            lambda: app.pane is not None and app.pane.copy is not None and app.pane.copy.matches
        )
        await pilot.pause(0.1)

    assert snap_compare(_app(), terminal_size=(80, 16), run_before=copy)
