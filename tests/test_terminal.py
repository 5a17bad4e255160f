"""The terminal model, sequence by sequence: what a program sends and what a person would see."""

from __future__ import annotations

import pytest

from engine.terminal import Terminal


def term(data: bytes | str = b"", columns: int = 20, lines: int = 5, **kwargs: int) -> Terminal:
    t = Terminal(columns, lines, **kwargs)
    t.feed(data.encode() if isinstance(data, str) else data)
    return t


def rows(t: Terminal) -> list[str]:
    return t.capture().split("\n")


# -- text, wrapping, capture -------------------------------------------------------------------


def test_plain_text_and_newlines() -> None:
    t = term("hello\r\nworld")
    assert rows(t)[:2] == ["hello", "world"]
    assert (t.cursor.x, t.cursor.y) == (5, 1)


def test_display_rows_are_full_width() -> None:
    t = term("hi")
    assert t.display[0] == "hi" + " " * 18
    assert all(len(row) == 20 for row in t.display)


def test_autowrap_and_pending_wrap_at_last_column() -> None:
    t = term("x" * 20)
    assert (t.cursor.x, t.cursor.y) == (19, 0)  # pending wrap: shown on the last column
    t.feed(b"y")
    assert rows(t)[:2] == ["x" * 20, "y"]


def test_lines_scrolled_off_go_to_scrollback_and_capture_reads_them() -> None:
    t = term("".join(f"line {i}\r\n" for i in range(10)))
    assert len(t.scrollback) == 6
    assert t.capture(start=-6, end=-1).split("\n") == [f"line {i}" for i in range(6)]
    assert t.capture(start="-").split("\n")[:2] == ["line 0", "line 1"]
    assert t.capture(start=-1000, end=-5) == "line 0\nline 1"  # clamped like tmux


def test_scrollback_line_cap_and_byte_cap() -> None:
    t = term("".join(f"{i}\r\n" for i in range(100)), scrollback=10)
    assert len(t.scrollback) == 10
    assert t.scrollback[0].text == "86"
    wide = term(columns=2000, lines=2, scrollback=10_000, scrollback_bytes=50_000)
    for _ in range(200):
        wide.feed(b"z" * 2000 + b"\r\n")
    assert wide.scrollback.nbytes <= 50_000
    assert 0 < len(wide.scrollback) < 200


def test_scrollback_keeps_attributes_for_ansi_capture() -> None:
    t = term("\x1b[1;31mred\x1b[0m plain" + "\r\n" * 5)
    assert t.capture(start=-1, end=-1, ansi=True) == "\x1b[0;1;31mred\x1b[0m plain"


def test_split_utf8_and_split_escape_sequences_are_kept() -> None:
    t = Terminal(20, 3)
    data = "日本\x1b[1;32mok\x1b]2;title\x07".encode()
    for i in range(len(data)):
        t.feed(data[i : i + 1])
    assert rows(t)[0] == "日本ok"
    assert t.cell(4, 0).fg == "green" and t.cell(4, 0).bold
    assert t.title == "title"


def test_wide_characters_take_two_cells_and_wrap_whole() -> None:
    t = term("abcdefghijklmnopqrs日", columns=20)
    assert rows(t)[:2] == ["abcdefghijklmnopqrs", "日"]
    t = term("日本", columns=20)
    assert t.cursor.x == 4
    t.feed(b"\x1b[1G" + b"x")  # overwrite the left half of a wide character
    assert rows(t)[0] == "x 本"


def test_combining_characters_join_the_previous_cell() -> None:
    t = term("e\u0301x")
    assert rows(t)[0] == "e\u0301x"  # kept as sent, not composed to é (tmux)


def test_invalid_utf8_becomes_replacement_characters() -> None:
    t = term(b"a\xff\xfeb")
    assert rows(t)[0] == "a\ufffd\ufffdb"


# -- sequences pyte gets wrong or does not know --------------------------------------------------


@pytest.mark.parametrize(
    "sequence",
    [
        b"\x1b[?4m",  # private SGR (pyte raises)
        b"\x1b[>4;2m",  # xterm modifyOtherKeys (pyte underlines everything)
        b"\x1b[?1;2r",  # restore private modes (pyte sets margins)
        b"\x1bP1$r0m\x1b\\",  # DCS reply string
        b"\x1b_Gi=1;AAAA\x1b\\",  # APC (kitty graphics)
        b"\x1b^private\x1b\\",  # PM
        b"\x1bXstring\x1b\\",  # SOS
        b"\x1b[>c",  # secondary DA query
        b"\x1b[=c",  # tertiary DA query
        b"\x1b[?u",  # kitty keyboard query
        b"\x1b[1;2;3;4;5;6;7;8;9;10t",  # window ops
        b"\x1b[ q",  # cursor style
        b"\x1b]52;c;aGVsbG8=\x07",  # clipboard
        b"\x1b]1337;File=x\x1b\\",
        b"\x1b%G",  # select UTF-8
        b"\x1b[99999999999999999999X",  # absurd parameter
    ],
)
def test_unknown_or_private_sequences_are_swallowed_and_text_after_them_survives(
    sequence: bytes,
) -> None:
    t = term(b"ab" + sequence + b"cd")
    assert rows(t)[0] == "abcd"
    assert t.parser.errors == 0
    assert not t.cell(2, 0).underscore


def test_dcs_body_is_not_drawn_even_when_split_across_feeds() -> None:
    t = Terminal(20, 3)
    for piece in (b"x\x1bPq#0;2;0;0;0", b"#1~~~~", b"\x1b", b"\\y"):
        t.feed(piece)
    assert rows(t)[0] == "xy"


def test_cancel_aborts_a_sequence() -> None:
    t = term(b"a\x1b[31\x18b\x1b]0;never\x18c")
    assert rows(t)[0] == "abc"
    assert t.cell(1, 0).fg == "default"
    assert t.title == ""


def test_control_characters_inside_csi_are_executed() -> None:
    t = term(b"abc\x1b[2\x08D!")  # BS inside CSI 2 D: back one, then two more
    assert rows(t)[0] == "!bc"


def test_colon_colours_and_underline_styles() -> None:
    t = term(b"\x1b[38:2::255:128:0ma\x1b[48:5:196mb\x1b[38:2:1:2:3mc\x1b[4:3md\x1b[4:0me")
    assert t.cell(0, 0).fg == "ff8000"
    assert t.cell(1, 0).bg == "ff0000"
    assert t.cell(2, 0).fg == "010203"
    assert t.cell(3, 0).underscore and not t.cell(4, 0).underscore


def test_underline_colour_is_consumed_without_side_effects() -> None:
    t = term(b"\x1b[58;5;1ma\x1b[58;2;10;20;30mb\x1b[58:2::1:2:3mc")
    for x in range(3):
        cell = t.cell(x, 0)
        assert (cell.fg, cell.bg, cell.blink, cell.bold, cell.dim) == (
            "default",
            "default",
            False,
            False,
            False,
        )


def test_sgr_dim_strike_and_reset_by_22() -> None:
    t = term(b"\x1b[1;2ma\x1b[9mb\x1b[22mc\x1b[29md")
    a, b, c, d = (t.cell(x, 0) for x in range(4))
    assert a.bold and a.dim
    assert b.strikethrough
    assert not c.bold and not c.dim and c.strikethrough
    assert not d.strikethrough


def test_256_colour_indexes_below_16_keep_palette_names() -> None:
    t = term(b"\x1b[38;5;1ma\x1b[38;5;9mb\x1b[38;5;200mc\x1b[91md\x1b[105me")
    assert [t.cell(x, 0).fg for x in range(4)] == ["red", "brightred", "ff00d7", "brightred"]
    assert t.cell(4, 0).bg == "brightmagenta"


def test_scroll_up_and_down() -> None:
    t = term("1\r\n2\r\n3\r\n4\r\n5", lines=5)
    t.feed(b"\x1b[2S")
    assert rows(t) == ["3", "4", "5", "", ""]
    assert [line.text for line in t.scrollback] == ["1", "2"]
    t.feed(b"\x1b[T")
    assert rows(t) == ["", "3", "4", "5", ""]


def test_scroll_inside_margins_keeps_rows_outside_and_history_gets_the_line() -> None:
    t = term("1\r\n2\r\n3\r\n4\r\n5", lines=5)
    t.feed(b"\x1b[2;4r\x1b[S")
    assert rows(t) == ["1", "3", "4", "", "5"]
    assert [line.text for line in t.scrollback] == ["2"]  # as tmux does


def test_alternate_screen_scrolling_keeps_no_history() -> None:
    t = term(b"\x1b[?1049h" + b"x\r\n" * 20)
    assert len(t.scrollback) == 0


def test_relative_moves_hpr_and_vpr_as_in_xterm() -> None:
    t = term(b"\x1b[2;2H\x1b[3aA\x1b[2eB")  # tmux ignores these two; xterm moves
    assert rows(t)[1] == "    A" and rows(t)[3] == "     B"


def test_repeat_works_for_any_graphic_character() -> None:
    t = term("─\x1b[4b")  # tmux repeats only ASCII; xterm (and ncurses' rep) any character
    assert rows(t)[0] == "─────"


def test_repeat_last_character() -> None:
    t = term(b"ab\x1b[3b")
    assert rows(t)[0] == "abbbb"


def test_a_second_repeat_repeats_nothing_as_in_tmux() -> None:
    t = term(b"+\x1b[1b\x1b[10b\r\n x\x1b[2b\x1b[b")  # vttest's REP screen, each row
    assert rows(t)[:2] == ["++", " xxx"]


def test_repeat_needs_the_character_right_before_it_as_in_tmux() -> None:
    # Any other token in between (a control, SGR, a move, a charset, a title) and REP has
    # nothing to repeat, whichever path (cells, lines, general) took the tokens.
    for between in ("\r", "\n", "\x1b[1m", "\x1b[C", "\x1b(B", "\x1b]2;t\x07", "\x1b7"):
        t = term(f"ab{between}\x1b[3b".encode())
        assert "bbb" not in t.capture(), repr(between)
    t = term(b"ab\r\n" * 40 + b"cd\x1b[2b")  # after plain lines the fast way, then text
    assert t.capture().split("\n")[-1] == "cddd"
    t = term(b"\x1b[5;1Hxy\x1b[1mz\x1b[2b")  # cell fast path: text after a move and an SGR
    assert rows(t)[4] == "xyzzz"


def test_repeat_stops_at_the_end_of_the_row_as_in_tmux() -> None:
    t = term(b"\x1b[1;15Hab\x1b[100bX")  # five more b reach the end; X wraps after them
    assert rows(t)[:2] == [" " * 14 + "abbbbb", "X"]
    t = term(b"\x1b[1;19Ha\x1b[5bY")
    assert rows(t)[:2] == [" " * 18 + "aa", "Y"]
    t = term(b"\x1b[1;20Ha\x1b[5b")  # at the pending wrap: no room, nothing repeated
    assert rows(t)[:2] == [" " * 19 + "a", ""]


def test_save_and_restore_cursor_csi_and_esc() -> None:
    t = term(b"\x1b[2;5H\x1b[s\x1b[H\x1b[uX")
    assert rows(t)[1] == "    X"
    t.feed(b"\x1b[4;2H\x1b7\x1b[H\x1b8Y\x1b[H\x1b8Z")  # restoring twice gives the same place
    assert rows(t)[3] == " Z"


def test_soft_reset_keeps_text_but_resets_modes_and_attributes() -> None:
    t = term(b"keep\x1b[?25l\x1b[4h\x1b[1;31m\x1b[2;3r\x1b[!pX")
    assert t.cursor.hidden is False
    assert rows(t)[0].startswith("keep") or "X" in t.capture()
    x, y = t.cursor.x - 1, t.cursor.y
    assert not t.cell(x, y).bold and t.cell(x, y).fg == "default"
    t.feed(b"\x1b[5;1HAB\x1b[5;1HC")  # insert mode is off again: C replaces A
    assert rows(t)[4] == "CB"


def test_next_line_returns_to_column_zero() -> None:
    t = term(b"abc\x1bEd")
    assert rows(t)[:2] == ["abc", "d"]


def test_titles_and_cwd_from_osc() -> None:
    t = term(b"\x1b]0;both\x07")
    assert t.title == "both"
    t.feed(b"\x1b]2;only title\x1b\\\x1b]7;file://host/home/me/my%20dir\x07")
    assert t.title == "only title"
    assert t.cwd == "/home/me/my dir"


def test_erase_takes_only_the_background_colour() -> None:
    t = term(b"\x1b[4;41mX\x1b[K")
    cell = t.cell(5, 0)
    assert cell.bg == "red" and not cell.underscore
    assert rows(t)[0] == "X"


def test_clear_screen_keeps_lines_in_history_like_tmux_and_3j_clears_it() -> None:
    t = term("a\r\nb\r\n\x1b[H\x1b[2J")
    assert rows(t) == ["", "", "", "", ""]
    assert [line.text for line in t.scrollback] == ["a", "b"]
    t.feed(b"\x1b[3J")
    assert len(t.scrollback) == 0


# -- alternate screen and modes -----------------------------------------------------------------


@pytest.mark.parametrize("mode", [1049, 1047, 47])
def test_alternate_screen_leaves_the_main_screen_as_it_was(mode: int) -> None:
    t = term("$ ls\r\nfile\r\n$ ")
    before = t.capture()
    t.feed(f"\x1b[?{mode}h\x1b[H\x1b[2Jfull screen app\r\n".encode() + b"x\r\n" * 10)
    assert t.alternate_screen
    assert "full screen app" not in t.capture(start="-")  # no history from the alternate screen
    t.feed(f"\x1b[?{mode}l".encode())
    assert not t.alternate_screen
    assert t.capture() == before
    if mode == 1049:
        assert (t.cursor.x, t.cursor.y) == (2, 2)


def test_alternate_screen_survives_resize() -> None:
    t = term("$ one\r\n$ two", columns=20, lines=5)
    t.feed(b"\x1b[?1049hAPP")
    t.resize(10, 3)
    t.feed(b"\x1b[?1049l")
    assert "$ two" in t.capture(start="-")


def test_modes_a_host_needs() -> None:
    t = term()
    assert not t.cursor_keys_application and not t.bracketed_paste and t.mouse_tracking is None
    t.feed(b"\x1b[?1h\x1b=\x1b[?2004h\x1b[?1002h\x1b[?1006h\x1b[?1004h\x1b[?2026h\x1b[?25l\x1b[5 q")
    assert t.cursor_keys_application and t.keypad_application
    assert t.bracketed_paste and t.focus_events and t.synchronized_output
    assert (t.mouse_tracking, t.mouse_encoding) == ("button", "sgr")
    assert t.cursor.hidden and t.cursor.style == 5
    t.feed(b"\x1b[?1l\x1b>\x1b[?2004l\x1b[?1002l\x1b[?1006l\x1b[?2026l\x1b[?25h")
    assert not t.cursor_keys_application and not t.keypad_application
    assert not t.bracketed_paste and not t.synchronized_output
    assert t.mouse_tracking is None and t.mouse_encoding == "default" and not t.cursor.hidden


def test_deccolm_does_not_resize() -> None:
    t = term(b"text\x1b[?3h")
    assert t.columns == 20 and rows(t)[0] == ""


# -- answers to queries ------------------------------------------------------------------------


def test_device_attribute_and_status_reports() -> None:
    t = term(b"\x1b[3;4H\x1b[6n\x1b[c\x1b[5n\x1b[>c\x1b[?6n")
    assert t.take_responses() == b"\x1b[3;4R\x1b[?1;2c\x1b[0n\x1b[>0;10;1c\x1b[?3;4R"
    assert t.take_responses() == b""


# -- dirty rows and resize ----------------------------------------------------------------------


def test_dirty_rows_are_reported_once() -> None:
    t = term()
    t.take_dirty()
    t.feed(b"\x1b[3;1Hx")
    assert t.take_dirty() == {2}
    assert t.take_dirty() == set()


def test_shrinking_pushes_rows_to_history_and_growing_pulls_them_back() -> None:
    t = term("1\r\n2\r\n3\r\n4\r\n5", lines=5)
    t.resize(20, 3)
    assert rows(t) == ["3", "4", "5"]
    assert [line.text for line in t.scrollback] == ["1", "2"]
    assert t.cursor.y == 2
    t.resize(20, 5)
    assert rows(t) == ["1", "2", "3", "4", "5"]
    assert t.cursor.y == 4 and len(t.scrollback) == 0


def test_shrinking_drops_blank_rows_below_the_cursor_first() -> None:
    t = term("1\r\n2", lines=5)
    t.resize(20, 3)
    assert rows(t) == ["1", "2", ""]
    assert len(t.scrollback) == 0


def test_narrowing_rewraps_the_line_and_widening_joins_it_again() -> None:
    t = term("abcdefghij", columns=20)
    t.resize(5, 5)
    assert t.capture(start="-") == "abcde\nfghij\n\n\n\n"  # as tmux: the screen is the last rows
    assert t.row_wrapped(-1) and (t.screen.cursor.x, t.cursor.y) == (5, 0)
    t.resize(20, 5)
    assert rows(t)[0] == "abcdefghij" and t.history_size == 0
    assert (t.cursor.x, t.cursor.y) == (10, 0)


def test_invalid_sizes_raise() -> None:
    with pytest.raises(ValueError):
        Terminal(0, 24)
    with pytest.raises(ValueError):
        term().resize(80, 0)


def test_wrapped_rows_are_remembered_into_history() -> None:
    t = term("x" * 25 + "\r\nshort\r\n" + "\r\n" * 5, columns=20, lines=3)
    texts = [(t.row_text(y), t.row_wrapped(y)) for y in range(-t.history_size, 0)]
    assert texts[:3] == [("x" * 20, True), ("xxxxx", False), ("short", False)]
    assert [data for data, _ in t.row_cells(-t.history_size)][:3] == ["x", "x", "x"]


def test_insert_and_delete_characters_never_leave_cells_past_the_margin() -> None:
    t = term(b"abcdef\x1b[1G\x1b[@\x1b[1G\x1b[P", columns=6)
    assert rows(t)[0] == "abcde"
    t.resize(10, 5)
    assert rows(t)[0] == "abcde"
    t = term("a中cd\x1b[1G\x1b[4@", columns=6)
    assert rows(t)[0] == "    a" and t.display[0] == "    a "


def test_alternate_screen_shrink_keeps_the_cursor_row_and_grow_restores_history() -> None:
    t = term(b"\x1b[?1049h\x1b[6;1Hbottom", columns=20, lines=6)
    t.resize(20, 3)
    assert "bottom" in t.capture()
    shell = term("".join(f"{i}\r\n" for i in range(10)) + "$ ", columns=20, lines=4)
    shell.feed(b"\x1b[?1049h")
    shell.resize(20, 8)
    shell.feed(b"\x1b[?1049l")
    assert rows(shell) == ["3", "4", "5", "6", "7", "8", "9", "$"]
    assert shell.cursor.y == 7


def test_sizes_are_bounded() -> None:
    with pytest.raises(ValueError, match="too large"):
        Terminal(70_000, 24)
    with pytest.raises(ValueError, match="too large"):
        term().resize(24, 100_000_000)
