"""Textual's settings for the TUI, set just before Textual is first imported (its constants are
read once, on import). Imported first by app.main and app.input, never by the CLI's verbs, which
must not pay for Textual.

Textual composes the screen at most TEXTUAL_FPS times a second (60 by default) and a change
waits for the next slot, so an echo could wait up to 17 ms behind a background pane's frame.
Panes limit their own paints (60 Hz focused, 15 Hz others), so let the screen follow them.
Keys are read raw and handed on byte-exact (app/input.py), as by tmux 3.3a, which does not use
the kitty keyboard protocol either: Textual must not ask the terminal for it.
The variables are not left for the programs in the panes.
"""

import os

_SETTINGS = {"TEXTUAL_DISABLE_KITTY_KEY": "1"}
if "TEXTUAL_FPS" not in os.environ:
    _SETTINGS["TEXTUAL_FPS"] = "240"
_BEFORE = {name: os.environ.get(name) for name in _SETTINGS}
os.environ.update(_SETTINGS)
import textual.constants  # noqa: E402, F401

for _name, _value in _BEFORE.items():
    if _value is None:
        del os.environ[_name]
    else:
        os.environ[_name] = _value
