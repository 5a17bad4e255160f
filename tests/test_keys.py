"""Keys and pastes become the bytes xterm sends, so programs see what they expect."""

from __future__ import annotations

import pytest

from engine.keys import encode_key, encode_paste


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
    """Through Textual's real input parser (as patched by the app) and back to bytes."""
    from textual import events
    from textual._xterm_parser import XTermParser

    from app.keymap import pass_keys_through

    pass_keys_through()
    parser = XTermParser()
    keys = [e for e in [*parser.feed(typed), *parser.feed("")] if isinstance(e, events.Key)]
    keys += (
        [e for e in parser.tick() if isinstance(e, events.Key)] if hasattr(parser, "tick") else []
    )
    assert b"".join(encode_key(k.key, k.character) for k in keys) == typed.encode()


def test_prefix_notation() -> None:
    from app.keymap import key_label, parse_key

    assert parse_key("C-a") == parse_key("C-A") == "ctrl+a"
    assert parse_key("M-Up") == "alt+up" and parse_key("F1") == "f1"
    assert (
        key_label("ctrl+b") == "C-b"
        and key_label("ctrl+up") == "C-Up"
        and key_label("space") == "Space"
    )
