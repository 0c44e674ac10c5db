"""MOTS text from a run: each tracked detection's mask under its track id.

Tracks point at masks through (frame, det); interpolated rows (det -1) have no mask and are
left out. A frame's masks are made disjoint (MOTS requires it): where masks overlap, the pixel
goes to the object whose box reaches lower in the image, i.e. the one nearer the camera on a
ground plane, which is the one in front. Class ids follow MOTS: 1 for COCO cars, 2
(pedestrian, the class MOTSChallenge scores) for everything else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir
from mot_cli.formats.mots import PEDESTRIAN_CLASS, MotsRows
from mot_cli.masks import disjoint
from mot_cli.outputs.run import TrackRows
from mot_cli.schema import DETECTIONS, DETECTIONS_STAGE, MASKS, MASKS_STAGE
from mot_cli.segment import BOX_BACKEND

__all__ = ["mots_path", "mots_rows", "run_mots_rows"]

_COCO_CAR = 2
_MOTS_CAR = 1


def mots_path(run_dir: RunDir, name: str) -> Path:
    return run_dir.path / f"{name}.mots.txt"


def run_mots_rows(
    run_dir: RunDir, name: str, tracks: TrackRows, detections_key: str | None = None
) -> MotsRows | None:
    """The MOTS rows of `tracks` when the run has masks of the tracked detections, else None
    (also for box masks, the weight-free ones a bare `track --sd` makes).

    `detections_key` is the key of the detections the tracks were made from; masks recorded
    as made from other detections are not used. The track stage writes the rows beside the
    MOT text in the same commit.
    """
    masks = run_dir.read_completed(MASKS_STAGE, MASKS)
    entry = run_dir.read_entry(MASKS_STAGE)
    made_from = ((entry and entry.upstream) or {}).get(DETECTIONS_STAGE)
    if masks is None or (made_from and detections_key and made_from != detections_key):
        return None
    if ((entry and entry.config) or {}).get("backend") == BOX_BACKEND:
        return None  # a box is not a mask: no MOTS text that only repeats the MOT one
    detections = run_dir.read_completed(DETECTIONS_STAGE, DETECTIONS)
    return mots_rows(tracks, masks, detections, mots_path(run_dir, name))


def mots_rows(
    tracks: TrackRows, masks: pa.Table, detections: pa.Table | None, path: Path
) -> MotsRows:
    """The MOTS rows of `tracks` given the masks.parquet and detections.parquet tables."""
    hit, mask_row = _lookup(masks, tracks.frame, tracks.det)
    area = masks.column("area").to_numpy()
    rows = np.flatnonzero(hit & (tracks.det >= 0))
    rows = rows[area[mask_row[rows]] > 0]
    mask_row = mask_row[rows]
    height = masks.column("height").to_numpy()[mask_row]
    width = masks.column("width").to_numpy()[mask_row]
    counts = np.asarray(masks.column("rle").to_pylist(), dtype=object)[mask_row]

    frame = tracks.frame[rows]
    for f in np.unique(frame).tolist():
        same = np.flatnonzero(frame == f)
        if len(same) > 1:
            counts[same] = disjoint(list(counts[same]), int(height[same[0]]), int(width[same[0]]),
                                    priority=tracks.xyxy[rows[same], 3])  # fmt: skip
    classes = np.full(len(rows), PEDESTRIAN_CLASS, dtype=np.int32)
    if detections is not None:
        found, det_row = _lookup(detections, frame, tracks.det[rows])
        is_car = found & (detections.column("cls").to_numpy()[det_row] == _COCO_CAR)
        classes[is_car] = _MOTS_CAR
    return MotsRows(frame, tracks.id[rows], classes, height, width, counts, path)


def _lookup(table: pa.Table, frame: np.ndarray, det: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each (frame, det): whether `table` has that row, and its index (0 where not)."""
    key = table.column("frame").to_numpy().astype(np.int64) * 1_000_000 + table.column(
        "det"
    ).to_numpy().astype(np.int64)
    wanted = frame.astype(np.int64) * 1_000_000 + det
    if len(key) == 0:
        return np.zeros(len(wanted), bool), np.zeros(len(wanted), np.intp)
    order = np.argsort(key)
    position = np.clip(np.searchsorted(key[order], wanted), 0, len(key) - 1)
    return key[order][position] == wanted, order[position]
