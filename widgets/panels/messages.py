"""`MessagesPanel`: what the agents say to each other (`C-b e`), as a timeline — time, from →
to, type, priority, a preview of the payload; `f` cycles a filter by agent, enter goes to the
sender's pane."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.widgets import Static

from widgets.panels.live import LivePanel, utc_now
from widgets.panels.side import one_line, set_text

if TYPE_CHECKING:
    from engine.coordination import AgentMessage
    from engine.manager import SessionManager

SHOWN = 200  # the newest messages listed, up to twice as many (the hub stores them all)
PRIORITY_MARKS = {0: "", 1: "", 2: "!", 3: "!!"}  # low and normal quiet, high and critical loud
DETAIL_CHARS = 600  # of the selected message's payload, below the list


def preview(payload: Any) -> str:
    """A payload on one line: text as it is, JSON compact."""
    if isinstance(payload, str):
        return " ".join(payload.split())
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(payload)


class MessagesPanel(LivePanel):
    """The newest SHOWN to 2 * SHOWN messages, oldest at the top, the cursor following the
    newest unless the user moved it up. `agent` (None: every agent) filters to what it sent
    or got."""

    TITLE = "Messages"
    FOLLOW = True
    KEEP = SHOWN
    HINT = "↑↓ move  ⏎ sender's pane  f filter  esc"
    EVENTS: ClassVar[frozenset[str]] = frozenset({"message", "created", "closed", "renamed"})

    def __init__(
        self,
        manager: SessionManager,
        *,
        agent: str | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(manager, now=now)
        self.agent = agent

    def read(self) -> list[Any]:
        return list(self.manager.hub.messages(agent=self.agent, limit=2 * SHOWN))

    def summary(self) -> str:
        shown = len(self.rows)
        text = f"{shown} from/to {self.agent}" if self.agent else f"{shown}, all agents"
        dropped = self.manager.hub.bus.dropped_total  # full inboxes drop (engine/coordination)
        return f"{text}, {dropped} dropped" if dropped else text

    def pane_of(self, item: Any) -> str:
        return str(item.sender)

    def row(self, item: Any) -> Text:
        message: AgentMessage = item
        when = message.time.astimezone().strftime("%H:%M:%S")
        to = message.recipient if message.recipient is not None else "all"
        mark = PRIORITY_MARKS.get(int(message.priority), "")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{when} ", style="dim")
        line.append(message.sender, style="bold")
        line.append(" → ")
        line.append(to, style="bold")
        line.append(f" {message.type}", style="italic")
        if mark:
            line.append(f" {mark}", style="bold red")
        line.append("\n  " + message.preview())
        return line

    def moved(self) -> None:
        message = self.selected
        detail = self.query_one("#detail", Static)
        if message is None:
            set_text(detail, one_line("no messages yet: ai-session msg --to NAME TEXT"))
            return
        priority = message.priority.name.lower()
        head = f"#{message.id} {message.type}, {priority} priority"
        if message.reply_to is not None:
            head += f", reply to #{message.reply_to}"
        body = message.payload if isinstance(message.payload, str) else preview(message.payload)
        set_text(detail, Text(f"{head}\n{body[:DETAIL_CHARS]}", overflow="fold"))

    def agents(self) -> list[str]:
        """Who the filter cycles through: every session, then anyone else seen in messages."""
        names = [s.name for s in self.manager.sessions]
        for message in self.manager.hub.messages(limit=SHOWN):
            for name in (message.sender, message.recipient):
                if name is not None and name not in names:
                    names.append(name)
        return names

    def on_panel_key(self, event: events.Key) -> None:
        if event.key == "f":
            self.cycle_filter()

    def cycle_filter(self) -> None:
        """All agents → the first → the next … → all again."""
        choices: list[str | None] = [None, *self.agents()]
        at = choices.index(self.agent) if self.agent in choices else 0
        self.agent = choices[(at + 1) % len(choices)]
        self.rows = []  # a new list: the cursor starts on its newest
        self._oldest = None
        self.reload()
