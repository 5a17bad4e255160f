"""A terminal dumped and loaded is the same terminal: fed the same bytes afterwards, the copy and
the original show the same screens, history, cursor and modes, and dump to the same bytes."""

from __future__ import annotations

import random
import statistics
import struct
import time
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from terminal_streams import random_reads, random_stream, shape_errors, state

from engine.terminal import Terminal
from engine.termstate import FORMAT, MAGIC, TerminalFormatError, TerminalImage

_BIG = [HealthCheck.too_slow, HealthCheck.data_too_large]  # whole streams from st.randoms()
SIZES = st.tuples(st.integers(1, 30), st.integers(1, 12))
# What a loaded screen rebuilds rather than restores (caches, the parser's back-reference),
# and the clock reading of a 2026 update each one began while fed (it is kept in the image).
_CACHES = {"_cells", "_last_glyphs", "flush_held", "responses", "dirty", "synchronized_since"}


def _screen_vars(t: Terminal, names: set[str]) -> dict[str, Any]:
    """Every attribute of the screen, rows with their marks, caches left out: a new field the
    image forgets shows up here."""
    t.settle()
    out: dict[str, Any] = {}
    for name in sorted(names - _CACHES):
        value = getattr(t.screen, name)
        if name in ("_buffer", "_main_buffer") and value is not None:
            value = [_row(y, row) for y, row in value.items()]
        elif name == "cursor":
            value = _cursor(value)
        elif name == "savepoints":
            value = [(_cursor(p.cursor), *p[1:]) for p in value]
        elif name == "_history":
            value = _history_vars(value)
        elif name == "commands":  # its times are the clock's when each mark was parsed
            value = [v for i, v in enumerate(value.state()) if i != 4]
            value[5] = [f[:2] + f[4:] for f in value[5]]
        out[name] = value
    parser = t.parser
    out["parser"] = (parser._pending, parser._string, "".join(parser._string_parts))
    out["utf8"] = t._decoder.getstate()
    return out


def _cursor(cursor: Any) -> Any:
    return (cursor.x, cursor.y, cursor.attrs, cursor.hidden)


def _row(y: int, row: Any) -> Any:
    marks = [getattr(row, name, False) for name in ("default", "wrapped", "gap", "hist")]
    assert set(vars(row)) <= {"default", "wrapped", "gap", "hist"}  # a new mark: keep it too
    return (y, type(row).__name__, list(row.items()), marks)


def _history_vars(history: Any) -> Any:
    skip = {"_compressor", "_decompressor", "_cached", "_cold"}
    plain = {k: v for k, v in vars(history).items() if k not in skip}
    plain["_hot"] = list(plain["_hot"])
    cold = [(b.data, b.count, b.widest, b.wrapped) for b in history._cold]
    return plain, cold


def _same(a: Terminal, b: Terminal) -> None:
    """What a reader sees of `a` and `b` is the same, and so is every field behind it."""
    assert a.capture(ansi=True, start=-a.history_size) == b.capture(
        ansi=True, start=-b.history_size
    )
    assert a.cursor == b.cursor
    assert (a.title, a.cwd, a.alternate_screen) == (b.title, b.cwd, b.alternate_screen)
    assert state(a) == state(b)
    names = set(vars(a.screen)) | set(vars(b.screen))  # a class default or set to it
    assert _screen_vars(a, names) == _screen_vars(b, names)


def _copy(t: Terminal) -> Terminal:
    t.take_responses()  # replies pending for the program are not part of an image
    data = t.dump()
    copy = Terminal.load(data)
    assert copy.dump() == data  # dump -> load -> dump gives the very same bytes
    return copy


@settings(deadline=None, suppress_health_check=_BIG)
@given(st.randoms(use_true_random=False), SIZES, st.integers(0, 300))
def test_a_loaded_terminal_goes_on_exactly_as_the_original(
    rng: random.Random, size: tuple[int, int], scrollback: int
) -> None:
    original = Terminal(*size, scrollback=scrollback)
    for read in random_reads(rng, random_stream(rng)):
        original.feed(read)
    copy = _copy(original)
    _same(original, copy)
    assert copy.synchronized_since == original.synchronized_since
    for read in random_reads(rng, random_stream(rng)):
        original.feed(read)
        copy.feed(read)
        assert original.take_responses() == copy.take_responses()
        _same(original, copy)
    assert shape_errors(copy) == []


@settings(deadline=None, suppress_health_check=_BIG, max_examples=40)
@given(st.randoms(use_true_random=False), SIZES)
def test_a_loaded_terminal_with_compressed_history_goes_on_as_the_original(
    rng: random.Random, size: tuple[int, int]
) -> None:
    """Enough lines for sealed blocks, under a cap that has evicted part of the oldest one."""
    original = Terminal(*size, scrollback=rng.randint(600, 2500))
    bulk = random.Random(rng.randint(0, 1 << 32))  # many draws: not hypothesis's to shrink
    lines = [f"\x1b[{31 + n % 7}m{n}\x1b[m " + "y" * bulk.randint(0, 50) for n in range(3000)]
    original.feed("\r\n".join(lines[: rng.randint(1600, 3000)]) + "\r\n")
    original.feed(random_stream(rng))
    copy = _copy(original)
    assert copy.image().blocks == original.image().blocks
    for read in random_reads(rng, random_stream(rng) + b"more\r\n" * rng.randint(0, 600)):
        original.feed(read)
        copy.feed(read)
    _same(original, copy)
    columns, lines_ = rng.randint(1, 40), rng.randint(1, 15)
    original.resize(columns, lines_)
    copy.resize(columns, lines_)
    _same(original, copy)


@settings(deadline=None, suppress_health_check=_BIG, max_examples=60)
@given(st.randoms(use_true_random=False), SIZES)
def test_a_loaded_terminal_resizes_and_reflows_as_the_original(
    rng: random.Random, size: tuple[int, int]
) -> None:
    original = Terminal(*size, scrollback=2000)
    for _ in range(rng.randint(1, 2)):
        original.feed(random_stream(rng))
    copy = _copy(original)
    for _ in range(3):
        columns, lines = rng.randint(1, 40), rng.randint(1, 15)
        original.resize(columns, lines)
        copy.resize(columns, lines)
        _same(original, copy)
        data = random_stream(rng)
        original.feed(data)
        copy.feed(data)
        _same(original, copy)


def _long_history(columns: int = 200, lines: int = 50, count: int = 10_000) -> Terminal:
    t = Terminal(columns, lines, scrollback=count + 1000)
    rng = random.Random(7)
    out = []
    for n in range(count):
        colour = 31 + n % 7
        words = " ".join(rng.choice(["alpha", "beta", "gamma", "δέλτα", "日本"]) for _ in range(12))
        out.append(f"\x1b[{colour}m{n:6d}\x1b[m {words} " + "x" * (n % 230) + "\r\n")
    t.feed("".join(out))
    return t


def test_history_of_thousands_of_lines_comes_back_with_its_blocks_and_reflows() -> None:
    original = _long_history(80, 24, 3000)
    copy = _copy(original)
    _same(original, copy)
    assert len(original.image().blocks) > 1
    for columns, lines in ((50, 20), (120, 30), (80, 24)):
        original.resize(columns, lines)
        copy.resize(columns, lines)
        _same(original, copy)


def test_typed_input_and_the_prompt_line_come_back() -> None:
    """What execute reads (input typed since the prompt, the history's size at its B mark)
    survives a snapshot: a restored pane must not think its prompt scrolled away."""
    t = Terminal(20, 3, scrollback=50)
    t.feed(b"".join(b"line %d\r\n" % i for i in range(9)) + b"\x1b]133;A\x07$ \x1b]133;B\x07")
    t.note_typed()
    copy = _copy(t)
    assert copy.typed_since_prompt and not copy.prompt_scrolled
    assert (copy.screen.typed, copy.screen.prompt_history) == (1, t.screen.history_total())


def test_the_alternate_screen_comes_back_with_the_main_screen_behind_it() -> None:
    t = Terminal(30, 6)
    t.feed("\x1b]2;shell\x07$ ls\r\nfile-one  file-two\r\n\x1b[1;32m$ \x1b[m")
    t.feed("\x1b[?1049h\x1b[?1h\x1b[?2004h\x1b[2;5r\x1b[4 q\x1b[H\x1b[7mvim\x1b[m\x1b[3;7H")
    copy = _copy(t)
    assert copy.alternate_screen and copy.cursor_keys_application and copy.bracketed_paste
    assert copy.cursor.shape == "underline" and copy.capture() == t.capture()
    for terminal in (t, copy):
        terminal.feed("\x1b[?1049l")
    assert copy.capture() == t.capture() == "$ ls\nfile-one  file-two\n$" + "\n" * 3
    _same(t, copy)


def test_a_sequence_cut_between_reads_is_finished_by_the_copy() -> None:
    t = Terminal(20, 4)
    t.feed(b"ab\x1b[3")
    t.feed(b"1mc\x1b]0;ti")  # an SGR cut, then a title cut
    copy = _copy(t)
    for terminal in (t, copy):
        terminal.feed(b"tle\x07d\xe6\x97")  # half a UTF-8 character at the end
    copy = _copy(copy)
    for terminal in (t, copy):
        terminal.feed(b"\xa5")
    _same(t, copy)
    assert copy.title == "title" and copy.row_text(0) == "abcd日"


def test_unchanged_history_gives_the_same_block_bytes() -> None:
    t = _long_history(80, 24, 3000)
    first = t.image()
    t.feed("\x1b[Hsome typing on screen\x1b[5;1Hmore")
    second = t.image()
    assert first.head != second.head
    assert first.blocks == second.blocks
    t.feed("new line\r\n" * 2000)
    third = t.image()
    kept = set(first.blocks) & set(third.blocks)
    assert kept and len(third.blocks) > len(kept)  # the old blocks are shared, new ones added
    assert Terminal.from_image(third).capture(start="-") == t.capture(start="-")


def _reframe(data: bytes, version: int) -> bytes:
    return MAGIC + struct.pack("<H", version) + data[6:]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an ai-session terminal image"),
        (b"garbage, not an image", "not an ai-session terminal image"),
        (MAGIC + b"\x01\x00", "cut short"),
    ],
)
def test_garbage_is_refused_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(TerminalFormatError, match=message):
        Terminal.load(data)


def test_truncated_or_corrupt_data_is_refused() -> None:
    data = _long_history(40, 10, 2000).dump()
    for cut in (7, 12, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(TerminalFormatError):
            Terminal.load(data[:cut])
    image = Terminal.load(data).image()
    with pytest.raises(TerminalFormatError, match="head is corrupt"):
        Terminal.from_image(TerminalImage(image.head[:-5], image.blocks))
    with pytest.raises(TerminalFormatError, match="blocks"):
        Terminal.from_image(TerminalImage(image.head, image.blocks[1:]))
    for bad in (b"junk", image.blocks[0][:-3]):
        with pytest.raises(TerminalFormatError, match="block 0 is corrupt"):
            Terminal.from_image(TerminalImage(image.head, (bad, *image.blocks[1:])))
    body = zstandard.ZstdCompressor().compress(MAGIC + struct.pack("<H", FORMAT) + b"{}")
    with pytest.raises(TerminalFormatError, match="corrupt"):
        Terminal.from_image(TerminalImage(body, ()))
    assert isinstance(TerminalFormatError("x"), ValueError)


def test_a_newer_format_asks_for_a_newer_ai_session() -> None:
    data = Terminal().dump()
    with pytest.raises(TerminalFormatError, match="newer ai-session"):
        Terminal.load(_reframe(data, FORMAT + 1))
    head = zstandard.ZstdCompressor().compress(MAGIC + struct.pack("<H", FORMAT + 1) + b"{}")
    with pytest.raises(TerminalFormatError, match="newer ai-session"):
        Terminal.from_image(TerminalImage(head, ()))
    with pytest.raises(TerminalFormatError, match="unknown terminal image format 0"):
        Terminal.load(_reframe(data, 0))


def test_dump_and_load_of_a_200x50_pane_with_10k_lines_of_history() -> None:
    """Prints the figures (run with -s); a snapshot aims at under 50 ms each way."""
    t = _long_history()
    t.image()  # settle the flood first: a pane's screen is drawn long before a snapshot
    dumps, loads = [], []
    for _ in range(9):  # medians: the machine may be busy with other tests
        start = time.perf_counter()
        data = t.dump()
        dumped = time.perf_counter()
        copy = Terminal.load(data)
        dumps.append(dumped - start)
        loads.append(time.perf_counter() - dumped)
    image = t.image()
    print(
        f"\n200x50, {t.history_size} history lines: dump {statistics.median(dumps) * 1000:.1f} ms,"
        f" load {statistics.median(loads) * 1000:.1f} ms (medians of 9), {len(data)} bytes"
        f" (head {len(image.head)}, {len(image.blocks)} blocks)"
    )
    assert copy.capture(start="-") == t.capture(start="-")
