"""Detect stage: public det.txt import, the real YOLO11n export, caching and kill-resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mot_cli.errors import MotCliError
from mot_cli.pipeline import Run, open_run, produce
from mot_cli.stages import detect
from mot_cli.stages.detect import DetectConfig
from mot_cli.video import FrameRange
from tests.conftest import MODELS, MOT15, REPO, VIDEOS, need

YOLO_DIR = MODELS / "yolo11n_int8_openvino_model"


def detections(run: Run, config: DetectConfig) -> pa.Table:
    """The detections cache for `config`, made through the stage graph as commands make it."""
    return produce(run, detect.STAGE, {detect.STAGE: config}).table(detect.STAGE)


def test_det_txt_import_keeps_scores_and_orders_rows(tmp_path: Path, small_video: Path) -> None:
    det_txt = tmp_path / "det.txt"
    det_txt.write_text(
        "2,-1,10,20,30,40,55.5,-1,-1,-1\n1,-1,1,2,3,4,-0.7,-1,-1,-1\n"
        "2,-1,50,20,10,10,1.5,-1,-1,-1\n"
    )
    run = open_run(small_video, tmp_path / "runs")
    table = detections(run, DetectConfig(det_txt=det_txt))
    assert table.column("frame").to_pylist() == [1, 2, 2]
    assert table.column("det").to_pylist() == [0, 0, 1]
    assert table.column("score").to_pylist() == pytest.approx([-0.7, 55.5, 1.5])
    assert table.column("x2").to_pylist() == pytest.approx([4, 40, 60])
    per_frame = detect.frame_detections(table)
    assert sorted(per_frame) == [1, 2] and len(per_frame[2]) == 2


def test_det_txt_beyond_the_video_is_refused(tmp_path: Path, small_video: Path) -> None:
    det_txt = tmp_path / "det.txt"
    det_txt.write_text("99,-1,10,20,30,40,1,-1,-1,-1\n")
    run = open_run(small_video, tmp_path / "runs")
    with pytest.raises(MotCliError, match=r"det\.txt:1: frame 99 is beyond the sequence length 20"):
        detections(replace(run, last=99), DetectConfig(det_txt=det_txt))


def test_public_detections_of_a_real_sequence(tmp_path: Path) -> None:
    sequence = need(MOT15 / "TUD-Campus")
    run = open_run(sequence, tmp_path)
    config = DetectConfig(det_txt=sequence / "det" / "det.txt")
    table = detections(run, config)
    lines = (sequence / "det" / "det.txt").read_text().split()
    assert table.num_rows == len(lines)
    assert max(table.column("score").to_pylist()) > 100  # ACF's own scale, not clipped


def test_yolo_finds_people_and_the_cache_is_reused(tmp_path: Path) -> None:
    need(YOLO_DIR)
    sequence = need(MOT15 / "TUD-Campus")
    run = open_run(sequence, tmp_path, frame_range=FrameRange(1, 4))
    config = DetectConfig(model="yolo11n", batch=2)
    table = detections(run, config)
    frames = table.column("frame").to_numpy()
    assert set(frames) == {1, 2, 3, 4}
    assert np.bincount(frames)[1:].min() >= 4  # TUD-Campus frame 1 shows six pedestrians
    assert set(table.column("cls").to_pylist()) == {0}
    first_write = run.run_dir.file("detections").stat().st_mtime_ns
    again = detections(run, config)
    assert again.equals(table)
    assert run.run_dir.file("detections").stat().st_mtime_ns == first_write
    changed = detections(run, DetectConfig(model="yolo11n", confidence=0.5))
    assert changed.num_rows < table.num_rows  # a stale cache is recomputed, not reused


def _detect_cmd(video: Path, cache: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mot_cli",
        "detect",
        str(video),
        "--cache-dir",
        str(cache),
        "--detector",
        "yolo11n",
        "--batch",
        "4",
        "--end",
        "60",
    ]


@pytest.mark.slow
def test_killed_detect_resumes_and_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    need(YOLO_DIR)
    video = need(VIDEOS / "TUD-Campus.mp4")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        _detect_cmd(video, killed),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    partial = killed / "TUD-Campus" / "detections.partial"
    deadline = time.time() + 120
    while not list(partial.glob("frames-*.parquet")) and time.time() < deadline:
        assert process.poll() is None, "detect finished before it could be killed"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    chunks = sorted(partial.glob("frames-*.parquet"))
    assert chunks and not (killed / "TUD-Campus" / "detections.parquet").exists()
    result = subprocess.run(
        _detect_cmd(video, killed), env=env, capture_output=True, text=True, check=True
    )
    assert "resuming at frame" in result.stderr
    clean = tmp_path / "clean"
    subprocess.run(_detect_cmd(video, clean), env=env, capture_output=True, check=True)
    resumed = pq.read_table(killed / "TUD-Campus" / "detections.parquet")
    uninterrupted = pq.read_table(clean / "TUD-Campus" / "detections.parquet")
    assert resumed.num_rows > 300  # five or six people in each of the 60 frames
    assert resumed.replace_schema_metadata(None).equals(uninterrupted.replace_schema_metadata(None))


def test_unknown_class_name_is_refused_with_examples() -> None:
    need(YOLO_DIR)
    with pytest.raises(MotCliError, match=r"unknown class 'unicorn'.*person"):
        detect.YoloDetector(YOLO_DIR, DetectConfig(classes=("unicorn",)))
    by_id = detect.YoloDetector(YOLO_DIR, DetectConfig(classes=("0", "car")))
    assert by_id.class_ids == [0, 2]
