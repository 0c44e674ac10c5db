"""The Python API (`import mot_cli`): track, open_run, evaluate, and the frame-by-frame Tracker.

The tracking run uses generated detections on the committed sample clip (test_outputs), so
it takes seconds; the CLI is run on the same input to show the two write the same tracks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mot_cli
from mot_cli.formats.mot import read_mot
from tests.conftest import DATASETS, SHARED, need
from tests.test_outputs import SAMPLE, invoke, track_sample


def test_public_names() -> None:
    for name in ("track", "open_run", "evaluate", "Run", "Tracker", "TrackerConfig"):
        assert name in mot_cli.__all__ and getattr(mot_cli, name) is not None


def test_track_in_process_equals_the_cli(tmp_path: Path) -> None:
    """Must-show 1: `mot_cli.track` on the sample clip writes what `mot-cli track` writes, and
    `open_run(...).tracks()` holds the rows of the CLI's MOT text."""
    (tmp_path / "cli").mkdir()
    cli_run = track_sample(tmp_path / "cli")  # --det-txt, --no-reid, --no-cmc, min_hits=1
    run = mot_cli.track(
        SAMPLE, cache_dir=tmp_path / "api", det_txt=tmp_path / "cli" / "det.txt",
        settings={"min_hits": 1}, reid=False, cmc=False, progress=False,
    )  # fmt: skip
    assert isinstance(run, mot_cli.Run) and run.path == tmp_path / "api" / "vtest_first80"
    cli_text = cli_run / "vtest_first80.txt"
    assert (run.path / "vtest_first80.txt").read_bytes() == cli_text.read_bytes()
    assert (
        run.manifest["stages"]["tracks"]["key"]
        == json.loads((cli_run / "manifest.json").read_text())["stages"]["tracks"]["key"]
    )

    tracks = mot_cli.open_run(tmp_path / "api" / "vtest_first80").tracks()
    rows = read_mot(cli_text, kind="tracker")
    assert tracks.num_rows == len(rows.frame) > 0
    columns = tracks.to_pydict()
    assert columns["frame"] == rows.frame.tolist() and columns["id"] == rows.id.tolist()
    xywh = np.stack([columns["x1"], columns["y1"],
                     np.subtract(columns["x2"], columns["x1"]),
                     np.subtract(columns["y2"], columns["y1"])], axis=1)  # fmt: skip
    assert np.allclose(xywh, rows.xywh, atol=0.01)
    assert run.detections().num_rows > 0
    number, image = next(iter(run.frames(5, 5)))
    assert number == 5 and image.shape == (576, 768, 3)


def test_masks_and_depth_maps_as_arrays(tmp_path: Path) -> None:
    from mot_cli.cache import RunDir
    from tests.synthetic_depth import HEIGHT, WIDTH, sequence, write_run

    frames = sequence(3)
    path = tmp_path / "runs" / "synthetic"
    RunDir(path).init("synthetic", {"fingerprint": "synthetic", "height": HEIGHT, "width": WIDTH})
    write_run(path, frames)
    run = mot_cli.open_run(str(path))  # a str, as a notebook passes it
    assert run.masks().num_rows == sum(len(f.boxes) for f in frames)
    assert np.array_equal(run.mask(2, 1), frames[1].masks[1])
    depth = run.depth_map(2)
    assert depth.shape == (HEIGHT, WIDTH) and depth.dtype == np.float32
    stored = frames[1].depth_map.astype(np.float16).astype(np.float32)
    assert np.allclose(depth[::2, ::2].mean(), stored.mean(), atol=0.05)
    with pytest.raises(mot_cli.MotCliError, match="no mask for det 99"):
        run.mask(2, 99)
    with pytest.raises(mot_cli.MotCliError, match="no finished tracks cache"):
        run.tracks()


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(mot_cli.MotCliError, match="not a run folder"):
        mot_cli.open_run(tmp_path)
    with pytest.raises(mot_cli.MotCliError, match=r"unknown option.*colour"):
        mot_cli.track(SAMPLE, cache_dir=tmp_path, colour="red")
    with pytest.raises(mot_cli.MotCliError, match="iou_treshold"):
        mot_cli.track(SAMPLE, cache_dir=tmp_path, settings={"iou_treshold": 0.2})
    assert not (tmp_path / "vtest_first80").exists()  # nothing written before the checks


def test_evaluate_equals_eval_json(tmp_path: Path) -> None:
    """Must-show 2: `mot_cli.evaluate` gives `mot-cli eval --json`'s numbers on the dev set."""
    gt = need(DATASETS / "MOT15-train")
    tracker = need(SHARED / "metrics-reference" / "MOT15-train" / "mixed_s0")
    result = invoke("eval", gt, tracker, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    ours = mot_cli.evaluate(gt, tracker, benchmark="MOT15")
    assert ours == json.loads((tmp_path / "r.json").read_text())
    assert set(ours["mixed_s0"]) >= {"COMBINED_SEQ", "TUD-Campus"}


def test_tracker_frame_by_frame_update_and_reset() -> None:
    tracker = mot_cli.Tracker(mot_cli.TrackerConfig(min_hits=1))
    box = np.array([[10, 10, 50, 90], [200, 10, 240, 90]], np.float32)
    score, cls = np.array([0.9, 0.9], np.float32), np.zeros(2, np.int32)
    seen = []
    for step in range(3):
        shift = np.array([[2 * step, 0, 2 * step, 0], [-2 * step, 0, -2 * step, 0]], np.float32)
        order = [1, 0] if step == 2 else [0, 1]  # the ids follow the boxes, not the rows
        tracks = tracker.update(mot_cli.Detections((box + shift)[order], score, cls))
        seen.append(dict(zip(tracks.det_index.tolist(), tracks.ids.tolist(), strict=True)))
    assert seen == [{0: 1, 1: 2}, {0: 1, 1: 2}, {1: 1, 0: 2}]
    tracker.reset()
    assert tracker.update(mot_cli.Detections(box[1:], score[:1], cls[:1])).ids.tolist() == [1]
