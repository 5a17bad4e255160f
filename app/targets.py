"""tmux's target syntax (`-t`, `-s`): which window or pane a command names.

A target is resolved exactly as named or refused with tmux's message; a command never falls
back to another pane than the one it was given.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Protocol

from engine.layout import Side

if TYPE_CHECKING:
    from widgets.terminal_pane import TerminalPane
    from widgets.window_view import WindowView

SESSION_NAME = "0"  # this instance is one tmux session; tmux names the first one "0"

_RELATIVE_SIDES: dict[str, Side] = {
    "{left-of}": "left",
    "{right-of}": "right",
    "{up-of}": "up",
    "{down-of}": "down",
}


class CommandError(Exception):
    """A command refused, with tmux's wording (shown to the user as is)."""


class Windows(Protocol):
    """What target resolution needs from the app."""

    @property
    def windows(self) -> list[WindowView]: ...

    @property
    def window(self) -> WindowView: ...

    @property
    def last_window(self) -> int | None: ...

    @property
    def current(self) -> int: ...

    @property
    def marked(self) -> tuple[WindowView, TerminalPane] | None: ...


def pane_index(window: WindowView, pane_id: str) -> int:
    """tmux's #{pane_index}: the pane's place in layout order."""
    return window.splits.panes().index(pane_id)


def find_window(app: Windows, target: str | None) -> WindowView:
    """The window `target` names (`N`, `:N`, `0:N`, `@ID`, a name, `+` `-` `!` `^` `$`...)."""
    if not target:
        return app.window
    rest = target
    if ":" in rest:
        session, _, rest = rest.partition(":")
        _check_session(session)
        rest = rest.split(".", 1)[0]
        if not rest:
            return app.window
    window = _window(app, rest)
    if window is None:
        raise CommandError(f"can't find window: {rest}")
    return window


def find_pane(app: Windows, target: str | None) -> tuple[WindowView, TerminalPane]:
    """The window and pane `target` names (`%ID`, `W.P`, `:W.P`, `.P`, `P`, `{marked}`...)."""
    if not target:
        pane = app.window.active_pane
        if pane is None:
            raise CommandError("no current pane")
        return app.window, pane
    if target.startswith("%"):
        for window in app.windows:
            if target in window.panes:
                return window, window.panes[target]
        raise CommandError(f"can't find pane: {target}")
    if target in ("{marked}", "~"):
        if app.marked is None:
            raise CommandError("no marked target")
        return app.marked
    rest = target
    has_window = False
    if ":" in rest:
        session, _, rest = rest.partition(":")
        _check_session(session)
        has_window = True
    if "." in rest:
        window_part, _, pane_part = rest.rpartition(".")
        window = find_window(app, window_part) if window_part else app.window
        pane = _pane(app, window, pane_part) if pane_part else window.active_pane
    elif has_window:
        window = find_window(app, rest) if rest else app.window
        pane = window.active_pane
    else:
        window = app.window
        pane = _pane(app, window, rest)
        if pane is None:  # tmux tries a pane of the current window, then a window
            other = _window(app, rest)
            if other is not None:
                window, pane = other, other.active_pane
    if pane is None:
        raise CommandError(f"can't find pane: {target}")
    return window, pane


def _check_session(session: str) -> None:
    if session and session not in (SESSION_NAME, f"${SESSION_NAME}"):
        raise CommandError(f"can't find session: {session}")


def _window(app: Windows, text: str) -> WindowView | None:
    windows = sorted(app.windows, key=lambda w: w.number)
    if not windows:
        return None
    here = app.window
    position = windows.index(here)
    if text in ("!", "{last}"):
        last = app.last_window
        return app.windows[last] if last is not None and last < len(app.windows) else None
    if text in ("^", "{start}"):
        return windows[0]
    if text in ("$", "{end}"):
        return windows[-1]
    if text in ("{next}", "{previous}"):
        text = "+" if text == "{next}" else "-"
    if text[:1] in "+-" and (text[1:].isdigit() or not text[1:]):
        step = int(text[1:] or 1) * (1 if text[0] == "+" else -1)
        return windows[(position + step) % len(windows)]
    if text.startswith("@"):
        return next((w for w in windows if w.window_id == text), None)
    if text.isdigit():
        return next((w for w in windows if w.number == int(text)), None)
    for matches in (
        [w for w in windows if w.display_name == text],
        [w for w in windows if w.display_name.startswith(text)],
        [w for w in windows if fnmatch.fnmatchcase(w.display_name, text)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CommandError(f"more than one window: {text}")
    return None


def _pane(app: Windows, window: WindowView, text: str) -> TerminalPane | None:
    order = window.splits.panes()
    active = window.active
    if text.isdigit():
        return window.pane_by_index(int(text))
    if text in ("!", "{last}"):
        return window.panes.get(window.last) if window.last else None
    if text in ("{next}", "{previous}"):
        text = "+" if text == "{next}" else "-"
    if text[:1] in "+-" and (text[1:].isdigit() or not text[1:]) and active in order:
        step = int(text[1:] or 1) * (1 if text[0] == "+" else -1)
        return window.panes[order[(order.index(active) + step) % len(order)]]
    if text in ("{top}", "{top-left}") and order:
        return window.panes[order[0]]
    if text in ("{bottom}", "{bottom-right}") and order:
        return window.panes[order[-1]]
    side = _RELATIVE_SIDES.get(text)
    if side is not None and active is not None:
        other = window.neighbour(side, active)
        return window.panes.get(other) if other else None
    return None
