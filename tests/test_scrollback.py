"""Scrollback: hot lines and zstd-compressed cold blocks behave as one list of lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.cells import Cell, HistoryLine
from engine.scrollback import Scrollback, _cells, _layout
from engine.terminal import Terminal

RED = Cell("", fg="red")


def _line(i: int) -> HistoryLine:
    if i % 3 == 0:
        return HistoryLine(f"plain {i}")
    return HistoryLine(f"red {i} rest", ((3, RED), (len(str(i)) + 6, None)), wrapped=i % 5 == 0)


def _small(max_lines: int = 1000, max_bytes: int = 10**9) -> Scrollback:
    sb = Scrollback(max_lines, max_bytes)
    sb.HOT, sb.BLOCK = 4, 3  # tiny, so cold blocks appear
    return sb


@given(
    st.lists(
        st.one_of(st.integers(1, 9).map(lambda n: ("push", n)), st.just(("pop", 0))), max_size=60
    ),
    st.integers(1, 40),
)
def test_behaves_like_a_capped_list(ops: list[tuple[str, int]], cap: int) -> None:
    sb, model = _small(max_lines=cap), []
    counter = evicted = 0
    for op, n in ops:
        if op == "push":
            lines = [_line(counter + k) for k in range(n)]
            counter += n
            sb.push_many(lines)
            model += lines
            evicted += max(0, len(model) - cap)
            del model[: max(0, len(model) - cap)]
        elif model:
            assert sb.pop_newest() == model.pop()
        assert len(sb) == len(model)
        assert list(sb) == model
        assert [sb[i] for i in range(-len(model), 0)] == model
    assert sb.dropped == evicted


def test_cold_blocks_are_compressed_and_counted_by_bytes() -> None:
    sb = Scrollback(100_000)
    sb.push_many([HistoryLine("x" * 150 + str(i)) for i in range(20_000)])
    assert len(sb) == 20_000 and sb[5].text.endswith("5") and sb[-1].text.endswith("19999")
    assert sb.nbytes < 20_000 * 20  # 150-character lines compress far below their size
    assert sb.search("x19998") == [19998]


def test_byte_cap_drops_whole_old_blocks() -> None:
    sb = _small(max_bytes=2_000)
    sb.push_many([_line(i) for i in range(500)])
    assert sb.nbytes <= 2_000 and 0 < len(sb) < 500
    assert sb[-1] == _line(499) and sb.dropped == 500 - len(sb)


def test_a_terminal_with_a_long_history_reads_back_the_same() -> None:
    t = Terminal(30, 5, scrollback=5000)
    t.feed(b"".join(b"\x1b[3%dmline %d\x1b[0m\r\n" % (i % 8, i) for i in range(4000)))
    assert t.row_text(-t.history_size) == "line 0"
    back = t.history_size - 1000
    assert t.capture(start=-back, end=-back + 1) == "line 1000\nline 1001"
    oldest = -t.history_size
    assert t.capture(ansi=True, start=oldest + 3, end=oldest + 3) == "\x1b[0;33mline 3\x1b[0m"


def _layout_by_cells(text: str, columns: int) -> tuple[list[str], list[int]]:
    """The greedy cut of the line's cells that `_layout` must equal (it cuts runs by slicing)."""
    rows: list[list[str]] = [[]]
    used = 0
    for cell, width in zip(*_cells(text), strict=True):
        if used + width > columns and rows[-1]:
            rows.append([])
            used = 0
        rows[-1].append(cell)
        used += width
    return ["".join(row) for row in rows], [len(row) for row in rows]


@given(
    st.text(st.sampled_from("ab 日本\u0301\u093e\u200d\u200b😀é"), max_size=80), st.integers(2, 12)
)
def test_rewrapping_by_runs_cuts_rows_where_cell_by_cell_does(text: str, columns: int) -> None:
    assert _layout(text, columns) == _layout_by_cells(text, columns)


@given(
    st.lists(st.text(st.sampled_from("ab 日\u0301"), max_size=30), min_size=40, max_size=80),
    st.lists(st.sampled_from([3, 7, 12, 20]), min_size=2, max_size=8),
)
def test_a_history_reflowed_back_and_forth_is_what_reflowing_it_afresh_gives(
    texts: list[str], widths: list[int]
) -> None:
    """Blocks keep what they were at the width a resize came from: toggling back reuses them.
    That must be what rewrapping them again gives, trailing blanks and colours included."""
    data = "".join(f"\x1b[4{i % 3}m{text}\r\n" for i, text in enumerate(texts)).encode()
    cached, fresh = Terminal(10, 3, scrollback=1000), Terminal(10, 3, scrollback=1000)
    for t in (cached, fresh):
        t.scrollback.HOT, t.scrollback.BLOCK = 6, 4  # tiny, so cold blocks appear
        t.feed(data)
    for columns in widths:
        for block in fresh.scrollback._cold:
            block.other = None
        cached.resize(columns, 3)
        fresh.resize(columns, 3)
        assert cached.capture(start="-", ansi=True) == fresh.capture(start="-", ansi=True)
        assert cached.history_size == fresh.history_size


@given(
    st.lists(
        st.text(st.sampled_from("ab 日\u0301"), max_size=30) | st.text("xy", max_size=45),
        min_size=20,
        max_size=80,
    ),
    st.lists(st.sampled_from([3, 7, 12, 20]), max_size=4),
    st.integers(30, 200),
)
def test_wrapped_flags_are_the_lines_own(texts: list[str], widths: list[int], cap: int) -> None:
    """Read without decoding raw runs, the flags are still each line's `wrapped`: runs of
    plain lines (the fast path keeps them raw), parsed lines, wide characters, cold blocks,
    a partly evicted first block, and reflows."""
    plain = "".join(f"{text}\r\n" for text in texts if set(text) <= set("xy"))
    other = "".join(f"\x1b[4{i % 3}m{text}\r\n" for i, text in enumerate(texts))
    t = Terminal(10, 3, scrollback=cap)
    t.scrollback.HOT, t.scrollback.BLOCK = 6, 4  # tiny, so cold blocks appear
    t.feed((plain * 3 + other + plain * 3).encode())
    for columns in [10, *widths]:
        t.resize(columns, 3)
        assert t.scrollback.wrapped_flags() == [line.wrapped for line in t.scrollback]
