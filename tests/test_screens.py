"""The app's own screens, each in a small test app: the key list and message log pagers,
the command prompt (completion, history), the clock, and choose-tree over real bash panes."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from conftest import bash_config, wait_for_screen, wait_until
from rich.console import Console
from textual import events
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import OptionList, Static

from engine import Session, SessionConfig, SessionManager
from widgets.choose_tree import ChooseTreeScreen, PaneEntry, TreeChoice, WindowEntry
from widgets.clock import ClockView, big_rows
from widgets.keys_screen import KeysScreen
from widgets.messages_screen import MessagesScreen
from widgets.prompt_bar import PromptBar

SIZE = (80, 24)


def screen_text(app: App[object]) -> str:
    """What the terminal shows now, as plain text (the screenshot's text, without SVG)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=[]))
    return console.export_text()


class ScreenApp(App[object]):
    """Pushes one screen and keeps what it was dismissed with."""

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.first = screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.first, callback=self.results.append)


# -- key list and messages -----------------------------------------------------------------------


def _keys(count: int = 60) -> list[tuple[str, str]]:
    rows = [("C-b [x]", "copy-mode [/b]"), ("C-b ]", "paste-buffer [bold]")]
    return rows + [(f"C-b {n}", f"command-{n}") for n in range(count)]


async def test_keys_rows_show_markup_verbatim() -> None:
    app = ScreenApp(KeysScreen(_keys(3)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "C-b [x]  copy-mode [/b]" in text
        assert "C-b ]    paste-buffer [bold]" in text
        await pilot.press("q")
        await wait_until(lambda: app.results == [None], what="the screen closed")


async def test_keys_scroll_by_line_page_and_ends() -> None:
    app = ScreenApp(KeysScreen(_keys()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        box = app.screen.query_one(VerticalScroll)
        page = box.scrollable_content_region.height
        await pilot.press("j", "j")
        await wait_until(
            lambda: box.scroll_y == 2, what=lambda: f"two lines down, at {box.scroll_y}"
        )
        await pilot.press("k")
        await wait_until(lambda: box.scroll_y == 1)
        await pilot.press("pagedown")
        await wait_until(
            lambda: box.scroll_y == 1 + page, what=lambda: f"a page down, at {box.scroll_y}"
        )
        await pilot.press("pageup")
        await wait_until(lambda: box.scroll_y == 1)
        await pilot.press("space")
        await wait_until(lambda: box.scroll_y == 1 + page)
        await pilot.press("ctrl+b")
        await wait_until(lambda: box.scroll_y == 1)
        await pilot.press("end")
        await wait_until(lambda: box.scroll_y == box.max_scroll_y > 0)
        assert "command-59" in screen_text(app)
        await pilot.press("home")
        await wait_until(lambda: box.scroll_y == 0)
        await pilot.press("G")
        await wait_until(lambda: box.scroll_y == box.max_scroll_y)
        await pilot.press("g")
        await wait_until(lambda: box.scroll_y == 0)
        await pilot._post_mouse_events([events.MouseScrollDown], box)  # one wheel step
        await wait_until(lambda: box.scroll_y > 0, what="the wheel scrolled")
        await pilot.press("escape")
        await wait_until(lambda: app.results == [None])


async def test_messages_list_times_newest_first() -> None:
    now = time.time()
    messages = [(now - 60, "first [x]"), (now, "second")]
    app = ScreenApp(MessagesScreen(messages))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = app.screen.query_one("#rows", Static).render()
        lines = str(rows).splitlines()
        stamp = time.strftime("%H:%M:%S", time.localtime(now - 60))
        assert lines == [
            f"{time.strftime('%H:%M:%S', time.localtime(now))} second",
            f"{stamp} first [x]",
        ]
        assert f"{stamp} first [x]" in screen_text(app)
        await pilot.press("q")
        await wait_until(lambda: app.results == [None])


# -- command prompt ------------------------------------------------------------------------------

COMMANDS = ["split-window", "splitw", "select-pane", "select-window", "swap-pane", "kill-pane"]


class PromptApp(App[object]):
    """A prompt at the bottom; what it submits is collected per call of `open`."""

    CSS = "#panes { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []
        self.focus_calls = 0

    def compose(self) -> ComposeResult:
        yield Static("panes", id="panes")
        yield PromptBar()

    def focus_active(self) -> None:
        """What the real app does when the prompt closes: the pane gets the keys back."""
        self.focus_calls += 1

    async def _got(self, value: str) -> None:
        self.submitted.append(value)

    def open(self, label: str = ":") -> PromptBar:
        prompt = self.query_one(PromptBar)
        prompt.ask(label, self._got, complete=COMMANDS, history="command")
        return prompt


async def test_prompt_tab_completes_a_unique_command() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.open()
        await pilot.press(*"split-w", "tab")
        await wait_until(lambda: prompt.value == "split-window ", what=lambda: repr(prompt.value))
        await pilot.press(*"-h", "enter")
        await wait_until(lambda: app.submitted == ["split-window -h"])
        assert not prompt.display and app.focus_calls == 1


async def test_prompt_tab_extends_then_lists_candidates() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.open()
        await pilot.press("s", "e", "tab")
        await wait_until(lambda: prompt.value == "select-", what=lambda: repr(prompt.value))
        assert not prompt.candidates.display
        await pilot.press("tab")  # nothing more to add: the candidates show
        await wait_until(lambda: prompt.candidates.display)
        await pilot.pause()
        text = screen_text(app)
        assert "select-pane" in text and "select-window" in text and "swap-pane" not in text
        await pilot.press("w", "tab")
        await wait_until(lambda: prompt.value == "select-window ")
        assert not prompt.candidates.display
        await pilot.press("ctrl+u", "s", "tab")  # ambiguous at once: listed straight away
        await wait_until(lambda: prompt.candidates.display)
        await pilot.pause()
        text = screen_text(app)
        assert all(c in text for c in ("split-window", "splitw", "swap-pane", "select-pane"))
        assert "kill-pane" not in text
        await pilot.press("escape")
        await wait_until(lambda: not prompt.display and not prompt.candidates.display)
        assert app.submitted == []


async def test_prompt_history_walks_up_and_back_to_the_typed_line() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        for line in ("new-window", "kill-pane", "kill-pane", "next-layout"):
            prompt = app.open()
            await pilot.press(*line, "enter")
        await wait_until(lambda: len(app.submitted) == 4)
        assert prompt.histories["command"].entries == ["new-window", "kill-pane", "next-layout"]
        app.open()
        await pilot.press(*"half", "up")
        await wait_until(lambda: prompt.value == "next-layout")
        await pilot.press("up", "up")
        await wait_until(lambda: prompt.value == "new-window")
        await pilot.press("up")  # the oldest stays
        await pilot.pause()
        assert prompt.value == "new-window"
        await pilot.press("down", "down")
        await wait_until(lambda: prompt.value == "next-layout")
        await pilot.press("down")
        await wait_until(lambda: prompt.value == "half", what=lambda: repr(prompt.value))
        await pilot.press("escape")
        app.query_one(PromptBar).ask("(search down)", app._got)  # another kind: its own history
        await pilot.press("up")
        await pilot.pause()
        assert prompt.value == ""


async def test_prompt_keys_typed_before_it_opened_complete_and_walk_history() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.open()
        await pilot.press(*"kill-window", "enter")
        await wait_until(lambda: app.submitted == ["kill-window"])
        app.open()
        for key, char in (("s", "s"), ("p", "p"), ("tab", "\t")):
            await prompt.take_key(_key(key, char))
        assert prompt.value == "split"
        await prompt.take_key(_key("tab", "\t"))
        await pilot.pause()
        assert prompt.candidates.display  # split-window, splitw
        await prompt.take_key(_key("w", "w"))
        await prompt.take_key(_key("tab", "\t"))
        assert prompt.value == "splitw "
        await prompt.take_key(_key("up", None))
        assert prompt.value == "kill-window"
        await prompt.take_key(_key("ctrl+u", None))
        assert prompt.value == ""
        await prompt.take_key(_key("down", None))
        assert prompt.value == "splitw "
        await prompt.take_key(_key("enter", "\r"))
        await wait_until(lambda: app.submitted == ["kill-window", "splitw "])


def _key(key: str, character: str | None) -> events.Key:
    return events.Key(key, character)


async def test_prompt_and_candidates_take_no_rows_from_the_panes() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        panes = app.query_one("#panes")
        await pilot.pause()
        assert panes.size.height == SIZE[1]
        prompt = app.open()
        await pilot.press("s", "tab")
        await wait_until(lambda: prompt.candidates.display)
        await pilot.pause()
        assert panes.size.height == SIZE[1]  # the programs keep their size: no resize
        assert prompt.region.y == SIZE[1] - 1 and prompt.candidates.region.bottom == SIZE[1] - 1


async def test_prompt_single_key_answers_at_once() -> None:
    app = PromptApp()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptBar)
        prompt.ask("kill-pane? (y/n)", app._got, single_key=True)
        await pilot.press("y")
        await wait_until(lambda: app.submitted == ["y"])
        assert not prompt.display and prompt.value == ""


# -- clock ---------------------------------------------------------------------------------------


class ClockApp(App[object]):
    def __init__(self) -> None:
        super().__init__()
        self.done: list[ClockView] = []

    def compose(self) -> ComposeResult:
        yield ClockView()

    def on_mount(self) -> None:
        self.query_one(ClockView).focus()

    def on_clock_view_done(self, message: ClockView.Done) -> None:
        self.done.append(message.clock)


def _lit_rows(app: App[object]) -> list[str]:
    """Every row of the clock, "#" where a cell has the accent background."""
    clock = app.query_one(ClockView)
    accent = clock.get_component_rich_style("clock-view--digit").bgcolor
    return [
        "".join(
            ("#" if seg.style and seg.style.bgcolor == accent else ".") * seg.cell_length
            for seg in clock.render_line(y)
        )
        for y in range(clock.size.height)
    ]


def _big_clock(text: str, width: int, height: int) -> list[str]:
    """Where tmux puts the big digits: centred, 6 columns and rows per character."""
    left, top = width // 2 - 3 * len(text), height // 2 - 3
    rows = ["." * width] * height
    for y, row in enumerate(big_rows(text)):
        rows[top + y] = ("." * left + row).ljust(width, ".")
    return rows


async def test_clock_draws_the_time_in_big_digits_and_any_key_ends_it() -> None:
    app = ClockApp()
    async with app.run_test(size=SIZE) as pilot:
        before = time.strftime("%H:%M")
        await pilot.pause()
        drawn = _lit_rows(app)
        after = time.strftime("%H:%M")
        assert drawn in (_big_clock(before, *SIZE), _big_clock(after, *SIZE))
        await pilot.press("x")
        await wait_until(lambda: len(app.done) == 1)


async def test_clock_too_small_shows_plain_time_and_a_click_ends_it() -> None:
    app = ClockApp()
    async with app.run_test(size=(20, 4)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert time.strftime("%H:%M") in text or "#" not in text
        await pilot.click(ClockView)
        await wait_until(lambda: len(app.done) == 1)


# -- choose-tree ---------------------------------------------------------------------------------


@pytest.fixture
async def bashes(manager: SessionManager) -> list[Session]:
    """Two real bash sessions, each having printed a word of its own."""
    sessions = [await manager.create_session_with_config(bash_config()) for _ in range(2)]
    for session, word in zip(sessions, ("hello-preview", "other-pane"), strict=True):
        await session.start()
        await wait_for_screen(session, "$ ")
        await session.send_input(f"echo {word}\n".encode())
        await _on_screen(session, f"\n{word}")
    return sessions


@pytest.fixture
def windows(bashes: list[Session]) -> list[WindowEntry]:
    """Window 0 (current) holds both bashes side by side; window 1 shows the second again."""
    left, right = bashes
    return [
        WindowEntry(
            0,
            "bash",
            "*",
            [
                PaneEntry("%0", "bash", left.terminal, active=True),
                PaneEntry("%1", "sh", right.terminal),
            ],
        ),
        WindowEntry(1, "edit [x]", "-", [PaneEntry("%2", "vim", right.terminal, active=True)]),
    ]


async def _on_screen(session: Session, text: str) -> None:
    await wait_until(lambda: text in session.capture_pane(), what=session.capture_pane)


async def _tree(pilot: Pilot, screen: ChooseTreeScreen) -> ChooseTreeScreen:
    await wait_until(lambda: pilot.app.screen is screen and screen.rows, what="the tree")
    await pilot.pause()
    return screen


def _rows(screen: ChooseTreeScreen) -> list[str]:
    options = screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_choose_tree_windows_preview_and_pick_with_enter(windows: list[WindowEntry]) -> None:
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _tree(pilot, screen)
        assert _rows(screen) == [
            "(0) - ai-session: 2 windows",
            "(1) ├─> + 0: bash* (2 panes)",
            "(2) └─>   1: edit [x]- (1 pane)",
        ]
        assert screen.selected.window is windows[0]  # starts on the current window
        text = screen_text(app)
        assert "hello-preview" in text and "other-pane" in text  # both panes, side by side
        assert "│ 0 │" in text and "│ 1 │" in text  # tmux's pane labels
        await pilot.press("down")
        await wait_until(lambda: "1: edit [x]" in screen_text(app), what="the window 1 preview")
        await pilot.press("enter")
        await wait_until(lambda: app.results == [TreeChoice("select", 1, "%2")])


async def test_choose_tree_expands_panes_and_previews_the_selected_one(
    windows: list[WindowEntry],
) -> None:
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _tree(pilot, screen)
        await pilot.press("right")
        await wait_until(lambda: len(_rows(screen)) == 5, what=lambda: _rows(screen))
        assert _rows(screen)[1:4] == [
            "(1) ├─> - 0: bash* (2 panes)",
            "(2) │   ├─> 0: bash*",
            "(3) │   └─> 1: sh",
        ]
        await pilot.press("j", "j")
        await wait_until(lambda: screen.selected.pane is windows[0].panes[1])
        text = screen_text(app)
        assert "other-pane" in text and "hello-preview" not in text  # that pane alone
        await pilot.press("left")  # collapses back to the window line
        await wait_until(lambda: len(_rows(screen)) == 3 and screen.selected.window is windows[0])
        await pilot.press("plus", "down", "enter")
        await wait_until(lambda: app.results == [TreeChoice("select", 0, "%0")])


async def test_choose_tree_preview_follows_new_output(
    bashes: list[Session], windows: list[WindowEntry]
) -> None:
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _tree(pilot, screen)
        assert "later-output" not in screen_text(app)
        await bashes[0].send_input(b"echo later-output\n")
        await wait_until(lambda: "later-output" in screen_text(app), what=lambda: screen_text(app))


async def test_choose_tree_digit_picks_the_row_it_labels(windows: list[WindowEntry]) -> None:
    """As tmux: rows are labelled (0) (1) ...; a digit picks that row at once."""
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await _tree(pilot, screen)
        labels = _rows(screen)
        assert labels[0].startswith("(0) ")
        row = next(i for i, text in enumerate(labels) if "1: " in text and "pane" in text)
        await pilot.press("9")  # no row 9: nothing happens
        await pilot.press(str(row))
        await wait_until(lambda: app.results == [TreeChoice("select", 1, "%2")])


async def test_choose_tree_sessions_starts_collapsed(windows: list[WindowEntry]) -> None:
    screen = ChooseTreeScreen(windows, sessions=True)
    app = ScreenApp(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await _tree(pilot, screen)
        assert _rows(screen) == ["(0) + ai-session: 2 windows"]
        assert "│ 0:bash │" in screen_text(app)  # the windows side by side
        await pilot.press("right")
        await wait_until(lambda: len(_rows(screen)) == 3)
        await pilot.press("minus")
        await wait_until(lambda: len(_rows(screen)) == 1)
        await pilot.press("enter")  # the session: stay on its current window
        await wait_until(lambda: app.results == [TreeChoice("select", 0, "%0")])


async def test_choose_tree_x_asks_before_killing(windows: list[WindowEntry]) -> None:
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await _tree(pilot, screen)
        await pilot.press("x")
        await wait_until(lambda: "kill window 0? (y/n)" in screen_text(app))
        await pilot.press("n")
        await wait_until(lambda: "kill window 0?" not in screen_text(app))
        assert app.screen is screen
        await pilot.press("right", "down", "down", "x", "y")
        await wait_until(lambda: app.results == [TreeChoice("kill-pane", 0, "%1")])


async def test_choose_tree_q_cancels(windows: list[WindowEntry]) -> None:
    screen = ChooseTreeScreen(windows)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await _tree(pilot, screen)
        await pilot.press("q")
        await wait_until(lambda: app.results == [None])


# -- snapshot ------------------------------------------------------------------------------------

SAMPLE = Path(__file__).parent / "fixtures" / "show_colours.py"


class TreeSnapshotApp(App[object]):
    """Two panes printing the fixed colour sample, then `C-b w` over them (for the picture)."""

    def __init__(self) -> None:
        super().__init__()
        self.manager = SessionManager()
        self.sessions: list[Session] = []

    async def on_mount(self) -> None:
        for name in ("left", "right"):
            config = SessionConfig(name=name, shell_command=f"{sys.executable} {SAMPLE}")
            session = await self.manager.create_session_with_config(config)
            await session.start()
            self.sessions.append(session)

    async def on_unmount(self) -> None:
        await self.manager.close()

    def show_tree(self) -> None:
        left, right = (s.terminal for s in self.sessions)
        windows = [
            WindowEntry(0, "sample", "*", [PaneEntry("%0", "python3", left, active=True)]),
            WindowEntry(
                1,
                "both",
                "-Z",
                [PaneEntry("%1", "python3", left), PaneEntry("%2", "python3", right, True)],
            ),
        ]
        self.push_screen(ChooseTreeScreen(windows))


def test_choose_tree_with_preview_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_tree(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, TreeSnapshotApp)
        await wait_until(
            lambda: (
                len(app.sessions) == 2 and all("wide:" in s.capture_pane() for s in app.sessions)
            ),
            30,
            what="both samples",
        )
        app.show_tree()
        await pilot.press("down", "right")  # window 1, expanded to its panes
        await wait_until(
            lambda: isinstance(app.screen, ChooseTreeScreen) and len(app.screen.rows) == 5
        )
        await pilot.pause(0.1)

    assert snap_compare(TreeSnapshotApp(), terminal_size=(80, 24), run_before=open_tree)


async def test_prompt_editing_keys_keep_their_order_with_the_text_behind_them() -> None:
    """C-u then text then Enter in one read (a fast typist, tmux send-keys): nothing lost."""
    done: list[str] = []

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield PromptBar()

    app = One()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptBar)

        async def finished(value: str) -> None:
            done.append(value)

        prompt.ask("(rename-window)", finished, value="bash")
        for key in ("ctrl+u", "a", "g", "a", "i", "n", "enter"):
            prompt.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        await pilot.pause()
    assert done == ["again"]


async def test_the_prompt_label_stays_at_the_left_of_what_is_typed() -> None:
    """tmux keeps `(rename-window) ` before the name being edited, `:` before a command."""

    class One(App[None]):
        CSS = "Screen { layers: default prompt prompt-label; }"

        def compose(self) -> ComposeResult:
            yield PromptBar()

    async def finished(value: str) -> None:
        pass

    app = One()
    async with app.run_test(size=(60, 5)) as pilot:
        prompt = app.query_one(PromptBar)
        prompt.ask("(rename-window)", finished, value="bash")
        await pilot.press("x")
        await pilot.pause()
        assert prompt.value == "bashx" and prompt.label.display
        assert str(prompt.label.render()) == "(rename-window) "
        assert prompt.label.region.y == prompt.region.y
        assert prompt.label.region.right <= prompt.content_region.x
        prompt.ask(":", finished)
        await pilot.pause()
        assert str(prompt.label.render()) == ":"
        assert prompt.label.region.right <= prompt.content_region.x
