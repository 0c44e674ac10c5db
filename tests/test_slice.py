"""Sliced detection: SAHI's tile grid, seam-aware merging, `auto`'s rule, bad values, real video."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.errors import MotCliError
from mot_cli.pipeline import open_run, produce
from mot_cli.slicing import (
    auto_slicing,
    auto_tile,
    cut_edges,
    fixed_slicing,
    merge_boxes,
    merge_windows,
    parse_slice,
    sample_frames,
    tile_windows,
)
from mot_cli.stages import detect
from mot_cli.stages.detect import DetectConfig
from mot_cli.video import FrameRange
from tests.conftest import MODELS, REPO, VIDEOS, need

YOLO_DIR = MODELS / "yolo11n_int8_openvino_model"
runner = CliRunner()


@pytest.mark.parametrize(
    ("frame", "tile", "overlap"),
    [
        ((1920, 1080), (1080, 1080), 0.2),
        ((1920, 1080), (960, 540), 0.2),
        ((1920, 1080), (640, 640), 0.25),
        ((1224, 370), (640, 370), 0.2),
        ((640, 480), (256, 200), 0.0),
        ((641, 479), (320, 240), 0.5),
        ((3840, 2160), (1000, 700), 0.1),
        ((500, 500), (500, 500), 0.2),
    ],
)
def test_tiles_are_sahis_grid(frame, tile, overlap) -> None:
    slicing = pytest.importorskip("sahi.slicing")
    expected = slicing.get_slice_bboxes(
        image_height=frame[1], image_width=frame[0], slice_height=tile[1], slice_width=tile[0],
        overlap_height_ratio=overlap, overlap_width_ratio=overlap,
    )  # fmt: skip
    windows = tile_windows(frame, tile, overlap)
    assert [list(w) for w in windows] == expected
    covered = np.zeros(frame[::-1], bool)
    for x1, y1, x2, y2 in windows:
        assert (x2 - x1, y2 - y1) == tile
        covered[y1:y2, x1:x2] = True
    assert covered.all()


def test_two_square_tiles_cover_1080p_without_a_whole_frame_pass() -> None:
    small = np.full(20, 150.0)  # 50 px at 640: small
    decided = auto_slicing((1920, 1080), 640, 0.2, small)
    assert decided.windows == ((0, 0, 1080, 1080), (840, 0, 1920, 1080))
    assert not decided.full_frame and "1.78x" in decided.reason
    tall = np.full(20, 600.0)  # 200 px at 640: the whole frame is enough
    assert not auto_slicing((1920, 1080), 640, 0.2, tall).sliced
    assert auto_slicing((1920, 1080), 640, 0.2, np.zeros(0)).sliced  # nobody seen: maybe tiny
    for frame in ((640, 480), (768, 576)):  # tiles would hardly enlarge anyone
        decided = auto_slicing(frame, 640, 0.2, small)
        assert not decided.sliced and "enlarge" in decided.reason
    # KITTI's 1224x370 would get two 680x370 tiles, 1.8x larger, but its whole frame already
    # keeps 52 % of its size at 640: no slicing, decided without samples
    assert auto_tile((1224, 370), 640, 0.2) == ((680, 370), pytest.approx(1.8, abs=0.01))
    kitti = auto_slicing((1224, 370), 640, 0.2, None)
    assert not kitti.sliced and "52% of its size" in kitti.reason
    assert auto_slicing((1224, 370), 640, 0.2, np.full(5, 100.0)) == kitti
    assert auto_slicing((1920, 1080), 640, 0.2, None).reason == "not sampled"
    assert len(auto_slicing((4000, 400), 640, 0.3, small).windows) == 2
    assert sample_frames(1, 900) == [1, 44, 86, 129, 172, 215, 257, 300]
    assert sample_frames(5, 6) == [5, 6]


def test_fixed_tiles_add_the_whole_frame_only_when_they_are_shorter_than_it() -> None:
    assert fixed_slicing((1920, 1080), (960, 540), 0.2).full_frame
    assert not fixed_slicing((1920, 1080), (1080, 1080), 0.2).full_frame
    assert not fixed_slicing((640, 480), (640, 480), 0.2).sliced  # one tile: the frame itself


def test_a_person_cut_by_a_seam_comes_out_whole() -> None:
    frame = (1920, 1080)
    left, right = (0, 0, 1080, 1080), (840, 0, 1920, 1080)
    # A 300 px wide person at x 900-1200: cut by the left tile's right edge, whole in the right.
    halves = np.array([[900, 200, 1079, 800], [900, 200, 1200, 800.0]])
    cut = np.r_[cut_edges(halves[:1], left, frame), cut_edges(halves[1:], right, frame)]
    assert cut.tolist() == [True, False]
    kept, boxes, groups = merge_boxes(halves, np.array([0.9, 0.6]), np.zeros(2), cut)
    assert kept.tolist() == [0]  # the higher-scored cut half leads ...
    assert boxes.tolist() == [[900, 200, 1200, 800]]  # ... but the whole person comes out
    assert groups[0].tolist() == [0, 1]
    # A person wider than the overlap is cut in both tiles: the union of the two halves.
    both = np.array([[800, 200, 1079, 800], [841, 200, 1150, 800.0]])
    kept, boxes, _ = merge_boxes(both, np.array([0.8, 0.7]), np.zeros(2), np.array([True, True]))
    assert boxes.tolist() == [[800, 200, 1150, 800]]


def test_windows_merge_as_detect_merges_them() -> None:
    # the scene above, given per window: the seams are found, the person comes out whole with
    # the cut half's score, and a second person seen only in the right tile stays
    frame = (1920, 1080)
    left, right = (0, 0, 1080, 1080), (840, 0, 1920, 1080)
    parts = [
        (left, np.array([[900, 200, 1079, 800.0]]), np.array([0.9]), np.array([0])),
        (right, np.array([[900, 200, 1200, 800], [1500, 100, 1600, 400.0]]),
         np.array([0.6, 0.7]), np.array([0, 0])),
    ]  # fmt: skip
    boxes, score, cls, groups = merge_windows(parts, frame)
    assert boxes.tolist() == [[900, 200, 1200, 800], [1500, 100, 1600, 400]]
    assert score.tolist() == pytest.approx([0.9, 0.7]) and cls.tolist() == [0, 0]
    assert [g.tolist() for g in groups] == [[0, 1], [2]]


def test_people_of_a_crowd_are_not_merged_and_duplicates_are() -> None:
    # Uncut: one person half behind another (intersection covers 58 % of the smaller box,
    # IoU 0.41) stays two people, where SAHI's merging by intersection-over-smaller joins them.
    crowd = np.array([[100, 100, 200, 400], [140, 110, 240, 410.0]])
    kept, boxes, _ = merge_boxes(crowd, np.array([0.9, 0.8]), np.zeros(2), np.zeros(2, bool))
    assert kept.tolist() == [0, 1] and boxes.tolist() == crowd.tolist()
    # The same person seen by two tiles: one box, the higher score's.
    same = np.array([[100, 100, 200, 400], [102, 98, 203, 396.0]])
    kept, boxes, _ = merge_boxes(same, np.array([0.7, 0.9]), np.zeros(2), np.zeros(2, bool))
    assert kept.tolist() == [1] and boxes.tolist() == [[102, 98, 203, 396]]
    # Different classes never merge.
    kept, _, _ = merge_boxes(same, np.array([0.7, 0.9]), np.array([0, 2]), np.zeros(2, bool))
    assert sorted(kept.tolist()) == [0, 1]
    assert len(merge_boxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0))[0]) == 0


def test_merging_agrees_with_sahi_at_seams_and_differs_in_crowds() -> None:
    combine = pytest.importorskip("sahi.postprocess.combine")

    def sahi_groups(xyxy: np.ndarray, score: np.ndarray) -> list[list[int]]:
        rows = np.c_[xyxy, score, np.zeros(len(score))]
        found = combine.greedy_nmm(rows, match_metric="IOS", match_threshold=0.5)
        return sorted(sorted([k, *v]) for k, v in found.items())

    def ours(xyxy: np.ndarray, score: np.ndarray, cut: np.ndarray) -> list[list[int]]:
        _, _, groups = merge_boxes(xyxy, score, np.zeros(len(score)), cut)
        return sorted(sorted(g.tolist()) for g in groups)

    seam = np.array([[900, 200, 1079, 800], [900, 200, 1200, 800], [1500, 300, 1560, 450.0]])
    score = np.array([0.9, 0.6, 0.5])
    cut = np.array([True, False, False])
    assert ours(seam, score, cut) == sahi_groups(seam, score) == [[0, 1], [2]]
    crowd = np.array([[100, 100, 200, 400], [140, 110, 240, 410.0]])
    assert sahi_groups(crowd, np.array([0.9, 0.8])) == [[0, 1]]  # SAHI: one person
    assert ours(crowd, np.array([0.9, 0.8]), np.zeros(2, bool)) == [[0], [1]]


def test_edges_of_the_frame_do_not_cut() -> None:
    frame = (1920, 1080)
    boxes = np.array([[0, 0, 100, 1080], [1070, 10, 1080, 20], [500, 500, 600, 600.0]])
    assert cut_edges(boxes, (0, 0, 1080, 1080), frame).tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x0", "--slice 0x0: tiles must be at least 32x32 pixels"),
        ("960", "--slice '960': expected auto, off or WIDTHxHEIGHT"),
        ("big", "--slice 'big': expected auto, off or WIDTHxHEIGHT"),
    ],
)
def test_bad_slice_values_are_refused(text: str, message: str) -> None:
    with pytest.raises(MotCliError, match=message):
        parse_slice(text)
    with pytest.raises(MotCliError, match=message):
        DetectConfig(slice=text)


def test_bad_overlaps_and_tiles_larger_than_the_frame_are_refused() -> None:
    for overlap in (1.0, 1.5, -0.1):
        with pytest.raises(MotCliError, match=r"--slice-overlap must be in \[0, 1\)"):
            DetectConfig(slice="960x540", slice_overlap=overlap)
    with pytest.raises(MotCliError, match="tiles are larger than the 1920x1080 frame"):
        tile_windows((1920, 1080), (2000, 500), 0.2)
    assert parse_slice(" 960X540 ").size == (960, 540)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--slice", "0x0"), "--slice 0x0: tiles must be at least 32x32 pixels"),
        (("--slice", "320x240"), "--slice 320x240: tiles are larger than the 160x120 frame"),
        (("--slice", "64x64", "--slice-overlap", "1"), "--slice-overlap must be in [0, 1)"),
    ],
)
@pytest.mark.parametrize("command", ["detect", "track"])
def test_bad_slicing_is_one_line_error(
    tmp_path: Path, small_video: Path, command: str, args: tuple[str, ...], fragment: str
) -> None:
    extra = ("--no-reid", "--no-cmc") if command == "track" else ()
    result = runner.invoke(
        app, [command, str(small_video), "--cache-dir", str(tmp_path / "runs"), *args, *extra]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert not list((tmp_path / "runs").rglob("*.parquet"))


def test_auto_slices_1080p_and_records_its_decision(tmp_path: Path) -> None:
    need(YOLO_DIR)
    video = need(VIDEOS / "MOT16-11.mp4")
    run = open_run(video, tmp_path / "auto", frame_range=FrameRange(1, 2))
    sliced = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(slice="auto", batch=2)})
    entry = sliced.entry(detect.STAGE)
    assert entry["config"]["slice"] == "auto"
    assert entry["slicing"]["windows"] == [[0, 0, 1080, 1080], [840, 0, 1920, 1080]]
    assert "under 64 px" in entry["slicing"]["reason"]
    plain_run = open_run(video, tmp_path / "off", frame_range=FrameRange(1, 2))
    plain = produce(plain_run, detect.STAGE, {detect.STAGE: DetectConfig(batch=2)})
    assert plain.entry(detect.STAGE)["key"] != entry["key"]
    assert plain.entry(detect.STAGE)["slicing"]["windows"] == []
    found, whole = sliced.table(detect.STAGE), plain.table(detect.STAGE)
    assert found.num_rows > whole.num_rows  # small people the whole frame misses
    x2 = found.column("x2").to_numpy()
    assert x2.max() > 1100 and found.column("x1").to_numpy().min() < 840  # both tiles


def test_auto_keeps_whole_frames_on_640x480(tmp_path: Path) -> None:
    video = need(VIDEOS / "TUD-Campus.mp4")
    need(YOLO_DIR)
    run = open_run(video, tmp_path, frame_range=FrameRange(1, 2))
    entry = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(slice="auto", batch=2)}).entry(
        detect.STAGE
    )
    assert entry["slicing"]["windows"] == [] and "enlarge" in entry["slicing"]["reason"]
    # settled without the model, so `auto` keeps `off`'s key and reuses its cache
    plain = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(batch=2)})
    assert plain.entry(detect.STAGE)["key"] == entry["key"]
    assert detect.STAGE not in plain.ran


def _detect_cmd(video: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "mot_cli", "detect", str(video), "--cache-dir", str(cache),
            "--slice", "680x370", "--batch", "4", "--end", "48"]  # fmt: skip


@pytest.mark.slow
def test_killed_sliced_detect_resumes_and_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    need(YOLO_DIR)
    video = need(VIDEOS / "KITTI-17.mp4")  # 1224x370: two 680x370 tiles
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        _detect_cmd(video, killed), env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    partial = killed / "KITTI-17" / "detections.partial"
    deadline = time.time() + 300
    while not list(partial.glob("frames-*.parquet")) and time.time() < deadline:
        assert process.poll() is None, "detect finished before it could be killed"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert list(partial.glob("frames-*.parquet"))
    result = subprocess.run(
        _detect_cmd(video, killed), env=env, capture_output=True, text=True, check=True
    )
    assert "resuming at frame" in result.stderr
    clean = tmp_path / "clean"
    subprocess.run(_detect_cmd(video, clean), env=env, capture_output=True, check=True)
    resumed = pq.read_table(killed / "KITTI-17" / "detections.parquet")
    uninterrupted = pq.read_table(clean / "KITTI-17" / "detections.parquet")
    assert resumed.num_rows > 48
    assert resumed.replace_schema_metadata(None).equals(uninterrupted.replace_schema_metadata(None))
    manifest = json.loads((killed / "KITTI-17" / "manifest.json").read_text())
    assert manifest["stages"]["detections"]["slicing"]["windows"] == [
        [0, 0, 680, 370], [544, 0, 1224, 370]
    ]


def test_a_segmentation_detector_keeps_frame_masks_when_slicing() -> None:
    seg = need(MODELS / "yolo11n-seg_int8_openvino_model")
    video = need(VIDEOS / "KITTI-17.mp4")
    from mot_cli.video import open_source

    source = open_source(video)
    (_, image), = source.frames(1, 1)
    detector = detect.YoloDetector(seg, DetectConfig(model=str(seg), slice="680x370"))
    detector.slicing = detect.planned_slicing(detector.config, source)
    assert len(detector.slicing.windows) == 2 and not detector.slicing.full_frame
    ((found, masks),) = detector.detect_with_masks([image])
    assert len(found) >= 2 and len(masks.masks) == len(found)
    for box, mask in zip(found.xyxy, masks.masks, strict=True):
        assert mask.shape == image.shape[:2] and mask.any()
        ys, xs = np.nonzero(mask)  # the mask lies in its (merged) box, in frame pixels
        assert xs.min() >= box[0] - 2 and xs.max() <= box[2] + 2
        assert ys.min() >= box[1] - 2 and ys.max() <= box[3] + 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--slice", "0x0"), "--slice 0x0: tiles must be at least 32x32 pixels"),
        (("--slice", "64x64", "--slice-overlap", "1.5"), "--slice-overlap must be in [0, 1)"),
    ],
)
def test_batch_refuses_bad_slicing_before_any_video(
    tmp_path: Path, small_video: Path, args: tuple[str, ...], fragment: str
) -> None:
    result = runner.invoke(
        app, ["batch", str(small_video), "--cache-dir", str(tmp_path / "runs"), *args,
              "--no-reid", "--no-cmc"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.parquet"))
