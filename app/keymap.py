"""tmux's default prefix key table, as commands the command prompt understands too."""

from __future__ import annotations

PREFIX = "ctrl+b"
REPEAT_SECONDS = 0.5  # tmux's repeat-time: C-b C-Up C-Up … resizes without the prefix again

# What follows the prefix: a typed character or a Textual key name -> a command line.
PREFIX_KEYS: dict[str, str] = {
    "%": "split-window -h",
    '"': "split-window -v",
    "up": "select-pane -U",
    "down": "select-pane -D",
    "left": "select-pane -L",
    "right": "select-pane -R",
    "o": "select-pane -t :.+",
    ";": "last-pane",
    "ctrl+up": "resize-pane -U 1",
    "ctrl+down": "resize-pane -D 1",
    "ctrl+left": "resize-pane -L 1",
    "ctrl+right": "resize-pane -R 1",
    "alt+up": "resize-pane -U 5",
    "alt+down": "resize-pane -D 5",
    "alt+left": "resize-pane -L 5",
    "alt+right": "resize-pane -R 5",
    "z": "resize-pane -Z",
    "x": "confirm-before -p 'kill-pane #P? (y/n)' kill-pane",
    "!": "break-pane",
    "{": "swap-pane -U",
    "}": "swap-pane -D",
    "space": "next-layout",
    "c": "new-window",
    "n": "next-window",
    "p": "previous-window",
    "l": "last-window",
    ",": "command-prompt -I '#W' -p rename-window \"rename-window -- '%%'\"",
    "&": "confirm-before -p 'kill-window #W? (y/n)' kill-window",
    "d": "confirm-before -p 'quit ai-session? (y/n)' detach-client",
    "[": "copy-mode",
    "]": "paste-buffer",
    ":": "command-prompt",
    "?": "list-keys",
    "R": "respawn-pane",
    "pageup": "copy-mode -u",
    "alt+1": "select-layout even-horizontal",
    "alt+2": "select-layout even-vertical",
    "alt+3": "select-layout main-horizontal",
    "alt+4": "select-layout main-vertical",
    "alt+5": "select-layout tiled",
    "E": "select-layout -E",
    "ctrl+o": "rotate-window",
    "alt+o": "rotate-window -D",
    "q": "display-panes",
    "w": "choose-tree -Zw",
    "s": "choose-tree -Zs",
    "t": "clock-mode",
    "'": "command-prompt -p index 'select-window -t :%%'",
    "#": "list-buffers",
    "=": "choose-buffer -Z",
    "-": "delete-buffer",
    "m": "select-pane -m",
    "M": "select-pane -M",
    "~": "show-messages",
    "f": "command-prompt -p find-window \"find-window -Z -- '%%'\"",
    "i": "display-message",
    "alt+n": "next-window -a",
    "alt+p": "previous-window -a",
    "r": "refresh-client",
    "ctrl+z": "suspend-client",
    "S": "command-prompt -p 'snapshot note' \"snapshot -m '%%'\"",  # ours: tmux leaves S unbound
    "g": "choose-snapshot",  # ours: the snapshots panel (tmux leaves g unbound)
    "T": "choose-snapshot -T",  # ours: the focused pane's timeline
    # Ours, on keys tmux 3.3a leaves unbound: the agents' panels and the jump to a waiting one.
    "a": "choose-agent",  # every pane's agent: state, question, tokens, context
    "j": "next-agent",  # the next agent waiting for input (cycles)
    "e": "show-agent-messages",  # what the agents say to each other
    "u": "show-tokens",  # tokens (usage), context, compressions
    "y": "show-decisions",  # decisions (why) and trace spans
    **{str(n): f"select-window -t :{n}" for n in range(10)},
}

# Commands that may repeat without the prefix within REPEAT_SECONDS (tmux's `bind -r`):
# the arrows (focus), C-arrows and M-arrows (resize).
REPEATABLE = {k for k in PREFIX_KEYS if k.split("+")[-1] in ("up", "down", "left", "right")}

_NAMES = {"space": "Space", "up": "Up", "down": "Down", "left": "Left", "right": "Right"}


def key_label(key: str) -> str:
    """A Textual key name in tmux's notation: "ctrl+up" -> "C-Up", "ctrl+b" -> "C-b"."""
    *mods, base = key.split("+") if len(key) > 1 else [key]
    prefix = "".join({"ctrl": "C-", "alt": "M-", "shift": "S-"}.get(m, "") for m in mods)
    return prefix + _NAMES.get(base, base)


def parse_key(text: str) -> str:
    """tmux's notation to a Textual key name: "C-a" -> "ctrl+a", "M-x" -> "alt+x"."""
    mods = []
    while len(text) > 2 and text[1] == "-" and text[0] in "CMS":
        mods.append({"C": "ctrl", "M": "alt", "S": "shift"}[text[0]])
        text = text[2:]
    if len(text) > 1 or "ctrl" in mods:  # "Up" -> "up"; C-B is C-b, as in tmux
        text = text.lower()
    return "+".join([*mods, text])


HINTS = {
    "normal": (
        'C-b prefix  C-b % split │  C-b " split ─  C-b arrows focus  C-b z zoom'
        "  C-b c window  C-b [ copy  C-b ? keys"
    ),
    "prefix": (
        '% │split  " ─split  ←↑→↓ focus  o next  z zoom  x kill  c new  n/p window'
        "  , rename  [ copy  ] paste  : command  ? keys  S snapshot  g snapshots"
        "  a agents  j waiting"
    ),
    "copy": (
        "hjkl/arrows move  w b 0 $ g G  C-u C-d page  { } prompt  ( ) output  / ? search"
        "  n N next  v V O select  y copy  q quit"
    ),
}
