"""The depth×mask cue S_sd and the mask cues (IoM, occlusion) inside the tracker."""

from __future__ import annotations

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.maskgrid import MaskGrid
from mot_cli.tracking import Tracker, TrackerConfig, track_sequence
from mot_cli.tracking.cues import DetView, TrackView, get_cue, iom_matrix
from tests.test_tracking_tracker import _ONLINE, _crossing_ids


def _who_got_which_id(config: TrackerConfig, sd: bool) -> dict[str, set[int]]:
    return _crossing_ids(config, lambda emb, who: {"sd_embedding": emb if sd else None})


def test_sd_embeddings_on_detections_resolve_the_crossing_without_appearance() -> None:
    motion_only = TrackerConfig(**_ONLINE, w_emb=0.0, appearance_margin=2.0, reid_recovery=False)
    assert _who_got_which_id(motion_only, sd=False) != {"A": {1}, "B": {2}}
    assert _who_got_which_id(motion_only.replace(w_sd=0.5), sd=True) == {"A": {1}, "B": {2}}
    # carried but unweighted, they change nothing
    assert _who_got_which_id(motion_only, sd=True) == _who_got_which_id(motion_only, sd=False)


def _random_frames(masks: bool, sd: bool, seed: int = 0) -> list:
    """Drifting boxes with random masks and sd embeddings (40 frames, up to 6 people)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 200, (6, 2))
    speed = rng.uniform(-3, 3, (6, 2))
    shape = (320, 320)
    frames = []
    for number in range(1, 41):
        present = rng.random(6) < 0.85
        xy = start[present] + number * speed[present] + rng.normal(0, 1, (present.sum(), 2))
        boxes = np.hstack([xy, xy + np.array([30.0, 80.0])])
        full = []
        for box in boxes:
            mask = np.zeros(shape, bool)
            x1, y1 = int(max(box[0], 0)) + 5, int(max(box[1], 0)) + 5
            mask[y1 : y1 + 60, x1 : x1 + 18] = True
            full.append(mask)
        score = rng.uniform(0.3, 1.0, len(boxes))
        sd_values = _unit(rng.normal(size=(len(boxes), 8)))  # drawn either way: same frames
        dets = Detections(
            boxes,
            score,
            np.zeros(len(boxes)),
            sd_embedding=sd_values if sd else None,
            masks=MaskGrid.from_masks(full, boxes, cell=2) if masks else None,
        )
        frames.append((number, dets, None))
    return frames


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("frame", "id", "xyxy", "score", "det")
    )


def test_with_the_switches_off_masks_and_sd_change_nothing() -> None:
    base = TrackerConfig(iou_threshold=0.05)  # a loose gate: the cues decide between boxes
    plain = track_sequence(_random_frames(masks=False, sd=False), base)
    carried = track_sequence(_random_frames(masks=True, sd=True), base)
    assert len(plain) > 100
    assert _same(plain, carried)
    switched = track_sequence(_random_frames(masks=True, sd=True), base.replace(w_sd=3.0))
    assert not _same(plain, switched)  # random sd vectors, weighted, do change matches


def _side_by_side(frame: int, swapped_masks: bool) -> Detections:
    """A (left) and B (right) in overlapping boxes, each filling one side of their box."""
    shape = (120, 120)
    if frame <= 3:
        boxes = np.array([[0.0, 0, 40, 100], [10, 0, 50, 100]])
        sides = [(0, 20), (30, 50)]
    else:  # one box for both, ambiguous by IoU; the masks still say who is where
        boxes = np.array([[5.0, 0, 45, 100], [5, 0, 45, 100]])
        sides = [(30, 45), (5, 20)] if swapped_masks else [(5, 20), (30, 45)]
    full = []
    for x1, x2 in sides:
        mask = np.zeros(shape, bool)
        mask[0:100, x1:x2] = True
        full.append(mask)
    return Detections(boxes, np.full(2, 0.9), np.zeros(2),
                      masks=MaskGrid.from_masks(full, boxes, cell=1))


@pytest.mark.parametrize("swapped", [False, True])
def test_mask_iom_matches_silhouettes_where_boxes_tie(swapped: bool) -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, w_iom=1.0, w_angle=0.0))
    for frame in range(1, 4):
        out = tracker.update(_side_by_side(frame, False))
    first = dict(zip(out.det_index.tolist(), out.ids.tolist(), strict=True))
    out = tracker.update(_side_by_side(4, swapped))
    now = dict(zip(out.det_index.tolist(), out.ids.tolist(), strict=True))
    expected = {0: first[1], 1: first[0]} if swapped else first
    assert now == expected


def test_without_masks_the_tie_is_broken_by_order_not_silhouettes() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, w_iom=0.0, w_angle=0.0))
    for frame in range(1, 4):
        first = tracker.update(_side_by_side(frame, False))
    out = tracker.update(_side_by_side(4, True))
    assert out.ids.tolist() == first.ids.tolist()  # det 0 keeps A's id though it shows B


def test_mask_iom_cue_falls_back_to_box_iom_without_masks() -> None:
    boxes_t = np.array([[0.0, 0, 10, 10], [20, 20, 40, 40]])
    boxes_d = np.array([[2.0, 2, 6, 6], [0, 0, 30, 30]])
    tracks = TrackView(boxes_t, boxes_t, boxes_t, np.zeros((2, 2)))
    dets = DetView(boxes_d, np.ones(2))
    assert np.allclose(get_cue("mask_iom")(tracks, dets), iom_matrix(boxes_t, boxes_d))
    masked = DetView(boxes_d, np.ones(2), masks=MaskGrid.from_boxes(boxes_d, 1))
    tracks = TrackView(boxes_t, boxes_t, boxes_t, np.zeros((2, 2)),
                       masks=MaskGrid.from_boxes(boxes_t, 1))
    assert np.allclose(get_cue("mask_iom")(tracks, masked), iom_matrix(boxes_t, boxes_d))


def test_mask_occlusion_looks_at_silhouettes_inside_the_box() -> None:
    # two boxes overlapping by 60 % of each: by boxes both are occluded; by masks only the
    # left one, whose box holds half of the right person's silhouette (columns 20..40 of 40)
    boxes = np.array([[0.0, 0, 40, 100], [16, 0, 56, 100]])
    shape = (120, 120)
    left = np.zeros(shape, bool)
    left[:100, 2:12] = True
    right = np.zeros(shape, bool)
    right[:100, 20:56] = True
    masks = MaskGrid.from_masks([left, right], boxes, cell=1)
    score = np.array([0.9, 0.9])
    by_box = Tracker(TrackerConfig())._occluded(boxes, score, masks)
    by_mask = Tracker(TrackerConfig(mask_occlusion=True))._occluded(boxes, score, masks)
    assert by_box.tolist() == [True, True]
    assert by_mask.tolist() == [True, False]
    lenient = TrackerConfig(mask_occlusion=True, mask_occlusion_threshold=0.6)
    assert Tracker(lenient)._occluded(boxes, score, masks).tolist() == [False, False]


def test_new_settings_are_validated_and_default_off() -> None:
    config = TrackerConfig()
    assert (config.w_iom, config.mask_occlusion) == (0.0, False)
    with pytest.raises(ValueError, match="w_iom"):
        TrackerConfig(w_iom=-1.0)
    with pytest.raises(ValueError, match="mask_occlusion_threshold"):
        TrackerConfig(mask_occlusion_threshold=1.5)
    assert TrackerConfig().with_overrides(["mask_occlusion=on"]).mask_occlusion is True


def test_detections_carry_sd_embeddings_and_masks_through_selection() -> None:
    boxes = np.array([[0.0, 0, 10, 10], [5, 5, 20, 20], [30, 30, 40, 50]])
    dets = Detections(boxes, np.ones(3), np.zeros(3), sd_embedding=np.eye(3),
                      masks=MaskGrid.from_boxes(boxes, 1))
    picked = dets[np.array([False, True, True])]
    assert np.array_equal(picked.sd_embedding, np.eye(3)[1:])
    assert picked.masks.origin.tolist() == [[5, 5], [30, 30]]
    with pytest.raises(ValueError, match="sd_embedding"):
        Detections(boxes, np.ones(3), np.zeros(3), sd_embedding=np.eye(2))
    with pytest.raises(ValueError, match="masks"):
        Detections(boxes, np.ones(3), np.zeros(3), masks=MaskGrid.from_boxes(boxes[:2], 1))
