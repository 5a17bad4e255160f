"""The Textual app: windows of split panes over engine sessions, driven by tmux's prefix keys."""

from __future__ import annotations

import gc
import itertools
import shlex
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.color import Color
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from app.keymap import (
    HINTS,
    PREFIX,
    PREFIX_KEYS,
    REPEAT_SECONDS,
    REPEATABLE,
    key_label,
    pass_keys_through,
)
from engine import Session, SessionConfig, SessionError, SessionManager
from engine.layout import PRESETS, Side
from engine.security import AuditLog, SecurityPolicy, default_audit_path, default_config_path
from engine.server import Server, create_app, default_socket_path
from themes import DEFAULT_THEME, THEMES
from widgets.terminal_pane import TerminalPane
from widgets.window_view import WindowView

_SIDES: dict[str, Side] = {"-L": "left", "-R": "right", "-U": "up", "-D": "down"}


class PromptBar(Input):
    """tmux's command line at the bottom: commands, y/n confirmations, window names."""

    DEFAULT_CSS = """
    PromptBar { dock: bottom; height: 1; border: none; padding: 0 1; display: none; }
    PromptBar:focus { border: none; }
    """

    def __init__(self) -> None:
        super().__init__(id="prompt")
        self._done: Callable[[str], Awaitable[None]] | None = None
        self._single_key = False

    def ask(
        self,
        label: str,
        done: Callable[[str], Awaitable[None]],
        value: str = "",
        single_key: bool = False,
    ) -> None:
        self.placeholder = label
        self.value = value
        self._done = done
        self._single_key = single_key
        self.display = True
        self.focus()

    async def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            self._close()
        elif self._single_key and event.character:
            event.stop()
            await self._finish(event.character)

    async def take_key(self, event: events.Key) -> None:
        """A key that was already on its way to a pane when the prompt opened."""
        if event.key == "escape":
            self._close()
        elif event.key == "enter":
            await self._finish(self.value)
        elif self._single_key and event.character:
            await self._finish(event.character)
        elif event.key == "backspace":
            self.action_delete_left()
        elif event.character and event.character.isprintable():
            self.insert_text_at_cursor(event.character)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self._finish(event.value)

    async def _finish(self, value: str) -> None:
        done = self._done
        self._close()
        if done is not None:
            await done(value)

    def _close(self) -> None:
        self.display = False
        self._done = None
        app = self.app
        if isinstance(app, AiSessionApp):
            app.focus_active()


class KeysScreen(ModalScreen[None]):
    """`C-b ?`: every prefix key and the command it runs; q or Esc closes."""

    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    KeysScreen > VerticalScroll {
        width: 76; height: 80%; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def compose(self) -> ComposeResult:
        rows = [f"{key_label(self.prefix)} {key_label(k):<10} {c}" for k, c in PREFIX_KEYS.items()]
        with VerticalScroll():
            yield Static("\n".join(["keys (q or Esc closes)", "", *rows]))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key in ("q", "escape", "enter"):
            self.dismiss()
        elif event.key in ("down", "j"):
            self.query_one(VerticalScroll).scroll_down()
        elif event.key in ("up", "k"):
            self.query_one(VerticalScroll).scroll_up()


class AiSessionApp(App[int], inherit_bindings=False):
    """A tmux for people who also watch AI agents: windows, split panes, tmux keys.

    Nothing but the prefix is bound: Ctrl-Q, Ctrl-P, Tab and Ctrl-C all reach the program.
    """

    CSS = """
    Screen { layout: vertical; }
    #windows { height: 1fr; }
    #status { height: 1; background: $primary-darken-2; color: $text; }
    #hints { height: 1; background: $panel; color: $text-muted; }
    #message { dock: bottom; height: 1; background: $warning; color: $text; display: none; }
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
    ) -> None:
        super().__init__()
        pass_keys_through()
        for pane_theme in THEMES.values():
            self.register_theme(pane_theme.theme)
        self.theme = theme
        self.prefix = prefix
        self.manager = SessionManager()
        self.control: Server | None = None  # the API on this instance's control socket
        self.config = config or SessionConfig()
        self.show_hints = show_hints
        self.windows: list[WindowView] = []
        self.current = 0
        self.last_window: int | None = None
        self.prefix_armed = False
        self.paste_buffers: list[str] = []
        self._pane_ids = itertools.count()
        self._window_ids = itertools.count()
        self._repeat_until = 0.0
        self._message_timer: Timer | None = None

    # -- composition -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Container(id="windows")
        yield Static("", id="status")
        yield Static(Text(self._hint("normal")), id="hints")
        yield Static("", id="message")
        yield PromptBar()

    async def on_event(self, event: events.Event) -> None:
        # A key for a pane goes straight to it, not through the pane's own message queue:
        # one turn of the event loop less per key, which counts while other panes flood.
        if isinstance(event, events.Key) and not event.is_forwarded:
            pane = self.focused
            if isinstance(pane, TerminalPane) and pane.screen is self.screen:
                self.app_focus = True
                await pane.on_key(event)
                return
        await super().on_event(event)

    async def on_mount(self) -> None:
        self.query_one("#hints").display = self.show_hints
        self.set_interval(0.5, self.update_status)
        await self._serve_control_socket()
        await self.new_window()
        # Everything made so far (modules, Textual's machinery) lives as long as the app: keep
        # it out of the collector's full passes, which would otherwise stall keys for ~50 ms.
        gc.freeze()

    async def on_unmount(self) -> None:
        if self.control is not None:
            await self.control.close()
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

    async def _new_pane(self) -> TerminalPane:
        """A started session in a new pane, in the active pane's directory (like tmux -c)."""
        config = replace(self.config, name=None, environment=dict(self.config.environment))
        current = self.pane
        if current is not None:
            cwd = current.session.terminal.cwd or current.session.current_path
            if cwd and Path(cwd).is_dir():
                config.working_directory = Path(cwd)
        session = await self.manager.create_session_with_config(config)
        width, height = self.query_one("#windows").size
        if width < 1 or height < 1:  # not laid out yet (the first pane): the screen less the
            width, height = self.size.width, self.size.height - 1  # status line
        width, height = max(1, width), max(1, height)
        session.config.pty_size = (height, width)
        session.terminal.resize(width, height)
        await session.start()
        return self._pane_for(session)

    def _pane_for(self, session: Session) -> TerminalPane:
        pane = TerminalPane(session, pane_id=f"%{next(self._pane_ids)}")
        pane.key_filter = self._key_filter
        pane.set_palette(self.palette())
        return pane

    def _adopt(self, session: Session) -> None:
        """A session created through the API gets a window of its own, in the background
        (like `tmux new-session -d`): the status line shows it, the user's view stays."""
        self.call_later(self._adopt_window, session)

    async def _adopt_window(self, session: Session) -> None:
        window = WindowView(session.name)
        window.display = False
        container = self.query_one("#windows")
        await container.mount(window)
        self.windows.append(window)
        await window.add_pane(self._pane_for(session))
        window.size_programs(container.size.width, container.size.height)
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
                create_app(self.manager, policy=policy, audit=audit, on_created=self._adopt)
            )
            await control.start(path)
        except OSError as exc:
            self.show_message(f"no control socket: {exc}")
            return
        self.control = control
        self.manager.socket_path = str(path)

    def palette(self) -> tuple[Color, ...]:
        """The 16 terminal colours of the current theme (Textual's ANSI theme for others)."""
        ours = THEMES.get(self.theme)
        if ours is not None:
            return ours.colors()
        return tuple(Color.from_triplet(c) for c in self.ansi_theme.ansi_colors)

    def watch_theme(self, theme: str) -> None:
        palette = self.palette()
        for window in getattr(self, "windows", []):
            for pane in window.panes.values():
                pane.set_palette(palette)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (C-b C-p): multiplexer commands, themes, then Textual's own."""
        for title, help_text, line in (
            ("Split pane side by side", "split-window -h (C-b %)", "split-window -h"),
            ("Split pane top and bottom", 'split-window -v (C-b ")', "split-window -v"),
            ("New window", "new-window (C-b c)", "new-window"),
            ("Zoom pane", "resize-pane -Z (C-b z)", "resize-pane -Z"),
            ("Copy mode", "copy-mode (C-b [)", "copy-mode"),
            ("Next layout", "next-layout (C-b Space)", "next-layout"),
            ("Show keys", "list-keys (C-b ?)", "list-keys"),
        ):
            yield SystemCommand(
                title, help_text, lambda line=line: self.run_worker(self.run_command(line))
            )
        for name in THEMES:
            yield SystemCommand(
                f"Theme: {name}",
                "switch the theme and the pane colours",
                lambda name=name: setattr(self, "theme", name),
            )
        yield from super().get_system_commands(screen)

    async def new_window(self, name: str | None = None) -> None:
        window = WindowView(name or "")
        window.display = False  # mounted hidden: the current window keeps its whole size
        container = self.query_one("#windows")
        await container.mount(window)
        self.windows.append(window)
        self._show_window(len(self.windows) - 1)
        try:
            pane = await self._new_pane()
        except SessionError as exc:
            await window.remove()
            self.windows.pop()
            self._show_window(max(0, len(self.windows) - 1))
            self.show_message(f"cannot start a shell: {exc}")
            if not self.windows:
                self.exit(1)
            return
        window.window_name = name or ""  # empty: named after its active program (tmux)
        await window.add_pane(pane)
        self.update_status()

    def _show_window(self, index: int) -> None:
        if not self.windows:
            return
        index %= len(self.windows)
        if index != self.current and self.current < len(self.windows):
            self.last_window = self.current
        self.current = index
        for i, window in enumerate(self.windows):
            window.display = i == index
        self.window.place()
        self.focus_active()
        self.update_status()

    async def split(self, direction: str) -> None:
        try:
            pane = await self._new_pane()
        except SessionError as exc:
            self.show_message(f"cannot split: {exc}")
            return
        try:
            await self.window.add_pane(pane, direction="row" if direction == "-h" else "column")
        except ValueError as exc:
            await pane.session.stop(grace=0.2)
            self.show_message(str(exc))

    async def kill_pane(self, pane: TerminalPane | None = None) -> None:
        pane = pane or self.pane
        if pane is None:
            return
        window = next((w for w in self.windows if pane.pane_id in w.panes), None)
        if window is None:
            return
        await pane.session.stop(grace=0.5)
        await window.remove_pane(pane.pane_id)
        if not window.panes:
            await self._close_window(window)
        self.update_status()

    async def _close_window(self, window: WindowView) -> None:
        index = self.windows.index(window)
        self.windows.pop(index)
        if not self.windows:
            await window.remove()
            self.exit(0)
            return
        self.last_window = None
        self._show_window(min(index, len(self.windows) - 1))  # before awaiting: keep it valid
        await window.remove()

    async def kill_window(self) -> None:
        window = self.window
        for pane in list(window.panes.values()):
            await pane.session.stop(grace=0.5)
        await self._close_window(window)

    async def break_pane(self) -> None:
        """Move the active pane into a window of its own (the program keeps running)."""
        window, pane = self.window, self.pane
        if pane is None or len(window.panes) < 2:
            return
        session = pane.session
        await window.remove_pane(pane.pane_id)
        moved = TerminalPane(session, pane_id=pane.pane_id)
        moved.key_filter = self._key_filter
        moved.set_palette(self.palette())
        new = WindowView("")
        new.display = False
        await self.query_one("#windows").mount(new)
        self.windows.append(new)
        self._show_window(len(self.windows) - 1)
        await new.add_pane(moved)

    async def respawn_pane(self) -> None:
        pane = self.pane
        if pane is None:
            return
        if pane.session.status.is_running:
            self.show_message("pane is still running; C-b x closes it")
            return
        old = pane.session
        config = replace(old.config, name=None, environment=dict(old.config.environment))
        session = await self.manager.create_session_with_config(config)
        await session.start()
        pane.attach(session)
        if self.manager.get_session(old.id) is old:
            await self.manager.remove_session(old.id)

    def on_terminal_pane_exited(self, message: TerminalPane.Exited) -> None:
        self.update_status()

    def on_terminal_pane_copied(self, message: TerminalPane.Copied) -> None:
        """`y` in copy mode: a paste buffer for C-b ], and the system clipboard (OSC 52)."""
        self.paste_buffers.append(message.text)
        del self.paste_buffers[:-50]
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
        self.query_one(PromptBar).ask(label, done, value=pane.copy.search if pane.copy else "")

    def on_terminal_pane_focused(self, message: TerminalPane.Focused) -> None:
        window = next((w for w in self.windows if message.pane.pane_id in w.panes), None)
        if window is not None and window.active != message.pane.pane_id:
            window.select(message.pane.pane_id)
        self.update_status()

    # -- keys ------------------------------------------------------------------------------------

    def _hint(self, mode: str) -> str:
        return HINTS[mode].replace("C-b", key_label(self.prefix))

    def _arm(self, on: bool) -> None:
        self.prefix_armed = on
        self.query_one("#hints", Static).update(Text(self._hint("prefix" if on else "normal")))

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
        if not self._open_prompt(shlex.split(command)):
            self.run_worker(self.run_command(command), group="commands")
        return True

    def _open_prompt(self, words: list[str]) -> bool:
        """Open the prompt a command asks for, at once (keys already typed must land in it).

        Returns False when `words` is not a prompting command.
        """
        name, args = words[0], words[1:]
        prompt = self.query_one(PromptBar)
        if name == "confirm-before" and args:
            label = args[args.index("-p") + 1] if "-p" in args[:-1] else "confirm? (y/n)"
            command = args[-1]

            async def confirmed(value: str) -> None:
                if value.lower().startswith("y"):
                    await self.run_command(command)

            prompt.ask(label, confirmed, single_key=True)
        elif name == "command-prompt":
            prompt.ask(":", self.run_command)
        elif name == "rename-window" and not args:
            window = self.window

            async def renamed(value: str) -> None:
                if value.strip():
                    window.window_name = value.strip()
                    self.update_status()

            prompt.ask("(rename-window)", renamed, value=window.window_name)
        else:
            return False
        return True

    # -- commands --------------------------------------------------------------------------------

    async def run_command(self, line: str) -> None:
        """Run one tmux-style command line (what keys are bound to and `C-b :` accepts)."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self.show_message(f"bad command: {exc}")
            return
        if not words:
            return
        name, args = words[0], words[1:]
        handler = self._commands().get(name)
        if handler is None:
            self.show_message(f"unknown command: {name}")
            return
        try:
            await handler(args)
        except (SessionError, ValueError, IndexError) as exc:
            self.show_message(f"{name}: {exc}")
        self.update_status()

    def _commands(self) -> dict[str, Callable[[list[str]], Awaitable[None]]]:
        async def split_window(args: list[str]) -> None:
            await self.split("-h" if "-h" in args else "-v")

        async def select_pane(args: list[str]) -> None:
            for flag, side in _SIDES.items():
                if flag in args:
                    self.window.select_direction(side)
                    return
            if "-t" in args and args[args.index("-t") + 1 :][:1] == [":.+"]:
                self.window.select_next()

        async def resize_pane(args: list[str]) -> None:
            if "-Z" in args:
                self.window.toggle_zoom()
                return
            cells = int(args[-1]) if args and args[-1].isdigit() else 1
            for flag, side in _SIDES.items():
                if flag in args:
                    self.window.resize_active(side, cells)

        async def swap_pane(args: list[str]) -> None:
            self.window.swap_active(-1 if "-U" in args else 1)

        async def next_layout(args: list[str]) -> None:
            current = self.window.preset
            following = PRESETS[
                (PRESETS.index(current) + 1) % len(PRESETS) if current in PRESETS else 0
            ]
            self.window.apply_preset(following)
            self.show_message(following, seconds=1.0)

        async def select_layout(args: list[str]) -> None:
            self.window.apply_preset(args[0] if args else "tiled")

        async def new_window(args: list[str]) -> None:
            name = args[args.index("-n") + 1] if "-n" in args[:-1] else None
            await self.new_window(name)

        async def select_window(args: list[str]) -> None:
            target = args[args.index("-t") + 1] if "-t" in args[:-1] else ""
            if target.isdigit() and int(target) < len(self.windows):
                self._show_window(int(target))

        async def rename_window(args: list[str]) -> None:
            if args:
                self.window.window_name = " ".join(args)
                self.update_status()
            else:
                self._open_prompt(["rename-window"])

        async def prompting(args: list[str], name: str) -> None:
            self._open_prompt([name, *args])

        async def detach_client(args: list[str]) -> None:
            self.exit(0)

        async def paste_buffer(args: list[str]) -> None:
            if self.paste_buffers and self.pane is not None:
                await self.pane.paste(self.paste_buffers[-1])

        async def set_buffer(args: list[str]) -> None:
            if args:
                self.paste_buffers.append(args[-1])

        async def list_keys(args: list[str]) -> None:
            self.push_screen(KeysScreen(self.prefix), callback=lambda _: self.focus_active())

        async def command_palette(args: list[str]) -> None:
            self.action_command_palette()

        async def copy_mode(args: list[str]) -> None:
            if self.pane is not None:
                self.pane.enter_copy_mode()

        async def simple(fn: Callable[[], object]) -> None:
            result = fn()
            if isinstance(result, Awaitable):
                await result

        table: dict[str, Callable[[list[str]], Awaitable[None]]] = {
            "split-window": split_window,
            "splitw": split_window,
            "select-pane": select_pane,
            "selectp": select_pane,
            "last-pane": lambda a: simple(self.window.select_last),
            "resize-pane": resize_pane,
            "resizep": resize_pane,
            "kill-pane": lambda a: self.kill_pane(),
            "killp": lambda a: self.kill_pane(),
            "break-pane": lambda a: self.break_pane(),
            "swap-pane": swap_pane,
            "next-layout": next_layout,
            "select-layout": select_layout,
            "selectl": select_layout,
            "new-window": new_window,
            "neww": new_window,
            "next-window": lambda a: simple(lambda: self._show_window(self.current + 1)),
            "previous-window": lambda a: simple(lambda: self._show_window(self.current - 1)),
            "last-window": lambda a: simple(
                lambda: (
                    self._show_window(self.last_window) if self.last_window is not None else None
                )
            ),
            "select-window": select_window,
            "selectw": select_window,
            "rename-window": rename_window,
            "renamew": rename_window,
            "kill-window": lambda a: self.kill_window(),
            "confirm-before": lambda a: prompting(a, "confirm-before"),
            "command-prompt": lambda a: prompting(a, "command-prompt"),
            "detach-client": detach_client,
            "detach": detach_client,
            "kill-server": detach_client,
            "paste-buffer": paste_buffer,
            "set-buffer": set_buffer,
            "list-keys": list_keys,
            "command-palette": command_palette,
            "respawn-pane": lambda a: self.respawn_pane(),
            "copy-mode": copy_mode,
        }
        return table

    # -- status ----------------------------------------------------------------------------------

    def show_message(self, text: str, seconds: float = 3.0) -> None:
        message = self.query_one("#message", Static)
        message.update(Text(" " + text))
        message.display = True
        if self._message_timer is not None:
            self._message_timer.stop()
        self._message_timer = self.set_timer(seconds, lambda: setattr(message, "display", False))

    def update_status(self) -> None:
        """tmux's status line: the windows, the current one marked `*`, the last one `-`."""
        status = self.query("#status")
        if not self.windows or not status:
            return
        parts = []
        for i, window in enumerate(self.windows):
            pane = window.active_pane
            name = window.window_name or (pane.title_text if pane else "")
            flag = "*" if i == self.current else "-" if i == self.last_window else " "
            zoom = "Z" if window.zoomed else ""
            parts.append(f"{i}:{name}{flag}{zoom}")
        pane = self.pane
        hints = self.query("#hints")
        if hints and not self.prefix_armed:
            mode = "copy" if pane is not None and pane.copy else "normal"
            hints.first(Static).update(Text(self._hint(mode)))
        right = ""
        if pane is not None:
            right = pane.title_text
            if pane.exit_code is not None:
                right += f" [exited {pane.exit_code}]"
        left = " ".join(parts)
        width = self.size.width
        line = f" {left}"
        if len(line) + len(right) + 2 < width:
            line = line + " " * (width - len(line) - len(right) - 1) + right
        status.first(Static).update(Text(line[:width]))
