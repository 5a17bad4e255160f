"""Side panels over the engine's persistence: the snapshots list and a pane's timeline."""

from __future__ import annotations

from widgets.panels.snapshots import SnapshotsPanel
from widgets.panels.source import (
    SnapshotInfoLike,
    SnapshotSource,
    TimelinePoint,
    TimelinePointLike,
)
from widgets.panels.timeline import Timeline, TimelineSlider

__all__ = [
    "SnapshotInfoLike",
    "SnapshotSource",
    "SnapshotsPanel",
    "Timeline",
    "TimelinePoint",
    "TimelinePointLike",
    "TimelineSlider",
]
