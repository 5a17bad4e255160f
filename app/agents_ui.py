"""The app's side of the agents: the four panels beside the windows (agents, messages, tokens,
decisions), the jump to the next agent waiting for input, each pane's state badge, and the
notice — toast, bell, the window marked — when an agent starts waiting.

The engine (`manager.agents`, `manager.hub`) knows sessions; this module knows which window
and pane shows each one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app import snapshots as snapshot_ui
from app.targets import CommandError, pane_index
from widgets.panels.agents import AgentsPanel
from widgets.panels.decisions import DecisionsPanel
from widgets.panels.live import LivePanel
from widgets.panels.messages import MessagesPanel
from widgets.panels.side import SidePanel
from widgets.panels.stack import PanelStack
from widgets.panels.tokens import TokensPanel

if TYPE_CHECKING:
    from app.main import AiSessionApp
    from engine.events import Event
    from engine.session import Session
    from widgets.terminal_pane import TerminalPane
    from widgets.window_view import WindowView

PANELS: dict[str, type[LivePanel]] = {
    "agents": AgentsPanel,
    "messages": MessagesPanel,
    "tokens": TokensPanel,
    "decisions": DecisionsPanel,
}
ORDER = tuple(PANELS)  # top to bottom in the sidebar
MIN_PANEL_ROWS = 8  # fewer each, and a panel opened takes the place of another (80x24: two)
# The commands these keys run (app/commands.py), each on a prefix key tmux leaves unbound.
AGENT_COMMANDS = (
    "choose-agent",
    "next-agent",
    "show-agent-messages",
    "show-tokens",
    "show-decisions",
)
QUESTION_CHARS = 200  # of a question quoted in the notice


def pane_of_session(app: AiSessionApp, session: str) -> tuple[WindowView, TerminalPane] | None:
    """The window and pane showing the session with this id (else this name)."""
    for key in ("id", "name"):
        for window in app.windows:
            for pane in window.panes.values():
                if getattr(pane.session, key) == session:
                    return window, pane
    return None


def locate(app: AiSessionApp, session_id: str) -> str | None:
    """Where a session is shown, as tmux writes it: `0.1` (window 0, pane 1)."""
    found = pane_of_session(app, session_id)
    if found is None:
        return None
    window, pane = found
    return f"{window.number}.{pane_index(window, pane.pane_id)}"


def make_panel(app: AiSessionApp, kind: str) -> LivePanel:
    """A panel of that kind; the prefix keys work in it as they do in a pane."""
    if kind == "agents":
        panel: LivePanel = AgentsPanel(app.manager, locate=lambda id_: locate(app, id_))
    else:
        panel = PANELS[kind](app.manager)
    panel.key_filter = app._key_filter
    return panel


def stack_of(app: AiSessionApp) -> PanelStack | None:
    """The sidebar column of agent panels, when any is open."""
    stacks = [s for s in app.query(PanelStack) if s.panels and not s._pruning]
    return stacks[0] if stacks else None


def fits(app: AiSessionApp, count: int) -> bool:
    """Whether `count` agent panels stacked would each get MIN_PANEL_ROWS rows."""
    return app.query_one("#main").size.height // max(1, count) >= MIN_PANEL_ROWS


def toggle_panel(app: AiSessionApp, kind: str) -> None:
    """Open that panel in the sidebar, stacked with the other agent panels open (in the order
    of PANELS), focused; when one more would leave each fewer than MIN_PANEL_ROWS rows, it
    takes the place of the one focused longest ago. Pressed again: focus it if it lost focus,
    else close it (the others stay). The snapshots panel or a timeline give up the sidebar."""
    stack = stack_of(app)
    shown = next((p for p in stack.panels if type(p) is PANELS[kind]), None) if stack else None
    if shown is not None:
        if not shown.has_focus:
            shown.focus()
        else:
            close_panel(app, shown)
        return
    if stack is None:
        snapshot_ui.clear_sidebar(app)
        stack = PanelStack()
        app.query_one("#main").mount(stack)  # in the DOM at once: the panel can go in it now
    elif not fits(app, len(stack.panels) + 1):
        oldest = stack.least_recent()
        if oldest is not None:
            stack.take_out(oldest)
    panel = make_panel(app, kind)
    rank = ORDER.index(kind)
    below = [p for p in stack.panels if ORDER.index(kind_of(p)) > rank]
    stack.mount(panel, before=below[0] if below else None)
    panel.focus()


def kind_of(panel: SidePanel) -> str:
    return next(kind for kind, cls in PANELS.items() if type(panel) is cls)


def close_panel(app: AiSessionApp, panel: SidePanel) -> None:
    """Close that agent panel (escape, q, its key while focused); the pane gets the keys. The
    last one closed takes the sidebar with it, and the panes their width back."""
    stack = panel.parent
    if isinstance(stack, PanelStack) and len(stack.panels) > 1:
        stack.take_out(panel)
        app.focus_active()
        return
    snapshot_ui.close_panel(app)


def jump(app: AiSessionApp, session: str) -> None:
    """Show the pane of `session` (id or name): its window, the pane active and focused."""
    found = pane_of_session(app, session)
    if found is None:
        app.show_message(f"no pane shows {session}")
        return
    app.select_pane(*found)


def next_waiting(app: AiSessionApp) -> None:
    """The next agent waiting for input after the focused pane's, cycling through them."""
    pane = app.pane
    status = app.manager.agents.next_waiting(after=pane.session.name if pane is not None else None)
    if status is None:
        raise CommandError("no agent is waiting for input")
    jump(app, status.session_id)


def badge_for(state: str, kind: str | None, source: str | None) -> str | None:
    """The badge a pane's title shows: an agent's state (a known agent CLI, or a program that
    reports its own state), or a plain program's when it wants you (waiting, error). A shell
    going between working and idle as you type gets none: that is no news."""
    if kind or source in ("report", "hook") or state in ("waiting", "error"):
        return state or None
    return None


def state_of(app: AiSessionApp, session: Session) -> str | None:
    """The badge for the session's state as the monitor knows it now (a pane made later)."""
    status = app.manager.agents.status(session.id)
    if status is None:
        return None
    return badge_for(str(status.state), status.kind, status.source)


class AgentWatch:
    """Keeps every pane's badge on its session's state and tells the user, once per wait,
    when an agent starts waiting: a toast naming the pane and quoting the question, the bell,
    and its window's bell flag (`!`) when that window is not the one shown."""

    def __init__(self, app: AiSessionApp) -> None:
        self.app = app
        self.states: dict[str, str] = {}  # session id -> the last state seen
        self.stop: Callable[[], None] = app.manager.events.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.session_id is None:
            return
        if event.type == "closed":
            self.states.pop(event.session_id, None)
            return
        if event.type != "agent":
            return
        state = str(event.data.get("state") or "")
        before = self.states.get(event.session_id)
        self.states[event.session_id] = state
        found = pane_of_session(self.app, event.session_id)
        if found is not None:
            kind, source = event.data.get("kind"), event.data.get("source")
            found[1].set_agent_state(badge_for(state, kind, source))
        if state == "waiting" and before != "waiting":
            self._tell(event, found)
        self.app.update_status()

    def _tell(self, event: Event, found: tuple[WindowView, TerminalPane] | None) -> None:
        app = self.app
        name = event.session or event.session_id or "?"
        where = locate(app, event.session_id or "") if found is not None else None
        title = f"pane {where} ({name}) is waiting" if where else f"{name} is waiting"
        question = " ".join(str(event.data.get("question") or "").split())
        reason = str(event.data.get("reason") or "")
        text = f"“{question[:QUESTION_CHARS]}”" if question else reason or "for input"
        app.log_message(f"{title}: {text}")  # kept (bounded) for C-b ~
        app.notify(text, title=title, severity="warning", markup=False)
        if app.option("bell-action", None):
            app.bell()
        if found is not None and found[0] is not app.window and not found[0].bell:
            found[0].bell = True  # the status line's `!`, cleared when the window is shown
