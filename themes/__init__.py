"""Textual themes for ai-session, each with the 16-colour palette its terminal panes use.

The default, `ai-session-terminal`, passes the 16 colours through as tmux does: a program that
prints `ESC[31m` gets your terminal's own red. The others replace them with their palette, as a
terminal emulator whose colour scheme you switch; 256-colour indexes above 15 and true colours
stay as the program asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color
from textual.theme import Theme


@dataclass(frozen=True)
class PaneTheme:
    theme: Theme
    palette: tuple[str, ...]  # black red green yellow blue magenta cyan white, then bright

    def colors(self) -> tuple[Color, ...] | None:
        """The palette as Rich colours; None passes the 16 colours through to your terminal."""
        return tuple(Color.parse(c) for c in self.palette) if self.palette else None


# Your terminal's colours, as tmux shows them: panes send SGR 31 for red, never an RGB value,
# and the chrome is drawn in ANSI colours too (tmux's green status line), so it suits any
# palette, dark or light. Text stays your terminal's default colour, so backgrounds are the
# darker ANSI colours (a warning is magenta, not a yellow that light text would vanish on).
TERMINAL = PaneTheme(
    Theme(
        name="ai-session-terminal",
        ansi=True,
        primary="ansi_blue",
        secondary="ansi_magenta",
        accent="ansi_green",
        warning="ansi_magenta",
        error="ansi_red",
        success="ansi_green",
        foreground="ansi_default",
        background="ansi_default",
        surface="ansi_default",
        panel="ansi_default",
        boost="ansi_default",
        dark=True,
        variables={
            "ansi-background": "ansi_default",
            "ansi-foreground": "ansi_default",
            "text": "ansi_default",
            "text-muted": "ansi_default",
            "primary-darken-2": "ansi_green",
            "panel-lighten-2": "ansi_default",
            "accent-lighten-1": "ansi_bright_green",
            "border": "ansi_green",
            "border-blurred": "ansi_default",
            "block-cursor-foreground": "ansi_black",
            "block-cursor-background": "ansi_white",
            "input-cursor-background": "ansi_white",
            "input-cursor-foreground": "ansi_black",
            "input-cursor-text-style": "none",
            "input-selection-background": "ansi_blue",
            "input-selection-foreground": "ansi_default",
            "screen-selection-background": "ansi_blue",
            "screen-selection-foreground": "ansi_default",
        },
    ),
    (),
)


DARK = PaneTheme(
    Theme(
        name="ai-session-dark",
        primary="#7AA2F7",
        secondary="#BB9AF7",
        accent="#9ECE6A",
        foreground="#C0CAF5",
        background="#1A1B26",
        surface="#1F2335",
        panel="#24283B",
        success="#9ECE6A",
        warning="#E0AF68",
        error="#F7768E",
        dark=True,
    ),
    (
        "#15161E",
        "#F7768E",
        "#9ECE6A",
        "#E0AF68",
        "#7AA2F7",
        "#BB9AF7",
        "#7DCFFF",
        "#A9B1D6",
        "#414868",
        "#FF899D",
        "#9FE044",
        "#FABA4A",
        "#8DB0FF",
        "#C7A9FF",
        "#A4DAFF",
        "#C0CAF5",
    ),
)

LIGHT = PaneTheme(
    Theme(
        name="ai-session-light",
        primary="#2E5CB8",
        secondary="#8839EF",
        accent="#D20F39",
        foreground="#383A42",
        background="#FAFAFA",
        surface="#F0F0F1",
        panel="#E5E5E6",
        success="#50A14F",
        warning="#C18401",
        error="#E45649",
        dark=False,
    ),
    (
        "#383A42",
        "#E45649",
        "#50A14F",
        "#C18401",
        "#0184BC",
        "#A626A4",
        "#0997B3",
        "#D4D4D4",
        "#696C77",
        "#CA1243",
        "#2E8B2E",
        "#986801",
        "#2E5CB8",
        "#8839EF",
        "#007D9C",
        "#FAFAFA",
    ),
)

HIGH_CONTRAST = PaneTheme(
    Theme(
        name="ai-session-high-contrast",
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FFFF00",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#1C1C1C",
        success="#00FF00",
        warning="#FFFF00",
        error="#FF5555",
        dark=True,
    ),
    (
        "#000000",
        "#FF5555",
        "#55FF55",
        "#FFFF55",
        "#5C5CFF",
        "#FF55FF",
        "#55FFFF",
        "#E5E5E5",
        "#7F7F7F",
        "#FF0000",
        "#00FF00",
        "#FFFF00",
        "#0000FF",
        "#FF00FF",
        "#00FFFF",
        "#FFFFFF",
    ),
)

THEMES: dict[str, PaneTheme] = {t.theme.name: t for t in (TERMINAL, DARK, LIGHT, HIGH_CONTRAST)}
DEFAULT_THEME = TERMINAL.theme.name
