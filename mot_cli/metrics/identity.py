"""Identity metrics (Ristani et al., ECCV 2016 workshops), TrackEval-exact.

Each ground-truth track is paired with at most one tracker track for the whole sequence, so
as to minimise IDFN + IDFP: a bipartite matching where every track can also stay unpaired
(the "dummy" rows and columns of the paper's cost matrix). A detection counts as an IDTP when
its ground truth and tracker track are paired and overlap with IoU >= 0.5 in that frame.

IDR = IDTP / (IDTP + IDFN), IDP = IDTP / (IDTP + IDFP), IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN).
Sequences combine by summing IDTP, IDFN and IDFP. ref: TrackEval identity.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.metrics.sequence import SequenceData

__all__ = [
    "IDENTITY_FIELDS",
    "IdentityCounts",
    "combine_identity",
    "identity_counts",
    "identity_summary",
]

IDENTITY_FIELDS = ("IDF1", "IDR", "IDP", "IDTP", "IDFN", "IDFP")

_IOU_THRESHOLD = 0.5
_FORBIDDEN = 1e10  # pairs a ground-truth track with another track's dummy


@dataclass(frozen=True)
class IdentityCounts:
    """Summable identity counts."""

    idtp: int = 0
    idfn: int = 0
    idfp: int = 0


def identity_counts(seq: SequenceData) -> IdentityCounts:
    """Score one sequence."""
    if seq.num_tracker_dets == 0:
        return IdentityCounts(idfn=seq.num_gt_dets)
    if seq.num_gt_dets == 0:
        return IdentityCounts(idfp=seq.num_tracker_dets)

    num_gt, num_tracker = seq.num_gt_ids, seq.num_tracker_ids
    # How many frames each (gt track, tracker track) pair overlaps with IoU >= 0.5.
    close = seq.pair_iou >= _IOU_THRESHOLD
    cell = seq.gt_id[seq.pair_gt[close]] * num_tracker + seq.tracker_id[seq.pair_tracker[close]]
    overlap = np.bincount(cell, minlength=num_gt * num_tracker).reshape(num_gt, num_tracker)
    overlap = overlap.astype(np.float64)
    gt_len = np.bincount(seq.gt_id, minlength=num_gt).astype(np.float64)
    tracker_len = np.bincount(seq.tracker_id, minlength=num_tracker).astype(np.float64)

    # Rows: gt tracks then tracker dummies; columns: tracker tracks then gt dummies.
    size = num_gt + num_tracker
    fn_cost = np.zeros((size, size))
    fp_cost = np.zeros((size, size))
    fn_cost[:num_gt, num_tracker:] = _FORBIDDEN
    fp_cost[num_gt:, :num_tracker] = _FORBIDDEN
    fn_cost[:num_gt, :num_tracker] = gt_len[:, None] - overlap
    fp_cost[:num_gt, :num_tracker] = tracker_len[None, :] - overlap
    fn_cost[np.arange(num_gt), num_tracker + np.arange(num_gt)] = gt_len  # gt track unpaired
    fp_cost[num_gt + np.arange(num_tracker), np.arange(num_tracker)] = tracker_len

    rows, cols = linear_sum_assignment(fn_cost + fp_cost)
    idfn = int(fn_cost[rows, cols].sum())
    idfp = int(fp_cost[rows, cols].sum())
    return IdentityCounts(idtp=int(gt_len.sum()) - idfn, idfn=idfn, idfp=idfp)


def combine_identity(parts: Sequence[IdentityCounts]) -> IdentityCounts:
    """Combine sequences by summing counts."""
    if not parts:
        raise ValueError("nothing to combine")
    return IdentityCounts(
        idtp=sum(p.idtp for p in parts),
        idfn=sum(p.idfn for p in parts),
        idfp=sum(p.idfp for p in parts),
    )


def identity_summary(counts: IdentityCounts) -> dict[str, float | int]:
    """IDENTITY_FIELDS: ratios as fractions, counts as ints."""
    c = counts
    return {
        "IDF1": c.idtp / max(1.0, c.idtp + 0.5 * c.idfp + 0.5 * c.idfn),
        "IDR": c.idtp / max(1, c.idtp + c.idfn),
        "IDP": c.idtp / max(1, c.idtp + c.idfp),
        "IDTP": c.idtp,
        "IDFN": c.idfn,
        "IDFP": c.idfp,
    }
