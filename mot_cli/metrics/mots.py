"""MOTS sequences: mask IoU as the similarity, with TrackEval's MOTSChallenge preprocessing.

The metrics (HOTA, CLEAR, Identity) are the box ones; only the similarity and the
preprocessing differ, so this module turns two `MotsRows` into the same `SequenceData`:

1. Ground-truth class 10 rows are ignore regions, merged per frame; the other rows are
   detections. Only pedestrians (class 2) are scored, in the ground truth and the tracker.
2. Similarity is mask IoU (pycocotools' `iou`, as TrackEval computes it).
3. Per frame, tracker masks are matched to ground truth by the Hungarian algorithm on IoU,
   pairs below 0.5 scoring -10000 (not 0, so the matching first maximises how many pairs
   match); a tracker mask left unmatched that lies more than half inside the frame's ignore
   region (intersection over its own area > 0.5) is removed: neither true nor false positive.
4. Ids are relabelled to `0..n-1` in sorted order.

ref: TrackEval mots_challenge.py `get_preprocessed_seq_data`, _base_dataset.py
`_calculate_mask_ious`.
"""

from __future__ import annotations

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.mots import IGNORE_CLASS, PEDESTRIAN_CLASS, MotsRows
from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.metrics.sequence import SequenceData

__all__ = ["check_mask_sizes", "prepare_mots_sequence"]

_EPS = np.finfo(float).eps
_MATCH_THRESHOLD = 0.5
_NO_MATCH = -10000.0


def prepare_mots_sequence(
    gt: MotsRows, tracker: MotsRows, *, seq_length: int, name: str = ""
) -> SequenceData:
    """Apply the MOTSChallenge preprocessing (module docstring) to validated rows.

    Rows are expected from `read_mots` (frames within `1..seq_length`, one mask size per frame,
    masks of a frame disjoint).

    Raises:
        MotCliError: `"{tracker file}:{line}: ..."` when a tracker mask's image size is not the
            ground truth's (that frame's, or the first ground-truth mask's where it has none).
    """
    from pycocotools import mask as mask_utils

    check_mask_sizes(gt, tracker)

    gt_order = np.argsort(gt.frame, kind="stable")
    tracker_order = np.argsort(tracker.frame, kind="stable")
    gt_class = gt.cls[gt_order]
    ignore_rows = gt_order[gt_class == IGNORE_CLASS]
    gt_rows = gt_order[gt_class == PEDESTRIAN_CLASS]
    tracker_rows = tracker_order[tracker.cls[tracker_order] == PEDESTRIAN_CLASS]
    gt_starts = np.searchsorted(gt.frame[gt_rows], np.arange(1, seq_length + 2))
    tracker_starts = np.searchsorted(tracker.frame[tracker_rows], np.arange(1, seq_length + 2))
    ignore_starts = np.searchsorted(gt.frame[ignore_rows], np.arange(1, seq_length + 2))

    kept_tracker, pair_gt, pair_tracker, pair_iou = [], [], [], []
    kept_count = 0
    for t in range(seq_length):
        g = gt_rows[gt_starts[t] : gt_starts[t + 1]]
        k = tracker_rows[tracker_starts[t] : tracker_starts[t + 1]]
        if len(k) == 0:
            continue
        g_masks, k_masks = _rles(gt, g), _rles(tracker, k)
        iou = np.asarray(mask_utils.iou(g_masks, k_masks, [False] * len(k)), np.float64)
        iou = iou.reshape(len(g), len(k))
        unmatched = np.setdiff1d(np.arange(len(k)), _matched_columns(iou))
        ignore = ignore_rows[ignore_starts[t] : ignore_starts[t + 1]]
        keep = np.ones(len(k), dtype=bool)
        if len(ignore) and len(unmatched):
            region = mask_utils.merge(_rles(gt, ignore), intersect=False)
            inside = np.asarray(
                mask_utils.iou([k_masks[i] for i in unmatched], [region], [True]), np.float64
            ).reshape(-1)
            keep[unmatched[inside > 0.5 + _EPS]] = False
        columns = np.flatnonzero(keep)
        kept_tracker.append(k[keep])
        pair_gt.append(np.repeat(gt_starts[t] + np.arange(len(g)), len(columns)))
        pair_tracker.append(np.tile(kept_count + np.arange(len(columns)), len(g)))
        pair_iou.append(iou[:, columns].ravel())
        kept_count += len(columns)

    tracker_kept = np.concatenate(kept_tracker) if kept_tracker else np.zeros(0, np.intp)
    gt_unique, gt_id = np.unique(gt.id[gt_rows], return_inverse=True)
    tracker_unique, tracker_id = np.unique(tracker.id[tracker_kept], return_inverse=True)
    return SequenceData(
        name=name,
        num_timesteps=seq_length,
        gt_frame=gt.frame[gt_rows].astype(np.intp) - 1,
        gt_id=gt_id.astype(np.intp),
        tracker_frame=tracker.frame[tracker_kept].astype(np.intp) - 1,
        tracker_id=tracker_id.astype(np.intp),
        pair_gt=_join(pair_gt),
        pair_tracker=_join(pair_tracker),
        pair_iou=np.concatenate(pair_iou) if pair_iou else np.zeros(0),
        num_gt_ids=len(gt_unique),
        num_tracker_ids=len(tracker_unique),
        gt_row=gt_rows,
        tracker_row=tracker_kept,
    )


def check_mask_sizes(gt: MotsRows, tracker: MotsRows) -> None:
    """Refuse tracker masks made for another image size than the ground truth's (mask IoU of
    two sizes means nothing; pycocotools would fail on it)."""
    if not len(gt) or not len(tracker):
        return
    order = np.argsort(gt.frame, kind="stable")
    frames, starts = np.unique(gt.frame[order], return_index=True)
    at = np.minimum(np.searchsorted(frames, tracker.frame), len(frames) - 1)
    # each tracker row against its frame's first ground-truth row, else the file's first row
    reference = np.where(frames[at] == tracker.frame, order[starts][at], 0)
    wrong = (tracker.height != gt.height[reference]) | (tracker.width != gt.width[reference])
    if wrong.any():
        i = int(np.argmax(wrong))
        g = int(reference[i])
        raise MotCliError(
            f"{tracker.path}:{tracker.line[i]}: mask size {tracker.height[i]}x{tracker.width[i]} "
            f"(height x width) differs from the ground truth's {gt.height[g]}x{gt.width[g]} "
            f"({gt.path}:{gt.line[g]})"
        )


def _rles(rows: MotsRows, index: np.ndarray) -> list[dict]:
    return rows[index].rles()


def _matched_columns(iou: np.ndarray) -> np.ndarray:
    """Tracker columns the preprocessing matching pairs with ground truth."""
    if iou.size == 0:
        return np.zeros(0, np.intp)
    scores = iou.copy()
    scores[scores < _MATCH_THRESHOLD - _EPS] = _NO_MATCH
    rows, cols = linear_sum_assignment(-scores)
    return cols[scores[rows, cols] > 0 + _EPS]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.intp) if parts else np.zeros(0, np.intp)
