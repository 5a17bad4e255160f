"""tmux's commands at the `C-b :` prompt: flags and targets do what tmux does, or are refused
with tmux's message — never acted out on another pane than the one named."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import at_prompt, wait_until
from textual.pilot import Pilot

from app.commands import Args, lookup, parse
from app.main import AiSessionApp
from app.targets import CommandError
from widgets.choose_tree import ChooseTreeScreen
from widgets.terminal_pane import TerminalPane

SIZE = (120, 40)


async def _run(app: AiSessionApp, pilot: Pilot, line: str) -> None:
    """Type a command at the `C-b :` prompt, as a user does."""
    await pilot.press("ctrl+b", "colon", *line, "enter")
    await pilot.pause()


async def _second_window(app: AiSessionApp, pilot: Pilot) -> None:
    """C-b c from the first window: the new one shown, its bash at its prompt."""
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    await at_prompt(app.pane)


def _last_message(app: AiSessionApp) -> str:
    return app.messages[-1][1] if app.messages else ""


async def _panes(app: AiSessionApp, count: int) -> list[TerminalPane]:
    await wait_until(lambda: len(app.window.panes) == count, what=lambda: str(app.window.panes))
    panes = [app.window.panes[p] for p in app.window.splits.panes()]
    for pane in panes:
        await at_prompt(pane)
    return panes


# -- parsing, as tmux's getopt -----------------------------------------------------------------


def test_flags_group_take_values_joined_or_apart_and_stop_at_double_dash() -> None:
    command = lookup("split-window")
    args = parse(command, ["-hb", "-l30", "-c", "/tmp", "--", "-x"])
    assert args.flags == {"h": True, "b": True, "l": "30", "c": "/tmp"}
    assert args.values == ["-x"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (["kill-pane", "-q"], "command kill-pane: unknown flag -q"),
        (["rename-window", "a", "b"], "command rename-window: too many arguments (need at most 1)"),
        (["select-window", "extra"], "command select-window: too many arguments (need at most 0)"),
        (["split-window", "-l"], "command split-window: -l expects an argument"),
    ],
)
def test_bad_flags_and_arguments_are_refused_with_tmux_words(line: list[str], message: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse(lookup(line[0]), line[1:])
    assert str(refused.value) == message


def test_commands_are_found_by_alias_and_unique_prefix_as_in_tmux() -> None:
    assert lookup("splitw").name == "split-window"
    assert lookup("split").name == "split-window"
    assert lookup("neww").name == "new-window"
    with pytest.raises(CommandError, match="ambiguous command: s, could be: "):
        lookup("s")
    with pytest.raises(CommandError, match="unknown command: foo-bar"):
        lookup("foo-bar")


def test_args_reads_flags() -> None:
    args = Args("x", {"t": "%1", "d": True})
    assert args.get("t") == "%1" and args.get("d") is None and args.has("d")


# -- targets -----------------------------------------------------------------------------------


async def test_kill_pane_kills_the_named_pane_not_the_focused_one(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    first, second = await _panes(app, 2)
    assert app.pane is second
    await _run(app, pilot, f"kill-pane -t {first.pane_id}")
    await wait_until(lambda: list(app.window.panes) == [second.pane_id], what="the named pane gone")
    assert second.session.status.is_running
    assert app.manager.get_session(first.session.id) is None  # `ai-session list` forgets it


async def test_a_target_that_does_not_exist_is_refused_and_nothing_happens(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    await _panes(app, 2)
    for line, message in [
        ("kill-pane -t %99", "Can't find pane: %99"),  # tmux capitalises what it shows
        ("select-window -t 7", "Can't find window: 7"),
        ("select-window -t :9", "Can't find window: 9"),
        ("kill-pane -t bar:1", "Can't find session: bar"),
        ("swap-pane -s %42", "Can't find pane: %42"),
        ("paste-buffer -b nope", "No buffer nope"),
        ("select-pane -t 5", "Can't find pane: 5"),
        ("resize-pane -x abc", "Width invalid"),
        ("new-window -t 0", "Create window failed: index 0 in use"),
        ("set -w synchronize-panes maybe", "Bad value: maybe"),
        ("set -g nosuch on", "Invalid option: nosuch"),
        ("select-layout bogus", "Invalid layout: bogus"),
        ("rename-window", "Command rename-window: too few arguments (need at least 1)"),
    ]:
        await _run(app, pilot, line)
        await wait_until(lambda m=message: _last_message(app) == m, what=lambda: _last_message(app))
    assert len(app.windows) == 1 and len(app.window.panes) == 2


async def test_select_pane_and_window_go_where_they_are_told(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    first, second = await _panes(app, 2)
    await _run(app, pilot, "select-pane -t 0")
    await wait_until(lambda: app.pane is first and first.has_focus)
    await _run(app, pilot, f"select-pane -t {second.pane_id}")
    await wait_until(lambda: app.pane is second and second.has_focus)
    await _run(app, pilot, "new-window -n logs")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    await at_prompt(app.pane)
    await _run(app, pilot, "select-window -t :0")
    await wait_until(lambda: app.current == 0 and app.pane is second)
    await _run(app, pilot, "select-window -t lo")  # a window's name, by prefix as in tmux
    await wait_until(lambda: app.current == 1)
    await _run(app, pilot, f"select-pane -t {first.pane_id}")  # another window's pane
    await wait_until(lambda: app.current == 0 and app.pane is first and first.has_focus)


async def test_new_window_and_split_window_run_their_command_in_their_directory(
    running: tuple[AiSessionApp, Pilot], tmp_path: Path
) -> None:
    app, pilot = running
    await _run(app, pilot, f"split-window -h -l 70 -c {tmp_path} 'pwd; exec cat'")
    await wait_until(lambda: len(app.window.panes) == 2)
    pane = app.pane
    assert pane is not None
    await wait_until(
        lambda: str(tmp_path) in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    assert pane.region.width == 70
    await _run(app, pilot, "new-window -n two 'echo made-by-new-window; exec cat'")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    shown = app.pane
    assert shown is not None
    await wait_until(lambda: "made-by-new-window" in shown.session.capture_pane())
    assert "1:two*" in app.query_one("#status").render().plain


async def test_swap_and_resize_name_their_panes(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    first, second = await _panes(app, 2)
    await _run(app, pilot, f"swap-pane -s {first.pane_id} -t {second.pane_id}")
    await wait_until(lambda: app.window.splits.panes() == [second.pane_id, first.pane_id])
    await _run(app, pilot, f"resize-pane -t {first.pane_id} -x 40")
    await wait_until(lambda: first.region.width == 40, what=lambda: str(first.region))


async def test_named_paste_buffers(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await _run(app, pilot, "set-buffer -b greet 'echo from-buffer'")
    await _run(app, pilot, "set-buffer 'echo other'")
    await _run(app, pilot, "paste-buffer -b greet")
    await pilot.press("enter")
    await wait_until(lambda: "\nfrom-buffer" in pane.session.capture_pane())
    await _run(app, pilot, "delete-buffer -b greet")
    assert list(app.buffers.values()) == ["echo other"]


# -- tmux's defaults ----------------------------------------------------------------------------


async def test_windows_keep_their_numbers_and_the_rename_prompt_holds_the_name(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    for count in (2, 3):
        await pilot.press("ctrl+b", "c")
        await wait_until(lambda n=count: len(app.windows) == n)
    await at_prompt(app.pane)
    await _run(app, pilot, "kill-window -t 1")
    await wait_until(
        lambda: [w.number for w in app.windows] == [0, 2],
        what=lambda: f"{[w.number for w in app.windows]} {app.messages}",
    )
    await pilot.press("ctrl+b", "c")  # the lowest free number again
    await wait_until(lambda: [w.number for w in app.windows] == [0, 1, 2])
    await at_prompt(app.pane)
    await pilot.press("ctrl+b", "comma")
    prompt = app.query_one("#prompt")
    await wait_until(lambda: prompt.display and prompt.value == "bash", what=lambda: prompt.value)  # type: ignore[attr-defined]
    await pilot.press("escape")


async def test_a_pane_closes_when_its_program_exits_unless_remain_on_exit(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    first, _second = await _panes(app, 2)
    await pilot.press(*"exit 3", "enter")
    await wait_until(lambda: list(app.window.panes) == [first.pane_id], what="the pane closed")
    await _run(app, pilot, "set -g remain-on-exit on")
    await _run(app, pilot, "split-window -h")
    _, third = await _panes(app, 2)
    await pilot.press(*"exit 4", "enter")
    await wait_until(lambda: third.exit_code == 4)
    assert third.pane_id in app.window.panes
    await pilot.pause()
    assert "[exited 4]" in app.query_one("#status").render().plain


async def test_bell_and_activity_in_a_background_window_mark_it(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    background = app.pane
    assert background is not None
    await _run(app, pilot, "set -g monitor-activity on")
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    await background.session.send_input(b"printf 'x\\a'\r")
    await wait_until(lambda: app.windows[0].bell and app.windows[0].activity)
    await pilot.pause()
    assert "0:bash#!-" in app.query_one("#status").render().plain
    await pilot.press("ctrl+b", "0")
    await wait_until(lambda: not app.windows[0].bell)


async def test_clicking_a_window_in_the_status_line_selects_it(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    status = app.query_one("#status")
    await pilot.click(offset=(2, status.region.y))
    await wait_until(lambda: app.current == 0)


async def test_the_status_line_is_not_rewritten_when_nothing_changed(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    status = app.query_one("#status")
    writes = []
    original = status.update

    def counting(*args: object, **kwargs: object) -> None:
        writes.append(args)
        original(*args, **kwargs)  # type: ignore[arg-type]

    status.update = counting  # type: ignore[method-assign]
    for _ in range(5):
        app.update_status()
    assert writes == []
    await _run(app, pilot, "rename-window renamed")
    await wait_until(lambda: len(writes) == 1)


async def test_synchronize_panes_types_into_every_pane_of_the_window(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    first, second = await _panes(app, 2)
    await _run(app, pilot, "set-window-option synchronize-panes on")
    await pilot.press(*"echo both", "enter")
    for pane in (first, second):
        await wait_until(lambda p=pane: "\nboth" in p.session.capture_pane())
    await _run(app, pilot, "setw synchronize-panes off")
    await pilot.press(*"echo only", "enter")
    await wait_until(lambda: "\nonly" in second.session.capture_pane())
    assert "only" not in first.session.capture_pane()


async def test_prefix_keys_open_the_chooser_clock_pane_numbers_and_messages(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    from widgets.clock import ClockView
    from widgets.messages_screen import MessagesScreen

    app, pilot = running
    await _second_window(app, pilot)
    await pilot.press("ctrl+b", "w")
    await wait_until(lambda: isinstance(app.screen, ChooseTreeScreen))
    await pilot.press("1")  # a digit picks the row it labels: (1) is window 0
    await wait_until(lambda: not isinstance(app.screen, ChooseTreeScreen) and app.current == 0)

    await pilot.press("ctrl+b", "t")
    await wait_until(lambda: bool(app.query(ClockView)))
    await pilot.press("x")  # any key puts the clock away; the key is not typed
    await wait_until(lambda: not app.query(ClockView))
    assert "x" not in (app.pane.session.capture_pane().splitlines() or [""])[-1]  # type: ignore[union-attr]

    await _run(app, pilot, "split-window -h")
    first, _second = await _panes(app, 2)
    await pilot.press("ctrl+b", "q", "0")  # pane numbers, then a digit selects that pane
    await wait_until(lambda: app.pane is first)

    app.show_message("remember me")
    await pilot.press("ctrl+b", "tilde")
    await wait_until(lambda: isinstance(app.screen, MessagesScreen))
    await pilot.press("q")
    await wait_until(lambda: not isinstance(app.screen, MessagesScreen))


async def test_the_palette_offers_only_what_is_right_here(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, _ = running
    titles = [c.title for c in app.get_system_commands(app.screen)]
    assert "Split pane side by side" in titles and "Kill the server" in titles
    assert not {"Maximize", "Keys", "Quit"} & set(titles)


async def test_kill_server_asks_first(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    await _run(app, pilot, "confirm-before -p 'kill-server? (y/n)' kill-server")
    await pilot.press("n")
    await pilot.pause()
    assert app.is_running


async def test_tmux_default_keys_for_layouts_marks_info_and_copy_mode(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "percent_sign")
    await pilot.press("ctrl+b", "percent_sign")
    a, b, c = await _panes(app, 3)
    assert app.pane is c
    await pilot.press("ctrl+b", "left", "left")  # the arrow repeats without the prefix
    await wait_until(lambda: app.pane is a, what=lambda: str(app.pane))
    await pilot.press("ctrl+b", "left")  # wraps round to the rightmost pane
    await wait_until(lambda: app.pane is c)
    await pilot.press("ctrl+b", "alt+2")  # M-2: even-vertical
    await wait_until(lambda: len({p.region.x for p in (a, b, c)}) == 1)
    await pilot.press("ctrl+b", "alt+1")  # M-1: even-horizontal
    await wait_until(lambda: len({p.region.y for p in (a, b, c)}) == 1)
    order = app.window.splits.panes()
    await pilot.press("ctrl+b", "ctrl+o")  # rotate: every pane moves one place
    await wait_until(lambda: app.window.splits.panes() == [*order[1:], order[0]])
    await pilot.press("ctrl+b", "m")  # mark
    await wait_until(lambda: app.marked is not None and app.marked[1] is app.pane)
    assert "0:bash*M" in app.query_one("#status").render().plain
    await pilot.press("ctrl+b", "M")
    await wait_until(lambda: app.marked is None)
    await pilot.press("ctrl+b", "i")  # tmux's display-message: where am I
    await wait_until(
        lambda: _last_message(app).startswith("[0] 0:bash, current pane "),
        what=lambda: _last_message(app),
    )
    await app.pane.session.send_input(b"seq 1 200\r")
    await wait_until(lambda: "200" in app.pane.session.capture_pane())  # type: ignore[union-attr]
    await pilot.press("ctrl+b", "pageup")
    await wait_until(lambda: app.pane.copy is not None and app.pane.copy.position[0] > 0)  # type: ignore[union-attr]
    await pilot.press("q")


async def test_window_index_prompt_and_find_window(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    await app.pane.session.send_input(b"echo needle-in-window-zero\r")  # type: ignore[union-attr]
    await _second_window(app, pilot)
    await pilot.press("ctrl+b", "apostrophe", "0", "enter")
    await wait_until(lambda: app.current == 0)
    await pilot.press("ctrl+b", "2")
    await pilot.press("ctrl+b", "1")
    await wait_until(lambda: app.current == 1)
    await pilot.press("ctrl+b", "f", *"needle-in", "enter")  # a tree of the matches, as tmux
    await wait_until(lambda: isinstance(app.screen, ChooseTreeScreen))
    await pilot.press("enter")
    await wait_until(lambda: app.current == 0)


async def test_killing_a_window_of_several_panes_leaves_the_others(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _second_window(app, pilot)
    await pilot.press("ctrl+b", "quotation_mark")
    doomed = await _panes(app, 2)
    await pilot.press("ctrl+b", "ampersand", "y")
    await wait_until(lambda: len(app.windows) == 1 and app.current == 0)
    await pilot.pause()
    assert app.is_running and app.pane is not None and app.pane.session.status.is_running
    assert all(app.manager.get_session(p.session.id) is None for p in doomed)


async def test_when_a_pane_closes_the_last_pane_gets_the_focus(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -h")
    await _run(app, pilot, "split-window -v")
    _, second, _ = await _panes(app, 3)
    await _run(app, pilot, f"select-pane -t {second.pane_id}")
    await wait_until(lambda: app.pane is second)
    await _run(app, pilot, "split-window 'exec sleep 1'")
    await wait_until(lambda: len(app.window.panes) == 4)
    await wait_until(lambda: len(app.window.panes) == 3)
    await pilot.pause()
    assert app.pane is second and second.has_focus


async def test_a_split_program_starts_at_its_size_and_l_counts_its_lines(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -l 8 'stty size; exec cat'")
    await wait_until(lambda: len(app.window.panes) == 2)
    pane = app.pane
    assert pane is not None
    await wait_until(lambda: "8 120" in pane.session.capture_pane(), what=pane.session.capture_pane)
    assert pane.session.capture_pane().split()[:2] == ["8", "120"]  # the first size it saw


async def test_a_bad_directory_is_refused_and_the_app_lives_on(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await _run(app, pilot, "split-window -c ~nosuchuser-here")
    await wait_until(lambda: _last_message(app) == "Bad directory: ~nosuchuser-here")
    assert app.is_running and len(app.window.panes) == 1


async def test_killing_a_pane_while_its_window_is_killed(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """A pane slow to die (it ignores SIGHUP) is killed, and its window meanwhile: one
    window goes, once, and the app lives on."""
    app, pilot = running
    await _second_window(app, pilot)
    await _run(app, pilot, "split-window \"trap '' HUP; echo ready; exec sleep 100\"")
    slow = app.pane
    assert slow is not None
    await wait_until(lambda: "ready" in slow.session.capture_pane())
    await asyncio.gather(
        app.run_command(f"kill-pane -t {slow.pane_id}"), app.run_command("kill-window -t :1")
    )
    await wait_until(lambda: len(app.windows) == 1)
    await pilot.pause()
    assert app.is_running and app.current == 0
