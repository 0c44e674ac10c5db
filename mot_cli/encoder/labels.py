"""Ground-truth identities for detections: the supervised recipe, kept as an upper bound.

SelfTrEncMOT trains its encoder with ground-truth identities; ours learns without labels.
To measure what labels would add, `train_encoder` also accepts identities: each detection gets
the id of the ground-truth box it overlaps best (IoU ≥ `min_iou`, one-to-one per frame), and
detections of the same id, in any frame of the same video, are each other's positives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from mot_cli.encoder.data import FrameArrays
from mot_cli.encoder.pairs import box_iou

__all__ = ["match_identities", "with_identities"]

MIN_IOU = 0.5
"""A detection takes a ground-truth id when their boxes overlap by at least this IoU."""


def match_identities(
    boxes: np.ndarray, gt_boxes: np.ndarray, gt_ids: np.ndarray, min_iou: float = MIN_IOU
) -> np.ndarray:
    """(N,) int64 ground-truth id of each detection box, −1 where none matches.

    One-to-one per frame, maximising total IoU (Hungarian) over pairs with IoU ≥ `min_iou`,
    so two detections of one person do not both take its id.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.full(len(boxes), -1, np.int64)
    if not len(boxes) or not len(gt_boxes):
        return out
    iou = box_iou(boxes, gt_boxes)
    allowed = iou >= min_iou
    rows, cols = linear_sum_assignment(np.where(allowed, -iou, 1.0))
    keep = allowed[rows, cols]
    out[rows[keep]] = np.asarray(gt_ids, np.int64)[cols[keep]]
    return out


def with_identities(
    frames: Iterable[FrameArrays],
    ground_truth: Mapping[int, tuple[np.ndarray, np.ndarray]],
    min_iou: float = MIN_IOU,
) -> Iterator[FrameArrays]:
    """The frames with `identity` set from `ground_truth` (frame → (xyxy boxes, ids))."""
    none = (np.zeros((0, 4)), np.zeros(0, np.int64))
    for arrays in frames:
        gt_boxes, gt_ids = ground_truth.get(arrays.frame, none)
        yield replace(arrays, identity=match_identities(arrays.boxes, gt_boxes, gt_ids, min_iou))
