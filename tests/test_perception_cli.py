"""`mot-cli segment` and `mot-cli depth` as a user meets them: offline defaults and bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from tests.conftest import MODELS, VIDEOS, need
from tests.test_cli import assert_one_line_error

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def assert_error_last(result, *fragments: str) -> None:
    """A bad file found only when loaded: progress lines first, then one `error:` line."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error:") and sum(x.startswith("error:") for x in lines) == 1
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


@pytest.mark.slow
def test_segment_then_depth_offline_with_nothing_but_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for weights in ("yolo11n_int8_openvino_model", "yolo11n-seg_int8_openvino_model",
                    "mobile_pydnet_pruned35.tflite"):  # fmt: skip
        need(MODELS / weights)
    video = need(VIDEOS / "TUD-Campus.mp4")
    monkeypatch.chdir(tmp_path)
    segmented = invoke("segment", video)
    assert segmented.exit_code == 0, segmented.output
    run = tmp_path / "runs" / "TUD-Campus"
    detections = pq.read_table(run / "detections.parquet")  # detected first: there was none
    masks = pq.read_table(run / "masks.parquet")
    assert masks.num_rows == detections.num_rows > 6 * 60
    assert set(masks.column("frame").to_pylist()) == set(range(1, 72))
    assert "masks:" in segmented.stdout and "frames/s" in segmented.stdout
    deep = invoke("depth", video)
    assert deep.exit_code == 0, deep.output
    assert "detections: cache" not in deep.stderr  # the detections cache was simply read
    maps, stats = pq.read_table(run / "depth_maps.parquet"), pq.read_table(run / "depth.parquet")
    assert maps.num_rows == 71 and stats.num_rows == detections.num_rows
    assert "with masks" in deep.stdout
    again = invoke("depth", video)
    assert again.stderr.count("cache up to date") == 2  # maps and statistics


def test_unknown_backend_lists_the_valid_ones(tmp_path: Path, small_video: Path) -> None:
    result = invoke("segment", small_video, "--backend", "magic", "--cache-dir", tmp_path)
    assert_one_line_error(result, "--backend", "magic", "yolo-seg", "grabcut")
    result = invoke("depth", small_video, "--backend", "lidar", "--cache-dir", tmp_path)
    assert_one_line_error(result, "--backend", "lidar", "pydnet", "pseudo")
    assert not (tmp_path / "walk").exists()  # refused before any work


def test_missing_weights_are_one_line(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    common = ["--det-txt", small_det_txt, "--cache-dir", tmp_path]
    result = invoke("segment", small_video, "--backend", "sam", *common)
    assert_one_line_error(result, "sam_vit_b_01ec64", "not found", "looked for")
    result = invoke("depth", small_video, "--backend", "depth-pro", *common)
    assert_one_line_error(result, "apple/DepthPro-hf", "not found", "download disabled")
    result = invoke("depth", small_video, "--model", tmp_path / "nope.tflite", *common)
    assert_one_line_error(result, "nope.tflite", "does not exist")


def test_not_a_model_file_is_one_line(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    fake = tmp_path / "fake_sam.pth"
    fake.write_bytes(b"not a checkpoint")
    common = ["--det-txt", small_det_txt, "--cache-dir", tmp_path]
    result = invoke("segment", small_video, "--backend", "sam", "--model", fake, *common)
    assert_error_last(result, "fake_sam.pth", "cannot read as a PyTorch checkpoint")
    fake_tflite = tmp_path / "fake.tflite"
    fake_tflite.write_bytes(b"not a model")
    result = invoke("depth", small_video, "--model", fake_tflite, *common)
    assert_error_last(result, "fake.tflite", "cannot load as a TFLite model")


def test_weight_free_backends_run_on_a_video_with_public_detections(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    common = ["--det-txt", small_det_txt, "--cache-dir", tmp_path]
    assert invoke("segment", small_video, "--backend", "grabcut", *common).exit_code == 0
    result = invoke("depth", small_video, "--backend", "pseudo", "--cache-dir", tmp_path)
    assert result.exit_code == 0, result.output
    stats = pq.read_table(tmp_path / "walk" / "depth.parquet")
    assert stats.num_rows == 21 and "with masks" in result.stdout
