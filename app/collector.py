"""Python's cycle collector, kept off the key echo's path.

A full (generation 2) collection stops the event loop for as long as it takes to walk every
live container object: 50-150 ms once eight panes and the agent panels have drawn for a while
(their cached rows are ~100k objects), and a key typed meanwhile waits. Measured with
tests/bench/bench_agent_echo.py, they set the p99 of the echo. What makes them rare:

- Textual's `Strip.divide` and `Strip.crop_extend` cache their result in the strip itself,
  and that result is often the strip: each drawn row became a reference cycle that only the
  collector frees, so garbage piled up in the old generation and called for full passes.
  `untangle_strips` stops them caching themselves (the cached value was `self` anyway).
- `rarer_full_passes` asks for one a fifth as often as Python's default, and the app freezes
  what startup made (modules, classes, styles: never garbage) so no full pass walks it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.strip import Strip

FULL_EVERY = 50  # second-generation passes between full ones (Python's default: 10)


def untangle_strips() -> None:
    """Make Textual's strips keep no reference to themselves (idempotent)."""
    if getattr(Strip, "_untangled", False):
        return
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def divide_untangled(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]  # as Textual's own does
        if cuts == [self.cell_length]:
            return [self]
        return divide(self, cuts)

    def crop_extend_untangled(self: Strip, start: int, end: int, style: Style | None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    divide_untangled.textual = divide  # type: ignore[attr-defined]
    crop_extend_untangled.textual = crop_extend  # type: ignore[attr-defined]
    Strip.divide = divide_untangled  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend_untangled  # type: ignore[method-assign]
    Strip._untangled = True  # type: ignore[attr-defined]


def rarer_full_passes() -> None:
    """For the app's own process (not a test run's, where apps come and go): full passes a
    fifth as often."""
    first, second, _ = gc.get_threshold()
    gc.set_threshold(first, second, FULL_EVERY)
