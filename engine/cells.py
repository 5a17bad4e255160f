"""Cells, their SGR attributes and history lines: the data every part of the terminal shares.

Kept apart from the screen so the line fast path and the scrollback can compute SGR and
decode stored lines without a screen (and without import cycles).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pyte import graphics as g

COLOR_NAMES = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")
PALETTE_NAMES = COLOR_NAMES + tuple("bright" + name for name in COLOR_NAMES)


class Cell(NamedTuple):
    """One styled cell: pyte's `Char` fields plus xterm's other attributes. Wide characters
    own the next cell, which holds an empty-data stub.

    `underscore` says whether the cell is underlined at all, `underline_style` how (1 single,
    2 double, 3 curly, 4 dotted, 5 dashed: the `n` of SGR `4:n`; it stays 1 while
    `underscore` is off, so cells that look alike compare equal). Colours are "default", a
    palette name or "rrggbb"."""

    data: str
    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    italics: bool = False
    underscore: bool = False
    strikethrough: bool = False
    reverse: bool = False
    blink: bool = False
    dim: bool = False
    concealed: bool = False  # SGR 8: drawn in the background colour
    overline: bool = False  # SGR 53
    underline_style: int = 1
    underline_color: str = "default"  # SGR 58; "default" follows the text colour


DEFAULT_CELL = Cell(" ")

# One style run: how many characters of the line's text share `attrs` (a terminal cell with
# empty data, or None for the default style).
Run = tuple[int, Any]


class HistoryLine(NamedTuple):
    """One line that scrolled off the top: its text (wide characters once) and style runs."""

    text: str
    runs: tuple[Run, ...] = ()
    wrapped: bool = False  # the line continues on the next one (autowrap, not a newline)

    def nbytes(self) -> int:
        """A fair estimate of the memory this line holds, for the byte cap (an ASCII str is
        49 bytes plus one per character; the tuple and each run add the rest)."""
        return len(self.text) + 121 + 16 * len(self.runs)


_SGR_FLAGS = {
    1: ("bold", True),
    2: ("dim", True),
    3: ("italics", True),
    5: ("blink", True),
    6: ("blink", True),
    7: ("reverse", True),
    8: ("concealed", True),
    9: ("strikethrough", True),
    23: ("italics", False),
    25: ("blink", False),
    27: ("reverse", False),
    28: ("concealed", False),
    29: ("strikethrough", False),
    53: ("overline", True),
    55: ("overline", False),
    59: ("underline_color", "default"),
}


def apply_sgr(attrs: Cell, params: tuple[int, ...] | list[int], default: Cell) -> Cell:
    """What `CSI params m` does to `attrs`, as xterm and tmux do it: dim (2), conceal (8),
    strike (9), double underline (21), 22 clearing bold and dim, overline (53), 256 and true
    colours for text, background and underline (38/48/58), and `-n` for `4:n`, underline
    style n (what `parse_sgr` makes of a colon form no semicolon parameter can say).
    `default` is what SGR 0 returns to (reverse under DECSCNM)."""
    if not params:
        return default
    replace: dict[str, Any] = {}
    i, n = 0, len(params)
    while i < n:
        p = params[i]
        i += 1
        if p == 0:
            replace = default._asdict()
            del replace["data"]
        elif p in _SGR_FLAGS:
            name, value = _SGR_FLAGS[p]
            replace[name] = value
        elif p == 22:
            replace["bold"] = replace["dim"] = False
        elif p in (4, 21, 24) or p < 0:
            style = {4: 1, 21: 2, 24: 0}.get(p, -p)
            replace["underscore"] = style > 0
            replace["underline_style"] = style or 1
        elif 30 <= p <= 37:
            replace["fg"] = COLOR_NAMES[p - 30]
        elif 40 <= p <= 47:
            replace["bg"] = COLOR_NAMES[p - 40]
        elif 90 <= p <= 97:
            replace["fg"] = PALETTE_NAMES[p - 82]
        elif 100 <= p <= 107:
            replace["bg"] = PALETTE_NAMES[p - 92]
        elif p == 39:
            replace["fg"] = "default"
        elif p == 49:
            replace["bg"] = "default"
        elif p in (38, 48, 58):
            color, i = _extended_color(params, i)
            if color is not None:
                replace[_COLOR_FIELDS[p]] = color
    return attrs._replace(**replace)


_COLOR_FIELDS = {38: "fg", 48: "bg", 58: "underline_color"}


def _color(index: int) -> str | None:
    """A 256-colour index as the cell stores it: names for the 16 themed colours, else hex."""
    if 0 <= index < 16:
        return PALETTE_NAMES[index]
    if 16 <= index < 256:
        return g.FG_BG_256[index]
    return None


def _extended_color(params: tuple[int, ...] | list[int], i: int) -> tuple[str | None, int]:
    """Parse the arguments after 38/48/58: `5;n` or `2;r;g;b`. Returns (colour, next index)."""
    if i >= len(params):
        return None, i
    kind = params[i]
    if kind == 5:
        if i + 1 < len(params):
            return _color(params[i + 1]), i + 2
        return None, len(params)
    if kind == 2:
        if i + 3 < len(params):
            r, gr, b = (min(v, 255) for v in params[i + 1 : i + 4])
            return f"{r:02x}{gr:02x}{b:02x}", i + 4
        return None, len(params)
    return None, i + 1


class RawLines(NamedTuple):
    """Lines kept as the program wrote them (printable text and SGR, each ending in CR LF),
    decoded into `HistoryLine`s only when someone looks: a flood scrolls into history without
    being parsed. `attrs` is the style in effect before the first line; `count` the history
    lines they make at `columns` wide (long lines wrap into several)."""

    text: str
    attrs: Cell
    columns: int
    count: int  # type: ignore[assignment]  # a field named like tuple.count, on purpose

    def nbytes(self) -> int:
        return len(self.text) + 130
