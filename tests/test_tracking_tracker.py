"""Tracker lifecycle, ids, reset, and a scripted crossing that only appearance can resolve."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.tracking import Tracker, TrackerConfig, track_sequence
from mot_cli.tracking.tracker import score_normaliser

_EMB_A = np.eye(8, dtype=np.float32)[0]
_EMB_B = np.eye(8, dtype=np.float32)[1]


def _box(x: float, y: float = 100.0) -> np.ndarray:
    return np.array([x, y, x + 40.0, y + 100.0], np.float32)


def _crossing(hidden: int = 10) -> list[tuple[np.ndarray, np.ndarray, list[str]]]:
    """Two people walk towards each other, meet, B hides behind A while both stand still,
    then both walk on in their original directions.

    Motion alone is misleading here: while A stands, its filter forgets its direction, and
    B's filter keeps predicting B walking left behind A. When they part, B's box is where A
    stood, so IoU hands B's box to A's track and the observation-centric recovery then hands
    A's box (next to B's last observation) to B's track: a swap. Appearance tells them apart.
    """
    frames = []
    for f in range(15):  # approach: A from the left, B from the right, 5 px per frame
        xa, xb = 105.0 + 5 * f, 255.0 - 5 * f
        frames.append(([_box(xa), _box(xb)], [_EMB_A, _EMB_B], ["A", "B"]))
    for _ in range(hidden):  # B hidden behind A; both stand still
        frames.append(([_box(180.0)], [_EMB_A], ["A"]))
    for k in range(1, 16):  # they part: A walks on to the right, B to the left
        xa, xb = 180.0 + 5 * k, 180.0 - 5 * k
        frames.append(([_box(xa), _box(xb)], [_EMB_A, _EMB_B], ["A", "B"]))
    return [(np.stack(b), np.stack(e), who) for b, e, who in frames]


# offline steps off, so track_sequence's output is the online association itself
_ONLINE = dict(
    min_hits=1, interpolate_max_gap=0, min_track_length=1, backfill=False, smooth_sigma=0.0
)


def _crossing_ids(config: TrackerConfig, carry: Callable[..., dict]) -> dict[str, set[int]]:
    """Track the crossing offline (`track_sequence`), each frame's detections also given
    ``carry(emb, who)`` (Detections keyword arguments: a cue's inputs); which ids each
    person's boxes received."""
    scenario = _crossing()
    frames = []
    for number, (boxes, emb, who) in enumerate(scenario, 1):
        n = len(boxes)
        frames.append((number, Detections(boxes, np.full(n, 0.9), np.zeros(n),
                                          **carry(emb, who)), None))  # fmt: skip
    table = track_sequence(frames, config)
    seen: dict[str, set[int]] = {"A": set(), "B": set()}
    for frame, track_id, det in zip(table.frame, table.id, table.det, strict=True):
        seen[scenario[frame - 1][2][det]].add(int(track_id))
    return seen


def _identities(config: TrackerConfig) -> dict[str, set[int]]:
    """Which track ids each scripted person received over the whole scenario."""
    tracker = Tracker(config)
    seen: dict[str, set[int]] = {"A": set(), "B": set()}
    for boxes, emb, who in _crossing():
        dets = Detections(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes)), emb)
        out = tracker.update(dets)
        for track_id, det in zip(out.ids.tolist(), out.det_index.tolist(), strict=True):
            seen[who[det]].add(track_id)
    return seen


def test_crossing_keeps_identities_with_appearance() -> None:
    seen = _identities(TrackerConfig(min_hits=1))
    assert seen == {"A": {1}, "B": {2}}


def test_crossing_swaps_or_loses_identities_without_appearance() -> None:
    seen = _identities(
        TrackerConfig(min_hits=1, w_emb=0.0, appearance_margin=2.0, reid_recovery=False)
    )
    assert seen != {"A": {1}, "B": {2}}


def _random_frames(n: int, seed: int = 0) -> list[Detections]:
    rng = np.random.default_rng(seed)
    out = []
    for f in range(n):
        k = int(rng.integers(0, 6))
        xy = rng.uniform(0, 500, (k, 2)) + f
        wh = rng.uniform(20, 80, (k, 2))
        out.append(Detections(np.hstack([xy, xy + wh]), rng.uniform(0, 1, k), np.zeros(k)))
    return out


def test_ids_unique_per_frame_and_start_at_one() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    all_ids = []
    for dets in _random_frames(40):
        out = tracker.update(dets)
        assert len(np.unique(out.ids)) == len(out.ids)
        assert out.ids.dtype == np.int32 and out.det_index.dtype == np.int32
        assert np.array_equal(out.xyxy, dets.xyxy[out.det_index])
        all_ids.extend(out.ids.tolist())
    assert min(all_ids) == 1
    assert sorted(set(all_ids)) == list(range(1, max(all_ids) + 1))  # no holes


def test_reset_restarts_ids_and_instances_are_independent() -> None:
    frames = _random_frames(20, seed=3)
    first = Tracker(TrackerConfig(min_hits=1))
    a = [first.update(d).ids.tolist() for d in frames]
    other = Tracker(TrackerConfig(min_hits=1))
    other.update(frames[0])
    first.reset()
    b = [first.update(d).ids.tolist() for d in frames]
    assert a == b


def test_min_hits_delays_output_until_confirmed() -> None:
    tracker = Tracker(TrackerConfig(min_hits=3))
    box = Detections(_box(10.0)[None], np.array([0.9]), np.array([0]))
    sizes = [len(tracker.update(box)) for _ in range(5)]
    # the first min_hits frames of a video are output at once, as OC-SORT does
    assert sizes == [1, 1, 1, 1, 1]
    tracker = Tracker(TrackerConfig(min_hits=3))
    tracker.update(Detections.empty())
    tracker.update(Detections.empty())
    tracker.update(Detections.empty())
    sizes = [len(tracker.update(box)) for _ in range(4)]
    assert sizes == [0, 0, 1, 1]


def test_lost_track_dies_after_max_age() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, max_age=2, reid_recovery=False))
    box = Detections(_box(10.0)[None], np.array([0.9]), np.array([0]))
    assert tracker.update(box).ids.tolist() == [1]
    for _ in range(3):
        tracker.update(Detections.empty())
    assert tracker.update(box).ids.tolist() == [2]


def test_camera_warp_moves_tracks() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, use_ocr=False))
    box = _box(100.0)
    tracker.update(Detections(box[None], np.array([0.9]), np.array([0])))
    shift = np.array([[1.0, 0.0, 60.0], [0.0, 1.0, 0.0]])  # camera pans: scene moves +60 px
    moved = box + np.array([60, 0, 60, 0], np.float32)
    out = tracker.update(Detections(moved[None], np.array([0.9]), np.array([0])), warp=shift)
    assert out.ids.tolist() == [1]
    tracker = Tracker(TrackerConfig(min_hits=1, use_ocr=False))
    tracker.update(Detections(box[None], np.array([0.9]), np.array([0])))
    out = tracker.update(Detections(moved[None], np.array([0.9]), np.array([0])))
    assert out.ids.tolist() == [2]  # without the warp the jump is too far to match


def test_byte_round_keeps_track_on_weak_detection() -> None:
    strong = Detections(_box(10.0)[None], np.array([0.9]), np.array([0]))
    config = TrackerConfig()
    between = (config.low_threshold + config.det_threshold) / 2  # weak, but BYTE's to use
    weak = Detections(_box(12.0)[None], np.array([between]), np.array([0]))
    with_byte = Tracker(TrackerConfig(min_hits=1, use_byte=True))
    without = Tracker(TrackerConfig(min_hits=1, use_byte=False))
    for tracker in (with_byte, without):
        tracker.update(strong)
    assert with_byte.update(weak).ids.tolist() == [1]
    assert len(without.update(weak)) == 0


def test_score_normaliser_modes() -> None:
    s = np.array([-1.0, 0.0, 3.0, 3.0])
    assert np.allclose(score_normaliser(s, "minmax"), [0, 0.25, 1, 1])
    assert np.allclose(score_normaliser(s, "rank"), [0.125, 0.375, 0.75, 0.75])
    assert np.allclose(score_normaliser(s, "auto"), score_normaliser(s, "minmax"))
    probs = np.array([0.2, 0.9])
    assert np.allclose(score_normaliser(probs, "auto"), probs)
    with pytest.raises(ValueError, match="score_scale"):
        score_normaliser(s, "zscore")


def test_track_sequence_backfills_and_numbers_from_one() -> None:
    frames = []
    for f in range(1, 11):
        box = _box(10.0 + 3 * f)[None]
        frames.append((f, Detections(box, np.array([50.0]), np.array([0])), None))
    base = TrackerConfig(min_hits=3, interpolate_max_gap=0, min_track_length=0, smooth_sigma=0)
    table = track_sequence(frames[3:], base.replace(backfill=True))
    assert table.frame.tolist() == list(range(4, 11))  # early frames output retroactively
    table = track_sequence(frames[3:], base.replace(backfill=False, min_hits=5))
    assert table.frame.tolist()[0] == 4  # a video's first min_hits frames are output anyway
    assert set(table.id.tolist()) == {1}


def test_track_sequence_interpolates_gap() -> None:
    frames = []
    for f in (1, 2, 3, 6, 7):
        box = _box(10.0 + 4 * f)[None]
        frames.append((f, Detections(box, np.array([0.9]), np.array([0])), None))
    cfg = TrackerConfig(min_hits=1, interpolate_max_gap=5, min_track_length=0, smooth_sigma=0)
    table = track_sequence(frames, cfg)
    assert table.frame.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert table.det.tolist() == [0, 0, 0, -1, -1, 0, 0]
    assert np.allclose(table.xyxy[3], _box(26.0), atol=0.5)
