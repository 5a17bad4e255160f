"""The split tree: splits, removal, geometry with one-cell dividers, focus by direction, resize, presets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.layout import PRESETS, Layout, Rect, Split


def test_split_side_by_side_and_stacked_like_tmux() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row")  # C-b %
    rects, dividers = layout.geometry(81, 24)
    assert rects == {"a": Rect(0, 0, 40, 24), "b": Rect(41, 0, 40, 24)}
    assert [d.rect for d in dividers] == [Rect(40, 0, 1, 24)]
    layout.split("b", "c", "column")  # C-b "
    rects, _ = layout.geometry(81, 25)
    assert rects["b"] == Rect(41, 0, 40, 12) and rects["c"] == Rect(41, 13, 40, 12)
    assert layout.panes() == ["a", "b", "c"]


def test_splitting_in_the_same_direction_shares_space_evenly() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row")
    layout.split("b", "c", "row")
    rects, _ = layout.geometry(80, 10)
    assert rects["a"].width == 39 and {rects["b"].width, rects["c"].width} == {19, 20}


def test_remove_gives_space_back_and_collapses_single_children() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row")
    layout.split("b", "c", "column")
    layout.remove("c")
    assert layout.root == Split("row", ["a", "b"], layout.root.weights)  # type: ignore[union-attr]
    layout.remove("a")
    assert layout.root == "b"
    layout.remove("b")
    assert layout.root is None and layout.panes() == []


def test_neighbours_by_direction() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row")
    layout.split("b", "c", "column")
    assert layout.neighbour("a", "right", 80, 24) == "b"
    assert layout.neighbour("c", "left", 80, 24) == "a"
    assert layout.neighbour("b", "down", 80, 24) == "c"
    assert layout.neighbour("c", "up", 80, 24) == "b"
    assert layout.neighbour("a", "left", 80, 24) is None


def test_resize_moves_the_edge_and_keeps_every_pane_visible() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row")
    layout.resize("a", "right", 5, 81, 24)
    rects, _ = layout.geometry(81, 24)
    assert rects["a"].width == 45 and rects["b"].width == 35
    layout.resize("b", "left", 5, 81, 24)  # the shared edge moves back
    assert layout.geometry(81, 24)[0]["a"].width == 40
    layout.resize("a", "right", 500, 81, 24)
    assert layout.geometry(81, 24)[0]["b"].width == 1


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_keep_all_panes(preset: str) -> None:
    layout = Layout("p0")
    for i in range(1, 5):
        layout.split(f"p{i - 1}", f"p{i}", "row")
    layout.apply_preset(preset)
    rects, _ = layout.geometry(100, 40)
    assert sorted(rects) == [f"p{i}" for i in range(5)]
    assert all(r.width >= 1 and r.height >= 1 for r in rects.values())


def test_fits_knows_when_an_area_is_too_small() -> None:
    layout = Layout("a")
    layout.split("a", "b", "column")
    layout.split("b", "c", "column")
    assert layout.fits(10, 5) and not layout.fits(10, 4)


def test_main_vertical_gives_the_first_pane_the_left_half() -> None:
    layout = Layout(Split("column", ["a", "b", "c"]))
    layout.apply_preset("main-vertical")
    rects, _ = layout.geometry(81, 30)
    assert rects["a"] == Rect(0, 0, 40, 30)
    assert rects["b"].x == rects["c"].x == 41


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.sampled_from(["row", "column"]), st.booleans()),
        max_size=12,
    ),
    st.integers(20, 200),
    st.integers(10, 60),
)
def test_panes_never_overlap_and_fill_the_area(
    ops: list[tuple[int, str, bool]], width: int, height: int
) -> None:
    layout = Layout("p0")
    for n, (pick, direction, remove) in enumerate(ops, start=1):
        panes = layout.panes()
        target = panes[pick % len(panes)]
        if remove and len(panes) > 1:
            layout.remove(target)
        else:
            layout.split(target, f"p{n}", direction)  # type: ignore[arg-type]
    if not layout.fits(width, height):
        return  # the app refuses such a split ("no space for new pane")
    rects, dividers = layout.geometry(width, height)
    cells = [
        (x, y)
        for r in [*rects.values(), *(d.rect for d in dividers)]
        for x in range(r.x, r.right)
        for y in range(r.y, r.bottom)
    ]
    assert all(r.width >= 1 and r.height >= 1 for r in rects.values())
    assert len(cells) == len(set(cells)) == width * height  # no overlap, no hole
