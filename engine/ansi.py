"""Plain text from raw terminal output: escape sequences removed, newlines kept."""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI
    r"|\x1b[\]P_^X].*?(?:\x07|\x1b\\|$)"  # OSC, DCS, APC, PM, SOS strings
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # other ESC sequences
    r"|\x1b",
    re.DOTALL,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_ansi(text: str) -> str:
    """Remove escape sequences and control characters other than newline, tab and CR."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def plain_text(text: str) -> str:
    """What a reader of a log wants: no escapes, `\\r\\n` as `\\n`, and a carriage return
    inside a line overwriting from column 0 as it does on screen (progress bars)."""
    lines = []
    for line in strip_ansi(text).replace("\r\n", "\n").split("\n"):
        if "\r" in line:
            cells: list[str] = []
            for segment in line.split("\r"):
                cells[: len(segment)] = segment
            line = "".join(cells)
        lines.append(line)
    return "\n".join(lines)
