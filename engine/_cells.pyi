"""Types of the C loop (engine/_cells.c; see its header for what each argument is)."""

from typing import Any

def setup(fast_row: type, call: Any, widths: bytes) -> None: ...
def run(
    buf: str,
    i: int,
    rows: Any,
    x: int,
    y: int,
    glyphs: Any,
    columns: int,
    lines: int,
    bottom: int,
    dirty: set[int],
    put_run: Any,
    drawn: str,
    screen: Any,
    zwj: bool,
    top: int,
    alternate: bool,
    autowrap: bool,
    /,
) -> tuple[int, int, int, Any, str, BaseException | None, int]: ...
