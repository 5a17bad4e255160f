"""Which history lines a taller pane pulls back: tmux's `hscrolled` through a reflow.

tmux 3.3a counts the lines that scrolled off the top (`hscrolled`); growing the height pulls
back at most that many, so lines a narrowing pushed up stay in the history. Its grid_reflow
moves the count as it splits and joins rows, comparing it with row indexes from the oldest
line (grid.c: `yy <= hscrolled` on a split, `hscrolled > to` on a join), so the result is not a
plain "lines that scrolled" count: this replays that bookkeeping, on row widths only, for the
rows from the line holding that index to the screen's end. The rows before that line are
whole lines before the index, where every adjustment applies: their net change in rows is
what the reflow made of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.cells import HistoryLine
from engine.scrollback import _cells, _single

__all__ = ["hscrolled_after_reflow"]

# A row's cells as tmux's reflow sees them: a count when each is one column wide, else each
# cell's width; None once the reflow has moved or consumed the row.
Cells = int | list[int] | None
# (True, old row, rows made) for a split, (False, target row, rows consumed) for a join.
Op = tuple[bool, int, int]


def _rows(lines: Sequence[HistoryLine]) -> tuple[list[Cells], list[bool]]:
    """The rows' cells as tmux counts them: a line's blanks at its end (whatever their colour)
    are no cells of it (`trimmed`: a background fill does not count as used)."""
    texts = [h.text if h.wrapped else h.text.rstrip(" ") for h in lines]
    cells: list[Cells] = [len(text) if _single(text) else _cells(text)[1] for text in texts]
    return cells, [h.wrapped for h in lines]


def _ops(rows: list[Cells], wraps: list[bool], sx: int) -> tuple[list[Op], int]:
    """grid_reflow's splits and joins over the rows at `sx` columns, and the rows it makes."""
    ops: list[Op] = []
    target = 0
    n = len(rows)

    def join(yy: int, width: int, already: bool) -> None:
        nonlocal target
        if already:
            to = target - 1
        else:
            to = target
            target += 1
        lines = want = used = 0
        wrapped = True
        last = -1  # the last row cells were taken from
        while yy + 1 + lines < n:
            cells = rows[yy + 1 + lines]
            assert cells is not None
            if not wraps[yy + 1 + lines]:
                wrapped = False
            used = cells if isinstance(cells, int) else len(cells)
            if not used:
                if not wrapped:
                    break
                lines += 1
                continue
            first = 1 if isinstance(cells, int) else cells[0]
            if width + first > sx:
                break
            width += first
            if isinstance(cells, int):
                want = 1 + min(used - 1, sx - width)
                width += want - 1
            else:
                want = 1
                while want < used and width + cells[want] <= sx:
                    width += cells[want]
                    want += 1
            last = yy + 1 + lines
            lines += 1
            if not wrapped or want != used or width == sx:
                break
        if not lines:
            return
        if last >= 0 and want != used:  # the rest of that row stays, a row of its own
            cells = rows[last]
            assert cells is not None
            rows[last] = cells - want if isinstance(cells, int) else cells[want:]
            lines -= 1
        for i in range(yy + 1, yy + 1 + lines):
            rows[i] = None
        ops.append((False, to, lines))

    for yy in range(n):
        cells = rows[yy]
        if cells is None:
            continue
        width = cells if isinstance(cells, int) else sum(cells)
        if width == sx:
            target += 1
        elif width > sx:
            if isinstance(cells, int):
                lines = 1 + (cells - 1) // sx
                last = (cells - sx - 1) % sx + 1
            else:
                at = used = 0
                for i, w in enumerate(cells):
                    if used + w > sx:
                        at = i
                        break
                    used += w
                lines, last = 2, 0
                for w in cells[at:]:
                    if last + w > sx:
                        lines += 1
                        last = 0
                    last += w
            ops.append((True, yy, lines))
            target += lines
            rows[yy] = None
            if last < sx and wraps[yy]:
                join(yy, last, True)
        elif wraps[yy]:
            rows[yy] = None
            join(yy, width, False)
        else:
            target += 1
    return ops, target


def hscrolled_after_reflow(
    region: Sequence[HistoryLine], start: int, hscrolled: int, sx: int, total: int
) -> int:
    """tmux's `hscrolled` after reflowing to `sx` columns, given `region`: the old rows from
    `start` (where the line holding row `hscrolled` begins) to the screen's end, and `total`,
    the rows the whole reflow made (history and screen)."""
    ops, made = _ops(*_rows(region), sx)
    prefix = total - made  # rows made of the lines before `start`
    shift = prefix - start
    mark = hscrolled - start  # relative to the prefix's end once the prefix is done
    for split, at, lines in ops:
        if split:
            if at <= mark + shift:
                mark += lines - 1
        elif mark > at + lines:
            mark -= lines
        elif mark > at:
            mark = at
    return prefix + mark
