"""Offline steps on hand-made track tables."""

from __future__ import annotations

import numpy as np

from mot_cli.tracking import TrackerConfig
from mot_cli.tracking.postprocess import (
    TrackTable,
    confident_tracks,
    drop_short_tracks,
    interpolate_gaps,
    postprocess_table,
    relink_tracklets,
    renumber,
    smooth_tracks,
)


def _table(rows: list[tuple[int, int, float]]) -> TrackTable:
    """Rows of (frame, id, x); boxes 10 wide, 20 tall, at height 0."""
    frame = np.array([r[0] for r in rows], np.int32)
    ids = np.array([r[1] for r in rows], np.int32)
    x = np.array([r[2] for r in rows], np.float32)
    xyxy = np.stack([x, np.zeros_like(x), x + 10, np.full_like(x, 20)], axis=1)
    return TrackTable(
        frame, ids, xyxy, np.ones(len(rows), np.float32), np.zeros(len(rows), np.int32)
    )


def test_interpolate_fills_short_gaps_only() -> None:
    t = _table([(1, 1, 0.0), (4, 1, 30.0), (10, 1, 90.0)])
    out = interpolate_gaps(t, max_gap=2)
    assert out.frame.tolist() == [1, 2, 3, 4, 10]
    assert np.allclose(out.xyxy[1:3, 0], [10, 20])
    assert out.det.tolist() == [0, -1, -1, 0, 0]


def test_interpolation_needs_confident_real_observations_on_both_sides() -> None:
    t = _table([(1, 1, 0.0), (4, 1, 30.0), (7, 1, 60.0), (1, 2, 200.0), (4, 2, 230.0)])
    score = np.array([0.9, 0.2, 0.9, 0.9, 0.9], np.float32)  # row 2: a weak BYTE match
    det = np.array([0, 0, 0, 0, -1], np.int32)  # row 5: itself filled in, not observed
    t = TrackTable(t.frame, t.id, t.xyxy, score, det)
    out = interpolate_gaps(t, max_gap=5, anchor_score=0.5)
    assert len(out) == len(t)  # no gap has a confident observation at both ends
    out = interpolate_gaps(t, max_gap=5, anchor_score=0.1)
    assert out.frame[out.id == 1].tolist() == list(range(1, 8))
    assert out.frame[out.id == 2].tolist() == [1, 4]


def test_drop_short_tracks_counts_observed_frames() -> None:
    t = _table([(1, 1, 0.0), (2, 1, 1.0), (3, 1, 2.0), (1, 2, 50.0)])
    assert set(drop_short_tracks(t, 2).id.tolist()) == {1}


def test_smoothing_keeps_straight_motion_and_removes_jitter() -> None:
    xs = 3.0 * np.arange(1, 31)
    noisy = xs + np.where(np.arange(30) % 2 == 0, 1.0, -1.0)
    t = _table([(f, 1, x) for f, x in zip(range(1, 31), noisy, strict=True)])
    out = smooth_tracks(t, sigma=3.0)
    err_before = np.abs(t.xyxy[:, 0] - xs).mean()
    err_after = np.abs(out.xyxy[:, 0] - xs).mean()
    assert err_after < 0.5 * err_before
    straight = _table([(f, 1, x) for f, x in zip(range(1, 31), xs, strict=True)])
    assert np.allclose(smooth_tracks(straight, sigma=3.0).xyxy, straight.xyxy, atol=1e-3)


def test_relink_joins_continuing_tracklet_by_appearance_and_motion() -> None:
    a = [(f, 1, 2.0 * f) for f in range(1, 11)]
    b = [(f, 2, 2.0 * f) for f in range(16, 26)]  # same person, 5 frames later, on course
    c = [(f, 3, 300.0) for f in range(16, 26)]  # someone else, far away
    t = _table(a + b + c)
    emb = np.zeros((len(t), 4), np.float32)
    emb[t.id == 1, 0] = emb[t.id == 2, 0] = emb[t.id == 3, 1] = 1.0
    out = relink_tracklets(t, emb, max_gap=10, threshold=0.6)
    assert set(out.id[t.id == 2].tolist()) == {1}
    assert set(out.id[t.id == 3].tolist()) == {3}
    emb[t.id == 2] = [0, 0, 1, 0]  # looks different: no link
    assert set(relink_tracklets(t, emb, max_gap=10, threshold=0.6).id.tolist()) == {1, 2, 3}


def test_confident_tracks_and_renumber() -> None:
    t = _table([(1, 4, 0.0), (2, 4, 1.0), (1, 9, 50.0)])
    t = TrackTable(t.frame, t.id, t.xyxy, np.array([0.9, 0.7, 0.1], np.float32), t.det)
    assert confident_tracks(t, 0.5).tolist() == [4]
    assert renumber(t).id.tolist() == [1, 2, 1]


def test_postprocess_table_applies_config() -> None:
    t = _table([(1, 5, 0.0), (3, 5, 20.0), (1, 7, 80.0)])
    cfg = TrackerConfig(min_track_length=2, interpolate_max_gap=3, smooth_sigma=0)
    out = postprocess_table(t, cfg)
    assert out.frame.tolist() == [1, 2, 3] and set(out.id.tolist()) == {1}
