"""The split tree: splits, removal, geometry with one-cell dividers, focus by direction, resize,
presets — and, where tmux 3.3a is installed, the same edits side by side with real tmux,
comparing every pane's rectangle and number."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.layout import NO_SPACE, PRESETS, Direction, Layout, Rect, Side, Split

SIDES: dict[str, Side] = {"-L": "left", "-R": "right", "-U": "up", "-D": "down"}


def _row(*names: str, width: int = 81, height: int = 24) -> Layout:
    layout = Layout(names[0])
    for before, name in itertools.pairwise(names):
        layout.split(before, name, "row", width, height)
    return layout


def test_split_side_by_side_and_stacked_like_tmux() -> None:
    layout = _row("a", "b")  # C-b %
    rects, dividers = layout.geometry(81, 24)
    assert rects == {"a": Rect(0, 0, 40, 24), "b": Rect(41, 0, 40, 24)}
    assert [d.rect for d in dividers] == [Rect(40, 0, 1, 24)]
    layout.split("b", "c", "column", 81, 24)  # C-b "
    rects, _ = layout.geometry(81, 24)
    assert rects["b"] == Rect(41, 0, 40, 12) and rects["c"] == Rect(41, 13, 40, 11)
    assert layout.panes() == ["a", "b", "c"]


def test_split_sizes_before_and_full_width() -> None:
    layout = Layout("a")
    layout.split("a", "b", "row", 80, 24, size=10)  # split-window -h -l 10
    assert layout.geometry(80, 24)[0]["b"] == Rect(70, 0, 10, 24)
    layout.split("b", "c", "column", 80, 24, before=True, size=5)  # -v -b -l 5
    rects, _ = layout.geometry(80, 24)
    assert rects["c"] == Rect(70, 0, 10, 5) and rects["b"] == Rect(70, 6, 10, 18)
    layout.split("c", "d", "column", 80, 24, full=True, size=4)  # -v -f -l 4: the whole width
    rects, _ = layout.geometry(80, 24)
    assert rects["d"] == Rect(0, 20, 80, 4) and rects["a"].height == 19
    assert layout.panes() == ["a", "c", "b", "d"]


def test_a_split_without_room_is_refused_and_changes_nothing() -> None:
    layout = _row("a", "b", "c", width=7)  # three panes of 2, 1 and 2 cells... at most
    before = layout.geometry(7, 10)
    narrow = min(before[0], key=lambda p: before[0][p].width)
    with pytest.raises(ValueError, match=NO_SPACE):
        layout.split(narrow, "d", "row", 7, 10)
    assert layout.geometry(7, 10) == before and "d" not in layout


def test_remove_gives_the_space_to_the_pane_before_and_collapses_single_children() -> None:
    layout = _row("a", "b", "c", width=80)  # 40 | 19 | 19
    layout.remove("b", 80, 24)
    assert layout.geometry(80, 24)[0] == {"a": Rect(0, 0, 60, 24), "c": Rect(61, 0, 19, 24)}
    layout.split("c", "d", "column", 80, 24)
    layout.remove("d", 80, 24)
    assert layout.root == Split("row", ["a", "c"], layout.root.weights)  # type: ignore[union-attr]
    layout.remove("a", 80, 24)
    assert layout.root == "c"
    layout.remove("c", 80, 24)
    assert layout.root is None and layout.panes() == []


def test_neighbours_wrap_round_and_prefer_the_most_recent() -> None:
    layout = _row("a", "b")
    layout.split("b", "c", "column", 81, 24)  # a | b over c
    assert layout.neighbour("a", "right", 81, 24) == "b"  # none used yet: the first
    assert layout.neighbour("a", "right", 81, 24, recent=["c", "a", "b"]) == "c"
    assert layout.neighbour("c", "left", 81, 24) == "a"
    assert layout.neighbour("a", "left", 81, 24, recent=["b", "c"]) == "b"  # wraps
    assert layout.neighbour("c", "down", 81, 24) == "b"  # wraps to the top
    assert layout.neighbour("a", "up", 81, 24) is None  # nothing else in its column


def test_resize_at_the_window_edge_moves_the_other_border() -> None:
    layout = _row("a", "b")
    layout.resize("a", "right", 5, 81, 24)
    assert layout.geometry(81, 24)[0]["a"].width == 45
    layout.resize("b", "right", 3, 81, 24)  # rightmost: its left border moves right
    assert layout.geometry(81, 24)[0]["b"].width == 32
    layout.resize("a", "left", 500, 81, 24)  # leftmost: its right border, down to one cell
    assert layout.geometry(81, 24)[0]["a"].width == 1
    layout.resize("a", "up", 3, 81, 24)  # no split that way: nothing moves
    assert layout.geometry(81, 24)[0]["a"] == Rect(0, 0, 1, 24)


def test_resize_to_an_absolute_size() -> None:
    layout = _row("a", "b", "c", width=80)
    layout.resize_to("c", "row", 30, 80, 24)
    layout.resize_to("a", "row", 20, 80, 24)
    widths = [r.width for r in layout.geometry(80, 24)[0].values()]
    assert widths == [20, 28, 30]


def test_swap_and_rotate_move_panes_through_the_places() -> None:
    layout = _row("a", "b")
    layout.split("b", "c", "column", 81, 24)
    places = layout.geometry(81, 24)[0]
    layout.swap("a", "c")  # a root-level pane and a nested one
    assert layout.geometry(81, 24)[0] == {
        "c": places["a"],
        "b": places["b"],
        "a": places["c"],
    }
    layout.rotate()  # -U: each pane one place back, the first to the last place
    assert layout.panes() == ["b", "a", "c"]
    layout.rotate(reverse=True)
    assert layout.panes() == ["c", "b", "a"]


def test_spread_out_evens_the_pane_and_its_siblings() -> None:
    layout = _row("a", "b", "c", width=80)  # 40 | 19 | 19
    assert layout.spread_out("b", 80, 24)
    assert [r.width for r in layout.geometry(80, 24)[0].values()] == [26, 26, 26]
    assert not layout.spread_out("b", 80, 24)  # already even, nothing above


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_keep_all_panes(preset: str) -> None:
    layout = _row(*[f"p{i}" for i in range(5)], width=100)
    layout.apply_preset(preset, 100, 40)
    rects, _ = layout.geometry(100, 40)
    assert sorted(rects) == [f"p{i}" for i in range(5)]
    assert all(r.width >= 1 and r.height >= 1 for r in rects.values())


def test_tiled_and_main_vertical_as_tmux_draws_them() -> None:
    layout = _row("a", "b", "c", width=200)
    layout.apply_preset("main-vertical", 200, 50)  # tmux's main-pane-width: 80 cells
    rects, _ = layout.geometry(200, 50)
    assert rects["a"] == Rect(0, 0, 80, 50) and rects["b"] == Rect(81, 0, 119, 24)
    layout.apply_preset("tiled", 200, 50)  # three panes: two rows, the last one whole
    rects, _ = layout.geometry(200, 50)
    assert rects["c"] == Rect(0, 25, 200, 25) and rects["b"] == Rect(100, 0, 100, 24)


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
            layout.remove(target, width, height)
            continue
        try:
            layout.split(target, f"p{n}", direction, width, height)  # type: ignore[arg-type]
        except ValueError as refused:
            assert str(refused) == NO_SPACE
    rects, dividers = layout.geometry(width, height)
    cells = [
        (x, y)
        for r in [*rects.values(), *(d.rect for d in dividers)]
        for x in range(r.x, r.right)
        for y in range(r.y, r.bottom)
    ]
    assert all(r.width >= 1 and r.height >= 1 for r in rects.values())
    assert len(cells) == len(set(cells)) == width * height  # no overlap, no hole


# -- side by side with tmux ------------------------------------------------------------------

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class TmuxServer:
    """A private tmux server (status line off) whose windows we edit and measure."""

    def __init__(self, conf: Path) -> None:
        assert TMUX
        self.base = [TMUX, "-L", f"ais-layout-{uuid.uuid4().hex[:8]}", "-f", str(conf)]
        self.env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.base, *args], env=self.env, timeout=20, capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr}")
        return done

    def kill(self) -> None:
        socket = self("display", "-p", "#{socket_path}", check=False).stdout.strip()
        self("kill-server", check=False)
        if socket:
            Path(socket).unlink(missing_ok=True)  # tmux leaves it behind


class Twin:
    """One tmux window and our Layout, edited alike; pane ids are tmux's own (%N)."""

    def __init__(self, tmux: TmuxServer, width: int, height: int) -> None:
        self.tmux, self.width, self.height = tmux, width, height
        self.name = f"s{uuid.uuid4().hex[:6]}"
        first = tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height))
        first = tmux("display", "-p", "-t", self.name, "#{pane_id}")
        self.layout = Layout(first.stdout.strip())
        self.recent: list[str] = [self.active()]  # panes by tmux's active_point, newest first

    def panes(self) -> list[tuple[str, Rect]]:
        out = self.tmux(
            "list-panes",
            "-t",
            self.name,
            "-F",
            "#{pane_id} #{pane_left} #{pane_top} #{pane_width} #{pane_height}",
        )
        rows = [line.split() for line in out.stdout.splitlines()]
        return [(p, Rect(int(x), int(y), int(w), int(h))) for p, x, y, w, h in rows]

    def active(self) -> str:
        return self.tmux("display", "-p", "-t", self.name, "#{pane_id}").stdout.strip()

    def activated(self, *, remembered: bool = True) -> None:
        """Note tmux's active pane; `remembered` unless tmux skipped its active_point."""
        now = self.active()
        if remembered and self.recent[0] != now:
            self.recent = [now, *[p for p in self.recent if p != now]]

    def check(self, what: str) -> None:
        theirs = self.panes()
        ours = self.layout.geometry(self.width, self.height)[0]
        assert ours == dict(theirs), f"after {what}: ours {ours} != tmux {dict(theirs)}"
        assert self.layout.panes() == [p for p, _ in theirs], f"pane order after {what}"

    def split(self, pane: str, flags: list[str], size: int | None = None) -> str | None:
        """split-window -t pane [flags] [-l size]; the new pane's id, None if refused."""
        extra = ["-l", str(size)] if size is not None else []
        done = self.tmux(
            "split-window", "-t", pane, "-P", "-F", "#{pane_id}", *flags, *extra, check=False
        )
        direction: Direction = "row" if "-h" in flags else "column"
        new = done.stdout.strip() or "%new"
        try:
            self.layout.split(
                pane,
                new,
                direction,
                self.width,
                self.height,
                before="-b" in flags,
                size=size,
                full="-f" in flags,
            )
        except ValueError as refused:
            assert done.returncode != 0 and "no space for new pane" in done.stderr
            assert str(refused) == NO_SPACE
            return None
        assert done.returncode == 0, done.stderr
        self.activated()
        return new

    def close(self) -> None:
        self.tmux("kill-session", "-t", self.name, check=False)


@pytest.fixture(scope="module")
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TmuxServer]:
    if TMUX is None:
        pytest.skip("tmux is not installed")
    conf = tmp_path_factory.mktemp("tmux") / "tmux.conf"
    conf.write_text("set -g status off\nset -g default-command 'exec sleep 3600'\n")
    server = TmuxServer(conf)
    server("new-session", "-d", "-s", "keep")  # the server stays up between windows
    yield server
    server.kill()


@pytest.fixture
def twin(tmux: TmuxServer, request: pytest.FixtureRequest) -> Iterator[Twin]:
    width, height = getattr(request, "param", (80, 24))
    pair = Twin(tmux, width, height)
    yield pair
    pair.close()


def _grow(twin: Twin, count: int, rng: random.Random) -> None:
    """Split random panes until there are `count` (tmux's pane order is then arbitrary)."""
    while len(twin.layout) < count:
        target = rng.choice(twin.layout.panes())
        twin.split(target, [rng.choice(["-h", "-v"])])
    twin.check("splitting")


@needs_tmux
@pytest.mark.parametrize("twin", [(80, 24), (200, 50), (41, 15)], indirect=True)
@pytest.mark.parametrize("count", range(2, 7))
@pytest.mark.parametrize("preset", PRESETS)
def test_presets_match_tmux(twin: Twin, preset: str, count: int) -> None:
    _grow(twin, count, random.Random(count))
    twin.tmux("select-layout", "-t", twin.name, preset)
    twin.layout.apply_preset(preset, twin.width, twin.height)
    twin.check(f"select-layout {preset} with {count} panes")


@needs_tmux
@pytest.mark.parametrize(
    ("steps"),
    [
        [("-h", "-l", 10), ("-v", "-b"), ("-h", "-f"), ("-v", "-f", "-b", "-l", 5)],
        [("-v", "-l", 1000), ("-h", "-b", "-l", 1000), ("-h", "-l", 0), ("-v", "-f", "-l", 3)],
        [("-h",), ("-h", "-f", "-b"), ("-v", "-f", "-l", 20), ("-h", "-f", "-l", 7)],
        [("-h",)] * 7,  # down to one-cell panes, then "no space for new pane"
    ],
)
def test_split_sizes_before_and_full_match_tmux(twin: Twin, steps: list[tuple[str, ...]]) -> None:
    for step in steps:
        flags = [s for s in step if s in ("-h", "-v", "-b", "-f")]
        size = int(step[step.index("-l") + 1]) if "-l" in step else None
        twin.split(twin.active(), flags, size)
        twin.check(f"split-window {' '.join(map(str, step))}")


@needs_tmux
def test_split_by_percentage_matches_tmux(twin: Twin) -> None:
    """-l 30% is 30% of the pane's cells (of the window's with -f), rounded down."""
    pane = twin.active()
    twin.tmux("split-window", "-t", pane, "-h", "-l", "30%")
    twin.layout.split(pane, twin.active(), "row", 80, 24, size=80 * 30 // 100)
    twin.activated()
    twin.check("split-window -h -l 30%")


def _nested(twin: Twin) -> list[str]:
    """a | (b over (c | d)) | e, as a tmux user might build it."""
    a = twin.active()
    e = twin.split(a, ["-h"])
    b = twin.split(a, ["-h"])
    c = twin.split(b, ["-v"])  # type: ignore[arg-type]
    d = twin.split(c, ["-h"])  # type: ignore[arg-type]
    twin.check("building")
    return [p for p in (a, b, c, d, e) if p is not None]


@needs_tmux
@pytest.mark.parametrize("twin", [(80, 24), (120, 40)], indirect=True)
def test_resize_everywhere_matches_tmux(twin: Twin) -> None:
    panes = _nested(twin)
    for pane in panes:
        for flag, side in SIDES.items():
            for cells in (3, 1000):
                twin.tmux("resize-pane", "-t", pane, flag, str(cells))
                twin.layout.resize(pane, side, cells, twin.width, twin.height)
                twin.check(f"resize-pane -t {pane} {flag} {cells}")
    for pane in panes:
        for flag, direction, cells in (("-x", "row", 10), ("-y", "column", 5)):
            twin.tmux("resize-pane", "-t", pane, flag, str(cells))
            twin.layout.resize_to(pane, direction, cells, twin.width, twin.height)  # type: ignore[arg-type]
            twin.check(f"resize-pane -t {pane} {flag} {cells}")


@needs_tmux
def test_rotate_swap_spread_and_kill_match_tmux(twin: Twin) -> None:
    panes = _nested(twin)
    for flag in ("-U", "-D", "-D", "-U", "-U"):
        twin.tmux("rotate-window", "-t", twin.name, flag)
        twin.layout.rotate(reverse=flag == "-D")
        twin.check(f"rotate-window {flag}")
    for a, b in ((panes[0], panes[3]), (panes[4], panes[1]), (panes[2], panes[2])):
        twin.tmux("swap-pane", "-s", a, "-t", b)
        twin.layout.swap(a, b)
        twin.check(f"swap-pane -s {a} -t {b}")
    for pane in (panes[2], panes[0]):
        twin.tmux("resize-pane", "-t", pane, "-R", "7")
        twin.layout.resize(pane, "right", 7, 80, 24)
        twin.tmux("select-layout", "-t", pane, "-E")
        twin.layout.spread_out(pane, 80, 24)
        twin.check(f"select-layout -E -t {pane}")
    for pane in panes[1:]:
        twin.tmux("kill-pane", "-t", pane)
        twin.layout.remove(pane, 80, 24)
        twin.check(f"kill-pane -t {pane}")


@needs_tmux
@pytest.mark.parametrize("twin", [(80, 24), (101, 31)], indirect=True)
def test_select_pane_wraps_and_prefers_the_most_recent_like_tmux(twin: Twin) -> None:
    panes = _nested(twin)
    twin.split(panes[4], ["-v"])
    twin.split(panes[0], ["-v", "-b"])
    twin.check("more splits")
    rng = random.Random(9)
    for _ in range(60):
        flag = rng.choice(list(SIDES))
        before = twin.active()
        expected = twin.layout.neighbour(
            before, SIDES[flag], twin.width, twin.height, recent=twin.recent
        )
        twin.tmux("select-pane", "-t", before, flag)
        twin.activated()
        assert twin.active() == (expected or before), f"select-pane {flag} from {before}"
        if rng.random() < 0.2:  # jump somewhere, as a click or C-b q would
            twin.tmux("select-pane", "-t", rng.choice(twin.layout.panes()))
            twin.activated()


@needs_tmux
@pytest.mark.parametrize("seed", range(24))
def test_random_edits_match_tmux(tmux: TmuxServer, seed: int) -> None:
    """Any mix of split, kill, resize, swap, rotate, spread and presets lands where tmux's
    does; select-pane picks the pane tmux picks."""
    rng = random.Random(seed)
    twin = Twin(tmux, rng.choice([80, 97, 132]), rng.choice([24, 30, 41]))
    try:
        for step in range(40):
            _random_edit(twin, rng, step)
    finally:
        twin.close()


def _random_edit(twin: Twin, rng: random.Random, step: int) -> None:
    panes = twin.layout.panes()
    pane = rng.choice(panes)
    width, height = twin.width, twin.height
    kind = rng.choice(
        ["split"] * 4
        + ["kill", "resize", "resize", "to", "swap", "rotate", "spread", "select"]
        + ["preset"] * (step % 10 == 9 and len(panes) * 2 <= min(width, height))
    )  # tmux enlarges a window too small for a preset: no longer the same window
    if kind == "split" or len(panes) == 1:
        flags = [rng.choice(["-h", "-v"])] + ["-b"] * (rng.random() < 0.3)
        flags += ["-f"] * (rng.random() < 0.15)
        size = rng.choice([None, None, rng.randint(0, 40)])
        twin.split(pane, flags, size)
        what = f"split-window -t {pane} {flags} {size}"
    elif kind == "kill":
        was_active = pane == twin.active()
        twin.tmux("kill-pane", "-t", pane)
        twin.layout.remove(pane, width, height)
        twin.recent = [p for p in twin.recent if p != pane]
        twin.activated(remembered=not was_active)  # tmux gives the heir no active_point
        what = f"kill-pane -t {pane}"
    elif kind in ("resize", "to"):
        flag = rng.choice(list(SIDES) if kind == "resize" else ["-x", "-y"])
        cells = rng.choice([1, 2, 5, 13, 50])
        twin.tmux("resize-pane", "-t", pane, flag, str(cells))
        if kind == "resize":
            twin.layout.resize(pane, SIDES[flag], cells, width, height)
        else:
            direction: Direction = "row" if flag == "-x" else "column"
            twin.layout.resize_to(pane, direction, cells, width, height)
        what = f"resize-pane -t {pane} {flag} {cells}"
    elif kind == "swap":
        other = rng.choice(panes)
        active = twin.active()
        twin.tmux("swap-pane", "-d", "-s", pane, "-t", other)
        twin.layout.swap(pane, other)
        if active == pane != other:  # -d: tmux makes `other` active, then `pane` again
            twin.recent = [pane, other, *[p for p in twin.recent if p not in (pane, other)]]
        twin.activated()
        what = f"swap-pane -s {pane} -t {other}"
    elif kind == "rotate":
        flag = rng.choice(["-U", "-D"])
        twin.tmux("rotate-window", "-t", twin.name, flag)
        twin.layout.rotate(reverse=flag == "-D")
        twin.activated()
        what = f"rotate-window {flag}"
    elif kind == "spread":
        twin.tmux("select-layout", "-t", pane, "-E")
        twin.layout.spread_out(pane, width, height)
        what = f"select-layout -E -t {pane}"
    elif kind == "preset":
        name = rng.choice(PRESETS)
        twin.tmux("select-layout", "-t", twin.name, name)
        twin.layout.apply_preset(name, width, height)
        what = f"select-layout {name}"
    else:
        flag = rng.choice(list(SIDES))
        active = twin.active()
        expected = twin.layout.neighbour(active, SIDES[flag], width, height, recent=twin.recent)
        twin.tmux("select-pane", "-t", active, flag)
        twin.activated()
        assert twin.active() == (expected or active), f"select-pane {flag} from {active}"
        what = f"select-pane {flag}"
    twin.check(what)


def test_a_layout_round_trips_through_json_and_bad_trees_are_refused() -> None:
    import json

    layout = Layout("a")
    layout.split("a", "b", "row", 80, 24)
    layout.split("b", "c", "column", 80, 24)
    layout.resize("a", "right", 7, 80, 24)
    data = json.loads(json.dumps(layout.to_dict()))
    again = Layout.from_dict(data)
    assert again.panes() == layout.panes() == ["a", "b", "c"]
    assert again.geometry(80, 24) == layout.geometry(80, 24)
    assert Layout.from_dict(None).panes() == []
    for bad in (
        {"direction": "diagonal", "children": ["a", "b"]},
        {"direction": "row", "children": ["a"]},
        {"direction": "row", "children": ["a", "b"], "weights": [1, -1]},
        {"direction": "row", "children": ["a", "a"]},
        42,
    ):
        with pytest.raises(ValueError):
            Layout.from_dict(bad)
