"""The CLI as a user meets it: help, end-to-end tracking, cache reuse and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.formats.mot import read_mot
from tests.conftest import MODELS, MOT15, VIDEOS, need, write_video

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def track_public(cache_dir: Path, video: Path, det_txt: Path, *extra: object):
    """`mot-cli track` on imported detections, without the image stages (fast)."""
    args = ["--det-txt", det_txt, "--no-reid", "--no-cmc", "--cache-dir", cache_dir]
    return invoke("track", video, *args, *extra)


@pytest.mark.parametrize(
    "command",
    ["detect", "segment", "depth", "embed", "train-encoder", "track", "batch", "eval", "models",
     "render", "summary"],
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Examples" in result.output and f"mot-cli {command}" in result.output


def test_track_public_detections_writes_valid_mot(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    result = track_public(
        tmp_path / "runs", small_video, small_det_txt,
        "--set", "min_hits=1", "--set", "score_scale=minmax",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = tmp_path / "runs" / "walk" / "walk.txt"
    rows = read_mot(text, kind="tracker", seq_length=20)
    assert len(rows.frame) == 20 and set(rows.id) == {1}
    assert (tmp_path / "runs" / "walk" / "tracks.parquet").exists()
    assert f"→ {text}" in result.stdout and "tracks:" not in result.stderr


def test_track_yolo_video_and_replay_without_detecting_again(tmp_path: Path) -> None:
    need(MODELS / "yolo11n_int8_openvino_model")
    video = need(VIDEOS / "TUD-Campus.mp4")
    cache = tmp_path / "runs"
    args = [
        "track",
        video,
        "--detector",
        MODELS / "yolo11n_int8_openvino_model",
        "--no-reid",
        "--no-cmc",
        "--cache-dir",
        cache,
    ]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    rows = read_mot(cache / "TUD-Campus" / "TUD-Campus.txt", kind="tracker", seq_length=71)
    assert rows.frame.min() >= 1 and rows.frame.max() <= 71 and len(set(rows.id)) >= 6
    detections = cache / "TUD-Campus" / "detections.parquet"
    written = detections.stat().st_mtime_ns
    second = invoke(*args, "--set", "iou_threshold=0.2", "--set", "max_age=10")
    assert second.exit_code == 0, second.output
    assert "cache up to date" in second.stderr
    assert detections.stat().st_mtime_ns == written


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(invoke("track", tmp_path / "nope.mp4"), "nope.mp4", "no such file")


def test_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are notes, not frames\n" * 20)
    assert_one_line_error(invoke("detect", path), "notes.mp4", "not a video")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    path.touch()
    assert_one_line_error(invoke("detect", path), "empty.avi", "empty")


def test_zero_frame_video(tmp_path: Path) -> None:
    path = write_video(tmp_path / "zero.avi", 0)
    assert_one_line_error(invoke("track", path), "zero.avi", "no decodable frames")


def test_unknown_model_name(tmp_path: Path, small_video: Path) -> None:
    result = invoke("detect", small_video, "--detector", "yolo99z", "--cache-dir", tmp_path)
    assert_one_line_error(result, "yolo99z", "not found")


def test_bad_tracker_setting_lists_valid_ones(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    result = track_public(tmp_path, small_video, small_det_txt, "--set", "iou_treshold=1")
    assert_one_line_error(result, "iou_treshold", "iou_threshold")


def _cached_run(tmp_path: Path, video: Path, det_txt: Path) -> Path:
    result = invoke("detect", video, "--det-txt", det_txt, "--cache-dir", tmp_path)
    assert result.exit_code == 0, result.output
    return tmp_path / video.stem / "detections.parquet"


def test_truncated_cache(tmp_path: Path, small_video: Path, small_det_txt: Path) -> None:
    cache = _cached_run(tmp_path, small_video, small_det_txt)
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    result = track_public(tmp_path, small_video, small_det_txt)
    assert_one_line_error(result, "detections.parquet", "truncated")


def test_foreign_cache(tmp_path: Path, small_video: Path, small_det_txt: Path) -> None:
    cache = _cached_run(tmp_path, small_video, small_det_txt)
    other = _cached_run(tmp_path, write_video(tmp_path / "other.avi", 25), small_det_txt)
    cache.write_bytes(other.read_bytes())
    result = track_public(tmp_path, small_video, small_det_txt)
    assert_one_line_error(result, "detections.parquet", "another run, version or config")


def test_force_recomputes_a_damaged_cache(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    cache = _cached_run(tmp_path, small_video, small_det_txt)
    cache.write_bytes(b"garbage")
    result = track_public(tmp_path, small_video, small_det_txt, "--force")
    assert result.exit_code == 0, result.output


def test_public_detections_of_mot_folder_relative_det_txt(tmp_path: Path) -> None:
    sequence = need(MOT15 / "TUD-Campus")
    result = track_public(tmp_path, sequence, Path("det/det.txt"))
    assert result.exit_code == 0, result.output
    rows = read_mot(tmp_path / "TUD-Campus" / "TUD-Campus.txt", kind="tracker", seq_length=71)
    assert len(set(rows.id)) >= 5


def test_embed_without_detections_detects_first(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    """As `segment` and `depth` do, `embed` runs the detect stage when there is no cache."""
    need(MODELS / "osnet_x0_25_msmt17.pth")
    result = invoke("embed", small_video, "--cache-dir", tmp_path, "--det-txt", small_det_txt,
                    "--reid-backend", "torch")  # fmt: skip
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    detections = pq.read_table(tmp_path / "walk" / "detections.parquet")
    embeddings = pq.read_table(tmp_path / "walk" / "embeddings.parquet")
    assert detections.num_rows == embeddings.num_rows == 21
    assert "embeddings: 21 crops" in result.stdout


def test_embed_with_a_missing_det_txt_is_one_line(tmp_path: Path, small_video: Path) -> None:
    result = invoke("embed", small_video, "--cache-dir", tmp_path, "--det-txt",
                    tmp_path / "none.txt", "--reid-backend", "torch")  # fmt: skip
    assert_one_line_error(result, "none.txt")


def test_embed_after_detect_aligns_rows_and_is_reused(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    need(MODELS / "osnet_x0_25_msmt17.pth")
    cache = _cached_run(tmp_path, small_video, small_det_txt)
    result = invoke("embed", small_video, "--cache-dir", tmp_path, "--reid-backend", "torch")
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    embeddings = pq.read_table(tmp_path / "walk" / "embeddings.parquet")
    detections = pq.read_table(cache)
    assert embeddings.num_rows == detections.num_rows == 21
    assert embeddings.schema.field("embedding").type.list_size == 512
    again = invoke("embed", small_video, "--cache-dir", tmp_path, "--reid-backend", "torch")
    assert "cache up to date" in again.stderr


def test_embed_rejects_unknown_backend(tmp_path: Path, small_video: Path) -> None:
    result = invoke("embed", small_video, "--cache-dir", tmp_path, "--reid-backend", "tpu")
    assert_one_line_error(result, "--reid-backend", "tpu")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("5", "2", "before --start"), ("50", None, "the source has 20 frames")],
)
def test_bad_frame_range(
    tmp_path: Path,
    small_video: Path,
    small_det_txt: Path,
    start: str,
    end: str | None,
    message: str,
) -> None:
    extra = ["--start", start, *(["--end", end] if end else [])]
    result = track_public(tmp_path, small_video, small_det_txt, *extra)
    assert_one_line_error(result, message)


def test_frame_range_limits_the_output(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    result = track_public(
        tmp_path,
        small_video,
        small_det_txt,
        "--start",
        "4",
        "--end",
        "15",
        "--set",
        "min_hits=1",
        "--set",
        "score_scale=minmax",
    )
    assert result.exit_code == 0, result.output
    rows = read_mot(tmp_path / "walk" / "walk.txt", kind="tracker", seq_length=20)
    assert rows.frame.min() == 4 and rows.frame.max() == 15


def test_unknown_cmc_method_is_refused_before_any_work(tmp_path: Path, small_video: Path) -> None:
    result = invoke("track", small_video, "--cmc-method", "magic", "--cache-dir", tmp_path)
    assert_one_line_error(result, "--cmc-method", "magic")
    assert not (tmp_path / "walk").exists()


def test_camera_motion_stage_is_cached_and_used(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    args = ["--det-txt", small_det_txt, "--no-reid", "--cache-dir", tmp_path]
    first = invoke("track", small_video, *args, "--cmc-method", "ecc")
    assert first.exit_code == 0, first.output
    import json

    manifest = json.loads((tmp_path / "walk" / "manifest.json").read_text())
    assert manifest["stages"]["camera_motion"]["config"]["method"] == "ecc"
    assert "camera_motion" in manifest["stages"]["tracks"]["upstream"]
    second = invoke("track", small_video, *args, "--cmc-method", "ecc")
    assert second.stderr.count("cache up to date") == 2  # detections and camera motion
