"""The pane draws a flood's rows from their style runs: cell for cell what the cell loop draws;
and every row it draws is as wide as the terminal, whatever characters the program wrote."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment

import widgets.terminal_pane as tp
from engine import Session, SessionConfig
from engine.terminal import Terminal


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


# Emoji with skin tones, ZWJ families, flags, text-or-emoji symbols, combining and zero-width
# marks, wide CJK, and the controls that move the cursor over them.
PIECES = [
    *"👍🏽👨👩👧🇺🇸🇯❤☺e中ｱ x",
    *"\u200d\ufe0f\u0301\u0308\u200b\xad",
    "\t",
    "\r\n",
    "\b",
    "\x1b[2D",
    "\x1b[K",
    "\x1b[7m",
    "\x1b[31m",
    "\x1b[0m",
]


@given(
    columns=st.integers(1, 12),
    parts=st.lists(
        st.one_of(st.sampled_from(PIECES), st.characters(exclude_categories=("Cs",))),
        max_size=80,
    ),
    cursor=st.integers(0, 11),
    shape=st.sampled_from(["", "block", "bar", "hollow"]),
)
def test_rows_are_as_wide_as_the_terminal_whatever_the_characters(
    columns: int, parts: list[str], cursor: int, shape: str
) -> None:
    session = Session(SessionConfig(pty_size=(4, columns)))
    session.terminal.feed("".join(parts).encode())
    pane = tp.TerminalPane(session)
    for y in range(4):
        segments = pane._segments(y, cursor % columns, shape)
        text = "".join(s.text for s in segments)
        assert cell_len(text) == columns == sum(cell_len(s.text) for s in segments), text
        assert not any(unicodedata.category(c) == "Cc" for c in text), text


@pytest.mark.parametrize(
    ("data", "width", "fitted"),
    [
        ("a", 1, "a"),
        ("👍", 2, "👍"),
        ("👨\u200d", 2, "👨"),  # the joiner would fuse with the next cell's emoji
        ("🇺", 2, "🇺 "),  # Rich counts a lone flag letter as one cell
        ("❤\ufe0f", 1, "❤"),  # the model gives the heart one cell: no emoji presentation
        ("e\u0301", 1, "e\u0301"),
        ("\u0301", 1, " \u0301"),  # a mark with nothing to sit on: drawn on a blank
        ("\u093e", 1, " \u093e"),  # a vowel sign at a line's start: its own cell (tmux)
        ("\u200b", 1, " "),  # nothing to see
        ("中", 1, "?"),  # a wide character the last column cannot hold
        ("", 1, " "),  # half a wide character whose other half was overwritten
    ],
)
def test_a_cell_is_fitted_to_its_width(data: str, width: int, fitted: str) -> None:
    assert tp.fit_cell(data, width) == fitted
    assert cell_len(tp.fit_cell(data, width)) == width


def test_a_mark_that_begins_a_line_is_drawn_and_the_row_keeps_its_width() -> None:
    t = Terminal(6, 2)
    t.feed("\u093eab\r\n\u0301x".encode())
    for y in (0, 1):
        text = "".join(s.text for s in tp.row_segments(t, y, -1, ""))
        assert cell_len(text) == 6
    assert "".join(s.text for s in tp.row_segments(t, 0, -1, "")).startswith(" \u093eab")
