"""Keys and pastes as the bytes an xterm would send the program (key names as Textual gives them,
but no UI import: any front end can use this)."""

from __future__ import annotations

from typing import Literal

CSI = "\x1b["
SS3 = "\x1bO"

_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
_SS3_FKEYS = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_PLAIN = {
    "enter": "\r",
    "tab": "\t",
    "escape": "\x1b",
    "backspace": "\x7f",
    "space": " ",
    "ctrl+@": "\x00",
    "ctrl+space": "\x00",
}
_MODIFIERS = {"shift": 1, "alt": 2, "meta": 2, "ctrl": 4}
_CTRL_PUNCT = {
    "[": "\x1b",
    "\\": "\x1c",
    "]": "\x1d",
    "^": "\x1e",
    "_": "\x1f",
    "?": "\x7f",
    "2": "\x00",
    "3": "\x1b",
    "4": "\x1c",
    "5": "\x1d",
    "6": "\x1e",
    "7": "\x1f",
    "8": "\x7f",
}


def encode_key(
    key: str, character: str | None = None, *, cursor_keys_application: bool = False
) -> bytes:
    """The bytes for one key press, or b"" for a key that sends nothing.

    Args:
        key: a key name like "a", "ctrl+c", "shift+up", "f5", "enter".
        character: the text the key produced, if any (used for everything not named).
        cursor_keys_application: DECCKM is set, so unmodified arrows send `ESC O A`.
    """
    if key in _PLAIN:
        return _PLAIN[key].encode()
    *mods, base = key.split("+") if key != "+" else ["+"]
    mod = 1 + sum(_MODIFIERS.get(m, 0) for m in mods)
    if base in _CURSOR:
        if mod > 1:
            return f"{CSI}1;{mod}{_CURSOR[base]}".encode()
        prefix = SS3 if cursor_keys_application else CSI
        return f"{prefix}{_CURSOR[base]}".encode()
    if base in _TILDE:
        suffix = f";{mod}" if mod > 1 else ""
        return f"{CSI}{_TILDE[base]}{suffix}~".encode()
    if base in _SS3_FKEYS:
        return (
            f"{CSI}1;{mod}{_SS3_FKEYS[base]}" if mod > 1 else f"{SS3}{_SS3_FKEYS[base]}"
        ).encode()
    if base == "tab" and mods == ["shift"]:
        return f"{CSI}Z".encode()
    if base in ("enter", "tab", "escape", "backspace", "space"):
        text = _PLAIN[base]
        if "ctrl" in mods and base == "backspace":
            text = "\x08"
        return (("\x1b" if "alt" in mods else "") + text).encode()
    alt = "alt" in mods or "meta" in mods
    if "ctrl" in mods and len(base) == 1:
        if base.isalpha():
            text = chr(ord(base.lower()) - 96)
        elif base in _CTRL_PUNCT:
            text = _CTRL_PUNCT[base]
        else:
            text = character or ""
        return (("\x1b" if alt else "") + text).encode()
    if character:
        if alt and not character.startswith("\x1b"):
            character = "\x1b" + character
        return character.encode()
    if len(base) == 1:
        return (("\x1b" if alt else "") + base).encode()
    return b""


def encode_paste(text: str, *, bracketed: bool) -> bytes:
    """Pasted text; wrapped in `ESC [200~ … ESC [201~` when the program asked (mode 2004).

    Newlines become carriage returns, as a terminal sends Enter; an end marker inside the
    text is removed so a paste cannot break out of the brackets.
    """
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if bracketed:
        text = text.replace("\x1b[201~", "")
        return f"\x1b[200~{text}\x1b[201~".encode()
    return text.encode()


NO_BUTTON = 3  # the button code of a motion report with no button held (and of X10 releases)
MouseEventKind = Literal["press", "release", "drag", "motion"]


def mouse_wants(tracking: str | None, kind: MouseEventKind) -> bool:
    """Whether a program in mouse mode `tracking` (as `Terminal.mouse_tracking` names it) is
    sent this event: x10 (9) gets presses only, normal (1000) presses and releases, button
    (1002) also motion while a button is held (a drag), any (1003) all motion."""
    if tracking is None:
        return False
    if kind == "press":
        return True
    if kind == "release":
        return tracking != "x10"
    if kind == "drag":
        return tracking in ("button", "any")
    return tracking == "any"


def encode_mouse(
    button: int,
    x: int,
    y: int,
    *,
    pressed: bool = True,
    motion: bool = False,
    shift: bool = False,
    meta: bool = False,
    ctrl: bool = False,
    encoding: str = "default",
) -> bytes:
    """A mouse report as xterm sends it (x, y are 0-based cells).

    `button` is 0 left, 1 middle, 2 right, 64 wheel up, 65 wheel down, or NO_BUTTON for
    motion with no button held. `motion` makes it a motion report (the code plus 32, sent as
    a press). `encoding` is the terminal's mouse encoding: "sgr" (1006), "urxvt" (1015),
    "utf8" (1005) or "default".
    """
    code = (
        button
        + (4 if shift else 0)
        + (8 if meta else 0)
        + (16 if ctrl else 0)
        + (32 if motion else 0)
    )
    pressed = pressed or motion  # motion is reported as a press, whatever is held
    if encoding == "sgr":
        return f"\x1b[<{code};{x + 1};{y + 1}{'M' if pressed else 'm'}".encode()
    if not pressed:
        code = 3 + (code & ~3)  # X10 and friends report any release as button 3
    if encoding == "urxvt":
        return f"\x1b[{code + 32};{x + 1};{y + 1}M".encode()
    if encoding == "utf8":
        return ("\x1b[M" + "".join(chr(v + 32) for v in (code, x + 1, y + 1))).encode()
    if x + 1 + 32 > 255 or y + 1 + 32 > 255:
        return b""  # the classic encoding cannot say where: send nothing rather than garbage
    return bytes([0x1B, ord("["), ord("M"), code + 32, x + 33, y + 33])


# tmux's key names (send-keys) as the names above; anything else is sent as text.
_TMUX_NAMES = {
    "enter": "enter",
    "escape": "escape",
    "tab": "tab",
    "btab": "shift+tab",
    "bspace": "backspace",
    "space": "space",
    "up": "up",
    "down": "down",
    "left": "left",
    "right": "right",
    "home": "home",
    "end": "end",
    "ic": "insert",
    "insert": "insert",
    "dc": "delete",
    "delete": "delete",
    "npage": "pagedown",
    "pagedown": "pagedown",
    "pgdn": "pagedown",
    "ppage": "pageup",
    "pageup": "pageup",
    "pgup": "pageup",
    **{f"f{n}": f"f{n}" for n in range(1, 13)},
}


def tmux_key(name: str) -> str | None:
    """A tmux key name ("Enter", "C-c", "M-Up", "BSpace", "F5") as a key name for
    `encode_key`, or None when `name` is not a key name (then it is text to type)."""
    mods: list[str] = []
    text = name
    while len(text) > 2 and text[1] == "-" and text[0] in "CMS":
        mods.append({"C": "ctrl", "M": "alt", "S": "shift"}[text[0]])
        text = text[2:]
    base = _TMUX_NAMES.get(text.lower())
    if base is None:
        if len(text) != 1 or not mods:
            return None if len(text) != 1 else text
        base = text.lower() if "ctrl" in mods else text
    if base == "shift+tab":
        return "+".join([*mods, "shift", "tab"])
    return "+".join([*mods, base])


def encode_tmux_keys(
    keys: list[str], *, literal: bool = False, cursor_keys_application: bool = False
) -> bytes:
    """What `tmux send-keys [-l] KEY...` types: key names become their bytes, anything else
    is sent as text (with `literal`, everything is text)."""
    out = bytearray()
    for arg in keys:
        key = None if literal else tmux_key(arg)
        if key is None:
            out += arg.encode()
            continue
        base = key.rsplit("+", 1)[-1]
        character = base if len(base) == 1 else None
        out += encode_key(key, character, cursor_keys_application=cursor_keys_application)
    return bytes(out)
