"""Per-frame one-to-one matching that calls the Hungarian solver only where it matters.

A frame's optimal matching is trivial when no detection has two candidate partners: every
candidate pair is then in every optimal assignment (dropping one could only lower the total),
so it is exactly what the solver would return. Only frames with a conflict go to the solver,
in frame order, so that a caller can make a frame's scores depend on earlier matches (CLEAR's
continuation bonus). This keeps TrackEval's results while skipping most solver calls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mot_cli.metrics.sequence import SequenceData

FrameSolver = Callable[[int, np.ndarray], np.ndarray]


def match_frames(seq: SequenceData, candidate: np.ndarray, solve: FrameSolver) -> np.ndarray:
    """Boolean mask over `seq`'s pairs: the pairs matched in each frame.

    Args:
        seq: the sequence.
        candidate: (P,) bool, pairs allowed to match (positive score).
        solve: `solve(t, matched)` returns the pair indices matched in conflict frame `t`
            (0-based), given the mask `matched` filled for all earlier frames.
    """
    conflict = np.zeros(seq.num_timesteps, dtype=bool)
    for owner, frame in ((seq.pair_gt, seq.gt_frame), (seq.pair_tracker, seq.tracker_frame)):
        partners = np.bincount(owner[candidate], minlength=len(frame))
        conflict[frame[partners > 1]] = True
    pair_frame = seq.gt_frame[seq.pair_gt]
    matched = candidate & ~conflict[pair_frame]
    for t in np.flatnonzero(conflict).tolist():
        matched[solve(t, matched)] = True
    return matched
