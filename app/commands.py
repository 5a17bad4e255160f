"""tmux's commands, one function per verb: flags parsed as tmux's getopt does, targets as
tmux resolves them (app/targets.py). The `C-b :` prompt, the key bindings and the command
palette all run command lines through `run()`.

A command does exactly what tmux does with its arguments or refuses with tmux's message;
flags tmux has that are not built here are refused as unknown rather than ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app import agents_ui
from app.targets import SESSION_NAME, CommandError, find_pane, find_window, pane_index
from engine.errors import SessionError
from engine.keys import encode_key, encode_tmux_keys
from engine.layout import PRESETS, Side

if TYPE_CHECKING:
    from app.main import AiSessionApp

Handler = Callable[["AiSessionApp", "Args"], Awaitable[None]]

TITLE_ROWS = 1  # each pane of a split window has a title row above its program
_SIDES: dict[str, Side] = {"L": "left", "R": "right", "U": "up", "D": "down"}

# Options a user can set (set-option / set-window-option), with their kind and default.
# Window options live on each window (and `-g` sets the default for all of them).
OPTIONS: dict[str, tuple[str, bool]] = {
    "remain-on-exit": ("window", False),
    "synchronize-panes": ("window", False),
    "monitor-activity": ("window", False),
    "monitor-bell": ("window", True),
    "renumber-windows": ("session", False),
    "bell-action": ("session", True),  # any/none collapsed to on/off: ring the outer terminal
}
_BOOLEANS = {"on": True, "1": True, "yes": True, "off": False, "0": False, "no": False}


@dataclass
class Args:
    """A parsed command line: flags (`-h` -> True, `-t x` -> "x") and the words after them."""

    name: str
    flags: dict[str, str | bool] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def get(self, flag: str) -> str | None:
        value = self.flags.get(flag)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Command:
    name: str
    alias: str | None
    template: str  # getopt letters; a letter followed by ':' takes a value
    lower: int  # fewest words after the flags
    upper: int  # most (-1: any number)
    run: Handler
    usage: str = ""


def parse(command: Command, words: list[str]) -> Args:
    """tmux's getopt: grouped flags (`-dh`), values joined or apart (`-l30`, `-l 30`), `--`."""
    args = Args(command.name)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        j = 1
        while j < len(word):
            letter = word[j]
            spot = command.template.find(letter)
            if spot < 0 or letter == ":":
                raise CommandError(f"command {command.name}: unknown flag -{letter}")
            if command.template[spot + 1 : spot + 2] == ":":
                value = word[j + 1 :]
                if not value:
                    i += 1
                    if i >= len(words):
                        raise CommandError(f"command {command.name}: -{letter} expects an argument")
                    value = words[i]
                args.flags[letter] = value
                break
            args.flags[letter] = True
            j += 1
        i += 1
    args.values = words[i:]
    if len(args.values) < command.lower:
        raise CommandError(
            f"command {command.name}: too few arguments (need at least {command.lower})"
        )
    if command.upper >= 0 and len(args.values) > command.upper:
        raise CommandError(
            f"command {command.name}: too many arguments (need at most {command.upper})"
        )
    return args


def lookup(name: str) -> Command:
    """A command by its name, alias or unique prefix, as tmux finds them."""
    table = commands()
    found = table.get(name) or ALIASES.get(name)
    if found is not None:
        return found
    matches = sorted(c for c in table if c.startswith(name))
    if len(matches) == 1:
        return table[matches[0]]
    if matches:
        raise CommandError(f"ambiguous command: {name}, could be: {', '.join(matches)}")
    raise CommandError(f"unknown command: {name}")


async def run(app: AiSessionApp, line: str) -> None:
    """Run one command line (several separated by ` ; `), raising CommandError on refusal."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"syntax error: {exc}") from None
    group: list[str] = []
    for word in [*words, ";"]:
        if word != ";":
            group.append(word[:-1] + ";" if word.endswith("\\;") else word)
            continue
        if group:
            command = lookup(group[0])
            await command.run(app, parse(command, group[1:]))
        group = []


def _program(app: AiSessionApp, values: list[str]) -> str | list[str] | None:
    """tmux's shell-command: one word runs through the shell's `-c` (a string shell_command:
    tmux's default-shell, the user's shell); several words are the argv."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _size(text: str, total: int, what: str) -> int:
    """`-l 10` or `-l 30%` in cells."""
    try:
        if text.endswith("%"):
            return max(0, total * int(text[:-1]) // 100)
        return int(text)
    except ValueError:
        raise CommandError(f"{what} invalid") from None


def _directory(args: Args) -> Path | None:
    start = args.get("c")
    try:
        return Path(start).expanduser() if start else None
    except RuntimeError:  # ~nosuchuser
        raise CommandError(f"bad directory: {start}") from None


# -- panes ---------------------------------------------------------------------------------


async def split_window(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    row = args.has("h")
    size = None
    if args.get("l") is not None or args.get("p") is not None:
        box = window.size if args.has("f") else pane.size  # -f: of the whole window
        # Sizes count the program's lines, as tmux's; a pane here also has its title row.
        along = box.width if row else box.height - TITLE_ROWS
        if args.get("p") is not None:
            size = _size(f"{args.get('p')}%", along, "percentage")
        else:
            size = _size(args.get("l") or "", along, "lines" if not row else "width")
        size += 0 if row else TITLE_ROWS
    await app.split(
        window,
        pane,
        "row" if row else "column",
        before=args.has("b"),
        full=args.has("f"),
        size=size,
        command=_program(app, args.values),
        directory=_directory(args),
        detached=args.has("d"),
    )


async def select_pane(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    if args.has("m") or args.has("M"):
        app.mark(None if args.has("M") else (window, pane))
        return
    if args.has("l"):
        if window.last not in window.panes:
            raise CommandError("no last pane")
        app.select_pane(window, window.panes[window.last])  # type: ignore[index]
        return
    app.select_pane(window, pane)
    for letter, side in _SIDES.items():
        if args.has(letter):
            window.select_direction(side)
            app.focus_active()
            return


async def last_pane(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    if window.last not in window.panes:
        raise CommandError("no last pane")
    app.select_pane(window, window.panes[window.last])  # type: ignore[index]


async def kill_pane(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    if args.has("a"):
        for other in [p for p in window.panes.values() if p is not pane]:
            await app.kill_pane(other)
        return
    await app.kill_pane(pane)


async def resize_pane(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    if args.has("Z"):
        app.select_pane(window, pane)
        window.toggle_zoom()
        return
    width = height = None
    if args.get("x") is not None:
        width = _size(args.get("x") or "", window.size.width, "width")
    if args.get("y") is not None:
        height = _size(args.get("y") or "", window.size.height, "height") + TITLE_ROWS
    if width is not None or height is not None:
        window.resize_to(pane.pane_id, width=width, height=height)
    try:
        cells = int(args.values[0]) if args.values else 1
    except ValueError:
        raise CommandError("adjustment invalid") from None
    for letter, side in _SIDES.items():
        if args.has(letter):
            window.resize_pane(pane.pane_id, side, cells)


async def swap_pane(app: AiSessionApp, args: Args) -> None:
    window, target = find_pane(app, args.get("t"))
    if args.get("s") is not None:
        source_window, source = find_pane(app, args.get("s"))
    elif args.has("U") or args.has("D"):
        source_window, source = window, target
        order = window.splits.panes()
        step = -1 if args.has("U") else 1
        target = window.panes[order[(order.index(source.pane_id) + step) % len(order)]]
    elif app.marked is not None and app.marked[1] is not target:
        source_window, source = app.marked
    else:
        source_window, source = window, target
        order = window.splits.panes()
        target = window.panes[order[(order.index(source.pane_id) + 1) % len(order)]]
    if source_window is not window:
        raise CommandError("swapping panes between windows is not supported here")
    if source is target:
        return
    window.swap(source.pane_id, target.pane_id)
    if not args.has("d"):
        app.select_pane(window, target if args.get("s") is not None else source)


async def break_pane(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("s") or args.get("t"))
    if len(window.panes) < 2:
        raise CommandError("can't break with only one pane")
    await app.break_pane(window, pane, name=args.get("n"), detached=args.has("d"))


async def rotate_window(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    window.rotate(reverse=args.has("D"))
    app.focus_active()


async def respawn_pane(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    if pane.session.status.is_running and not args.has("k"):
        raise CommandError(
            f"pane {SESSION_NAME}:{window.number}.{pane_index(window, pane.pane_id)} still active"
        )
    await app.respawn_pane(pane, command=_program(app, args.values), directory=_directory(args))


async def display_panes(app: AiSessionApp, args: Args) -> None:
    app.display_panes()


async def select_layout(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    if args.has("E"):
        if window.active is not None:
            window.spread_evenly(window.active)
        return
    if args.has("n") or args.has("p"):
        await next_layout(app, Args("next-layout", {"p": True} if args.has("p") else {}))
        return
    name = args.values[0] if args.values else "tiled"
    if name not in PRESETS:
        raise CommandError(f"invalid layout: {name}")
    window.apply_preset(name)


async def next_layout(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    step = -1 if args.has("p") or args.name == "previous-layout" else 1
    current = window.preset
    index = PRESETS.index(current) + step if current in PRESETS else (0 if step > 0 else -1)
    following = PRESETS[index % len(PRESETS)]
    window.apply_preset(following)
    app.show_message(following, seconds=1.0)


async def copy_mode(app: AiSessionApp, args: Args) -> None:
    _window, pane = find_pane(app, args.get("t"))
    if args.has("u"):
        pane.copy_mode_page_up()
    else:
        pane.enter_copy_mode()


async def clock_mode(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    app.clock_mode(window, pane)


async def send_keys(app: AiSessionApp, args: Args) -> None:
    _window, pane = find_pane(app, args.get("t"))
    if not pane.session.status.is_running:
        raise CommandError("pane is dead")
    data = encode_tmux_keys(
        args.values,
        literal=args.has("l"),
        cursor_keys_application=pane.session.terminal.cursor_keys_application,
    )
    await pane.session.send_input(data)


async def send_prefix(app: AiSessionApp, args: Args) -> None:
    _window, pane = find_pane(app, args.get("t"))
    if pane.session.status.is_running:
        await pane.session.send_input(encode_key(app.prefix))


# -- windows -------------------------------------------------------------------------------


async def new_window(app: AiSessionApp, args: Args) -> None:
    number = None
    target = args.get("t")
    if target is not None:
        text = target.partition(":")[2] if ":" in target else target
        if target.partition(":")[0] not in ("", SESSION_NAME) and ":" in target:
            raise CommandError(f"can't find session: {target.partition(':')[0]}")
        if text:
            if not text.isdigit():
                raise CommandError(f"can't find window: {target}")
            number = int(text)
            if any(w.number == number for w in app.windows):
                raise CommandError(f"create window failed: index {number} in use")
    await app.new_window(
        args.get("n"),
        command=_program(app, args.values),
        directory=_directory(args),
        detached=args.has("d"),
        number=number,
    )


async def select_window(app: AiSessionApp, args: Args) -> None:
    if args.has("l"):
        await last_window(app, args)
    elif args.has("n") or args.has("p"):
        app.show_window_at(app.current + (1 if args.has("n") else -1))
    else:
        app.show_window(find_window(app, args.get("t")))


async def next_window(app: AiSessionApp, args: Args) -> None:
    step = -1 if args.name == "previous-window" else 1
    if not args.has("a"):
        app.show_window_at(app.current + step)
        return
    count = len(app.windows)  # -a: the next window with a bell or activity flag
    for offset in range(1, count):
        window = app.windows[(app.current + step * offset) % count]
        if window.bell or window.activity:
            app.show_window(window)
            return
    raise CommandError("no next window" if step > 0 else "no previous window")


async def refresh_client(app: AiSessionApp, args: Args) -> None:
    app.screen.refresh(repaint=True, layout=True)


async def suspend_client(app: AiSessionApp, args: Args) -> None:
    app.action_suspend_process()


async def last_window(app: AiSessionApp, args: Args) -> None:
    if app.last_window is None:
        raise CommandError("no last window")
    app.show_window_at(app.last_window)


async def kill_window(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    if args.has("a"):
        for other in [w for w in app.windows if w is not window]:
            await app.kill_window(other)
        return
    await app.kill_window(window)


async def rename_window(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    window.window_name = args.values[0]
    app.update_status()


async def find_window_command(app: AiSessionApp, args: Args) -> None:
    """Windows whose name, title or visible text contain the string, in a chooser."""
    text = args.values[0]
    found = []
    for window in app.windows:
        for pane in window.panes.values():
            haystacks = [window.display_name, pane.title_text]
            if not args.has("N") and not args.has("T"):
                haystacks.append(pane.session.capture_pane())
            if any(text in h for h in haystacks):
                found.append(window)
                break
    if not found:
        raise CommandError(f"no windows matching: {text}")
    app.choose_tree("windows", only=found)  # as tmux: a tree of the matches, even of one


async def choose_tree(app: AiSessionApp, args: Args) -> None:
    app.choose_tree("sessions" if args.has("s") else "windows")


# -- buffers -------------------------------------------------------------------------------


async def set_buffer(app: AiSessionApp, args: Args) -> None:
    if not args.values:
        raise CommandError("no data specified")
    name = args.get("b")
    data = args.values[0]
    if args.has("a") and name in app.buffers:
        data = app.buffers[name] + data
    app.add_buffer(data, name)


async def paste_buffer(app: AiSessionApp, args: Args) -> None:
    _window, pane = find_pane(app, args.get("t"))
    name = args.get("b") or app.newest_buffer()
    if name is None:
        return  # tmux pastes nothing when there are no buffers
    if name not in app.buffers:
        raise CommandError(f"no buffer {name}")
    text = app.buffers[name]
    if not args.has("r"):  # tmux types line feeds as CR (or -s SEPARATOR) unless -r
        separator = args.get("s")
        text = text.replace("\n", "\r" if separator is None else separator)
    await pane.paste(text)
    if args.has("d"):
        del app.buffers[name]


async def delete_buffer(app: AiSessionApp, args: Args) -> None:
    name = args.get("b") or app.newest_buffer()
    if name is None:
        raise CommandError("no buffer")
    if name not in app.buffers:
        raise CommandError(f"unknown buffer: {name}")
    del app.buffers[name]


async def list_buffers(app: AiSessionApp, args: Args) -> None:
    app.choose_buffer(list_only=True)


async def choose_buffer(app: AiSessionApp, args: Args) -> None:
    app.choose_buffer()


# -- options, messages, the rest -----------------------------------------------------------


async def set_option(app: AiSessionApp, args: Args) -> None:
    name = args.values[0]
    if name not in OPTIONS:
        raise CommandError(f"invalid option: {name}")
    kind, default = OPTIONS[name]
    if args.has("u"):
        value: bool | None = None
    elif len(args.values) < 2:
        current = app.option(name, find_window(app, args.get("t")))
        value = not current  # tmux toggles a flag option given no value
    else:
        word = args.values[1].lower()
        if word not in _BOOLEANS:
            raise CommandError(f"bad value: {args.values[1]}")
        value = _BOOLEANS[word]
    if kind == "window" and not args.has("g"):
        window = find_window(app, args.get("t"))
        if value is None:
            window.options.pop(name, None)
        else:
            window.options[name] = value
    elif value is None:
        app.options[name] = default
    else:
        app.options[name] = value
    app.update_status()


async def show_options(app: AiSessionApp, args: Args) -> None:
    window = find_window(app, args.get("t"))
    names = args.values or [
        n for n, (kind, _) in OPTIONS.items() if (kind == "window") == args.has("w")
    ]
    lines = []
    for name in names:
        if name not in OPTIONS:
            raise CommandError(f"invalid option: {name}")
        lines.append(f"{name} {'on' if app.option(name, window) else 'off'}")
    app.show_message("  ".join(lines))


async def display_message(app: AiSessionApp, args: Args) -> None:
    window, pane = find_pane(app, args.get("t"))
    template = " ".join(args.values) if args.values else app.info_format
    app.show_message(app.expand_format(template, window, pane))


async def show_messages(app: AiSessionApp, args: Args) -> None:
    app.show_messages()


def prompt(app: AiSessionApp, args: Args) -> None:
    """The verbs that open the prompt, opened at once: keys typed ahead must land in it."""
    if args.name == "confirm-before":
        app.confirm(args.get("p") or f"{args.values[0].split()[0]}? (y/n)", args.values[0])
    else:
        template = args.values[0] if args.values else None
        app.command_prompt(template, label=args.get("p"), initial=args.get("I"))


async def command_prompt(app: AiSessionApp, args: Args) -> None:
    prompt(app, args)


async def confirm_before(app: AiSessionApp, args: Args) -> None:
    prompt(app, args)


async def list_keys(app: AiSessionApp, args: Args) -> None:
    app.list_keys()


async def command_palette(app: AiSessionApp, args: Args) -> None:
    app.action_command_palette()


async def detach_client(app: AiSessionApp, args: Args) -> None:
    app.exit(0)


async def kill_server(app: AiSessionApp, args: Args) -> None:
    app.exit(0)


async def snapshot(app: AiSessionApp, args: Args) -> None:
    """Ours: a workspace snapshot, or with `-t` one pane's; `-m` a note. Says its id."""
    if app.snapshotter is None:
        raise CommandError("snapshots are off")
    target = None
    if args.has("t"):
        target = find_pane(app, args.get("t"))[1].session
    try:
        snapshot_id = await app.snapshotter.take(target, note=args.get("m") or "")
    except SessionError as exc:
        raise CommandError(f"snapshot failed: {exc}") from None
    app.show_message(
        f"snapshot {snapshot_id} taken" + (f": {args.get('m')}" if args.get("m") else "")
    )


async def restore_snapshot(app: AiSessionApp, args: Args) -> None:
    """Ours: bring snapshot ID back in new windows (`-R`: in place of the fresh start window)."""
    word = args.values[0]
    if not word.isdigit():
        raise CommandError(f"not a snapshot id: {word}")
    await app.restore_snapshot(int(word), replace_first=args.has("R"))


async def choose_snapshot(app: AiSessionApp, args: Args) -> None:
    """Ours: show or hide the snapshots panel (`-T`: open on the focused pane's timeline)."""
    app.toggle_snapshots(timeline=args.has("T"))


async def choose_agent(app: AiSessionApp, args: Args) -> None:
    """Ours: show or hide the agents panel (every pane's agent, its state and question)."""
    agents_ui.toggle_panel(app, "agents")


async def next_agent(app: AiSessionApp, args: Args) -> None:
    """Ours: go to the next agent waiting for input, after the focused pane's (cycling)."""
    agents_ui.next_waiting(app)


async def show_agent_messages(app: AiSessionApp, args: Args) -> None:
    """Ours: show or hide the agents' messages timeline."""
    agents_ui.toggle_panel(app, "messages")


async def show_tokens(app: AiSessionApp, args: Args) -> None:
    """Ours: show or hide the tokens and context panel."""
    agents_ui.toggle_panel(app, "tokens")


async def show_decisions(app: AiSessionApp, args: Args) -> None:
    """Ours: show or hide the decisions and traces panel."""
    agents_ui.toggle_panel(app, "decisions")


def commands() -> dict[str, Command]:
    return _TABLE


def _c(
    name: str, alias: str | None, template: str, lower: int, upper: int, run: Handler
) -> Command:
    return Command(name, alias, template, lower, upper, run)


_TABLE: dict[str, Command] = {
    c.name: c
    for c in (
        _c("split-window", "splitw", "bc:dfhl:p:t:v", 0, -1, split_window),
        _c("select-pane", "selectp", "DlLMmRt:U", 0, 0, select_pane),
        _c("last-pane", "lastp", "t:", 0, 0, last_pane),
        _c("kill-pane", "killp", "at:", 0, 0, kill_pane),
        _c("resize-pane", "resizep", "DLRt:Ux:y:Z", 0, 1, resize_pane),
        _c("swap-pane", "swapp", "dDs:t:U", 0, 0, swap_pane),
        _c("break-pane", "breakp", "dn:s:t:", 0, 0, break_pane),
        _c("rotate-window", "rotatew", "Dt:U", 0, 0, rotate_window),
        _c("respawn-pane", "respawnp", "c:kt:", 0, -1, respawn_pane),
        _c("display-panes", "displayp", "", 0, 0, display_panes),
        _c("select-layout", "selectl", "Enpt:", 0, 1, select_layout),
        _c("next-layout", "nextl", "t:", 0, 0, next_layout),
        _c("previous-layout", "prevl", "t:", 0, 0, next_layout),
        _c("copy-mode", None, "t:u", 0, 0, copy_mode),
        _c("clock-mode", None, "t:", 0, 0, clock_mode),
        _c("send-keys", "send", "lt:", 0, -1, send_keys),
        _c("send-prefix", None, "t:", 0, 0, send_prefix),
        _c("new-window", "neww", "c:dn:t:", 0, -1, new_window),
        _c("select-window", "selectw", "lnpt:", 0, 0, select_window),
        _c("next-window", "next", "a", 0, 0, next_window),
        _c("previous-window", "prev", "a", 0, 0, next_window),
        _c("refresh-client", "refresh", "", 0, 0, refresh_client),
        _c("suspend-client", "suspendc", "", 0, 0, suspend_client),
        _c("last-window", "last", "", 0, 0, last_window),
        _c("kill-window", "killw", "at:", 0, 0, kill_window),
        _c("rename-window", "renamew", "t:", 1, 1, rename_window),
        _c("find-window", "findw", "CNTZ", 1, 1, find_window_command),
        _c("choose-tree", None, "swZ", 0, 0, choose_tree),
        _c("set-buffer", "setb", "ab:", 0, 1, set_buffer),
        _c("paste-buffer", "pasteb", "b:drs:t:", 0, 0, paste_buffer),
        _c("delete-buffer", "deleteb", "b:", 0, 0, delete_buffer),
        _c("list-buffers", "lsb", "", 0, 0, list_buffers),
        _c("choose-buffer", None, "Z", 0, 0, choose_buffer),
        _c("set-option", "set", "gt:uw", 1, 2, set_option),
        _c("set-window-option", "setw", "gt:u", 1, 2, set_option),
        _c("show-options", "show", "gt:w", 0, 1, show_options),
        _c("display-message", "display", "t:", 0, 1, display_message),
        _c("show-messages", "showmsgs", "", 0, 0, show_messages),
        _c("command-prompt", None, "I:p:", 0, 1, command_prompt),
        _c("confirm-before", "confirm", "p:", 1, 1, confirm_before),
        _c("list-keys", "lsk", "", 0, 0, list_keys),
        _c("command-palette", None, "", 0, 0, command_palette),
        _c("detach-client", "detach", "", 0, 0, detach_client),
        _c("kill-server", None, "", 0, 0, kill_server),
        _c("snapshot", None, "m:t:", 0, 0, snapshot),
        _c("restore-snapshot", None, "R", 1, 1, restore_snapshot),
        _c("choose-snapshot", None, "T", 0, 0, choose_snapshot),
        _c("choose-agent", None, "", 0, 0, choose_agent),
        _c("next-agent", None, "", 0, 0, next_agent),
        _c("show-agent-messages", None, "", 0, 0, show_agent_messages),
        _c("show-tokens", None, "", 0, 0, show_tokens),
        _c("show-decisions", None, "", 0, 0, show_decisions),
    )
}
ALIASES: dict[str, Command] = {c.alias: c for c in _TABLE.values() if c.alias}
