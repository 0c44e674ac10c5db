"""Gated Hungarian assignment."""

from __future__ import annotations

import numpy as np

from mot_cli.tracking.assign import assign


def test_assign_maximises_total_similarity() -> None:
    sim = np.array([[0.9, 0.8], [0.8, 0.1]])
    m = assign(sim)
    assert sorted(map(tuple, m.pairs.tolist())) == [(0, 1), (1, 0)]  # 1.6 beats 1.0
    assert len(m.unmatched_tracks) == 0 and len(m.unmatched_dets) == 0


def test_gate_forbids_pairs_and_reports_leftovers() -> None:
    sim = np.array([[0.9, 0.8, 0.0], [0.8, 0.1, 0.0]])
    allowed = sim >= 0.5
    allowed[0, 1] = False
    m = assign(sim, allowed)
    assert m.pairs.tolist() == [[0, 0]]
    assert m.unmatched_tracks.tolist() == [1]
    assert m.unmatched_dets.tolist() == [1, 2]
    assert m.tracks.tolist() == [0] and m.dets.tolist() == [0]


def test_gating_before_solving_keeps_allowed_pairs() -> None:
    # solving everything first would pair (0,0) and (1,1), then drop the forbidden (1,1)
    sim = np.array([[0.9, 0.8], [0.85, 0.0]])
    m = assign(sim, sim > 0.5)
    assert sorted(map(tuple, m.pairs.tolist())) == [(0, 1), (1, 0)]


def test_empty_inputs() -> None:
    m = assign(np.zeros((0, 3)))
    assert m.pairs.shape == (0, 2) and m.unmatched_dets.tolist() == [0, 1, 2]
    m = assign(np.zeros((2, 0)))
    assert m.unmatched_tracks.tolist() == [0, 1] and len(m) == 0
