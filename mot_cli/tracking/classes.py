"""Tracking several detector classes at once: a track keeps its class, and never takes a box of
another one.

Each class is tracked on its own (every frame, with the shared camera motion, so predictions
advance alike) and the tables are merged with ids renumbered 1, 2, 3 ... by first appearance.
A person and a car can therefore never swap an id, and every offline step (relinking,
interpolation) stays within a class. One class (the default, person only; imported detections
have none) is exactly `track_sequence`. Scores are normalised once over all classes, so one
threshold means the same for every class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mot_cli.detections import Detections
from mot_cli.tracking.config import TrackerConfig
from mot_cli.tracking.postprocess import TrackTable
from mot_cli.tracking.tracker import score_normaliser, track_sequence

__all__ = ["ClassTracks", "track_by_class"]

Frame = tuple[int, Detections, np.ndarray | None]


@dataclass(frozen=True)
class ClassTracks:
    """A merged TrackTable and the detector class of each of its rows ((M,) int32)."""

    table: TrackTable
    cls: np.ndarray


def track_by_class(
    frames: Iterable[Frame], config: TrackerConfig | None = None, fps: float | None = None
) -> ClassTracks:
    """`track_sequence` per detector class, merged; rows sorted by frame then id."""
    config = config if config is not None else TrackerConfig()
    frames = list(frames)
    classes = np.unique(np.concatenate([d.cls for _, d, _ in frames] or [np.zeros(0, np.int32)]))
    if len(classes) <= 1:
        table = track_sequence(frames, config, fps)
        only = int(classes[0]) if len(classes) else -1
        return ClassTracks(table, np.full(len(table), only, np.int32))
    scores = np.concatenate([d.score for _, d, _ in frames])
    normal = score_normaliser(scores, config.score_scale)
    scaled, start = [], 0
    for number, dets, warp in frames:
        scaled.append((number, dets.replace(score=normal[start : start + len(dets)]), warp))
        start += len(dets)
    raw = config.replace(score_scale="raw")  # normalised above, over every class at once
    parts = []
    for cls in classes:
        own = [(number, dets[dets.cls == cls], warp) for number, dets, warp in scaled]
        parts.append((int(cls), track_sequence(own, raw, fps)))
    return _merge(parts)


def _merge(parts: list[tuple[int, TrackTable]]) -> ClassTracks:
    """One table of every class's tracks, ids renumbered from 1 by first frame (then class)."""
    firsts = []  # (first frame, class order, old id) per track
    for order, (_, table) in enumerate(parts):
        for track_id in np.unique(table.id):
            firsts.append((int(table.frame[table.id == track_id].min()), order, int(track_id)))
    new_id = {(order, old): index + 1 for index, (_, order, old) in enumerate(sorted(firsts))}
    tables, classes = [], []
    for order, (cls, table) in enumerate(parts):
        ids = np.array([new_id[(order, int(i))] for i in table.id], np.int32)
        tables.append(TrackTable(table.frame, ids, table.xyxy, table.score, table.det))
        classes.append(np.full(len(table), cls, np.int32))
    merged = TrackTable(*(np.concatenate([getattr(t, f) for t in tables])
                          for f in ("frame", "id", "xyxy", "score", "det")))  # fmt: skip
    cls = np.concatenate(classes)
    order = np.lexsort((merged.id, merged.frame))
    return ClassTracks(merged.select(order), cls[order])
