"""Hand-computed values of every similarity cue."""

from __future__ import annotations

import numpy as np
import pytest

from mot_cli.tracking.cues import (
    CUES,
    DetView,
    TrackView,
    adaptive_embedding_weight,
    angle_similarity,
    bisoftmax,
    cosine_similarity,
    covered_fraction,
    get_cue,
    iom_matrix,
    iou_matrix,
)


def test_iou_hand_computed() -> None:
    a = np.array([[0, 0, 10, 10], [100, 100, 110, 110]], float)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]], float)
    expected = np.array([[50 / 150, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert np.allclose(iou_matrix(a, b), expected)
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)


def test_iou_missing_boxes_give_zero() -> None:
    a = np.array([[np.nan] * 4])
    assert iou_matrix(a, np.array([[0, 0, 10, 10.0]])).tolist() == [[0.0]]


def test_iom_is_one_for_contained_box() -> None:
    outer = np.array([[0, 0, 10, 10.0]])
    inner = np.array([[2, 2, 6, 6.0], [5, 0, 15, 10]])
    assert np.allclose(iom_matrix(outer, inner), [[1.0, 0.5]])


def test_covered_fraction() -> None:
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110.0]])
    assert np.allclose(covered_fraction(boxes), [0.5, 0.5, 0.0])


def test_angle_similarity_hand_computed() -> None:
    velocity = np.array([[1.0, 0.0], [0.0, 0.0]])  # moving right; unknown
    previous = np.array([[0, 0, 10, 10], [0, 0, 10, 10.0]])  # centre (5, 5)
    dets = np.array([[10, 0, 20, 10], [0, 10, 10, 20], [-10, 0, 0, 10.0]])  # right, down, left
    score = np.array([1.0, 1.0, 0.5])
    sim = angle_similarity(velocity, previous, dets, score)
    # same direction: (pi/2 - 0)/pi = 0.5; perpendicular: 0; opposite: -0.5 times score 0.5
    assert np.allclose(sim[0], [0.5, 0.0, -0.25])
    assert np.allclose(sim[1], 0.0)  # unknown velocity contributes nothing


def test_angle_ignores_tracks_without_previous_observation() -> None:
    sim = angle_similarity(
        np.array([[1.0, 0.0]]), np.full((1, 4), np.nan), np.array([[10, 0, 20, 10.0]]), [1.0]
    )
    assert sim.tolist() == [[0.0]]


def test_cosine_and_missing() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    assert np.allclose(cosine_similarity(a, b), [[1, np.sqrt(0.5)], [0, np.sqrt(0.5)]])
    assert cosine_similarity(None, b).shape == (0, 2)


def test_adaptive_weight_hand_computed() -> None:
    sim = np.array([[0.9, 0.1], [0.5, 0.4]])
    w = adaptive_embedding_weight(sim, base=0.75, max_gap=0.5)
    # row gaps: 0.8 -> capped 0.5, 0.1; column gaps: 0.4, 0.3
    expected = 0.75 + 0.5 * np.array([[0.5 + 0.4, 0.5 + 0.3], [0.1 + 0.4, 0.1 + 0.3]])
    assert np.allclose(w, expected)
    single = adaptive_embedding_weight(np.array([[0.3]]), base=0.75, max_gap=0.5)
    assert single.tolist() == [[0.75]]


def test_bisoftmax_rows_and_columns() -> None:
    sim = np.array([[1.0, 0.0], [0.0, 1.0]])
    out = bisoftmax(sim, temperature=1.0)
    p = np.exp(1) / (np.exp(1) + 1)
    assert np.allclose(out, [[p, 1 - p], [1 - p, p]])
    assert np.all((out >= 0) & (out <= 1))


def _views() -> tuple[TrackView, DetView]:
    tracks = TrackView(
        xyxy=np.array([[0, 0, 10, 10.0]]),
        last_obs=np.array([[0, 0, 10, 10.0]]),
        previous_obs=np.array([[-5, 0, 5, 10.0]]),
        velocity=np.array([[1.0, 0.0]]),
        embedding=np.array([[1.0, 0.0]]),
        has_embedding=np.array([True]),
    )
    dets = DetView(
        xyxy=np.array([[0, 0, 10, 10], [5, 0, 15, 10.0]]),
        score=np.array([1.0, 1.0]),
        embedding=np.array([[1.0, 0.0], [0.0, 1.0]]),
    )
    return tracks, dets


def test_every_cue_has_the_same_shape() -> None:
    tracks, dets = _views()
    for name, cue in CUES.items():
        assert cue(tracks, dets).shape == (1, 2), name
    assert np.allclose(CUES["embedding"](tracks, dets), [[1.0, 0.0]])
    assert np.allclose(CUES["depth_segmentation"](tracks, dets), 0.0)  # absent: zeros


def test_unknown_cue_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="valid cues: angle"):
        get_cue("colour")
