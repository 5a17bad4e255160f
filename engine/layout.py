"""The split tree of one window: which pane goes where, as tmux lays them out.

Pure data and arithmetic (no UI), so the same layout can be drawn by the app, saved in a
snapshot and restored. A layout is a tree: leaves are pane ids, inner nodes split their area
into a row (side by side, tmux's `split-window -h`) or a column (stacked, `split-window -v`),
with one-cell dividers between children, like tmux.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["row", "column"]
Side = Literal["left", "right", "up", "down"]
PRESETS = ("even-horizontal", "even-vertical", "main-horizontal", "main-vertical", "tiled")


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height


@dataclass
class Split:
    """An inner node: children laid out along `direction`, sized by `weights`."""

    direction: Direction
    children: list[Node]
    weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.children):
            self.weights = [1.0] * len(self.children)


Node = str | Split  # a pane id, or a split


@dataclass(frozen=True)
class Divider:
    """The one-cell line between child `index` and `index + 1` of a split."""

    rect: Rect
    split: Split
    index: int

    @property
    def direction(self) -> Direction:
        return self.split.direction


def _sizes(total: int, weights: list[float], minimums: list[int] | None = None) -> list[int]:
    """Split `total` cells by `weights` (largest remainder), each child getting at least its
    minimum where the total allows (a nested split needs room for its own panes)."""
    n = len(weights)
    if n == 0:
        return []
    floor = minimums or [1] * n
    wsum = sum(weights) or float(n)
    raw = [total * w / wsum for w in weights]
    sizes = [max(lo, math.floor(r)) for r, lo in zip(raw, floor, strict=True)]
    order = sorted(range(n), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    rest = total - sum(sizes)
    i = 0
    while rest > 0:
        sizes[order[i % n]] += 1
        rest -= 1
        i += 1
    while rest < 0:  # too big: take from whoever has the most above its minimum
        j = max(range(n), key=lambda k: sizes[k] - floor[k])
        if sizes[j] - floor[j] <= 0:
            j = max(range(n), key=lambda k: sizes[k])
            if sizes[j] <= 1:
                break
        sizes[j] -= 1
        rest += 1
    return sizes


def _need(node: Node) -> tuple[int, int]:
    """The smallest (width, height) in which every pane under `node` gets a cell."""
    if isinstance(node, str):
        return 1, 1
    sizes = [_need(child) for child in node.children]
    gaps = len(sizes) - 1
    if node.direction == "row":
        return sum(w for w, _ in sizes) + gaps, max(h for _, h in sizes)
    return max(w for w, _ in sizes), sum(h for _, h in sizes) + gaps


class Layout:
    """One window's panes. Pane ids are strings chosen by the caller."""

    def __init__(self, root: Node | None = None) -> None:
        self.root: Node | None = root

    # -- queries ------------------------------------------------------------------------------

    def panes(self) -> list[str]:
        """Pane ids in reading order (left to right, top to bottom)."""
        out: list[str] = []

        def walk(node: Node) -> None:
            if isinstance(node, str):
                out.append(node)
            else:
                for child in node.children:
                    walk(child)

        if self.root is not None:
            walk(self.root)
        return out

    def __contains__(self, pane: str) -> bool:
        return pane in self.panes()

    def __len__(self) -> int:
        return len(self.panes())

    def _parent(self, target: Node) -> tuple[Split, int] | None:
        def walk(node: Node) -> tuple[Split, int] | None:
            if isinstance(node, Split):
                for i, child in enumerate(node.children):
                    if child is target or (child == target and isinstance(target, str)):
                        return node, i
                    found = walk(child)
                    if found:
                        return found
            return None

        return walk(self.root) if self.root is not None else None

    def geometry(self, width: int, height: int) -> tuple[dict[str, Rect], list[Divider]]:
        """Where every pane and divider goes in a `width` x `height` area."""
        rects: dict[str, Rect] = {}
        dividers: list[Divider] = []

        def place(node: Node, area: Rect) -> None:
            if isinstance(node, str):
                rects[node] = area
                return
            along = area.width if node.direction == "row" else area.height
            axis = 0 if node.direction == "row" else 1
            minimums = [_need(child)[axis] for child in node.children]
            sizes = _sizes(max(0, along - (len(node.children) - 1)), node.weights, minimums)
            pos = area.x if node.direction == "row" else area.y
            for i, (child, size) in enumerate(zip(node.children, sizes, strict=True)):
                if node.direction == "row":
                    place(child, Rect(pos, area.y, size, area.height))
                    pos += size
                    if i < len(sizes) - 1:
                        dividers.append(Divider(Rect(pos, area.y, 1, area.height), node, i))
                else:
                    place(child, Rect(area.x, pos, area.width, size))
                    pos += size
                    if i < len(sizes) - 1:
                        dividers.append(Divider(Rect(area.x, pos, area.width, 1), node, i))
                pos += 1

        if self.root is not None:
            place(self.root, Rect(0, 0, width, height))
        return rects, dividers

    def fits(self, width: int, height: int) -> bool:
        """Whether every pane gets at least one cell in a `width` x `height` area (tmux
        refuses a split that would break this: "no space for new pane")."""
        if self.root is None:
            return True
        w, h = _need(self.root)
        return w <= width and h <= height

    def neighbour(self, pane: str, side: Side, width: int, height: int) -> str | None:
        """The pane next to `pane` on `side` (the one overlapping most), as tmux's select-pane."""
        rects, _ = self.geometry(width, height)
        me = rects.get(pane)
        if me is None:
            return None
        best: tuple[int, int, str] | None = None
        for other, r in rects.items():
            if other == pane:
                continue
            beside = (side == "left" and r.right == me.x - 1) or (
                side == "right" and r.x == me.right + 1
            )
            stacked = (side == "up" and r.bottom == me.y - 1) or (
                side == "down" and r.y == me.bottom + 1
            )
            if beside:
                overlap = min(r.bottom, me.bottom) - max(r.y, me.y)
            elif stacked:
                overlap = min(r.right, me.right) - max(r.x, me.x)
            else:
                continue
            if overlap > 0:
                key = (overlap, -(abs(r.y - me.y) + abs(r.x - me.x)), other)
                if best is None or key[:2] > best[:2]:
                    best = key
        return best[2] if best else None

    # -- edits ---------------------------------------------------------------------------------

    def split(self, pane: str, new: str, direction: Direction, before: bool = False) -> None:
        """Put `new` beside `pane` (`row`) or below it (`column`), halving `pane`'s space."""
        if self.root is None:
            self.root = new
            return
        if new in self:
            raise ValueError(f"pane {new!r} is already in the layout")
        if pane not in self:
            raise ValueError(f"pane {pane!r} is not in the layout")
        found = self._parent(pane)
        pair = [new, pane] if before else [pane, new]
        if found is None:  # pane is the root
            self.root = Split(direction, pair)
            return
        parent, i = found
        if parent.direction == direction:
            half = parent.weights[i] / 2
            parent.children[i : i + 1] = pair
            parent.weights[i : i + 1] = [half, half]
        else:
            parent.children[i] = Split(direction, pair)

    def remove(self, pane: str) -> None:
        """Take `pane` out; its space goes to its siblings."""
        if self.root == pane:
            self.root = None
            return
        found = self._parent(pane)
        if found is None:
            raise ValueError(f"pane {pane!r} is not in the layout")
        parent, i = found
        del parent.children[i]
        del parent.weights[i]
        if len(parent.children) == 1:
            self._replace(parent, parent.children[0])

    def _replace(self, old: Split, new: Node) -> None:
        if self.root is old:
            self.root = new
            return
        found = self._parent(old)
        assert found is not None
        grand, j = found
        if isinstance(new, Split) and new.direction == grand.direction:
            share = grand.weights[j]
            total = sum(new.weights)
            grand.children[j : j + 1] = new.children
            grand.weights[j : j + 1] = [share * w / total for w in new.weights]
        else:
            grand.children[j] = new

    def swap(self, a: str, b: str) -> None:
        """Exchange the places of two panes."""
        pa, pb = self._parent(a), self._parent(b)
        if self.root in (a, b) or pa is None or pb is None:
            return
        pa[0].children[pa[1]], pb[0].children[pb[1]] = b, a

    def resize(self, pane: str, side: Side, cells: int, width: int, height: int) -> None:
        """Move the edge of `pane` on `side` by `cells` (tmux's resize-pane -L/-R/-U/-D)."""
        direction: Direction = "row" if side in ("left", "right") else "column"
        node: Node = pane
        while True:
            found = self._parent(node)
            if found is None:
                return
            parent, i = found
            if parent.direction == direction:
                j = i + 1 if side in ("right", "down") else i - 1
                if 0 <= j < len(parent.children):
                    self.move_divider(
                        parent,
                        min(i, j),
                        cells if side in ("right", "down") else -cells,
                        width,
                        height,
                    )
                    return
            node = parent

    def move_divider(self, split: Split, index: int, cells: int, width: int, height: int) -> None:
        """Shift the divider after child `index` of `split` by `cells` (positive: right/down)."""
        rects, _ = self.geometry(width, height)
        extent = self._extent(split, rects)
        if extent is None:
            return
        along = extent.width if split.direction == "row" else extent.height
        usable = max(1, along - (len(split.children) - 1))
        axis = 0 if split.direction == "row" else 1
        minimums = [_need(child)[axis] for child in split.children]
        sizes = _sizes(usable, split.weights, minimums)
        a, b = sizes[index], sizes[index + 1]
        cells = max(minimums[index] - a, min(cells, b - minimums[index + 1]))
        sizes[index], sizes[index + 1] = a + cells, b - cells
        split.weights = [float(s) for s in sizes]

    def _extent(self, node: Node, rects: dict[str, Rect]) -> Rect | None:
        leaves = Layout(node).panes()
        boxes = [rects[p] for p in leaves if p in rects]
        if not boxes:
            return None
        x, y = min(r.x for r in boxes), min(r.y for r in boxes)
        return Rect(x, y, max(r.right for r in boxes) - x, max(r.bottom for r in boxes) - y)

    def apply_preset(self, name: str) -> None:
        """Rearrange all panes as tmux's select-layout does: even-horizontal, even-vertical,
        main-horizontal, main-vertical or tiled."""
        panes = self.panes()
        if name not in PRESETS:
            raise ValueError(f"unknown layout {name!r}; choose one of {', '.join(PRESETS)}")
        if len(panes) < 2:
            return
        if name == "even-horizontal":
            self.root = Split("row", list(panes))
        elif name == "even-vertical":
            self.root = Split("column", list(panes))
        elif name in ("main-vertical", "main-horizontal"):
            outer: Direction = "row" if name == "main-vertical" else "column"
            inner: Direction = "column" if outer == "row" else "row"
            rest: Node = panes[1] if len(panes) == 2 else Split(inner, panes[1:])
            self.root = Split(outer, [panes[0], rest], [1.0, 1.0])
        else:
            columns = math.ceil(math.sqrt(len(panes)))
            rows = [panes[i : i + columns] for i in range(0, len(panes), columns)]
            self.root = Split(
                "column", [r[0] if len(r) == 1 else Split("row", list(r)) for r in rows]
            )
