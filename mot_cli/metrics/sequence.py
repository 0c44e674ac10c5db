"""Turn one sequence's ground truth and tracker rows into what the metrics score.

Metrics never see a file format (TrackEval's good idea): they get the ground-truth and tracker
detections of each frame, with ids relabelled to `0..n-1`, and the IoU of every ground-truth /
tracker pair that shares a frame. The benchmark's preprocessing happens here, once, in the
order TrackEval does it:

1. IoU between *all* ground-truth rows (every class, zero-marked ones too) and all tracker rows.
2. MOT16/17/20 only: tracker boxes matched (Hungarian, IoU >= 0.5) to a ground-truth box of a
   distractor class (2 person on vehicle, 7 static person, 8 distractor, 12 reflection; and 6
   non-MOT vehicle for MOT20) are removed: they are neither true nor false positives.
3. Ground truth keeps only rows whose conf column truncates to non-zero and, except for MOT15
   (which has no classes), of class 1 (pedestrian).

ref: TrackEval mot_challenge_2d_box.py `get_preprocessed_seq_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.mot import MotRows
from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.metrics.boxes import box_iou_pairs

__all__ = ["BENCHMARKS", "Benchmark", "SequenceData", "prepare_sequence"]

Benchmark = Literal["MOT15", "MOT16", "MOT17", "MOT20"]
BENCHMARKS: tuple[str, ...] = get_args(Benchmark)

_EPS = np.finfo(float).eps
_PEDESTRIAN = 1
_VALID_CLASSES = np.arange(1, 14)  # MOTChallenge class ids 1..13
_DISTRACTORS = {
    "MOT16": (2, 7, 8, 12),
    "MOT17": (2, 7, 8, 12),
    "MOT20": (2, 6, 7, 8, 12),
}


@dataclass(frozen=True)
class SequenceData:
    """One sequence ready for scoring, as flat arrays (the metrics vectorise over them).

    Detections are sorted by frame; pairs are every (ground truth, tracker) detection pair of a
    frame, ordered by frame, then ground-truth detection, then tracker detection, so one frame's
    pairs are its IoU matrix in row-major order (see `frame`).

    Attributes:
        name: the sequence name.
        num_timesteps: frames in the sequence.
        gt_frame: (G,) 0-based frame of each ground-truth detection, non-decreasing.
        gt_id: (G,) its track id, relabelled to `0..num_gt_ids-1`.
        tracker_frame: (K,) 0-based frame of each tracker detection, non-decreasing.
        tracker_id: (K,) its track id, relabelled to `0..num_tracker_ids-1`.
        pair_gt: (P,) index into the ground-truth detections.
        pair_tracker: (P,) index into the tracker detections.
        pair_iou: (P,) their IoU.
        num_gt_ids: distinct ground-truth tracks.
        num_tracker_ids: distinct tracker tracks.
        gt_row: (G,) where each ground-truth detection came from in the rows given to
            `prepare_sequence` (None when built otherwise), so a caller can point at it.
        tracker_row: (K,) the same for tracker detections.
    """

    name: str
    num_timesteps: int
    gt_frame: np.ndarray
    gt_id: np.ndarray
    tracker_frame: np.ndarray
    tracker_id: np.ndarray
    pair_gt: np.ndarray
    pair_tracker: np.ndarray
    pair_iou: np.ndarray
    num_gt_ids: int
    num_tracker_ids: int
    gt_row: np.ndarray | None = None
    tracker_row: np.ndarray | None = None

    @property
    def num_gt_dets(self) -> int:
        return len(self.gt_id)

    @property
    def num_tracker_dets(self) -> int:
        return len(self.tracker_id)

    @cached_property
    def offsets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each frame starts in the gt, tracker and pair arrays: three (T + 1,) arrays."""
        frames = np.arange(self.num_timesteps + 1)
        return (
            np.searchsorted(self.gt_frame, frames),
            np.searchsorted(self.tracker_frame, frames),
            np.searchsorted(self.gt_frame[self.pair_gt], frames),
        )

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame `t` (0-based): its ground-truth ids, tracker ids and their IoU matrix.

        The matrix is a view of `pair_iou`; pair index = first pair of the frame + row *
        number of tracker detections + column.
        """
        gt_offsets, tracker_offsets, pair_offsets = self.offsets
        gt_ids = self.gt_id[gt_offsets[t] : gt_offsets[t + 1]]
        tracker_ids = self.tracker_id[tracker_offsets[t] : tracker_offsets[t + 1]]
        iou = self.pair_iou[pair_offsets[t] : pair_offsets[t + 1]]
        return gt_ids, tracker_ids, iou.reshape(len(gt_ids), len(tracker_ids))

    @classmethod
    def from_frames(
        cls,
        gt_ids: Sequence[Sequence[int]],
        tracker_ids: Sequence[Sequence[int]],
        similarity: Sequence[np.ndarray],
        name: str = "",
    ) -> SequenceData:
        """Build from per-frame ids (any integers) and IoU matrices; handy for small tests."""
        if not len(gt_ids) == len(tracker_ids) == len(similarity):
            raise ValueError("gt_ids, tracker_ids and similarity need one entry per frame")
        gt_frame, gt_flat, tr_frame, tr_flat, ious = [], [], [], [], []
        for t, (g, k, s) in enumerate(zip(gt_ids, tracker_ids, similarity, strict=True)):
            s = np.asarray(s, dtype=np.float64).reshape(len(g), len(k))
            gt_frame += [t] * len(g)
            tr_frame += [t] * len(k)
            gt_flat += list(g)
            tr_flat += list(k)
            ious.append(s.ravel())
        gt_frame_a, tr_frame_a = np.asarray(gt_frame, np.intp), np.asarray(tr_frame, np.intp)
        pair_gt, pair_tracker = _same_frame_pairs(gt_frame_a, tr_frame_a, len(gt_ids))
        gt_unique, gt_relabelled = np.unique(np.asarray(gt_flat, np.int64), return_inverse=True)
        tr_unique, tr_relabelled = np.unique(np.asarray(tr_flat, np.int64), return_inverse=True)
        return cls(
            name=name,
            num_timesteps=len(gt_ids),
            gt_frame=gt_frame_a,
            gt_id=gt_relabelled.astype(np.intp),
            tracker_frame=tr_frame_a,
            tracker_id=tr_relabelled.astype(np.intp),
            pair_gt=pair_gt,
            pair_tracker=pair_tracker,
            pair_iou=np.concatenate(ious) if ious else np.zeros(0),
            num_gt_ids=len(gt_unique),
            num_tracker_ids=len(tr_unique),
        )


def prepare_sequence(
    gt: MotRows,
    tracker: MotRows,
    *,
    seq_length: int,
    benchmark: Benchmark = "MOT15",
    name: str = "",
) -> SequenceData:
    """Apply `benchmark`'s preprocessing (see module docstring) and relabel ids per sequence.

    Rows are expected validated by `read_mot` (frames within `1..seq_length`, ids unique per
    frame). Raises MotCliError when MOT16/17/20 preprocessing meets a ground-truth class outside
    1..13 or a tracker class above 1, as TrackEval does.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {', '.join(BENCHMARKS)}, got {benchmark!r}")
    distractors = _DISTRACTORS.get(benchmark)
    if distractors is not None:
        _check_classes(gt, tracker, benchmark)
    # Group by frame, keeping file order within a frame (the row order TrackEval uses).
    gt_order = np.argsort(gt.frame, kind="stable")
    tracker_order = np.argsort(tracker.frame, kind="stable")
    gt, tracker = gt[gt_order], tracker[tracker_order]
    gt_frame = gt.frame.astype(np.intp) - 1
    tracker_frame = tracker.frame.astype(np.intp) - 1

    pair_gt, pair_tracker = _same_frame_pairs(gt_frame, tracker_frame, seq_length)
    pair_iou = box_iou_pairs(gt.xywh[pair_gt], tracker.xywh[pair_tracker])

    tracker_keep = np.ones(len(tracker), dtype=bool)
    gt_keep = np.trunc(gt.conf) != 0  # TrackEval's `zero_marked`: int(conf) == 0 is ignored
    if distractors is not None:
        is_distractor = np.isin(gt.cls, distractors)
        removed = _matched_to_distractors(
            gt_frame, tracker_frame, pair_gt, pair_tracker, pair_iou, is_distractor, seq_length
        )
        tracker_keep[removed] = False
        gt_keep &= gt.cls == _PEDESTRIAN

    pair_keep = gt_keep[pair_gt] & tracker_keep[pair_tracker]
    gt_index = np.cumsum(gt_keep) - 1
    tracker_index = np.cumsum(tracker_keep) - 1
    gt_unique, gt_id = np.unique(gt.id[gt_keep], return_inverse=True)
    tracker_unique, tracker_id = np.unique(tracker.id[tracker_keep], return_inverse=True)
    return SequenceData(
        name=name,
        num_timesteps=seq_length,
        gt_frame=gt_frame[gt_keep],
        gt_id=gt_id.astype(np.intp),
        tracker_frame=tracker_frame[tracker_keep],
        tracker_id=tracker_id.astype(np.intp),
        pair_gt=gt_index[pair_gt[pair_keep]],
        pair_tracker=tracker_index[pair_tracker[pair_keep]],
        pair_iou=pair_iou[pair_keep],
        num_gt_ids=len(gt_unique),
        num_tracker_ids=len(tracker_unique),
        gt_row=gt_order[gt_keep],
        tracker_row=tracker_order[tracker_keep],
    )


def _same_frame_pairs(
    gt_frame: np.ndarray, tracker_frame: np.ndarray, num_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """All (gt, tracker) index pairs sharing a frame, in frame / gt / tracker order.

    Both frame arrays must be sorted. Vectorised: each ground-truth detection repeats once per
    tracker detection of its frame, and the tracker index runs through that frame's block.
    """
    tracker_count = np.bincount(tracker_frame, minlength=num_frames)
    tracker_start = np.concatenate(([0], np.cumsum(tracker_count)[:-1]))
    per_gt = tracker_count[gt_frame]
    pair_gt = np.repeat(np.arange(len(gt_frame)), per_gt)
    first_pair_of_gt = np.cumsum(per_gt) - per_gt
    within = np.arange(len(pair_gt)) - np.repeat(first_pair_of_gt, per_gt)
    pair_tracker = np.repeat(tracker_start[gt_frame], per_gt) + within
    return pair_gt.astype(np.intp), pair_tracker.astype(np.intp)


def _matched_to_distractors(
    gt_frame: np.ndarray,
    tracker_frame: np.ndarray,
    pair_gt: np.ndarray,
    pair_tracker: np.ndarray,
    pair_iou: np.ndarray,
    is_distractor: np.ndarray,
    num_frames: int,
) -> np.ndarray:
    """Tracker detections matched at IoU >= 0.5 to a distractor ground-truth detection.

    The Hungarian matching runs on all ground truth of the frame, so a tracker box is removed
    only when its best one-to-one partner is a distractor; frames without a distractor that has
    a candidate cannot remove anything and are skipped.
    """
    candidate = pair_iou >= 0.5 - _EPS
    pair_frame = gt_frame[pair_gt]
    frames = np.unique(pair_frame[candidate & is_distractor[pair_gt]])
    if len(frames) == 0:
        return np.zeros(0, np.intp)
    gt_offsets = np.searchsorted(gt_frame, np.arange(num_frames + 1))
    tracker_offsets = np.searchsorted(tracker_frame, np.arange(num_frames + 1))
    pair_offsets = np.searchsorted(pair_frame, np.arange(num_frames + 1))
    removed = []
    for t in frames.tolist():
        g0, g1 = gt_offsets[t], gt_offsets[t + 1]
        k0, k1 = tracker_offsets[t], tracker_offsets[t + 1]
        scores = pair_iou[pair_offsets[t] : pair_offsets[t + 1]].reshape(g1 - g0, k1 - k0).copy()
        scores[scores < 0.5 - _EPS] = 0
        rows, cols = linear_sum_assignment(-scores)
        matched = scores[rows, cols] > 0 + _EPS
        rows, cols = rows[matched], cols[matched]
        removed.append(k0 + cols[is_distractor[g0 + rows]])
    return np.concatenate(removed)


def _check_classes(gt: MotRows, tracker: MotRows, benchmark: str) -> None:
    bad_gt = ~np.isin(gt.cls, _VALID_CLASSES)
    if bad_gt.any():
        i = int(np.argmax(bad_gt))
        raise MotCliError(
            f"{gt.path}:{gt.line[i]}: class {gt.cls[i]} in column 8 is not a MOTChallenge class "
            f"(1-13), which {benchmark} preprocessing needs; use --benchmark MOT15 to score "
            f"ground truth without classes"
        )
    bad_tracker = tracker.cls > _PEDESTRIAN
    if bad_tracker.any():
        i = int(np.argmax(bad_tracker))
        raise MotCliError(
            f"{tracker.path}:{tracker.line[i]}: class {tracker.cls[i]} in column 8: {benchmark} "
            f"scores pedestrians only (class 1, or -1 for unspecified)"
        )
