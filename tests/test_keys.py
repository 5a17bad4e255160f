"""Keys and pastes become the bytes xterm sends, so programs see what they expect."""

from __future__ import annotations

import pytest

from engine.keys import (
    NO_BUTTON,
    MouseEventKind,
    encode_key,
    encode_mouse,
    encode_paste,
    mouse_wants,
)


@pytest.mark.parametrize(
    ("key", "character", "expected"),
    [
        ("a", "a", b"a"),
        ("enter", "\r", b"\r"),
        ("tab", "\t", b"\t"),
        ("shift+tab", None, b"\x1b[Z"),
        ("escape", "\x1b", b"\x1b"),
        ("backspace", "\x7f", b"\x7f"),
        ("ctrl+h", "\x08", b"\x08"),
        ("ctrl+c", "\x03", b"\x03"),
        ("ctrl+a", None, b"\x01"),
        ("ctrl+space", None, b"\x00"),
        ("ctrl+left_square_bracket", "\x1b", b"\x1b"),
        ("alt+x", None, b"\x1bx"),
        ("up", None, b"\x1b[A"),
        ("ctrl+right", None, b"\x1b[1;5C"),
        ("shift+up", None, b"\x1b[1;2A"),
        ("home", None, b"\x1b[H"),
        ("end", None, b"\x1b[F"),
        ("pageup", None, b"\x1b[5~"),
        ("delete", None, b"\x1b[3~"),
        ("ctrl+delete", None, b"\x1b[3;5~"),
        ("insert", None, b"\x1b[2~"),
        ("f1", None, b"\x1bOP"),
        ("shift+f1", None, b"\x1b[1;2P"),
        ("f5", None, b"\x1b[15~"),
        ("f12", None, b"\x1b[24~"),
        ("日", "日", "日".encode()),
    ],
)
def test_keys_encode_like_xterm(key: str, character: str | None, expected: bytes) -> None:
    assert encode_key(key, character) == expected


def test_arrows_follow_cursor_key_mode() -> None:
    assert encode_key("up", cursor_keys_application=True) == b"\x1bOA"
    assert encode_key("home", cursor_keys_application=True) == b"\x1bOH"
    assert encode_key("ctrl+up", cursor_keys_application=True) == b"\x1b[1;5A"


def test_paste_is_bracketed_only_when_asked_and_cannot_break_out() -> None:
    assert encode_paste("a\nb", bracketed=False) == b"a\rb"
    assert encode_paste("x\x1b[201~y", bracketed=True) == b"\x1b[200~xy\x1b[201~"


@pytest.mark.parametrize(
    "typed",
    [
        "\x1bb",
        "\x1bf",
        "\x1bx",
        "\x08",
        "\x7f",
        "\x1b\x7f",
        "\x1b\r",
        "\x1b[1;5D",
        "\x1b[Z",
        "\x1bOP",
        "\x1b[15;2~",
        "\x01",
        "\x00",
        "é",
    ],
)
def test_what_the_user_types_reaches_the_program_unchanged(typed: str) -> None:
    """Through the app's input parser (app/input.py): every key keeps the exact bytes."""
    from app.input import InputParser

    parser = InputParser(escape_delay=0.0)
    keys = [*parser.feed(typed), *parser.tick()]
    assert "".join(k.raw for k in keys) == typed  # type: ignore[attr-defined]


def test_prefix_notation() -> None:
    from app.keymap import key_label, parse_key

    assert parse_key("C-a") == parse_key("C-A") == "ctrl+a"
    assert parse_key("M-Up") == "alt+up" and parse_key("F1") == "f1"
    assert (
        key_label("ctrl+b") == "C-b"
        and key_label("ctrl+up") == "C-Up"
        and key_label("space") == "Space"
    )


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("sgr", [b"\x1b[<32;5;3M", b"\x1b[<34;5;3M", b"\x1b[<35;5;3M", b"\x1b[<51;5;3M"]),
        ("urxvt", [b"\x1b[64;5;3M", b"\x1b[66;5;3M", b"\x1b[67;5;3M", b"\x1b[83;5;3M"]),
        ("utf8", [b"\x1b[M@%#", b"\x1b[MB%#", b"\x1b[MC%#", b"\x1b[MS%#"]),
        ("default", [b"\x1b[M@%#", b"\x1b[MB%#", b"\x1b[MC%#", b"\x1b[MS%#"]),
    ],
)
def test_mouse_motion_adds_32_to_the_button_held_or_to_no_button(
    encoding: str, expected: list[bytes]
) -> None:
    """A left drag is 32, a right drag 34, motion with no button 35 (3 + 32), ctrl adds 16:
    at cell (4, 2), in every encoding, always as a press."""
    reports = [
        encode_mouse(0, 4, 2, motion=True, encoding=encoding),
        encode_mouse(2, 4, 2, motion=True, encoding=encoding),
        encode_mouse(NO_BUTTON, 4, 2, motion=True, pressed=False, encoding=encoding),
        encode_mouse(NO_BUTTON, 4, 2, motion=True, ctrl=True, encoding=encoding),
    ]
    assert reports == expected


def test_mouse_motion_far_right_in_utf8_and_nothing_past_the_x10_limit() -> None:
    assert encode_mouse(0, 300, 0, motion=True, encoding="utf8") == "\x1b[M@ō!".encode()  # 333
    assert encode_mouse(0, 300, 0, motion=True, encoding="default") == b""


@pytest.mark.parametrize(
    ("tracking", "wanted"),
    [
        (None, set()),
        ("x10", {"press"}),
        ("normal", {"press", "release"}),
        ("button", {"press", "release", "drag"}),
        ("any", {"press", "release", "drag", "motion"}),
    ],
)
def test_each_mouse_mode_gets_its_events(tracking: str | None, wanted: set[str]) -> None:
    kinds: list[MouseEventKind] = ["press", "release", "drag", "motion"]
    assert {kind for kind in kinds if mouse_wants(tracking, kind)} == wanted
