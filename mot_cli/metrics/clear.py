"""CLEAR MOT metrics (Bernardin & Stiefelhagen, 2008), TrackEval-exact.

Per frame, ground truth and tracker boxes are matched by the Hungarian algorithm among pairs
with IoU >= 0.5, preferring (by a 1000x bonus) to continue the match each ground-truth track
had in the previous frame, and then the highest IoU. From the matches:

- TP, FN, FP: matched pairs, unmatched ground truth, unmatched tracker boxes.
- IDSW: a ground-truth track matched to a different tracker id than the last time it was
  matched (any number of frames earlier).
- Frag: times a ground-truth track is matched again after a frame in which it was not.
- MT / PT / ML: ground-truth tracks matched in > 80%, 20-80% and < 20% of their frames.
- MOTA = (TP - FP - IDSW) / (TP + FN); MODA ignores IDSW; MOTP = mean IoU of the TPs;
  sMOTA = (sum of TP IoUs - FP - IDSW) / (TP + FN).

ref: TrackEval clear.py. Two of its conventions are kept on purpose: frames with no ground
truth or no tracker boxes do not break "previous frame" continuity, and a sequence with no
ground-truth or no tracker boxes reports MLR = 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.metrics._matching import match_frames
from mot_cli.metrics.sequence import SequenceData

__all__ = [
    "CLEAR_FIELDS",
    "ClearCounts",
    "ClearMatches",
    "clear_counts",
    "clear_matches",
    "clear_summary",
    "combine_clear",
]

CLEAR_FIELDS = (
    "MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA",
    "CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag",
)  # fmt: skip

_EPS = np.finfo(float).eps
_IOU_THRESHOLD = 0.5
_CONTINUATION_BONUS = 1000


@dataclass(frozen=True)
class ClearCounts:
    """Summable CLEAR counts; `motp_sum` is the IoU summed over TPs.

    `empty` marks a single sequence without ground-truth or tracker boxes (MLR is 1 there).
    """

    tp: int = 0
    fn: int = 0
    fp: int = 0
    idsw: int = 0
    mt: int = 0
    pt: int = 0
    ml: int = 0
    frag: int = 0
    motp_sum: float = 0.0
    empty: bool = False


@dataclass(frozen=True)
class ClearMatches:
    """The CLEAR matching of one sequence, for pointing at errors (e.g. in a rendered video).

    Attributes:
        pair: (M,) indices of the matched (ground truth, tracker) pairs of the sequence, in
            frame order; ground-truth and tracker detections outside them are FN and FP.
        id_switch: (M,) whether this match is an IDSW: its ground-truth track was last
            matched to another tracker id.
    """

    pair: np.ndarray
    id_switch: np.ndarray


def clear_matches(seq: SequenceData) -> ClearMatches:
    """TrackEval's CLEAR matching (see `_clear_matches`) and where the id switches are."""
    if seq.num_tracker_dets == 0 or seq.num_gt_dets == 0:
        return ClearMatches(np.zeros(0, np.intp), np.zeros(0, bool))
    matched = np.flatnonzero(_clear_matches(seq))
    match_frame = seq.gt_frame[seq.pair_gt[matched]]
    match_gt = seq.gt_id[seq.pair_gt[matched]]
    match_tracker = seq.tracker_id[seq.pair_tracker[matched]]
    order = np.lexsort((match_frame, match_gt))
    gt_sorted, tracker_sorted = match_gt[order], match_tracker[order]
    switch = np.zeros(len(matched), dtype=bool)
    switch[order[1:]] = (gt_sorted[1:] == gt_sorted[:-1]) & (
        tracker_sorted[1:] != tracker_sorted[:-1]
    )
    return ClearMatches(matched, switch)


def clear_counts(seq: SequenceData) -> ClearCounts:
    """Score one sequence."""
    if seq.num_tracker_dets == 0:
        return ClearCounts(fn=seq.num_gt_dets, ml=seq.num_gt_ids, empty=True)
    if seq.num_gt_dets == 0:
        return ClearCounts(fp=seq.num_tracker_dets, empty=True)

    matches = clear_matches(seq)
    matched = matches.pair
    match_frame = seq.gt_frame[seq.pair_gt[matched]]
    match_gt = seq.gt_id[seq.pair_gt[matched]]

    # Each ground-truth track's matches in time order; `step` numbers the frames that have both
    # ground truth and tracker boxes (the only frames that update "previous frame" state).
    gt_offsets, tracker_offsets, _ = seq.offsets
    scored = (np.diff(gt_offsets) > 0) & (np.diff(tracker_offsets) > 0)
    step = np.cumsum(scored)[match_frame]
    order = np.lexsort((match_frame, match_gt))
    gt_sorted, step_sorted = match_gt[order], step[order]
    same_track = gt_sorted[1:] == gt_sorted[:-1]
    idsw = int(matches.id_switch.sum())
    run_starts = len(order) - int(np.sum(same_track & (step_sorted[1:] == step_sorted[:-1] + 1)))
    frag = run_starts - len(np.unique(match_gt))

    frames_present = np.bincount(seq.gt_id, minlength=seq.num_gt_ids)
    frames_matched = np.bincount(match_gt, minlength=seq.num_gt_ids)
    present = frames_present > 0
    tracked_ratio = frames_matched[present] / frames_present[present]
    mt = int(np.sum(tracked_ratio > 0.8))
    pt = int(np.sum(tracked_ratio >= 0.2)) - mt
    tp = len(matched)
    return ClearCounts(
        tp=tp,
        fn=seq.num_gt_dets - tp,
        fp=seq.num_tracker_dets - tp,
        idsw=idsw,
        mt=mt,
        pt=pt,
        ml=seq.num_gt_ids - mt - pt,
        frag=frag,
        motp_sum=float(seq.pair_iou[matched].sum()),
    )


def _clear_matches(seq: SequenceData) -> np.ndarray:
    """Mask over pairs: TrackEval's CLEAR matching, frame by frame.

    Candidates have IoU >= 0.5; in a frame with competing candidates the Hungarian algorithm
    maximises 1000 x (continues the previous frame's match) + IoU. "Previous frame" is the last
    frame that had both ground truth and tracker boxes.
    """
    candidate = seq.pair_iou >= _IOU_THRESHOLD - _EPS
    gt_offsets, tracker_offsets, pair_offsets = seq.offsets
    scored = np.flatnonzero((np.diff(gt_offsets) > 0) & (np.diff(tracker_offsets) > 0))
    previous_scored = dict(zip(scored[1:].tolist(), scored[:-1].tolist(), strict=True))
    previous_tracker = np.full(seq.num_gt_ids, -1)  # tracker id matched in the previous frame

    def solve(t: int, matched: np.ndarray) -> np.ndarray:
        gt_ids, tracker_ids, iou = seq.frame(t)
        before = previous_scored.get(t)
        if before is not None:
            start, stop = pair_offsets[before], pair_offsets[before + 1]
            pairs = start + np.flatnonzero(matched[start:stop])
            previous_gt = seq.gt_id[seq.pair_gt[pairs]]
            previous_tracker[previous_gt] = seq.tracker_id[seq.pair_tracker[pairs]]
        continues = tracker_ids[np.newaxis, :] == previous_tracker[gt_ids[:, np.newaxis]]
        previous_tracker[:] = -1
        score = _CONTINUATION_BONUS * continues + iou
        score[iou < _IOU_THRESHOLD - _EPS] = 0
        rows, cols = linear_sum_assignment(-score)
        keep = score[rows, cols] > 0 + _EPS
        return pair_offsets[t] + rows[keep] * len(tracker_ids) + cols[keep]

    return match_frames(seq, candidate, solve)


def combine_clear(parts: Sequence[ClearCounts]) -> ClearCounts:
    """Combine sequences by summing every count (ratios are then recomputed)."""
    if not parts:
        raise ValueError("nothing to combine")
    return ClearCounts(
        tp=sum(p.tp for p in parts),
        fn=sum(p.fn for p in parts),
        fp=sum(p.fp for p in parts),
        idsw=sum(p.idsw for p in parts),
        mt=sum(p.mt for p in parts),
        pt=sum(p.pt for p in parts),
        ml=sum(p.ml for p in parts),
        frag=sum(p.frag for p in parts),
        motp_sum=sum(p.motp_sum for p in parts),
    )


def clear_summary(counts: ClearCounts) -> dict[str, float | int]:
    """CLEAR_FIELDS: ratios as fractions, counts as ints.

    A single sequence without ground-truth or tracker boxes reports every ratio as 0 and MLR
    as 1 (TrackEval returns early there), even where the formulas would give e.g. MOTA < 0.
    """
    c = counts
    num_gt_ids = max(1, c.mt + c.pt + c.ml)
    gt_dets = max(1, c.tp + c.fn)
    ratios = {
        "MOTA": (c.tp - c.fp - c.idsw) / gt_dets,
        "MOTP": c.motp_sum / max(1, c.tp),
        "MODA": (c.tp - c.fp) / gt_dets,
        "CLR_Re": c.tp / gt_dets,
        "CLR_Pr": c.tp / max(1, c.tp + c.fp),
        "MTR": c.mt / num_gt_ids,
        "PTR": c.pt / num_gt_ids,
        "MLR": c.ml / num_gt_ids,
        "sMOTA": (c.motp_sum - c.fp - c.idsw) / gt_dets,
    }
    if c.empty:
        ratios = dict.fromkeys(ratios, 0.0) | {"MLR": 1.0}
    counts_ = {
        "CLR_TP": c.tp,
        "CLR_FN": c.fn,
        "CLR_FP": c.fp,
        "IDSW": c.idsw,
        "MT": c.mt,
        "PT": c.pt,
        "ML": c.ml,
        "Frag": c.frag,
    }
    return ratios | counts_
