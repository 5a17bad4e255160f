"""An agent's state as a coloured badge: the same word and colour in a pane's title, the
status line and the agents panel (engine/agents.py `AgentState` values)."""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color

# A state -> the theme colour its badge is drawn in: waiting asks for you, so it is loud.
STATE_COLOURS = {
    "working": "success",
    "waiting": "warning",
    "idle": "primary",
    "error": "error",
    "exited": "secondary",
}


@lru_cache(maxsize=64)
def _style(background: str) -> Style:
    colour = Color.parse(background)
    return Style(
        color=colour.get_contrast_text(1.0).rich_color, bgcolor=colour.rich_color, bold=True
    )


def badge_style(app: App[object], state: str) -> Style:
    """The badge's colours in the app's current theme (text chosen to stay readable)."""
    variables = app.theme_variables
    background = variables.get(STATE_COLOURS.get(state, "panel"), variables.get("panel", "grey"))
    try:
        return _style(background)
    except Exception:  # a theme value Textual cannot parse as a colour: plain bold
        return Style(bold=True)


def badge(app: App[object], state: str) -> Text:
    """` waiting ` in its colours."""
    return Text(f" {state} ", style=badge_style(app, state), no_wrap=True)
