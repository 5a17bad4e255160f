"""The Textual app: windows of split panes over engine sessions, driven by tmux's prefix keys."""

from __future__ import annotations

import app.textual_env  # noqa: F401  (Textual's settings, before it loads)

# isort: split
import asyncio
import contextlib
import copy
import gc
import itertools
import logging
import os
import re
import shlex
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.color import Color
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from app import agents_ui, collector, commands
from app import snapshots as snapshot_ui
from app.commands import OPTIONS
from app.input import RawInputDriver
from app.keymap import (
    HINTS,
    PREFIX,
    PREFIX_KEYS,
    REPEAT_SECONDS,
    REPEATABLE,
    key_label,
)
from app.snapshots import new_instance, open_snapshots
from app.targets import SESSION_NAME, CommandError, pane_index
from engine import Session, SessionConfig, SessionError, SessionManager
from engine.layout import Direction
from engine.security import AuditLog, SecurityPolicy, default_audit_path, default_config_path
from engine.server import Server, create_app, default_socket_path
from engine.session import describe_exit
from engine.snapshots import AUTO_INTERVAL, Snapshotter
from themes import DEFAULT_THEME, THEMES
from widgets.choose_tree import ChooseTreeScreen, PaneEntry, TreeChoice, WindowEntry
from widgets.clock import ClockView
from widgets.keys_screen import KeysScreen, PagerScreen
from widgets.messages_screen import MessagesScreen
from widgets.panels import SnapshotsPanel, Timeline
from widgets.panels.live import LivePanel
from widgets.prompt_bar import PromptBar
from widgets.status_line import StatusLine, WindowLabel
from widgets.terminal_pane import OuterCursor, TerminalPane
from widgets.window_view import WindowView

log = logging.getLogger(__name__)
collector.untangle_strips()  # rows drawn are freed at once, not by the cycle collector

HANGUP_GRACE = 5.0  # seconds the app may take to stop its programs after a SIGHUP
MESSAGE_LIMIT = 100  # messages kept for C-b ~ (tmux's message-limit)
BUFFER_LIMIT = 50  # automatic paste buffers kept (tmux's buffer-limit)

# The command palette (C-b C-p): title, help, command line.
PALETTE_COMMANDS = (
    ("Split pane side by side", "split-window -h (C-b %)", "split-window -h"),
    ("Split pane top and bottom", 'split-window -v (C-b ")', "split-window -v"),
    ("New window", "new-window (C-b c)", "new-window"),
    ("Zoom pane", "resize-pane -Z (C-b z)", "resize-pane -Z"),
    ("Copy mode", "copy-mode (C-b [)", "copy-mode"),
    ("Next layout", "next-layout (C-b Space)", "next-layout"),
    ("Choose a window", "choose-tree -w (C-b w)", "choose-tree -w"),
    (
        "Synchronize panes",
        "type into every pane of the window",
        "set-window-option synchronize-panes",
    ),
    ("Take a snapshot", "snapshot of every window, with a note (C-b S)", "snapshot"),
    ("Snapshots", "browse, preview and restore snapshots (C-b g)", "choose-snapshot"),
    ("Timeline of this pane", "step through its past screens (C-b T)", "choose-snapshot -T"),
    ("Agents", "every pane's agent: state, question, tokens (C-b a)", "choose-agent"),
    ("Next waiting agent", "go to the next agent waiting for input (C-b j)", "next-agent"),
    ("Agent messages", "what the agents say to each other (C-b e)", "show-agent-messages"),
    ("Tokens and context", "tokens, context, compressions per agent (C-b u)", "show-tokens"),
    ("Decisions and traces", "decisions, their outcomes, spans (C-b y)", "show-decisions"),
    ("Show keys", "list-keys (C-b ?)", "list-keys"),
    ("Show messages", "show-messages (C-b ~)", "show-messages"),
    (
        "Kill the server",
        "end every session (asks first)",
        "confirm-before -p 'kill-server: end every session? (y/n)' kill-server",
    ),
)


class AiSessionApp(App[int], inherit_bindings=False):
    """A tmux for people who also watch AI agents: windows, split panes, tmux keys.

    Nothing but the prefix is bound: Ctrl-Q, Ctrl-P, Tab and Ctrl-C all reach the program.
    """

    CSS = """
    Screen { layout: vertical; layers: default clock prompt-candidates prompt prompt-label; }
    #main { height: 1fr; }
    #windows { height: 1fr; width: 1fr; }
    #status { height: 1; background: $primary-darken-2; color: $text; }
    #hints { height: 1; background: $panel; color: $text-muted; }
    #message {
        position: absolute; layer: prompt; height: 1; width: 1fr;
        background: $warning; color: $text; display: none;
    }
    """
    # No priority bindings: the prefix is read by the panes in order with every other key (a
    # priority binding would jump ahead of keys the pane has not processed yet). Ctrl-P is
    # bound without priority, so it opens the palette only when no pane has focus; in panes
    # it is C-b C-p.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+p", "command_palette", "palette", show=False)
    ]

    def __init__(
        self,
        config: SessionConfig | None = None,
        *,
        show_hints: bool = True,
        prefix: str = PREFIX,
        theme: str = DEFAULT_THEME,
        restore: int | bool = False,
        database: Path | None = None,
        snapshot_interval: float = AUTO_INTERVAL,
    ) -> None:
        super().__init__(driver_class=RawInputDriver)  # keys read raw: see app/input.py
        for pane_theme in THEMES.values():
            self.register_theme(pane_theme.theme)
        self.theme = theme
        # The focused pane's cursor is the terminal's own, in the program's shape (DECSCUSR),
        # when Textual has the frame hooks it is drawn from (else panes draw their cursor).
        hooks = hasattr(App, "_begin_update") and hasattr(App, "_end_update")
        self.outer_cursor: OuterCursor | None = OuterCursor() if hooks else None
        self.prefix = prefix
        self.manager = SessionManager()
        self.control: Server | None = None  # the API on this instance's control socket
        self.config = config or SessionConfig()
        self.show_hints = show_hints
        self.windows: list[WindowView] = []
        self.current = 0
        self._visited: list[WindowView] = []  # windows by when they were shown, newest first
        self.prefix_armed = False
        self.buffers: dict[str, str] = {}  # tmux's paste buffers by name, oldest first
        self.options: dict[str, bool] = {name: d for name, (_, d) in OPTIONS.items()}
        self.marked: tuple[WindowView, TerminalPane] | None = None  # tmux's marked pane
        self.messages: list[tuple[float, str]] = []  # what show_message said (C-b ~)
        self.info_format = "[#S] #I:#W, current pane #P - (%H:%M %d-%b-%y)"  # tmux's
        self._pane_ids = itertools.count()
        self._window_ids = itertools.count()
        self._buffer_ids = itertools.count()
        self._repeat_until = 0.0
        self._windows_closing: set[WindowView] = set()  # windows being killed
        self._watching_activity = False  # monitor-activity is on somewhere (update_status)
        self._hint_mode = ""
        self._message_timer: Timer | None = None
        # Snapshots: the database (None: the user's), this run's name in it, and the restore
        # asked for on the command line (True: the newest workspace; a number: that snapshot).
        self.database = database
        self.instance = new_instance()
        self.snapshot_interval = snapshot_interval
        self.restore = restore
        self.snapshotter: Snapshotter | None = None
        self.agent_watch: agents_ui.AgentWatch | None = None  # badges and waiting notices
        self._hung_up = False

    # -- composition -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):  # the windows, and a side panel docked right when open
            yield Container(id="windows")
        yield StatusLine(id="status")
        yield Static(Text(self._hint("normal")), id="hints")
        yield Static("", id="message")
        yield PromptBar()

    async def on_event(self, event: events.Event) -> None:
        # A key for a pane goes straight to it, not through the pane's own message queue:
        # one turn of the event loop less per key, which counts while other panes flood. It
        # goes to the active pane of the window shown, as in tmux, whichever pane Textual's
        # focus is on (a focus change is applied later; it could lag or land in a hidden window).
        if isinstance(event, events.Key) and not event.is_forwarded:
            pane = self.pane
            focused = self.focused
            if (
                pane is not None
                and (focused is None or isinstance(focused, TerminalPane))
                and pane.screen is self.screen
            ):
                if focused is not pane:
                    pane.focus()
                self.app_focus = True
                await pane.on_key(event)
                return
        await super().on_event(event)

    async def on_mount(self) -> None:
        self.query_one("#hints").display = self.show_hints
        self.set_interval(0.5, self.update_status)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        self.snapshotter = await open_snapshots(self)
        self.agent_watch = agents_ui.AgentWatch(self)
        await self._serve_control_socket()
        if not (self.restore and await snapshot_ui.restore_at_start(self)):
            await self.new_window()
            self.call_later(snapshot_ui.offer_restore, self)
        self.snapshotter.start()
        # Everything made so far (modules, Textual's machinery) lives as long as the app: keep
        # it out of the collector's full passes, which stall keys for 50-150 ms.
        gc.freeze()

    def _hang_up(self) -> None:
        """The outer terminal closed (SIGHUP): end as a quit does — the control socket removed
        at once, the programs hung up — and leave even if the dead terminal blocks the exit."""
        if self.control is not None and self.control.socket_path is not None:
            self.control.socket_path.unlink(missing_ok=True)
        self._hung_up = True  # the user did not close the sessions: the next start offers them
        self.exit(0)
        timer = threading.Timer(HANGUP_GRACE, os._exit, (0,))
        timer.daemon = True
        timer.start()

    def _begin_update(self) -> None:
        """Textual's frame start: hide the outer cursor while the frame is drawn."""
        super()._begin_update()
        if self.outer_cursor is not None and self._driver is not None:
            self._driver.write(self.outer_cursor.begin())

    def _end_update(self) -> None:
        """Textual's frame end: the outer cursor to the focused pane's, in its shape."""
        if self.outer_cursor is not None and self._driver is not None:
            focused = self.focused
            pane = focused if isinstance(focused, TerminalPane) else None
            self._driver.write(self.outer_cursor.end(pane))
        super()._end_update()

    async def on_unmount(self) -> None:
        if self.outer_cursor is not None and self._driver is not None:
            self._driver.write(self.outer_cursor.reset())  # the terminal's own shape back
        if self.control is not None:
            await self.control.close()
        if self.snapshotter is not None:
            await self.snapshotter.close(final=True, clean=not self._hung_up)
        if self.agent_watch is not None:
            self.agent_watch.stop()
        await self.manager.close()

    def on_window_view_resized(self, message: WindowView.Resized) -> None:
        size = self.query_one("#windows").size
        for window in self.windows:
            if not window.display:
                window.size_programs(size.width, size.height)

    @property
    def window(self) -> WindowView:
        return self.windows[self.current]

    @property
    def pane(self) -> TerminalPane | None:
        return self.window.active_pane if self.windows else None

    def focus_active(self) -> None:
        pane = self.pane
        if pane is not None:
            pane.focus()

    # -- panes and windows ------------------------------------------------------------------------

    async def _new_pane(
        self,
        command: str | list[str] | None = None,
        directory: Path | None = None,
        size: tuple[int, int] | None = None,
    ) -> TerminalPane:
        """A started session in a new pane, in the active pane's directory (like tmux -c),
        its program started at `size` (columns, lines: the place it gets), else the window's."""
        config = replace(self.config, name=None, environment=dict(self.config.environment))
        if command is not None:
            config.shell_command = command
        current = self.pane
        if directory is None and current is not None:
            cwd = current.session.terminal.cwd or current.session.current_path
            directory = Path(cwd) if cwd else None
        if directory is not None and directory.is_dir():  # else the default, as tmux falls back
            config.working_directory = directory
        session = await self.manager.create_session_with_config(config)
        width, height = size or self.query_one("#windows").size
        if width < 1 or height < 1:  # not laid out yet (the first pane): the screen less the
            width, height = self.size.width, self.size.height - 1  # status line
        width, height = max(1, width), max(1, height)
        session.config.pty_size = (height, width)
        session.terminal.resize(width, height)
        await session.start()  # a failed start leaves the manager by itself
        return self.pane_for(session)

    def pane_for(self, session: Session, pane_id: str | None = None) -> TerminalPane:
        pane = TerminalPane(session, pane_id=pane_id or f"%{next(self._pane_ids)}")
        pane.key_filter = self._key_filter
        pane.on_output = self._on_output
        pane.synchronized = lambda: self._synchronized(pane)
        pane.set_palette(self.palette())
        session.terminal.colors = self.terminal_colors()
        pane.agent_state = agents_ui.state_of(self, session)
        if self.snapshotter is not None:
            self.snapshotter.watch(session)
        return pane

    # -- snapshots (the work is in app/snapshots.py) --------------------------------------------

    async def restore_snapshot(self, snapshot_id: int, replace_first: bool = False) -> None:
        await snapshot_ui.restore_snapshot(self, snapshot_id, replace_first)

    def toggle_snapshots(self, timeline: bool = False) -> None:
        snapshot_ui.toggle_panel(self, timeline)

    def close_panel(self) -> None:
        snapshot_ui.close_panel(self)

    def on_snapshots_panel_close_requested(self, message: SnapshotsPanel.CloseRequested) -> None:
        snapshot_ui.close_panel(self)

    def on_timeline_close_requested(self, message: Timeline.CloseRequested) -> None:
        snapshot_ui.close_panel(self)

    def on_live_panel_close_requested(self, message: LivePanel.CloseRequested) -> None:
        agents_ui.close_panel(self, message.panel)

    def on_live_panel_pane_requested(self, message: LivePanel.PaneRequested) -> None:
        agents_ui.jump(self, message.session)

    async def on_snapshots_panel_restore_requested(
        self, message: SnapshotsPanel.RestoreRequested
    ) -> None:
        snapshot_ui.close_panel(self)
        try:
            await self.restore_snapshot(message.snapshot_id)
        except CommandError as exc:
            self.show_message(str(exc))

    async def on_snapshots_panel_delete_requested(
        self, message: SnapshotsPanel.DeleteRequested
    ) -> None:
        await snapshot_ui.delete_snapshot(self, message.snapshot_id)

    def on_snapshots_panel_timeline_requested(
        self, message: SnapshotsPanel.TimelineRequested
    ) -> None:
        if message.session_id is None:
            self.show_message("that snapshot does not say which session it shows")
            return
        snapshot_ui.close_panel(self)
        snapshot_ui.open_timeline(self, message.session_id, message.session, message.time)

    async def on_timeline_restore_at_requested(self, message: Timeline.RestoreAtRequested) -> None:
        snapshot_ui.close_panel(self)
        await snapshot_ui.restore_at(self, message.session_id, message.time)

    def _adopt(self, session: Session) -> None:
        """A session created through the API gets a window of its own, in the background
        (like `tmux new-session -d`): the status line shows it, the user's view stays."""
        self.call_later(self._adopt_window, session)

    async def _adopt_window(self, session: Session) -> None:
        window = self.make_window(session.name)
        await self.query_one("#windows").mount(window)
        pane = self.pane_for(session)
        pane.remain_on_exit = True  # a script that made it reads its exit status
        await window.add_pane(pane)
        size = self.query_one("#windows").size
        window.size_programs(size.width, size.height)
        self.update_status()

    async def _serve_control_socket(self) -> None:
        """Answer the API on this instance's control socket, so scripts and programs in the
        panes ($AI_SESSION_SOCKET) drive the sessions shown here. The UI runs without it if
        the socket cannot be made."""
        try:
            policy = SecurityPolicy.load(default_config_path())
        except ValueError as exc:  # a broken policy must not mean no policy
            self.show_message(f"no control socket: {exc}")
            return
        audit = AuditLog(default_audit_path())
        try:
            path = default_socket_path()
            control = Server(
                create_app(
                    self.manager,
                    policy=policy,
                    audit=audit,
                    on_created=self._adopt,
                    snapshots=self.snapshotter,
                )
            )
            await control.start(path)
        except OSError as exc:
            self.show_message(f"no control socket: {exc}")
            return
        self.control = control
        self.manager.socket_path = str(path)

    def palette(self) -> tuple[Color, ...] | None:
        """The 16 terminal colours of the current theme (Textual's ANSI theme for others).
        None passes them through to your terminal (the default theme, Textual's ANSI ones)."""
        ours = THEMES.get(self.theme)
        if ours is not None:
            return ours.colors()
        if self.native_ansi_color:
            return None
        return tuple(Color.from_triplet(c) for c in self.ansi_theme.ansi_colors)  # type: ignore[attr-defined]

    def terminal_colors(self) -> dict[str, str]:
        """The theme's text and background colours, which a program asking (OSC 10/11) uses
        to pick a light or dark palette; the pass-through theme leaves the defaults."""
        colors: dict[str, str] = {}
        theme = self.current_theme
        for key in ("foreground", "background"):
            value = getattr(theme, key, None)
            if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
                colors[key] = value.lower()
        return colors

    def watch_theme(self, theme: str) -> None:
        palette = self.palette()
        colors = self.terminal_colors()
        for window in getattr(self, "windows", []):
            for pane in window.panes.values():
                pane.set_palette(palette)
                pane.session.terminal.colors = colors

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (C-b C-p): multiplexer commands and themes. Textual's own
        entries (maximize, keys, quit) are left out: they do not fit a multiplexer."""
        for title, help_text, line in PALETTE_COMMANDS:
            yield SystemCommand(
                title, help_text, lambda line=line: self.run_worker(self.run_command(line))
            )
        for name in THEMES:
            yield SystemCommand(
                f"Theme: {name}",
                "switch the theme and the pane colours",
                lambda name=name: setattr(self, "theme", name),
            )

    def make_window(self, name: str, number: int | None = None) -> WindowView:
        """A hidden window with tmux's numbering: the lowest free index unless one is given."""
        window = WindowView(name)
        window.display = False  # mounted hidden: the current window keeps its whole size
        taken = {w.number for w in self.windows}
        window.number = (
            number if number is not None else next(n for n in itertools.count() if n not in taken)
        )
        window.window_id = f"@{next(self._window_ids)}"
        shown = self.windows[self.current] if self.windows else None
        self.windows.append(window)
        self.windows.sort(key=lambda w: w.number)
        if shown is not None:  # indexes shift when a window is numbered below them
            self.current = self.windows.index(shown)
        return window

    @property
    def last_window(self) -> int | None:
        """The index of the window shown before the current one (tmux's `-` flag)."""
        shown = self.windows[self.current] if self.windows else None
        last = next((w for w in self._visited if w is not shown and w in self.windows), None)
        return self.windows.index(last) if last is not None else None

    async def new_window(
        self,
        name: str | None = None,
        *,
        command: str | list[str] | None = None,
        directory: Path | None = None,
        detached: bool = False,
        number: int | None = None,
    ) -> None:
        try:
            pane = await self._new_pane(command, directory)
        except SessionError as exc:
            self.show_message(f"create window failed: {exc}")
            if not self.windows:
                self.exit(1)
            return
        window = self.make_window(name or "", number)  # empty name: named after its program
        await self.query_one("#windows").mount(window)
        if not detached or len(self.windows) == 1:
            self.show_window(window)
        await window.add_pane(pane)
        if not detached:
            self.focus_active()
        self.update_status()

    def show_window(self, window: WindowView) -> None:
        self._show_window(self.windows.index(window))

    def show_window_at(self, index: int) -> None:
        """The window at list position `index` (wrapping), for next/previous."""
        self._show_window(index)

    def _show_window(self, index: int) -> None:
        if not self.windows:
            return
        index %= len(self.windows)
        self.current = index
        shown = self.windows[index]
        self._visited = [shown, *[w for w in self._visited if w is not shown]]
        for i, window in enumerate(self.windows):
            window.display = i == index
        self.window.bell = self.window.activity = False  # seen now
        self.window.place()
        self.focus_active()
        self.update_status()

    def _window_of(self, pane: TerminalPane) -> WindowView | None:
        return next((w for w in self.windows if w.panes.get(pane.pane_id) is pane), None)

    async def split(
        self,
        window: WindowView,
        target: TerminalPane,
        direction: Direction,
        *,
        before: bool = False,
        full: bool = False,
        size: int | None = None,
        command: str | list[str] | None = None,
        directory: Path | None = None,
        detached: bool = False,
    ) -> None:
        """tmux's split-window: a new pane beside `target` (or across the window with -f)."""
        if directory is None:
            cwd = target.session.terminal.cwd or target.session.current_path
            directory = Path(cwd) if cwd else None
        # Where the pane will go, worked out first: its program starts at its real size (a
        # program that reads its size at once must not see the whole window) and a split with
        # no room is refused before anything starts.
        width, height = window.size if window.size.width else self.query_one("#windows").size
        probe = copy.deepcopy(window.splits)
        try:
            probe.split(
                target.pane_id,
                "%new",
                direction,
                width,
                height,
                before=before,
                size=size,
                full=full,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        place = probe.geometry(width, height)[0]["%new"]
        pane = await self._new_pane(command, directory, (place.width, max(1, place.height - 1)))
        try:
            await window.add_pane(
                pane,
                beside=target.pane_id,
                direction=direction,
                before=before,
                size=size,
                full=full,
                detached=detached,
            )
        except ValueError as exc:
            await pane.session.stop(grace=0.2)
            await self._forget(pane.session)
            raise CommandError(str(exc)) from None
        if window is self.window:
            self.focus_active()

    def select_pane(self, window: WindowView, pane: TerminalPane) -> None:
        """Make `pane` the active pane of `window`, and show that window."""
        if window is not self.window:
            self.show_window(window)
        window.zoomed = window.zoomed and window.active == pane.pane_id
        window.select(pane.pane_id)
        window.place()
        self.focus_active()

    def mark(self, target: tuple[WindowView, TerminalPane] | None) -> None:
        """select-pane -m marks a pane (again: unmarks it); -M clears the mark."""
        if target is not None and self.marked is not None and self.marked[1] is target[1]:
            target = None
        old = self.marked
        self.marked = target
        if old is not None:
            old[0].marked = None
            old[0].place()
        if target is not None:
            target[0].marked = target[1].pane_id
            target[0].place()
        self.update_status()

    async def kill_pane(self, pane: TerminalPane) -> None:
        window = self._window_of(pane)
        if window is None:
            return
        if self.marked is not None and self.marked[1] is pane:
            self.mark(None)
        await pane.session.stop(grace=0.5)
        if (  # meanwhile its exit closed it, or its window was killed
            pane.pane_id not in window.panes
            or window not in self.windows
            or window in self._windows_closing
        ):
            return
        await window.remove_pane(pane.pane_id)
        await self._forget(pane.session)
        if not window.panes:
            await self._close_window(window)
        elif window is self.window:
            self.focus_active()
        self.update_status()

    async def _close_window(self, window: WindowView) -> None:
        if window not in self.windows:  # closed already (its last pane and a kill-window)
            return
        index = self.windows.index(window)
        shown = self.windows[self.current]
        self.windows.pop(index)
        self._visited = [w for w in self._visited if w is not window]
        if not self.windows:
            await window.remove()
            self.exit(0)
            return
        if self.option("renumber-windows", None):
            for number, other in enumerate(self.windows):
                other.number = number
        if shown is window:  # tmux goes to the window shown before it
            following = self._visited[0] if self._visited else None
            self._show_window(
                self.windows.index(following)
                if following is not None
                else min(index, len(self.windows) - 1)
            )
        else:
            self.current = self.windows.index(shown)
        await window.remove()
        self.update_status()

    async def kill_window(self, window: WindowView | None = None) -> None:
        window = window or self.window
        if window in self._windows_closing:
            return
        self._windows_closing.add(window)  # its programs' exits must not close it pane by pane
        for pane in list(window.panes.values()):
            await pane.session.stop(grace=0.5)
            await self._forget(pane.session)
        if self.marked is not None and self.marked[0] is window:
            self.marked = None
        if window in self.windows:
            await self._close_window(window)
        self._windows_closing.discard(window)

    async def _forget(self, session: Session) -> None:
        """Drop a closed pane's session from the manager (`ai-session list` forgets it)."""
        if self.manager.get_session(session.id) is session:
            await self.manager.remove_session(session.id)

    async def break_pane(
        self,
        window: WindowView | None = None,
        pane: TerminalPane | None = None,
        *,
        name: str | None = None,
        detached: bool = False,
    ) -> None:
        """Move a pane into a window of its own (the program keeps running)."""
        window = window or self.window
        pane = pane or window.active_pane
        if pane is None or len(window.panes) < 2:
            return
        session = pane.session
        remain = pane.remain_on_exit
        await window.remove_pane(pane.pane_id)
        moved = self.pane_for(session, pane_id=pane.pane_id)
        moved.remain_on_exit = remain
        new = self.make_window(name or "")
        await self.query_one("#windows").mount(new)
        if not detached:
            self.show_window(new)
        await new.add_pane(moved)
        if detached:
            size = self.query_one("#windows").size
            new.size_programs(size.width, size.height)
            self.focus_active()
        self.update_status()

    async def respawn_pane(
        self,
        pane: TerminalPane | None = None,
        *,
        command: str | list[str] | None = None,
        directory: Path | None = None,
    ) -> None:
        pane = pane or self.pane
        if pane is None:
            return
        old = pane.session
        pane.respawning = True  # its program's exit must not close it (no remain-on-exit)
        try:
            if old.status.is_running:
                await old.stop(grace=0.5)
            config = replace(old.config, name=None, environment=dict(old.config.environment))
            if command is not None:
                config.shell_command = command
            if directory is not None and directory.is_dir():
                config.working_directory = directory
            session = await self.manager.create_session_with_config(config)
            try:
                await session.start()
            except SessionError:
                await self._forget(session)
                raise
            pane.attach(session)
        finally:
            pane.respawning = False
        pane.set_agent_state(agents_ui.state_of(self, session))  # the new program's, if any
        if self.manager.get_session(old.id) is old:
            await self.manager.remove_session(old.id)
        self.update_status()

    def option(self, name: str, window: WindowView | None) -> bool:
        """An option's value: the window's own setting, else the global one."""
        if window is not None and name in window.options:
            return window.options[name]
        return self.options.get(name, False)

    def add_buffer(self, text: str, name: str | None = None) -> None:
        """A paste buffer: named, or tmux's automatic `bufferN` (the newest 50 are kept)."""
        if name is None:
            name = f"buffer{next(self._buffer_ids)}"
            automatic = [n for n in self.buffers if n.startswith("buffer")]
            for old in automatic[: max(0, len(automatic) - BUFFER_LIMIT + 1)]:
                del self.buffers[old]
        self.buffers.pop(name, None)
        self.buffers[name] = text

    def newest_buffer(self) -> str | None:
        return next(reversed(self.buffers), None) if self.buffers else None

    @property
    def paste_buffers(self) -> list[str]:
        """The buffers' texts, oldest first."""
        return list(self.buffers.values())

    def expand_format(self, template: str, window: WindowView, pane: TerminalPane) -> str:
        """The tmux formats display-message knows: #S #I #P #W #T #D, #{name}, strftime's %."""
        values = {
            "session_name": SESSION_NAME,
            "window_index": str(window.number),
            "window_id": window.window_id,
            "window_name": window.display_name,
            "pane_index": str(pane_index(window, pane.pane_id)),
            "pane_id": pane.pane_id,
            "pane_title": pane.title_text,
            "pane_current_command": pane.session.current_command or "",
            "pane_current_path": pane.session.current_path or "",
            "pane_pid": str(pane.session.pid or ""),
            "pane_width": str(pane.session.terminal.columns),
            "pane_height": str(pane.session.terminal.lines),
            "pane_dead": "1" if not pane.session.status.is_running else "0",
            "window_panes": str(len(window.panes)),
            "window_width": str(window.size.width),
            "window_height": str(window.size.height),
        }
        short = {
            "S": "session_name",
            "I": "window_index",
            "P": "pane_index",
            "W": "window_name",
            "T": "pane_title",
            "D": "pane_id",
        }

        def one(match: re.Match[str]) -> str:
            name = match.group(1) or short.get(match.group(2) or "", "")
            if match.group(0) == "##":
                return "#"
            return values.get(name, "")

        if "%" in template:  # tmux's strftime pass comes first, on the template alone
            template = time.strftime(template)
        return re.sub(r"##|#\{([a-z_]+)\}|#([SIPWTD])", one, template)

    # -- screens over the panes ---------------------------------------------------------------

    def display_panes(self) -> None:
        """C-b q: each pane's number on it; a digit typed meanwhile selects that pane."""
        self.window.show_pane_numbers()

    def clock_mode(self, window: WindowView, pane: TerminalPane) -> None:
        """tmux's clock over the pane (the program keeps running); any key puts it away."""
        self.select_pane(window, pane)
        clock = ClockView()
        clock.styles.position = "absolute"
        clock.styles.offset = (pane.region.x, pane.region.y)
        clock.styles.width = pane.region.width
        clock.styles.height = pane.region.height
        clock.styles.layer = "clock"
        self.screen.mount(clock)
        clock.focus()

    def on_clock_view_done(self, message: ClockView.Done) -> None:
        message.clock.remove()
        self.focus_active()

    def _window_entries(self, only: list[WindowView] | None = None) -> list[WindowEntry]:
        entries = []
        for window in only or self.windows:
            panes = [
                PaneEntry(
                    p,
                    window.panes[p].title_text,
                    window.panes[p].session.terminal,
                    p == window.active,
                )
                for p in window.splits.panes()
            ]
            entries.append(
                WindowEntry(
                    window.number, window.display_name, self._flags(window, self.last_window), panes
                )
            )
        return entries

    def choose_tree(self, mode: str, only: list[WindowView] | None = None) -> None:
        """C-b w / C-b s: windows and panes over a live preview; Enter goes there."""

        async def chosen(choice: TreeChoice | None) -> None:
            window = next((w for w in self.windows if choice and w.number == choice.window), None)
            if choice is None or window is None:
                self.focus_active()
                return
            pane = window.panes.get(choice.pane_id)
            if choice.action == "kill-window":
                await self.kill_window(window)
            elif choice.action == "kill-pane" and pane is not None:
                await self.kill_pane(pane)
            elif pane is not None:
                self.select_pane(window, pane)
            else:
                self.show_window(window)

        screen = ChooseTreeScreen(
            self._window_entries(only),
            sessions=mode == "sessions",
            session_name=SESSION_NAME,
            palette=self.palette(),
        )
        self.push_screen(screen, callback=chosen)

    def choose_buffer(self, list_only: bool = False) -> None:
        """C-b # lists the paste buffers, C-b = picks one to paste (newest first)."""
        names = list(reversed(self.buffers))
        if list_only or not names:
            rows = [f'{n}: {len(self.buffers[n])} bytes: "{self.buffers[n][:60]}"' for n in names]
            screen = PagerScreen(rows or ["no buffers"], "buffers")
            self.push_screen(screen, callback=lambda _: self.focus_active())
            return

        async def picked(value: str) -> None:
            if value.isdigit() and int(value) < len(names):
                await self.run_command(f"paste-buffer -b {shlex.quote(names[int(value)])}")

        listing = "  ".join(f"{i}:{n}" for i, n in enumerate(names[:10]))
        self.query_one(PromptBar).ask(f"(paste which? {listing})", picked, single_key=True)

    def show_messages(self) -> None:
        self.push_screen(MessagesScreen(self.messages), callback=lambda _: self.focus_active())

    def list_keys(self) -> None:
        rows = [(f"{key_label(self.prefix)} {key_label(k)}", c) for k, c in PREFIX_KEYS.items()]
        self.push_screen(KeysScreen(rows), callback=lambda _: self.focus_active())

    async def on_terminal_pane_exited(self, message: TerminalPane.Exited) -> None:
        """tmux closes a pane whose program exits, unless remain-on-exit keeps it."""
        pane = message.pane
        if pane.respawning or message.session is not pane.session:
            return  # `respawn-pane -k` stopped it: the pane goes on with a new program
        window = self._window_of(pane)
        keep = pane.remain_on_exit or self.option("remain-on-exit", window)
        if window is not None and window not in self._windows_closing and not keep:
            await self.kill_pane(pane)
            return
        self.update_status()

    def on_terminal_pane_copied(self, message: TerminalPane.Copied) -> None:
        """`y` in copy mode: a paste buffer for C-b ], and the system clipboard (OSC 52)."""
        self.add_buffer(message.text)
        self.copy_to_clipboard(message.text)
        self.show_message(f"copied {len(message.text)} characters", seconds=1.5)
        self.update_status()

    def on_terminal_pane_search_requested(self, message: TerminalPane.SearchRequested) -> None:
        pane = message.pane

        async def done(text: str) -> None:
            if pane.copy is not None and text:
                if not pane.copy.find(text, message.forward):
                    self.show_message(f"not found: {text}", seconds=1.5)
                pane.refresh()

        label = "(search down)" if message.forward else "(search up)"
        self.query_one(PromptBar).ask(
            label, done, value=pane.copy.search if pane.copy else "", history="search"
        )

    def on_terminal_pane_focused(self, message: TerminalPane.Focused) -> None:
        """A click makes a pane active; any other focus move (Textual refocusing when a
        focused pane is removed) goes back to the active pane: it decides, as in tmux."""
        pane = message.pane
        window = self._window_of(pane)
        if message.clicked and window is not None and window.active != pane.pane_id:
            window.select(pane.pane_id)
        elif pane.has_focus and pane is not self.pane:
            self.focus_active()
        self.update_status()

    # -- keys ------------------------------------------------------------------------------------

    def _hint(self, mode: str) -> str:
        return HINTS[mode].replace("C-b", key_label(self.prefix))

    def _arm(self, on: bool) -> None:
        self.prefix_armed = on
        self._show_hint("prefix" if on else "normal")

    def _show_hint(self, mode: str) -> None:
        if mode != self._hint_mode:  # write to the terminal only when the hint changes
            self._hint_mode = mode
            self.query_one("#hints", Static).update(Text(self._hint(mode)))

    def _key_filter(self, event: events.Key) -> bool:
        """Panes ask this first: True when the key was a multiplexer command."""
        prompt = self.query_one(PromptBar)
        if prompt.display:  # typed ahead of the prompt opening: it is the prompt's
            self.run_worker(prompt.take_key(event), group="prompt")
            return True
        key = (
            event.character
            if event.character and event.character.isprintable() and event.key != "space"
            else event.key
        )
        if self.window.showing_pane_numbers:  # C-b q showing: a digit picks that pane
            self.window.hide_pane_numbers()
            if key.isdigit() and not self.prefix_armed:
                pane = self.window.pane_by_index(int(key))
                if pane is not None:
                    self.select_pane(self.window, pane)
                return True
        if event.key == self.prefix:  # C-b arms the prefix; C-b C-b sends one C-b to the program
            if self.prefix_armed:
                self._arm(False)
                return False
            self._arm(True)
            return True
        repeating = key in REPEATABLE and time.monotonic() < self._repeat_until
        if not repeating:
            self._repeat_until = 0.0  # any other key ends a repeat, as in tmux
        if not self.prefix_armed and not repeating:
            return False
        self._arm(False)
        command = "command-palette" if event.key == "ctrl+p" else PREFIX_KEYS.get(key)
        if command is None:
            return True  # an unbound key after the prefix is swallowed, as in tmux
        if key in REPEATABLE:
            self._repeat_until = time.monotonic() + REPEAT_SECONDS
        if not self._open_prompt(command):
            self.run_worker(self.run_command(command), group="commands")
        return True

    def _open_prompt(self, line: str) -> bool:
        """Open the prompt a command asks for, at once (keys already typed must land in it).

        Returns False when `line` is not a prompting command.
        """
        words = shlex.split(line)
        if words[0] not in ("confirm-before", "command-prompt"):
            return False
        try:  # opened here and now, not in a worker: keys typed ahead must land in it
            command = commands.lookup(words[0])
            commands.prompt(self, commands.parse(command, words[1:]))
        except CommandError as exc:
            self.show_message(str(exc))
        return True

    def confirm(self, label: str, line: str) -> None:
        """confirm-before: run `line` if the answer is y."""

        async def confirmed(value: str) -> None:
            if value.lower().startswith("y"):
                await self.run_command(line)

        pane = self.pane
        if pane is not None:
            label = self.expand_format(label, self.window, pane)
        self.query_one(PromptBar).ask(label, confirmed, single_key=True)

    def command_prompt(
        self, template: str | None = None, label: str | None = None, initial: str | None = None
    ) -> None:
        """The `C-b :` prompt; with a template, the answer replaces its `%%` (or `%1`)."""

        async def done(value: str) -> None:
            if template is None:
                await self.run_command(value)
            else:  # tmux runs the template with an empty answer too (only Escape cancels)
                await self.run_command(template.replace("%%", value).replace("%1", value))

        pane = self.pane
        if initial and pane is not None:  # `-I '#W'`: the window's name to edit
            initial = self.expand_format(initial, self.window, pane)
        self.query_one(PromptBar).ask(
            f"({label})" if label else ":",
            done,
            value=initial or "",
            complete=sorted(commands.commands()) if template is None else (),
            history="command" if template is None else label,
        )

    # -- commands --------------------------------------------------------------------------------

    async def run_command(self, line: str) -> None:
        """Run one tmux command line (what keys are bound to and `C-b :` accepts); a refusal
        is shown in the message line with tmux's wording."""
        try:
            await commands.run(self, line)
        except (CommandError, SessionError) as exc:
            text = str(exc)
            self.show_message(text[:1].upper() + text[1:])  # tmux capitalises its errors
        except Exception as exc:  # a command's own failure must not end the multiplexer
            log.exception("command %r failed", line)
            self.show_message(f"{line.split()[0] if line.split() else line}: {exc}")
        self.update_status()

    # -- status ----------------------------------------------------------------------------------

    def log_message(self, text: str) -> None:
        """Keep `text` for C-b ~ without flashing it (what went on in the background)."""
        self.messages.append((time.time(), text))
        del self.messages[:-MESSAGE_LIMIT]

    def show_message(self, text: str, seconds: float = 3.0) -> None:
        self.log_message(text)
        message = self.query_one("#message", Static)
        message.update(Text(" " + text))
        # Over the bottom row, as tmux shows it on its status line: a row of its own would
        # shrink the panes, and their programs would redraw twice (SIGWINCH each way).
        message.styles.offset = (0, max(self.size.height - 1, 0))
        message.display = True
        if self._message_timer is not None:
            self._message_timer.stop()
        self._message_timer = self.set_timer(seconds, lambda: setattr(message, "display", False))

    def _on_output(self, pane: TerminalPane) -> None:
        """Output in a pane: a bell rings and marks its window `!`, activity marks it `#`."""
        bells = pane.session.terminal.bells
        rang = bells != pane.bells_seen
        if not rang and not self._watching_activity:
            return  # the usual case, on every output: nothing to look up
        pane.bells_seen = bells
        window = self._window_of(pane)
        if window is None:
            return
        changed = False
        if rang and self.option("bell-action", None):
            self.bell()
        if window is self.window:
            return
        if rang and self.option("monitor-bell", window) and not window.bell:
            window.bell = changed = True
        if self.option("monitor-activity", window) and not window.activity:
            window.activity = changed = True
        if changed:
            self.update_status()

    def _synchronized(self, pane: TerminalPane) -> list[TerminalPane]:
        """With synchronize-panes on, the other panes of `pane`'s window type what it gets."""
        window = self._window_of(pane)
        if window is None or not self.option("synchronize-panes", window):
            return []
        return [p for p in window.panes.values() if p is not pane]

    def on_status_line_window_clicked(self, message: StatusLine.WindowClicked) -> None:
        window = next((w for w in self.windows if w.number == message.number), None)
        if window is not None:
            self.show_window(window)

    def _flags(self, window: WindowView, last: int | None) -> str:
        """tmux's #{window_flags}, in its order: # activity, ! bell, * current, - last, M marked,
        Z zoomed."""
        i = self.windows.index(window)
        flags = "#" if window.activity else ""
        flags += "!" if window.bell else ""
        flags += "*" if i == self.current else "-" if i == last else ""
        flags += "M" if self.marked is not None and self.marked[0] is window else ""
        return flags + ("Z" if window.zoomed else "")

    def update_status(self) -> None:
        """tmux's status line: windows with their flags, the pane's title on the right.
        Called often; the widgets write to the terminal only when their text changed."""
        status = self.query("#status")
        if not self.windows or not status:
            return
        self._watching_activity = self.options["monitor-activity"] or any(
            w.options.get("monitor-activity") for w in self.windows
        )
        last = self.last_window
        labels = [WindowLabel(w.number, w.display_name, self._flags(w, last)) for w in self.windows]
        pane = self.pane
        hints = self.query("#hints")
        if hints and not self.prefix_armed:
            mode = "copy" if pane is not None and pane.copy else "normal"
            self._show_hint(mode)
        right = ""
        if pane is not None:
            right = pane.title_text
            if pane.agent_state:
                right = f"[{pane.agent_state}] {right}"
            if pane.exit_code is not None:
                right += f" [{describe_exit(pane.exit_code)}]"
        status.first(StatusLine).show(labels, right, self.size.width)
