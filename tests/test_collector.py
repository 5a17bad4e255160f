"""The cycle collector kept off the echo's path (app/collector.py): rows Textual draws are
freed as soon as they are dropped, and full collections come rarely."""

from __future__ import annotations

import gc
import sys

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from app import collector


def test_a_strip_drawn_whole_keeps_no_reference_to_itself() -> None:
    # Strips have slots and no weak references: count the references instead. One held by
    # the strip's own caches is a cycle only the collector frees.
    collector.untangle_strips()
    strip = Strip([Segment("hello", Style(bold=True))], 5)
    alone = sys.getrefcount(strip)
    assert strip.divide([5]) == [strip]  # what the compositor does with a row it does not cut
    assert strip.divide([3, 5])[0].text == "hel"
    assert strip.crop_extend(0, 5, None) is strip  # what a widget's styles do with it
    assert strip.crop_extend(1, 7, None).text == "ello  "
    assert sys.getrefcount(strip) == alone


def test_textual_alone_keeps_a_strip_in_a_cycle() -> None:
    # Why untangle_strips exists; once this fails, Textual no longer caches a strip in itself
    # and untangle_strips can go.
    collector.untangle_strips()
    for method, args in (("divide", ([5],)), ("crop_extend", (0, 5, None))):
        strip = Strip([Segment("hello")], 5)
        alone = sys.getrefcount(strip)
        getattr(Strip, method).textual(strip, *args)
        assert sys.getrefcount(strip) == alone + 1, method


def test_full_passes_come_a_fifth_as_often() -> None:
    before = gc.get_threshold()
    try:
        collector.rarer_full_passes()
        assert gc.get_threshold() == (before[0], before[1], 5 * 10)
    finally:
        gc.set_threshold(*before)
