"""Segment stage: every backend's code path to a valid masks cache, on generated data.

The SAM family has no weights here, so each model is built from a random-initialised config
(a small ViT for SAM, the real MobileSAM and SAM 2 tiny architectures), saved to a file and
loaded by path through the same loaders real checkpoints take.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mot_cli.errors import MotCliError
from mot_cli.masks import box_pixels, decode_mask
from mot_cli.pipeline import open_run, produce
from mot_cli.schema import MASKS
from mot_cli.stages import detect, segment
from mot_cli.stages.detect import DetectConfig
from mot_cli.stages.segment import SegmentConfig
from mot_cli.video import FrameRange
from tests.conftest import MODELS, VIDEOS, need, write_det_txt


@pytest.fixture
def detected(tmp_path: Path, small_video: Path, small_det_txt: Path):
    """The small video's run with its public-style detections cached (frames 1-4)."""
    run = open_run(small_video, tmp_path / "runs", frame_range=FrameRange(1, 4))
    table = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(det_txt=small_det_txt)}).table(
        detect.STAGE
    )
    key = run.run_dir.completed_key(detect.STAGE)
    return run, detect.frame_detections(table), key


def masks_of(run, config: SegmentConfig, frames: tuple[int, int] | None = None) -> pa.Table:
    """The segment stage through the stage graph, on the run's cached detections."""
    if frames is not None:
        run = replace(run, first=frames[0], last=frames[1])
    return produce(run, segment.STAGE, {segment.STAGE: config}).table(segment.STAGE)


def boxes_run(video: Path, folder: Path, boxes: dict):
    """A run of `video` whose detections cache holds `boxes` (imported as a det.txt)."""
    run = open_run(video, folder / "runs", frame_range=FrameRange(1, max(boxes)))
    det_txt = write_det_txt(folder / "boxes.txt", boxes)
    produce(run, detect.STAGE, {detect.STAGE: DetectConfig(det_txt=det_txt)})
    return run


def assert_valid_masks(table: pa.Table, detections: dict, frame_size: tuple[int, int]) -> None:
    """One row per detection, aligned on (frame, det); each mask inside its frame and box."""
    assert table.schema.remove_metadata().equals(MASKS)
    frames, dets = table.column("frame").to_pylist(), table.column("det").to_pylist()
    pairs = list(zip(frames, dets, strict=True))
    wanted = [(f, d) for f in sorted(detections) for d in range(len(detections[f]))]
    assert pairs == wanted
    height, width = frame_size
    for row in table.to_pylist():
        mask = decode_mask({"size": [row["height"], row["width"]], "counts": row["rle"]})
        assert mask.shape == (height, width) and int(mask.sum()) == row["area"]
        x1, y1, x2, y2 = box_pixels(detections[row["frame"]].xyxy[row["det"]], height, width)
        outside = mask.copy()
        outside[y1:y2, x1:x2] = False
        assert not outside.any()
        if row["area"]:
            ys, xs = np.nonzero(mask)
            bbox = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert [row["x1"], row["y1"], row["x2"], row["y2"]] == bbox


def test_box_backend_fills_each_box_and_the_cache_is_reused(detected) -> None:
    run, detections, _key = detected
    config = SegmentConfig(backend="box")
    table = masks_of(run, config)
    assert_valid_masks(table, detections, (120, 160))
    assert table.column("area").to_pylist()[0] == 20 * 50  # the square's 20x50 box
    assert all(np.isnan(table.column("quality").to_numpy()))
    written = run.run_dir.file(segment.STAGE).stat().st_mtime_ns
    again = masks_of(run, config)
    assert again.drop(["quality"]).equals(table.drop(["quality"]))
    assert run.run_dir.file(segment.STAGE).stat().st_mtime_ns == written
    other = masks_of(run, SegmentConfig(backend="grabcut"))
    assert other.column("area").to_pylist() != table.column("area").to_pylist()


def test_grabcut_finds_the_bright_square_inside_a_loose_box(tmp_path: Path, small_video: Path):
    from mot_cli.detections import Detections

    loose = {n: Detections([[5 + 4 * (n - 1) - 8, 22, 25 + 4 * (n - 1) + 8, 88]], [1], [0])
             for n in (1, 2)}  # fmt: skip
    table = masks_of(boxes_run(small_video, tmp_path, loose), SegmentConfig(backend="grabcut"))
    assert_valid_masks(table, loose, (120, 160))
    mask = decode_mask({"size": [120, 160], "counts": table.column("rle")[0].as_py()})
    square = np.zeros_like(mask)
    square[30:81, 5:26] = True
    assert (mask & square).sum() / square.sum() > 0.8
    assert mask.sum() < 1.5 * square.sum()  # the margin of gradient is left out


@pytest.fixture(scope="module")
def tiny_vit_sam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random ViT SAM (width 32, 2 blocks, one global) saved as a plain state dict."""
    import torch
    from segment_anything.build_sam import _build_sam

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam") / "tiny_sam_vit.pth"
    torch.save(_build_sam(32, 2, 2, [1]).state_dict(), path)
    return path


def test_sam_checkpoint_architecture_is_read_from_its_tensors(tiny_vit_sam: Path) -> None:
    import torch

    from mot_cli.segment.sam import load_sam, load_state_dict, vit_sam_arch

    state = load_state_dict(tiny_vit_sam)
    arch = vit_sam_arch(state, tiny_vit_sam)
    assert (arch.embed_dim, arch.depth, arch.num_heads) == (32, 2, 2)
    assert (arch.global_attn_indexes, arch.window_size, arch.image_size) == ((1,), 14, 1024)
    loaded = load_sam(tiny_vit_sam).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())  # the file's weights


def test_segment_anything_predictor_through_the_stage(detected, tmp_path: Path) -> None:
    """A 256-px ViT SAM (a checkpoint's input size is read from it, as for 1024-px ones)."""
    import torch

    from mot_cli.segment.sam import VitSamArch, build_sam

    torch.manual_seed(0)
    arch = VitSamArch(32, 2, 2, (1,), 14, 256, 16, 4.0, 256, 2, 2048)
    checkpoint = tmp_path / "sam_256.pth"
    torch.save(build_sam(arch).state_dict(), checkpoint)
    run, detections, _key = detected
    config = SegmentConfig(backend="sam", model=str(checkpoint))
    table = masks_of(run, config)
    assert_valid_masks(table, detections, (120, 160))
    assert np.isfinite(table.column("quality").to_numpy()).all()  # SAM's predicted IoU
    entry = run.run_dir.load_manifest()["stages"][segment.STAGE]
    assert entry["model"]["path"] == str(checkpoint) and entry["config"]["backend"] == "sam"


@pytest.mark.parametrize("kind", ["vit", "mobile_sam", "sam2_t"])
def test_ultralytics_sam_family_through_the_stage(
    detected, tiny_vit_sam: Path, tmp_path: Path, kind: str
) -> None:
    import torch
    from ultralytics.models.sam import build as ultralytics_build

    from mot_cli.segment.ultralytics_sam import load_ultralytics_sam

    run, detections, _key = detected
    if kind == "vit":
        path = tiny_vit_sam
    else:  # the real MobileSAM / SAM 2 tiny architectures, random weights, ultralytics' names
        torch.manual_seed(0)
        builder = {"mobile_sam": ultralytics_build.build_mobile_sam,
                   "sam2_t": ultralytics_build.build_sam2_t}[kind]  # fmt: skip
        path = tmp_path / f"{kind}.pt"
        torch.save(builder().state_dict(), path)
    model, is_sam2 = load_ultralytics_sam(path)
    assert is_sam2 == (kind == "sam2_t")
    saved = torch.load(path, weights_only=True)
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in saved.items())
    config = SegmentConfig(backend="ultralytics-sam", model=str(path), image_size=256)
    table = masks_of(run, config)
    assert_valid_masks(table, detections, (120, 160))
    assert np.isfinite(table.column("quality").to_numpy()).all()


def test_instances_match_detections_one_to_one_by_iou() -> None:
    from mot_cli.segment.yolo_seg import match_instances

    boxes = np.array([[0, 0, 10, 20], [8, 0, 18, 20], [100, 100, 110, 110]], float)
    instances = np.array([[9, 1, 18, 20], [0, 0, 10, 19], [50, 50, 60, 60]], float)
    matches = match_instances(boxes, np.array([0, -1, 0]), instances, np.array([0, 0, 0]), 0.3)
    assert matches == {0: 1, 1: 0}
    wrong_class = match_instances(boxes[:1], np.array([2]), instances[1:2], np.array([0]), 0.3)
    assert wrong_class == {}


def test_missing_weights_name_the_file_and_where_they_were_looked_for(detected) -> None:
    run, _detections, _key = detected
    with pytest.raises(MotCliError, match=r"sam_vit_b_01ec64.*not found.*looked for"):
        masks_of(run, SegmentConfig(backend="sam"))


def test_bad_config_is_refused_with_the_valid_choices() -> None:
    with pytest.raises(MotCliError, match=r"--backend must be one of yolo-seg, .*box"):
        SegmentConfig(backend="magic")
    with pytest.raises(MotCliError, match="uses no model"):
        SegmentConfig(backend="box", model="sam_b.pt")
    with pytest.raises(MotCliError, match="multiple of 32"):
        SegmentConfig(image_size=100)


def test_a_segmentation_detector_gives_the_masks_in_the_same_pass(tmp_path: Path) -> None:
    need(MODELS / "yolo11n-seg_int8_openvino_model")
    video = need(VIDEOS / "TUD-Campus.mp4")
    run = open_run(video, tmp_path, frame_range=FrameRange(1, 2))
    table = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(model="yolo11n-seg")}).table(
        detect.STAGE
    )
    detections = detect.frame_detections(table)
    assert run.run_dir.completed_key(segment.STAGE) is not None  # written by the detect pass
    written = run.run_dir.file(segment.STAGE).stat().st_mtime_ns
    masks = masks_of(run, SegmentConfig())
    assert run.run_dir.file(segment.STAGE).stat().st_mtime_ns == written  # up to date: reused
    assert_valid_masks(masks, detections, (480, 640))
    areas = np.asarray(masks.column("area").to_pylist())
    assert (areas > 0).mean() > 0.8


def test_paired_frames_look_one_frame_ahead_in_one_pass(small_video: Path) -> None:
    from mot_cli.stages.segment import PairedFrames
    from mot_cli.video import open_source

    paired = list(PairedFrames(open_source(small_video)).frames(18, None))
    assert [n for n, _ in paired] == [18, 19, 20]
    assert paired[0][1][1] is not None and paired[-1][1][1] is None
    assert np.array_equal(paired[0][1][1], paired[1][1][0])  # frame 19, seen from both sides
    assert [n for n, _ in PairedFrames(open_source(small_video)).frames(3, 4)] == [3, 4]


def test_sam2_pair_mode_writes_both_frames_of_each_detection(detected, tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    import torch
    from ultralytics.models.sam.build import build_sam2_t

    from mot_cli.schema import MASK_PAIRS

    torch.manual_seed(0)
    checkpoint = tmp_path / "sam2_t.pt"
    torch.save(build_sam2_t().state_dict(), checkpoint)
    run, detections, _key = detected
    config = SegmentConfig(backend="ultralytics-sam", model=str(checkpoint), image_size=256,
                           pair=True)  # fmt: skip
    masks = masks_of(run, config, (1, 2))
    assert_valid_masks(masks, {n: detections[n] for n in (1, 2)}, (120, 160))
    pairs = pq.read_table(run.run_dir.file(segment.PAIRS_STAGE))
    assert pairs.schema.remove_metadata().equals(MASK_PAIRS)
    assert pairs.select(MASKS.names).to_pylist() == masks.to_pylist()
    for row in pairs.to_pylist():
        after = decode_mask({"size": [row["height"], row["width"]], "counts": row["next_rle"]})
        assert after.shape == (120, 160) and int(after.sum()) == row["next_area"]
    again = masks_of(run, config, (1, 2))
    assert again.num_rows == masks.num_rows  # up to date


def test_pair_mode_needs_sam2_through_ultralytics() -> None:
    with pytest.raises(MotCliError, match="--pair needs --backend ultralytics-sam"):
        SegmentConfig(backend="sam", model="sam_vit_b_01ec64", pair=True)


def test_an_interrupted_run_resumes_and_equals_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mot_cli.detections import Detections
    from mot_cli.segment.classic import GrabCutSegmenter
    from tests.conftest import write_video

    video = write_video(tmp_path / "long.avi", 45)
    boxes = {n: Detections([[4 * n - 6, 25, 4 * n + 22, 85]], [1], [0]) for n in range(1, 46)}
    config = SegmentConfig(backend="grabcut")
    real_segment = GrabCutSegmenter.segment
    calls = {"n": 0}

    def interrupted(self, image, frame_boxes, classes):
        calls["n"] += 1
        if calls["n"] == 40:  # after the first 32-frame chunk was written
            raise KeyboardInterrupt
        return real_segment(self, image, frame_boxes, classes)

    monkeypatch.setattr(GrabCutSegmenter, "segment", interrupted)
    killed = boxes_run(video, tmp_path / "killed", boxes)
    with pytest.raises(KeyboardInterrupt):
        masks_of(killed, config)
    assert list((killed.run_dir.path / "masks.partial").glob("frames-*.parquet"))
    monkeypatch.setattr(GrabCutSegmenter, "segment", real_segment)
    resumed = masks_of(killed, config)
    uninterrupted = masks_of(boxes_run(video, tmp_path / "clean", boxes), config)
    assert resumed.num_rows == 45
    assert resumed.drop(["quality"]).equals(uninterrupted.drop(["quality"]))
