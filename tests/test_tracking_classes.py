"""Tracking several classes: a track keeps its class and never takes another class's box."""

from __future__ import annotations

import numpy as np

from mot_cli.detections import Detections
from mot_cli.tracking import TrackerConfig, track_sequence
from mot_cli.tracking.classes import track_by_class

PERSON, CAR = 0, 2


def _frames(handover: int = 8, total: int = 16) -> list:
    """A person walks right and leaves at `handover`; a car appears exactly where the person
    would be next. One class-blind tracker gives the car the person's id."""
    frames = []
    for number in range(1, total + 1):
        x = 10.0 + 6 * number
        box = np.array([[x, 50.0, x + 30, 130.0]], np.float32)
        cls = PERSON if number < handover else CAR
        frames.append((number, Detections(box, np.array([0.9], np.float32), [cls]), None))
    return frames


def test_one_class_blind_tracker_would_hand_the_person_id_to_the_car() -> None:
    """The scene is a real test: without classes one id covers both."""
    table = track_sequence(_frames(), TrackerConfig(min_hits=1, min_track_length=1))
    assert set(table.id.tolist()) == {1}


def test_a_track_never_matches_a_detection_of_another_class() -> None:
    result = track_by_class(_frames(), TrackerConfig(min_hits=1, min_track_length=1))
    table, cls = result.table, result.cls
    assert len(table) == 16 and len(cls) == 16
    by_id = {int(i): set(cls[table.id == i].tolist()) for i in np.unique(table.id)}
    assert by_id == {1: {PERSON}, 2: {CAR}}  # one class per id, numbered by first frame
    assert (table.frame[table.id == 1] < 8).all() and (table.frame[table.id == 2] >= 8).all()
    order = np.lexsort((table.id, table.frame))
    assert (order == np.arange(len(table))).all()  # sorted by frame, then id


def test_one_class_is_exactly_the_class_blind_tracker() -> None:
    frames = [(n, d.replace(cls=np.full(len(d), PERSON)), w) for n, d, w in _frames()]
    config = TrackerConfig(min_hits=1, min_track_length=1)
    alone, merged = track_sequence(frames, config), track_by_class(frames, config)
    for field in ("frame", "id", "xyxy", "score", "det"):
        assert np.array_equal(getattr(alone, field), getattr(merged.table, field))
    assert (merged.cls == PERSON).all()


def test_scores_are_normalised_once_over_every_class() -> None:
    """With score_scale=minmax, a class's scores are not stretched on their own range."""
    frames = []
    for number in range(1, 7):
        boxes = np.array([[10, 10, 40, 90], [200, 10, 260, 60]], np.float32) + 3 * number
        frames.append((number, Detections(boxes, [10.0, 5.0], [PERSON, CAR]), None))
    frames[0] = (1, Detections(frames[0][1].xyxy, [10.0, 0.0], [PERSON, CAR]), None)
    config = TrackerConfig(min_hits=1, min_track_length=1, score_scale="minmax",
                           det_threshold=0.3, low_threshold=0.1)
    result = track_by_class(frames, config)
    car = result.table.score[result.cls == CAR]
    assert len(car) == 5 and np.allclose(car, 0.5)  # 5 on the shared 0..10 range (alone: 1.0)
