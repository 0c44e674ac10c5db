"""HOTA: Higher Order Tracking Accuracy (Luiten et al., IJCV 2020), TrackEval-exact.

For each localisation threshold alpha in 0.05, 0.10, ..., 0.95:

- Detections are matched per frame by the Hungarian algorithm on `IoU x A(g, t)`, where
  `A(g, t)` is a global alignment score: how much ground-truth track g and tracker track t
  overlap over the whole sequence (soft Jaccard of their IoU-normalised co-occurrences). A
  match counts as a TP at alpha when its IoU >= alpha. ref: paper §4.1 and §9; TrackEval hota.py.
- DetA = TP / (TP + FN + FP); DetRe = TP / (TP + FN); DetPr = TP / (TP + FP).
- For every TP pair (g, t), its association IoU is TPA / (TPA + FNA + FPA), with TPA the TPs
  shared by g and t over the sequence, FNA = |g| - TPA, FPA = |t| - TPA. AssA averages it over
  all TPs (AssRe and AssPr use only FNA or FPA).
- HOTA = sqrt(DetA * AssA); OWTA = sqrt(DetRe * AssA); LocA = mean IoU over the TPs.

Reported scalars are means over the 19 alphas; `HOTA(0)` and `LocA(0)` are the values at the
lowest alpha. Sequences combine by summing TP/FN/FP per alpha and weighting AssA, AssRe, AssPr
and LocA by TP, then recomputing the rest (combined HOTA is *not* a mean of sequence HOTAs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.metrics._matching import match_frames
from mot_cli.metrics.sequence import SequenceData

__all__ = [
    "ALPHAS",
    "CURVE_FIELDS",
    "HOTA_FIELDS",
    "HotaCounts",
    "combine_hota",
    "hota_counts",
    "hota_curves",
    "hota_summary",
]

# ref: TrackEval hota.py; these exact floats (0.15000000000000002, ...) are the thresholds
ALPHAS = np.arange(0.05, 0.99, 0.05)
CURVE_FIELDS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")
HOTA_FIELDS = (*CURVE_FIELDS, "HOTA(0)", "LocA(0)")

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class HotaCounts:
    """Per-alpha (19 values each) counts and averages from which all HOTA fields follow.

    `ass_a`, `ass_re`, `ass_pr` and `loc_a` are averages over the TPs, so combining sequences
    weights them by `tp`.
    """

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    ass_a: np.ndarray
    ass_re: np.ndarray
    ass_pr: np.ndarray
    loc_a: np.ndarray


def _empty_counts(num_gt_dets: int, num_tracker_dets: int) -> HotaCounts:
    zeros = np.zeros(len(ALPHAS))
    return HotaCounts(
        tp=zeros,
        fn=np.full(len(ALPHAS), float(num_gt_dets)),
        fp=np.full(len(ALPHAS), float(num_tracker_dets)),
        ass_a=zeros,
        ass_re=zeros,
        ass_pr=zeros,
        loc_a=np.ones(len(ALPHAS)),
    )


def hota_counts(seq: SequenceData) -> HotaCounts:
    """Score one sequence."""
    if seq.num_tracker_dets == 0:
        return _empty_counts(seq.num_gt_dets, 0)
    if seq.num_gt_dets == 0:
        return _empty_counts(0, seq.num_tracker_dets)

    alignment, gt_id_count, tracker_id_count = _global_alignment(seq)
    pair_gt_id = seq.gt_id[seq.pair_gt]
    pair_tracker_id = seq.tracker_id[seq.pair_tracker]
    score = alignment[pair_gt_id, pair_tracker_id] * seq.pair_iou
    matched = _hota_matches(seq, score)
    iou = seq.pair_iou[matched]

    # A matched pair is a TP at every alpha its IoU reaches: (19, M) at once.
    is_tp = iou[None, :] >= (ALPHAS - _EPS)[:, None]
    tp = is_tp.sum(axis=1).astype(np.float64)
    loc_sum = (is_tp * iou[None, :]).sum(axis=1)

    # TPA per (alpha, distinct track pair): frames in which the pair is a TP.
    num_tracker_ids = seq.num_tracker_ids
    track_pair = pair_gt_id[matched] * num_tracker_ids + pair_tracker_id[matched]
    unique_pairs, pair_index = np.unique(track_pair, return_inverse=True)
    num_pairs = len(unique_pairs)
    alpha_index = np.broadcast_to(np.arange(len(ALPHAS))[:, None], is_tp.shape)
    flat = (alpha_index * num_pairs + pair_index[None, :])[is_tp]
    tpa = np.bincount(flat, minlength=len(ALPHAS) * num_pairs).reshape(len(ALPHAS), num_pairs)
    gt_count = gt_id_count[unique_pairs // num_tracker_ids][None, :]
    tracker_count = tracker_id_count[unique_pairs % num_tracker_ids][None, :]
    denominator = np.maximum(1.0, tp)
    ass_a = (tpa * (tpa / np.maximum(1, gt_count + tracker_count - tpa))).sum(1) / denominator
    ass_re = (tpa * (tpa / np.maximum(1, gt_count))).sum(1) / denominator
    ass_pr = (tpa * (tpa / np.maximum(1, tracker_count))).sum(1) / denominator

    return HotaCounts(
        tp=tp,
        fn=seq.num_gt_dets - tp,
        fp=seq.num_tracker_dets - tp,
        ass_a=ass_a,
        ass_re=ass_re,
        ass_pr=ass_pr,
        loc_a=np.maximum(1e-10, loc_sum) / np.maximum(1e-10, tp),
    )


def _hota_matches(seq: SequenceData, score: np.ndarray) -> np.ndarray:
    """Pair indices matched per frame by the Hungarian algorithm maximising `score`.

    Only positive-score pairs are kept; the others can never be TPs.
    """
    _, _, pair_offsets = seq.offsets

    def solve(t: int, _matched: np.ndarray) -> np.ndarray:
        gt_ids, tracker_ids, _ = seq.frame(t)
        frame_score = score[pair_offsets[t] : pair_offsets[t + 1]].reshape(
            len(gt_ids), len(tracker_ids)
        )
        rows, cols = linear_sum_assignment(-frame_score)
        keep = frame_score[rows, cols] > 0
        return pair_offsets[t] + rows[keep] * len(tracker_ids) + cols[keep]

    return np.flatnonzero(match_frames(seq, score > 0, solve))


def _global_alignment(seq: SequenceData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A(g, t) = S / (|g| + |t| - S), S the sum over frames of IoU normalised per frame.

    The per-frame normalisation divides a pair's IoU by its row sum + column sum - itself, so
    a detection split over several overlapping candidates counts once in total. Sums over
    frames run in frame order, as TrackEval's do.
    """
    iou = seq.pair_iou
    row_sum = np.bincount(seq.pair_gt, iou, minlength=seq.num_gt_dets)
    col_sum = np.bincount(seq.pair_tracker, iou, minlength=seq.num_tracker_dets)
    denominator = col_sum[seq.pair_tracker] + row_sum[seq.pair_gt] - iou
    normalised = np.zeros_like(iou)
    np.divide(iou, denominator, out=normalised, where=denominator > 0 + _EPS)
    num_gt_ids, num_tracker_ids = seq.num_gt_ids, seq.num_tracker_ids
    cell = seq.gt_id[seq.pair_gt] * num_tracker_ids + seq.tracker_id[seq.pair_tracker]
    overlap = np.bincount(cell, normalised, minlength=num_gt_ids * num_tracker_ids)
    overlap = overlap.reshape(num_gt_ids, num_tracker_ids)
    gt_id_count = np.bincount(seq.gt_id, minlength=num_gt_ids).astype(np.float64)
    tracker_id_count = np.bincount(seq.tracker_id, minlength=num_tracker_ids).astype(np.float64)
    alignment = overlap / (gt_id_count[:, None] + tracker_id_count[None, :] - overlap)
    return alignment, gt_id_count, tracker_id_count


def combine_hota(parts: Sequence[HotaCounts]) -> HotaCounts:
    """Combine sequences: sum counts, TP-weighted averages for AssA/AssRe/AssPr/LocA."""
    if not parts:
        raise ValueError("nothing to combine")
    tp = sum((p.tp for p in parts), np.zeros(len(ALPHAS)))
    fn = sum((p.fn for p in parts), np.zeros(len(ALPHAS)))
    fp = sum((p.fp for p in parts), np.zeros(len(ALPHAS)))

    def weighted(field: str) -> np.ndarray:
        total = sum((getattr(p, field) * p.tp for p in parts), np.zeros(len(ALPHAS)))
        return total / np.maximum(1.0, tp)

    loc_sum = sum((p.loc_a * p.tp for p in parts), np.zeros(len(ALPHAS)))
    return HotaCounts(
        tp=tp,
        fn=fn,
        fp=fp,
        ass_a=weighted("ass_a"),
        ass_re=weighted("ass_re"),
        ass_pr=weighted("ass_pr"),
        loc_a=np.maximum(1e-10, loc_sum) / np.maximum(1e-10, tp),
    )


def hota_curves(counts: HotaCounts) -> dict[str, np.ndarray]:
    """Each field of CURVE_FIELDS as its 19 values, one per alpha in ALPHAS."""
    c = counts
    det_re = c.tp / np.maximum(1, c.tp + c.fn)
    det_pr = c.tp / np.maximum(1, c.tp + c.fp)
    det_a = c.tp / np.maximum(1, c.tp + c.fn + c.fp)
    return {
        "HOTA": np.sqrt(det_a * c.ass_a),
        "DetA": det_a,
        "AssA": c.ass_a,
        "DetRe": det_re,
        "DetPr": det_pr,
        "AssRe": c.ass_re,
        "AssPr": c.ass_pr,
        "LocA": c.loc_a,
        "OWTA": np.sqrt(det_re * c.ass_a),
    }


def hota_summary(counts: HotaCounts) -> dict[str, float]:
    """HOTA_FIELDS as fractions: curve means over alpha, plus HOTA(0) and LocA(0)."""
    curves = hota_curves(counts)
    summary = {name: float(np.mean(values)) for name, values in curves.items()}
    summary["HOTA(0)"] = float(curves["HOTA"][0])
    summary["LocA(0)"] = float(curves["LocA"][0])
    return summary
