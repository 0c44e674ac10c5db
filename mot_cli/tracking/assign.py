"""Gated Hungarian assignment returning a small named result instead of index-array soup."""

from __future__ import annotations

from dataclasses import dataclass

import lap
import numpy as np

# A pair the gate forbids costs this much; any allowed pair (|similarity| is a few units at
# most) is cheaper than leaving its track and detection unmatched (_UNMATCHED).
_FORBIDDEN = 1e6
_UNMATCHED = 1e4


@dataclass(frozen=True)
class Matches:
    """The outcome of one association round, in the row/column indices it was given.

    Attributes:
        pairs: (K, 2) int64 rows of (track index, detection index).
        unmatched_tracks: (T - K,) int64 track indices, ascending.
        unmatched_dets: (D - K,) int64 detection indices, ascending.
    """

    pairs: np.ndarray
    unmatched_tracks: np.ndarray
    unmatched_dets: np.ndarray

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.pairs)

    @property
    def tracks(self) -> np.ndarray:
        """Matched track indices, aligned with `dets`."""
        return self.pairs[:, 0]

    @property
    def dets(self) -> np.ndarray:
        """Matched detection indices, aligned with `tracks`."""
        return self.pairs[:, 1]


def no_matches(num_tracks: int, num_dets: int) -> Matches:
    """Everything unmatched (for empty inputs or a skipped round)."""
    return Matches(
        np.zeros((0, 2), np.int64),
        np.arange(num_tracks, dtype=np.int64),
        np.arange(num_dets, dtype=np.int64),
    )


def assign(similarity: np.ndarray, allowed: np.ndarray | None = None) -> Matches:
    """Match tracks (rows) to detections (columns) maximising the summed similarity.

    Pairs where `allowed` is False can never match. Among allowed pairs the matching is as
    large as possible first and of largest total similarity second; this differs from
    OC-SORT's "solve on everything, then drop pairs under the IoU threshold", which can
    spend a detection on a forbidden pair and lose an allowed one.

    Args:
        similarity: (T, D) higher-is-better scores.
        allowed: (T, D) bool gate, e.g. ``iou >= threshold``; None allows every pair.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    t, d = similarity.shape
    if allowed is None:
        allowed = np.ones((t, d), dtype=bool)
    if t == 0 or d == 0 or not allowed.any():
        return no_matches(t, d)
    cost = np.where(allowed, -similarity, _FORBIDDEN)
    _, row_to_col, _ = lap.lapjv(cost, extend_cost=True, cost_limit=_UNMATCHED)
    rows = np.flatnonzero(row_to_col >= 0)
    cols = row_to_col[rows].astype(np.int64)
    keep = allowed[rows, cols]
    rows, cols = rows[keep], cols[keep]
    track_free = np.ones(t, dtype=bool)
    track_free[rows] = False
    det_free = np.ones(d, dtype=bool)
    det_free[cols] = False
    return Matches(
        np.stack([rows, cols], axis=1).astype(np.int64),
        np.flatnonzero(track_free),
        np.flatnonzero(det_free),
    )
