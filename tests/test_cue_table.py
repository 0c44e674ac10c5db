"""The cue table (issue 20, Must-show 3): a cue is one function plus one row, and the tracker's
cost, the track stage's plan and the recipes all read that table; the tracker's per-track
columns cannot get out of step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.recipes import TrackRequest, track_configs
from mot_cli.schema import DEPTH_MAPS_STAGE, DEPTH_STAGE, MASKS_STAGE, SD_EMBEDDINGS_STAGE
from mot_cli.stages import track as track_stage
from mot_cli.tracking import CUE_TABLE, CueRow, Tracker, TrackerConfig
from mot_cli.tracking.cues import DetView, TrackView, needed_caches
from mot_cli.tracking.tracker import _Tracks


def height_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Toy cue: how alike a track's and a detection's box heights are, in (0, 1]."""
    track_h = tracks.xyxy[:, 3] - tracks.xyxy[:, 1]
    det_h = dets.xyxy[:, 3] - dets.xyxy[:, 1]
    return np.minimum(track_h[:, None], det_h[None]) / np.maximum(track_h[:, None], det_h[None])


def _frames() -> list[Detections]:
    """A tall person (A) and a short one (B) beside each other; in frame 2 they swap sides,
    so IoU with the prediction prefers A -> the short box (0.5 vs 0.43) and height A -> the
    tall one."""
    first = np.array([[0, 0, 10, 40], [4, 0, 14, 20]], np.float32)  # A tall, B short
    second = np.array([[4, 0, 14, 40], [0, 0, 10, 20]], np.float32)  # tall, short
    return [Detections(boxes, np.full(2, 0.9), np.zeros(2)) for boxes in (first, second)]


def _match_of_first_id(tracker: Tracker) -> int:
    """The detection the track confirmed first (A) takes in frame 2."""
    first, second = (tracker.update(dets) for dets in _frames())
    a = int(first.ids[first.det_index == 0][0])
    return int(second.det_index[second.ids == a][0])


def test_a_toy_cue_is_one_function_and_one_row_and_changes_a_match() -> None:
    config = TrackerConfig(min_hits=1)
    assert _match_of_first_id(Tracker(config)) == 1  # by IoU: the short box
    row = CueRow("height", height_cue, "w_height", default=1.0)
    assert _match_of_first_id(Tracker(config, cues=(*CUE_TABLE, row))) == 0  # the tall one
    off = dataclasses.replace(row, default=0.0)  # a row whose weight is 0 adds nothing
    assert _match_of_first_id(Tracker(config, cues=(*CUE_TABLE, off))) == 1


def test_the_weight_is_the_config_field_the_row_names() -> None:
    row = CueRow("iou_again", height_cue, "w_angle", default=5.0)
    assert row.weight_in(TrackerConfig(w_angle=0.25)) == 0.25  # the field wins over default
    assert CueRow("x", height_cue, "w_unknown", default=0.5).weight_in(TrackerConfig()) == 0.5
    fields = {f.name for f in dataclasses.fields(TrackerConfig)}
    assert {row.weight for row in CUE_TABLE} <= fields  # no built-in row falls to a default


def test_a_row_that_reads_a_cache_puts_it_in_the_plan() -> None:
    row = CueRow("height", height_cue, "w_height", needs=("heights",), default=1.0)
    assert needed_caches(TrackerConfig(), (*CUE_TABLE, row)) == {
        "heights": "w_height > 0 (height) needs heights"
    }
    assert needed_caches(TrackerConfig()) == {}  # the defaults read no cue cache
    both = needed_caches(TrackerConfig(w_sd=1.0, w_iom=0.5, mask_occlusion=True))
    assert set(both) == {SD_EMBEDDINGS_STAGE, MASKS_STAGE}
    assert "w_iom > 0 (mask_iom) and mask_occlusion need masks" == both[MASKS_STAGE]
    # the track stage's plan and the recipes decide from the same table
    config = TrackerConfig(w_iom=0.5)
    assert track_stage.cue_caches(config) == needed_caches(config)
    assert set(track_stage.CUE_CACHES) == {SD_EMBEDDINGS_STAGE, MASKS_STAGE, DEPTH_STAGE}
    from mot_cli.pipeline import STAGES

    (tracks_row,) = (stage for stage in STAGES if stage.name == track_stage.STAGE)
    assert set(track_stage.CUE_CACHES) <= set(tracks_row.cues)  # the graph walks them too


def test_recipes_make_the_stages_the_table_needs(tmp_path) -> None:
    source = tmp_path / "video.mp4"
    plain, _ = track_configs(TrackRequest(), source)
    masks, _ = track_configs(TrackRequest(settings=("w_iom=0.5",)), source)
    sd, _ = track_configs(TrackRequest(sd=True), source)
    assert MASKS_STAGE not in plain and SD_EMBEDDINGS_STAGE not in plain
    assert MASKS_STAGE in masks and SD_EMBEDDINGS_STAGE not in masks
    assert {MASKS_STAGE, DEPTH_MAPS_STAGE, SD_EMBEDDINGS_STAGE} <= set(sd)


def test_track_columns_cannot_get_out_of_step() -> None:
    tracks = _Tracks.empty(delta_t=3).add(2, key=np.arange(2), score=np.array([0.7, 0.8]))
    assert len(tracks) == 2
    assert tracks.history.shape == (2, 3, 4) and np.isnan(tracks.history).all()
    assert tracks.hits.tolist() == [1, 1] and tracks.id.tolist() == [0, 0]
    assert tracks.mask_bits.tolist() == [None, None]
    kept = tracks.select(np.array([False, True]))
    assert {len(getattr(kept, f.name)) for f in dataclasses.fields(kept)} == {1}
    assert kept.score.tolist() == [0.8]
    with pytest.raises(ValueError, match="mean has 3 rows"):
        tracks.mean = np.zeros((3, 8))
    with pytest.raises(ValueError, match="given 3 rows for 2"):
        tracks.add(2, key=np.arange(3))
    with pytest.raises(ValueError, match="no track columns"):
        tracks.add(1, colour=np.zeros(1))


def test_track_sequence_takes_the_cue_table_too() -> None:
    from mot_cli.tracking import track_sequence

    frames = [(number, dets, None) for number, dets in enumerate(_frames() * 3, start=1)]
    config = TrackerConfig(min_hits=1, interpolate_max_gap=0, smooth_sigma=0.0,
                           min_track_length=0)  # fmt: skip
    plain = track_sequence(frames, config)
    row = CueRow("height", height_cue, "w_height", default=1.0)
    toy = track_sequence(frames, config, cues=(*CUE_TABLE, row))
    assert len(plain) == len(toy) == 12
    # frame 2: by IoU id 1 follows the short box (det 1); with the height cue, the tall one
    assert plain.det[(plain.frame == 2) & (plain.id == 1)].tolist() == [1]
    assert toy.det[(toy.frame == 2) & (toy.id == 1)].tolist() == [0]
