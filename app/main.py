"""The Textual app: panes of engine sessions, driven by tmux's prefix keys."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from engine import SessionConfig, SessionManager
from widgets.terminal_pane import TerminalPane

PREFIX = "ctrl+b"
HINT = " C-b d quit · C-b C-b send C-b "


class AiSessionApp(App[int], inherit_bindings=False):
    """One pane running the user's shell (split panes arrive with the multiplexer issue).

    Nothing but the prefix is bound: Ctrl-Q, Ctrl-P, Tab and Ctrl-C all reach the program.
    """

    CSS = """
    Screen { layout: vertical; }
    #hints { height: 1; background: $panel; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(PREFIX, "prefix", "prefix", show=False, priority=True)
    ]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, config: SessionConfig | None = None, *, show_hints: bool = True) -> None:
        super().__init__()
        self.manager = SessionManager()
        self.config = config or SessionConfig()
        self.show_hints = show_hints
        self.prefix_armed = False
        self._pane: TerminalPane | None = None

    def compose(self) -> ComposeResult:
        return iter(())

    async def on_mount(self) -> None:
        session = await self.manager.create_session_with_config(self.config)
        rows = max(1, self.size.height - (1 if self.show_hints else 0))
        session.config.pty_size = (rows, max(1, self.size.width))
        session.terminal.resize(session.config.pty_size[1], rows)
        await session.start()
        self._pane = TerminalPane(session)
        await self.mount(self._pane)
        if self.show_hints:
            await self.mount(Static(HINT, id="hints"))
        self._pane.focus()
        self.title = session.name

    async def on_unmount(self) -> None:
        await self.manager.close()

    def action_prefix(self) -> None:
        """C-b arms the prefix; C-b C-b sends one C-b to the program."""
        if self.prefix_armed and self._pane is not None:
            self.run_worker(self._pane.session.send_input(b"\x02"))
        self.prefix_armed = not self.prefix_armed

    def check_prefixed(self, event: events.Key) -> bool:
        """Called by panes before sending a key: True when the key was a prefix command."""
        if not self.prefix_armed:
            return False
        self.prefix_armed = False
        if event.key == "d":
            self.exit(0)
        return True

    def on_terminal_pane_exited(self, message: TerminalPane.Exited) -> None:
        self.exit(message.exit_code)
