"""The pane draws a flood's rows from their style runs: cell for cell what the cell loop draws."""

from __future__ import annotations

import pytest
from rich.segment import Segment

import widgets.terminal_pane as tp
from engine import Session, SessionConfig


def _cells(segments: list[Segment]) -> list[tuple[str, object]]:
    return [(ch, seg.style) for seg in segments for ch in seg.text]


@pytest.mark.parametrize("columns", [40, 13])
def test_flood_rows_render_like_the_cell_loop(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = Session(SessionConfig(pty_size=(6, columns)))
    session.terminal.feed(
        b"".join(
            b"\x1b[2m12:00\x1b[0m \x1b[1;31mERROR\x1b[0m \x1b[38;5;%dmworker %d\x1b[0m done   \r\n"
            % (i, i)
            for i in range(300)
        )
    )
    pane = tp.TerminalPane(session)
    fast = [pane._segments(y, -1, "block") for y in range(5)]
    assert any(tp.cached_history_line(session.terminal.screen.buffer.get(y)) for y in range(5))
    monkeypatch.setattr(tp, "cached_history_line", lambda row: None)
    slow = [pane._segments(y, -1, "block") for y in range(5)]
    assert [_cells(s) for s in fast] == [_cells(s) for s in slow]
    assert all(len(_cells(s)) == columns for s in fast)
