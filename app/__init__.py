"""The Textual app: the multiplexer UI, its key map and the command-line entry points."""

import os

# Textual composes the screen at most TEXTUAL_FPS times a second (60 by default) and a change
# waits for the next slot, so an echo could wait up to 17 ms behind a background pane's frame.
# Panes limit their own paints (60 Hz focused, 15 Hz others), so let the screen follow them.
# Textual reads the variable once, on import; it is not left for the programs in the panes.
if "TEXTUAL_FPS" not in os.environ:
    os.environ["TEXTUAL_FPS"] = "240"
    import textual.constants  # noqa: F401

    del os.environ["TEXTUAL_FPS"]
