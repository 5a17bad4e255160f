"""Types of the C loop (engine/_cells.c; see its header for what each argument is)."""

from typing import Any

def setup(fast_row: type, call: Any, widths: bytes, monotonic: Any, sync_mode: int) -> None: ...
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
    mode: set[int],
    /,
) -> tuple[int, int, int, Any, str, BaseException | None, int]: ...
