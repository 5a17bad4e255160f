"""The split tree of one window: which pane goes where, as tmux lays them out.

Pure data and arithmetic (no UI), so the same layout can be drawn by the app, saved in a
snapshot and restored. A layout is a tree: leaves are pane ids, inner nodes split their area
into a row (side by side, tmux's `split-window -h`) or a column (stacked, `split-window -v`),
with one-cell dividers between children, like tmux.

Edits follow tmux 3.3a's layout.c and layout-set.c cell for cell: before an edit the weights
of every split become the cells its children have at the window's size ("frozen"), then the
edit does tmux's arithmetic on those cells. Drawn at the same size, the panes sit exactly
where tmux puts them; at another size the weights scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["row", "column"]
Side = Literal["left", "right", "up", "down"]
PRESETS = ("even-horizontal", "even-vertical", "main-horizontal", "main-vertical", "tiled")
MINIMUM = 1  # tmux's PANE_MINIMUM: the fewest cells a pane keeps either way
NO_SPACE = "no space for new pane"  # tmux's refusal, shown as is
MAIN_PANE_WIDTH = 80  # tmux's main-pane-width (main-vertical)
MAIN_PANE_HEIGHT = 24  # tmux's main-pane-height (main-horizontal)
_UINT = 2**32  # tmux does some of this arithmetic in unsigned ints


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
    """An inner node: children laid out along `direction`, sized by `weights` (after an
    edit, the cells each child has; scaled when the window is another size)."""

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


# -- tmux's cell arithmetic on frozen weights (layout.c) --------------------------------------


def _cells(split: Split, i: int) -> int:
    return int(split.weights[i])


def _room(node: Node, axis: Direction, size: int) -> int:
    """How many cells `node` (`size` cells along `axis`) can give up: layout_resize_check."""
    if isinstance(node, str):
        return max(0, size - MINIMUM)
    if node.direction == axis:
        return sum(_room(c, axis, _cells(node, i)) for i, c in enumerate(node.children))
    return min(_room(c, axis, size) for c in node.children)


def _adjust(node: Node, axis: Direction, change: int) -> None:
    """Pass a change of `node`'s size along `axis` on to what is inside it, one cell per
    child in turn: layout_resize_adjust (the caller changed `node`'s own size)."""
    if isinstance(node, str):
        return
    if node.direction != axis:
        for child in node.children:
            _adjust(child, axis, change)
        return
    while change:
        moved = False
        for i, child in enumerate(node.children):
            if change == 0:
                break
            if change > 0:
                _grow(node, i, 1)
                change -= 1
                moved = True
            elif _room(child, axis, _cells(node, i)) > 0:
                _grow(node, i, -1)
                change += 1
                moved = True
        if not moved:
            return


def _grow(split: Split, i: int, change: int) -> None:
    """Child `i` of `split` gets `change` more cells along the split."""
    split.weights[i] = float(_cells(split, i) + change)
    _adjust(split.children[i], split.direction, change)


def _grow_once(split: Split, i: int, needed: int, opposite: bool) -> int:
    """layout_resize_pane_grow: child `i` takes cells from the first later sibling with room
    (else, if `opposite`, the nearest earlier one)."""
    axis = split.direction
    order = list(range(i + 1, len(split.children)))
    if opposite:
        order += list(range(i - 1, -1, -1))
    for j in order:
        room = _room(split.children[j], axis, _cells(split, j))
        if room > 0:
            room = min(room, needed)
            _grow(split, i, room)
            _grow(split, j, -room)
            return room
    return 0


def _shrink_once(split: Split, i: int, needed: int) -> int:
    """layout_resize_pane_shrink: cells from child `i` (else the nearest earlier child with
    room) go to child `i + 1`."""
    if i + 1 >= len(split.children):
        return 0
    for j in range(i, -1, -1):
        room = _room(split.children[j], split.direction, _cells(split, j))
        if room > 0:
            room = min(room, needed)
            _grow(split, i + 1, room)
            _grow(split, j, -room)
            return room
    return 0


def _move_border(split: Split, i: int, change: int, opposite: bool) -> None:
    """Move the border after child `i` by `change` cells (layout_resize_layout)."""
    needed = abs(change)
    while needed:
        if change > 0:
            moved = _grow_once(split, i, needed, opposite)
        else:
            moved = _shrink_once(split, i, needed)
        if moved == 0:
            return
        needed -= moved


def _new_pane_size(
    previous: int, child: Node, axis: Direction, old: int, size: int, left: int, size_left: int
) -> int:
    """layout_new_pane_size: a child's share of a parent going from `previous` to `size`
    cells, `left` children (this one included) sharing the `size_left` cells still free."""
    if left == 1:
        return size_left
    room = _room(child, axis, old)
    minimum = max((MINIMUM + 1) * (left - 1), old - room)
    new = old * size // previous if previous else old
    maximum = (size_left - minimum) % _UINT
    return max(MINIMUM, min(new, maximum))


def _fits_size(node: Node, axis: Direction, current: int, size: int) -> bool:
    """Whether `node` (`current` cells along `axis`) can be made `size` cells:
    layout_set_size_check."""
    if isinstance(node, str):
        return size >= MINIMUM
    if node.direction != axis:
        return all(
            _fits_size(c, axis, current, size) for c in node.children if isinstance(c, Split)
        )
    count = len(node.children)
    available = size
    if available < count * 2 - 1:
        return False
    for idx, child in enumerate(node.children):
        old = _cells(node, idx)
        new = _new_pane_size(current, child, axis, old, size, count - idx, available)
        need = new if idx == count - 1 else new + 1
        if need > available:
            return False
        available -= need
        if not _fits_size(child, axis, old, new):
            return False
    return True


def _refit(node: Node, width: int, height: int) -> None:
    """Scale what is inside `node` to its new `width` x `height`: layout_resize_child_cells."""
    if isinstance(node, str):
        return
    row = node.direction == "row"
    along, across = (width, height) if row else (height, width)
    count = len(node.children)
    previous = sum(_cells(node, i) for i in range(count)) + count - 1
    available = along
    for idx, child in enumerate(node.children):
        old = _cells(node, idx)
        new = _new_pane_size(previous, child, node.direction, old, along, count - idx, available)
        node.weights[idx] = float(new)
        available -= new + 1
        _refit(child, *((new, across) if row else (across, new)))


def _spread(split: Split, size: int) -> bool:
    """Give the children of `split` (`size` cells along it) equal shares, the last one the
    rest: layout_spread_cell. False when nothing changed."""
    number = len(split.children)
    if number <= 1 or size < number - 1:
        return False
    each = (size - (number - 1)) // number
    if each == 0:
        return False
    changed = False
    for i in range(number):
        share = size - (each + 1) * (number - 1) if i == number - 1 else each
        change = max(
            share - _cells(split, i), -_room(split.children[i], split.direction, _cells(split, i))
        )
        _grow(split, i, change)  # (tmux loops forever on a change its cells cannot take)
        changed = changed or change != 0
    return changed


def _even(total: int, count: int) -> list[float]:
    """`count` equal shares of `total` cells (dividers between), the last taking the rest."""
    each = max(MINIMUM, (total - (count - 1)) // count)
    return [float(each)] * (count - 1) + [float(max(MINIMUM, total - (each + 1) * (count - 1)))]


def _split_sizes(saved: int, size: int | None, before: bool) -> tuple[int, int]:
    """tmux's cell sizes (top/left, bottom/right) for splitting `saved` cells; `size` is what
    the new pane asked for (-l), else the split is down the middle."""
    if size is None:
        second = (saved + 1) // 2 - 1
    elif before:
        second = (saved - size - 1) % _UINT  # unsigned in tmux: too big a size wraps
    else:
        second = size
    if second < MINIMUM:
        second = MINIMUM
    elif second > saved - 2:
        second = saved - 2
    return saved - 1 - second, second


def _main_sizes(total: int, main: int) -> tuple[int, int]:
    """The main pane's and the others' cells out of a window `total` cells across
    (layout_set_main_v/h, with other-pane-width unset)."""
    free = total - 1
    if main + MINIMUM >= free:
        main = MINIMUM if free <= MINIMUM * 2 else free - MINIMUM
        return main, MINIMUM
    return main, free - main


class Layout:
    """One window's panes. Pane ids are strings chosen by the caller."""

    def __init__(self, root: Node | None = None) -> None:
        self.root: Node | None = root

    # -- queries ------------------------------------------------------------------------------

    def panes(self) -> list[str]:
        """Pane ids in tmux's pane order (its pane_index): reading the tree depth first."""
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

    def to_dict(self) -> dict[str, Any] | None:
        """The tree as JSON-able data (what a workspace snapshot stores): a pane is its id, a
        split `{"direction", "children", "weights"}`."""

        def walk(node: Node) -> Any:
            if isinstance(node, str):
                return node
            return {
                "direction": node.direction,
                "children": [walk(child) for child in node.children],
                "weights": list(node.weights),
            }

        return None if self.root is None else walk(self.root)

    @classmethod
    def from_dict(cls, data: Any) -> Layout:
        """The layout `to_dict` gave; ValueError for anything else (a snapshot from a broken
        file must not build a tree the drawing code trips over)."""

        def walk(item: Any) -> Node:
            if isinstance(item, str):
                return item
            if not isinstance(item, dict) or item.get("direction") not in ("row", "column"):
                raise ValueError(f"not a layout node: {item!r:.80}")
            children = item.get("children")
            weights = item.get("weights", [])
            if not isinstance(children, list) or len(children) < 2:
                raise ValueError("a split needs at least two children")
            if not isinstance(weights, list) or not all(
                isinstance(w, int | float) and w > 0 for w in weights
            ):
                raise ValueError(f"bad split weights: {weights!r:.80}")
            return Split(item["direction"], [walk(child) for child in children], list(weights))

        layout = cls(None if data is None else walk(data))
        panes = layout.panes()
        if len(set(panes)) != len(panes):
            raise ValueError("a pane appears twice in the layout")
        return layout

    def __len__(self) -> int:
        return len(self.panes())

    def _parent(self, target: Node) -> tuple[Split, int] | None:
        def walk(node: Node) -> tuple[Split, int] | None:
            if isinstance(node, Split):
                for i, child in enumerate(node.children):
                    if child is target or (isinstance(target, str) and child == target):
                        return node, i
                    found = walk(child)
                    if found:
                        return found
            return None

        return walk(self.root) if self.root is not None else None

    def _ancestor(self, pane: str, direction: Direction) -> tuple[Split, int] | None:
        """The nearest split along `direction` above `pane`, and which child holds the pane."""
        node: Node = pane
        while (found := self._parent(node)) is not None:
            if found[0].direction == direction:
                return found
            node = found[0]
        return None

    def geometry(self, width: int, height: int) -> tuple[dict[str, Rect], list[Divider]]:
        """Where every pane and divider goes in a `width` x `height` area."""
        return self._place(width, height)

    def _place(
        self, width: int, height: int, freeze: bool = False
    ) -> tuple[dict[str, Rect], list[Divider]]:
        """Geometry; with `freeze`, every split's weights become its children's cells."""
        rects: dict[str, Rect] = {}
        dividers: list[Divider] = []

        def place(node: Node, area: Rect) -> None:
            if isinstance(node, str):
                rects[node] = area
                return
            row = node.direction == "row"
            along = area.width if row else area.height
            minimums = [_need(child)[0 if row else 1] for child in node.children]
            sizes = _sizes(max(0, along - (len(node.children) - 1)), node.weights, minimums)
            if freeze:
                node.weights = [float(s) for s in sizes]
            pos = area.x if row else area.y
            for i, (child, size) in enumerate(zip(node.children, sizes, strict=True)):
                if row:
                    place(child, Rect(pos, area.y, size, area.height))
                    line = Rect(pos + size, area.y, 1, area.height)
                else:
                    place(child, Rect(area.x, pos, area.width, size))
                    line = Rect(area.x, pos + size, area.width, 1)
                if i < len(sizes) - 1:
                    dividers.append(Divider(line, node, i))
                pos += size + 1

        if self.root is not None:
            place(self.root, Rect(0, 0, width, height))
        return rects, dividers

    def neighbour(
        self, pane: str, side: Side, width: int, height: int, recent: Sequence[str] = ()
    ) -> str | None:
        """The pane select-pane -L/-R/-U/-D goes to: one touching `pane` on `side`, wrapping
        round the window's edge; of several, the most recently active (`recent` lists pane
        ids most recent first), else the first in pane order (window_pane_find_*)."""
        rects, _ = self.geometry(width, height)
        me = rects.get(pane)
        if me is None:
            return None
        candidates = [
            other
            for other, r in rects.items()
            if other != pane and _borders(me, r, side, width, height)
        ]
        if not candidates:
            return None
        rank = {p: i for i, p in enumerate(reversed(list(recent)))}  # higher: more recent
        best = candidates[0]
        for other in candidates[1:]:
            if rank.get(other, -1) > rank.get(best, -1):
                best = other
        return best

    # -- edits ---------------------------------------------------------------------------------

    def split(
        self,
        pane: str,
        new: str,
        direction: Direction,
        width: int,
        height: int,
        *,
        before: bool = False,
        size: int | None = None,
        full: bool = False,
    ) -> None:
        """split-window: put `new` after (or `before`) `pane`, beside it (`row`, -h) or below
        it (`column`, -v). `size` is the new pane's cells (-l), else half; `full` splits the
        whole window (-f). Raises ValueError(NO_SPACE) where tmux refuses."""
        if self.root is None:
            self.root = new
            return
        if new in self:
            raise ValueError(f"pane {new!r} is already in the layout")
        if pane not in self:
            raise ValueError(f"pane {pane!r} is not in the layout")
        rects, _ = self._place(width, height, freeze=True)
        target: Node = self.root if full else pane
        area = Rect(0, 0, width, height) if full else rects[pane]
        saved = area.width if direction == "row" else area.height
        if saved < MINIMUM * 2 + 1:
            raise ValueError(NO_SPACE)
        first, second = _split_sizes(saved, size, before)
        kept = second if before else first
        if full and not _fits_size(target, direction, saved, kept):
            raise ValueError(NO_SPACE)
        found = None if full else self._parent(target)
        if found is not None and found[0].direction == direction:
            parent, i = found
            parent.children[i : i + 1] = [new, target] if before else [target, new]
            parent.weights[i : i + 1] = [float(first), float(second)]
        elif full and isinstance(target, Split) and target.direction == direction:
            _refit(target, *((kept, height) if direction == "row" else (width, kept)))
            target.children.insert(0 if before else len(target.children), new)
            target.weights.insert(0 if before else len(target.weights), float(saved - 1 - kept))
        else:
            pair = [new, target] if before else [target, new]
            self._put(target, Split(direction, pair, [float(first), float(second)]))
            if full:
                _refit(target, *((kept, height) if direction == "row" else (width, kept)))

    def _put(self, old: Node, new: Node) -> None:
        """Put `new` where `old` is in the tree."""
        if self.root is old or self.root == old:
            self.root = new
            return
        found = self._parent(old)
        assert found is not None
        found[0].children[found[1]] = new

    def remove(self, pane: str, width: int, height: int) -> None:
        """Take `pane` out; its cells go to the pane before it (the one after, if it was
        first), as tmux's layout_close_pane. A split left with one child gives way to it."""
        if self.root == pane:
            self.root = None
            return
        self._place(width, height, freeze=True)
        found = self._parent(pane)
        if found is None:
            raise ValueError(f"pane {pane!r} is not in the layout")
        parent, i = found
        heir = i + 1 if i == 0 else i - 1
        _grow(parent, heir, _cells(parent, i) + 1)  # its cells and the divider's
        del parent.children[i]
        del parent.weights[i]
        if len(parent.children) == 1:
            self._put(parent, parent.children[0])

    def swap(self, a: str, b: str) -> None:
        """swap-pane: `a` and `b` exchange places (and pane numbers), wherever they are."""
        if a != b and a in self and b in self:
            self._relabel({a: b, b: a})

    def rotate(self, reverse: bool = False) -> None:
        """rotate-window: every pane moves one place back in pane order, the first going to
        the last place (-U, the default); `reverse` (-D) moves them forward."""
        order = self.panes()
        if len(order) > 1:
            turned = order[-1:] + order[:-1] if reverse else order[1:] + order[:1]
            self._relabel(dict(zip(order, turned, strict=True)))

    def relabel(self, names: dict[str, str]) -> None:
        """Rename panes (`old id -> new id`): a restored window's tree over its new panes."""
        self._relabel(names)

    def _relabel(self, names: dict[str, str]) -> None:
        def walk(node: Node) -> Node:
            if isinstance(node, str):
                return names.get(node, node)
            node.children = [walk(child) for child in node.children]
            return node

        if self.root is not None:
            self.root = walk(self.root)

    def resize(self, pane: str, side: Side, cells: int, width: int, height: int) -> None:
        """resize-pane -L/-R/-U/-D: move the border after `pane` (before it, for the last
        pane of its split) left/right/up/down by `cells`, as tmux does. A pane at the
        window's edge moves its other border: -R on the rightmost pane shrinks it."""
        direction: Direction = "row" if side in ("left", "right") else "column"
        found = self._ancestor(pane, direction)
        if found is None:
            return
        self._place(width, height, freeze=True)
        split, i = found
        if i == len(split.children) - 1:
            i -= 1
        _move_border(split, i, cells if side in ("right", "down") else -cells, opposite=True)

    def resize_to(
        self, pane: str, direction: Direction, cells: int, width: int, height: int
    ) -> None:
        """resize-pane -x (`row`) / -y (`column`): make the part of the window holding `pane`
        `cells` wide/high by moving one of its borders (layout_resize_pane_to)."""
        found = self._ancestor(pane, direction)
        if found is None:
            return
        self._place(width, height, freeze=True)
        split, i = found
        now = _cells(split, i)
        last = i == len(split.children) - 1
        change = now - cells if last else cells - now
        _move_border(split, i - 1 if last else i, change, opposite=True)

    def move_divider(self, split: Split, index: int, cells: int, width: int, height: int) -> None:
        """Drag the divider after child `index` of `split` by `cells` (positive: right/down),
        as tmux's mouse drag of a border."""
        self._place(width, height, freeze=True)
        _move_border(split, index, cells, opposite=False)

    def spread_out(self, pane: str, width: int, height: int) -> bool:
        """select-layout -E: share the space of `pane`'s split evenly among its children; if
        they are even already, try the split above (layout_spread_out)."""
        rects, _ = self._place(width, height, freeze=True)
        node: Node = pane
        while (found := self._parent(node)) is not None:
            split = found[0]
            area = self._extent(split, rects)
            along = 0 if area is None else area.width if split.direction == "row" else area.height
            if along and _spread(split, along):
                return True
            node = split
        return False

    def _extent(self, node: Node, rects: dict[str, Rect]) -> Rect | None:
        leaves = Layout(node).panes()
        boxes = [rects[p] for p in leaves if p in rects]
        if not boxes:
            return None
        x, y = min(r.x for r in boxes), min(r.y for r in boxes)
        return Rect(x, y, max(r.right for r in boxes) - x, max(r.bottom for r in boxes) - y)

    def apply_preset(self, name: str, width: int, height: int) -> None:
        """select-layout: rearrange all panes, in pane order, as tmux 3.3a's even-horizontal,
        even-vertical, main-horizontal, main-vertical or tiled for a `width` x `height`
        window (tmux's default main-pane-width 80 and main-pane-height 24)."""
        panes = self.panes()
        if name not in PRESETS:
            raise ValueError(f"unknown layout {name!r}; choose one of {', '.join(PRESETS)}")
        if len(panes) < 2:
            return
        if name == "even-horizontal":
            self.root = Split("row", list(panes), _even(width, len(panes)))
        elif name == "even-vertical":
            self.root = Split("column", list(panes), _even(height, len(panes)))
        elif name == "main-vertical":
            self.root = _main(panes, "row", width, height, MAIN_PANE_WIDTH)
        elif name == "main-horizontal":
            self.root = _main(panes, "column", height, width, MAIN_PANE_HEIGHT)
        else:
            self.root = _tiled(panes, width, height)


def _borders(me: Rect, other: Rect, side: Side, width: int, height: int) -> bool:
    """Whether `other` touches `me` on `side` across a divider (or across the window's edge,
    wrapping round), overlapping it along that edge."""
    if side in ("left", "right"):
        if side == "left":
            edge = me.x if me.x != 0 else width + 1
            touching = other.right + 1 == edge
        else:
            edge = me.right + 1 if me.right + 1 < width else 0
            touching = other.x == edge
        return touching and other.y <= me.bottom and other.bottom - 1 >= me.y
    if side == "up":
        edge = me.y if me.y != 0 else height + 1
        touching = other.bottom + 1 == edge
    else:
        edge = me.bottom + 1 if me.bottom + 1 < height else 0
        touching = other.y == edge
    return touching and other.x <= me.right and other.right - 1 >= me.x


def _main(panes: list[str], direction: Direction, along: int, across: int, main: int) -> Split:
    """main-vertical (`row`) or main-horizontal (`column`): the first pane `main` cells, the
    others evenly beside or below it."""
    main_cells, other_cells = _main_sizes(along, main)
    rest = panes[1:]
    across = max(across, len(rest) * (MINIMUM + 1) - 1)
    inner: Direction = "column" if direction == "row" else "row"
    others: Node = (
        rest[0] if len(rest) == 1 else Split(inner, list[Node](rest), _even(across, len(rest)))
    )
    return Split(direction, [panes[0], others], [float(main_cells), float(other_cells)])


def _tiled(panes: list[str], width: int, height: int) -> Split:
    """tiled: rows of equal panes (rows added before columns), the last pane of each row
    and the last row taking what is left over (layout_set_tiled)."""
    n = len(panes)
    rows = columns = 1
    while rows * columns < n:
        rows += 1
        if rows * columns < n:
            columns += 1
    cell_width = max(MINIMUM, (width - (columns - 1)) // columns)
    cell_height = max(MINIMUM, (height - (rows - 1)) // rows)
    lines: list[Node] = []
    for start in range(0, n, columns):
        chunk = panes[start : start + columns]
        if len(chunk) == 1:
            lines.append(chunk[0])
            continue
        widths = [float(cell_width)] * len(chunk)
        used = len(chunk) * (cell_width + 1) - 1
        if width > used:
            widths[-1] += width - used
        lines.append(Split("row", list[Node](chunk), widths))
    heights = [float(cell_height)] * len(lines)
    used = rows * cell_height + rows - 1
    if height > used:
        heights[-1] += height - used
    return Split("column", lines, heights)
