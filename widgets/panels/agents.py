"""`AgentsPanel`: every pane's agent at a glance (`C-b a`) — its state badge, how long it has
been so, the question it waits on, its tokens and how full its context is. Enter goes to its
pane."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.widgets import Static

from widgets.badges import badge
from widgets.panels.figures import context_use, tokens
from widgets.panels.live import LivePanel, ago, count, utc_now
from widgets.panels.side import one_line, set_text

if TYPE_CHECKING:
    from engine.agents import AgentStatus
    from engine.manager import SessionManager

SOURCES = {  # where a state came from, as the detail row says it
    "screen": "read off its screen",
    "report": "as it reported",
    "hook": "from its hook",
    "process": "from its process",
}
BADGE_WIDTH = 9  # " waiting " and " working ", the longest states, line up


def quote(question: str) -> str:
    """A question on one line, quoted."""
    return "“" + " ".join(question.split()) + "”"


class AgentsPanel(LivePanel):
    """One row per session in creation order; a waiting agent's question under its name.

    `locate(session_id)` names where the pane is (`0.1`: window 0, pane 1), or None.
    """

    TITLE = "Agents"
    TICK = 1.0  # the time-in-state column counts up while nothing else happens
    EVENTS: ClassVar[frozenset[str]] = frozenset(
        {"agent", "tokens", "created", "closed", "renamed", "exit", "command"}
    )

    def __init__(
        self,
        manager: SessionManager,
        *,
        locate: Callable[[str], str | None] = lambda session_id: None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(manager, now=now)
        self.locate = locate

    def read(self) -> list[Any]:
        return list(self.manager.agents.statuses())

    def key(self, item: Any) -> str:
        return str(item.session_id)

    def summary(self) -> str:
        waiting = sum(1 for s in self.rows if s.state == "waiting")
        return f"{len(self.rows)} panes" + (f", {waiting} waiting" if waiting else "")

    def pane_of(self, item: Any) -> str:
        return str(item.session_id)

    def row(self, item: Any) -> Text:
        status: AgentStatus = item
        state = str(status.state)
        where = self.locate(status.session_id)
        who = status.kind or status.command or ""
        name = f"{where} {status.session}" if where else status.session
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(badge(self.app, state))
        line.append(" " * max(1, BADGE_WIDTH - len(state) - 1))
        line.append(name, style="bold")
        if who and who != status.session:
            line.append(f" {who}", style="dim")
        line.append(f"  {ago(status.since, self.now())}")
        figures = []
        spent = tokens(self.manager, status)
        if spent is not None:
            figures.append(f"{count(spent.input)} in {count(spent.output)} out")
        context = context_use(self.manager, status)
        if context is not None and context.used:
            figures.append(f"ctx {context.label}")
        if status.reason and state != "working":
            figures.append(status.reason)
        if figures:
            line.append("\n" + " " * BADGE_WIDTH + " · ".join(figures), style="dim")
        if status.question and state == "waiting":
            line.append("\n" + " " * BADGE_WIDTH + quote(status.question))
        return line

    def moved(self) -> None:
        status = self.selected
        detail = self.query_one("#detail", Static)
        if status is None:
            set_text(detail, one_line("no panes" if not self.rows else ""))
            return
        how = SOURCES.get(status.source, status.source)
        text = f"{status.session}: {status.state} for {ago(status.since, self.now())}, {how}"
        if status.reason and str(status.state) != "working":
            text += f" ({status.reason})"
        if status.question:
            text += f"\n{status.question}"
        set_text(detail, Text(text, overflow="fold"))
