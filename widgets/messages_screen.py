"""`C-b ~`: the messages the status line has shown, with their times (tmux's show-messages)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from widgets.keys_screen import PagerScreen


def message_row(when: float, text: str) -> str:
    """One log row as tmux prints it: the local time, then the message."""
    return f"{time.strftime('%H:%M:%S', time.localtime(when))} {text}"


class MessagesScreen(PagerScreen):
    """The message log, newest first as tmux 3.3 lists it; scrolls like the key list.

    `messages` are (time.time() when shown, text), oldest first as they were logged.
    """

    def __init__(self, messages: Sequence[tuple[float, str]]) -> None:
        rows = [message_row(when, text) for when, text in reversed(messages)]
        super().__init__(rows or ["(no messages)"], "messages")
