"""The depth-level cue: a track's filtered nearness and the cost of a jump from it (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.detections import Detections
from mot_cli.errors import MotCliError
from mot_cli.stages.depth import attach_levels
from mot_cli.tracking import TrackerConfig
from mot_cli.tracking.cues import (
    DetView,
    TrackView,
    ambiguous,
    depth_level_cue,
    depth_level_jump,
    overlapping,
)
from tests.test_tracking_tracker import _ONLINE, _crossing_ids

_LEVEL = {"A": 1.0, "B": 0.5}  # A walks nearer to the camera than B


def test_jump_is_relative_and_unknown_levels_cost_nothing() -> None:
    jump = depth_level_jump(np.array([1.0, np.nan, 2.0]), np.array([0.5, 1.0, -2.0]))
    expected = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 0.0], [0.75, 0.5, 1.0]])
    np.testing.assert_allclose(jump, expected)
    assert depth_level_jump(np.array([0.0]), np.array([0.0]))[0, 0] == 0.0


def test_cue_only_where_boxes_overlap() -> None:
    boxes = np.array([[0, 0, 10, 20], [5, 0, 15, 20], [100, 0, 110, 20]], float)
    assert overlapping(boxes).tolist() == [True, True, False]
    assert overlapping(np.zeros((0, 4))).shape == (0,)
    tracks = TrackView(boxes[:1], boxes[:1], boxes[:1], np.zeros((1, 2)),
                       depth_level=np.array([1.0]))  # fmt: skip
    dets = DetView(boxes, np.ones(3), depth_level=np.array([0.5, 1.0, 0.1]))
    np.testing.assert_allclose(depth_level_cue(tracks, dets), [[-0.5, 0.0, 0.0]])
    without = DetView(boxes, np.ones(3))
    assert not depth_level_cue(tracks, without).any()
    # one box where two tracks meet is ambiguous too
    two = np.array([[0, 0, 10, 20], [4, 0, 14, 20]], float)
    assert ambiguous(two, boxes[2:]).tolist() == [False]
    assert ambiguous(two, two[:1] + 2).tolist() == [True]
    assert ambiguous(two[:1], two[:1] + 2).tolist() == [False]


def test_detections_check_and_carry_their_levels() -> None:
    boxes = np.array([[0, 0, 10, 20], [5, 0, 15, 20]], float)
    with pytest.raises(ValueError, match="depth_level has 1 entries"):
        Detections(boxes, np.ones(2), np.zeros(2), depth_level=np.ones(1))
    dets = Detections(boxes, np.ones(2), np.zeros(2), depth_level=[0.3, 0.7])
    assert dets[np.array([1])].depth_level.tolist() == pytest.approx([0.7])


def test_levels_come_from_the_depth_cache_row_by_row() -> None:
    boxes = np.array([[0, 0, 10, 20], [5, 0, 15, 20]], float)
    dets = {1: Detections(boxes, np.ones(2), np.zeros(2)), 2: Detections.empty()}
    # rows out of order; det 0 has a mask level, det 1 only its box's
    table = pa.table({"frame": [1, 1], "det": [1, 0], "box_median": [0.4, 0.9],
                      "mask_median": [np.nan, 0.8]})  # fmt: skip
    out = attach_levels(dets, table)
    assert out[1].depth_level.tolist() == pytest.approx([0.8, 0.4])
    assert out[2].depth_level.tolist() == []
    with pytest.raises(MotCliError, match="depth cache has 1 rows for frame 1 but detections "
                       "has 2; re-run `mot-cli depth --force`"):  # fmt: skip
        attach_levels(dets, table.slice(0, 1))


def _who_got_which_id(config: TrackerConfig, levels: bool) -> dict[str, set[int]]:
    return _crossing_ids(config, lambda emb, who: {
        "depth_level": np.array([_LEVEL[w] for w in who]) if levels else None})


def test_levels_resolve_the_crossing_without_appearance() -> None:
    """Motion alone swaps A and B as they part; B's level (farther) keeps it off A's track."""
    motion_only = TrackerConfig(**_ONLINE, w_emb=0.0, appearance_margin=2.0, reid_recovery=False)
    assert _who_got_which_id(motion_only, levels=False) != {"A": {1}, "B": {2}}
    weighted = motion_only.replace(w_depth_level=1.0)
    assert _who_got_which_id(weighted, levels=True) == {"A": {1}, "B": {2}}
    # carried but unweighted, they change nothing
    assert _who_got_which_id(motion_only, levels=True) == _who_got_which_id(motion_only, False)


def test_track_with_the_cue_reads_the_depth_statistics(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    args = [small_video, "--det-txt", small_det_txt, "--no-reid", "--no-cmc",
            "--cache-dir", tmp_path]  # fmt: skip
    result = CliRunner().invoke(app, ["track", *map(str, args), "--set", "w_depth_level=1.0"])
    assert result.exit_code == 0, result.output
    stages = json.loads((tmp_path / "walk" / "manifest.json").read_text())["stages"]
    assert stages["tracks"]["upstream"]["depth"] == stages["depth"]["key"]
    assert stages["depth_maps"]["config"]["backend"] == "pseudo"  # weight-free, like --sd's
    assert "masks" not in stages  # the level needs no masks: the box's median stands in
    result = CliRunner().invoke(app, ["track", *map(str, args)])  # off again: not read
    assert result.exit_code == 0, result.output
    stages = json.loads((tmp_path / "walk" / "manifest.json").read_text())["stages"]
    assert "depth" not in stages["tracks"]["upstream"]


@pytest.mark.parametrize(
    ("setting", "fragment"), [("w_depth_level=-1", "w_depth_level"),
                              ("depth_level_memory=1.5", "depth_level_memory")]
)  # fmt: skip
def test_bad_depth_level_settings_are_one_line(
    tmp_path: Path, small_video: Path, small_det_txt: Path, setting: str, fragment: str
) -> None:
    from tests.test_cli import assert_one_line_error, track_public

    result = track_public(tmp_path, small_video, small_det_txt, "--set", setting)
    assert_one_line_error(result, "--set", fragment)
    assert not (tmp_path / "walk").exists()  # refused before any work
