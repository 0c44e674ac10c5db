"""The default masks and depth on real frames with real weights (TUD-Campus, ground-truth boxes).

Twenty frames spread evenly over the sequence (symlinked into a temporary sequence folder) are
segmented with the default backend (YOLO11n-seg INT8) and given depth by the default
(mobilePydnet) and by pseudo-depth, through the stage code, with the ground-truth boxes as
the detections.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.masks import box_pixels, decode_mask
from mot_cli.metrics.boxes import box_iou_xywh
from mot_cli.pipeline import Run, open_run, produce
from mot_cli.stages import depth, detect, segment
from mot_cli.stages.depth import DepthConfig, DepthStatsConfig
from mot_cli.stages.detect import DetectConfig
from mot_cli.stages.segment import SegmentConfig
from tests.conftest import MODELS, MOT15, need, write_det_txt

pytestmark = pytest.mark.integration

FRAMES = 20


@dataclass
class GroundTruthRun:
    run: Run
    detections: dict[int, Detections]
    masks: dict[int, list[np.ndarray]]


def _spread_sequence(tmp: Path) -> tuple[Path, dict[int, Detections]]:
    """A sequence folder of 20 TUD-Campus frames spread over its 71, and their GT boxes."""
    source = need(MOT15 / "TUD-Campus")
    picked = np.linspace(1, 71, FRAMES).round().astype(int)
    folder = tmp / "TUD-Campus-20"
    (folder / "img1").mkdir(parents=True)
    for index, frame in enumerate(picked, start=1):
        (folder / "img1" / f"{index:06d}.jpg").symlink_to(source / "img1" / f"{frame:06d}.jpg")
    info = (source / "seqinfo.ini").read_text().replace("seqLength=71", f"seqLength={FRAMES}")
    (folder / "seqinfo.ini").write_text(info)
    gt = np.loadtxt(source / "gt" / "gt.txt", delimiter=",", ndmin=2)
    detections = {}
    for index, frame in enumerate(picked, start=1):
        rows = gt[gt[:, 0] == frame]
        xyxy = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]
        detections[index] = Detections(xyxy, np.ones(len(rows)), np.zeros(len(rows)))
    return folder, detections


@pytest.fixture(scope="module")
def ground_truth(tmp_path_factory: pytest.TempPathFactory) -> GroundTruthRun:
    need(MODELS / "yolo11n-seg_int8_openvino_model")
    folder, detections = _spread_sequence(tmp_path_factory.mktemp("tud"))
    run = open_run(folder, folder.parent / "runs")
    det_txt = write_det_txt(folder.parent / "gt-det.txt", detections)  # the GT boxes, imported
    configs = {detect.STAGE: DetectConfig(det_txt=det_txt), segment.STAGE: SegmentConfig()}
    produce(run, segment.STAGE, configs)
    masks = {
        frame: [decode_mask(rle) for rle in rles]
        for frame, rles in segment.read_masks(run.run_dir).items()
    }
    return GroundTruthRun(run, detections, masks)


def test_default_masks_cover_people_stay_in_their_boxes_and_do_not_overlap(ground_truth):
    strip_cover, outside, overlaps = [], [], []
    for frame, boxes in ((f, d.xyxy) for f, d in ground_truth.detections.items()):
        masks = ground_truth.masks[frame]
        assert len(masks) == len(boxes)
        in_any_box = np.zeros_like(masks[0])
        for box, mask in zip(boxes, masks, strict=True):
            x1, y1, x2, y2 = box_pixels(box, *mask.shape)
            in_any_box[y1:y2, x1:x2] = True
            third = (x2 - x1) // 3
            strip_cover.append(mask[y1:y2, x1 + third : x2 - third].mean())
        every = np.logical_or.reduce(masks)
        outside.append((every & ~in_any_box).sum() / max(every.sum(), 1))
        xywh = np.c_[boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]
        touching = box_iou_xywh(xywh, xywh) > 0
        for i, j in zip(*np.nonzero(np.triu(touching, 1)), strict=True):
            smaller = min(masks[i].sum(), masks[j].sum())
            if smaller:
                overlaps.append((masks[i] & masks[j]).sum() / smaller)
    print(f"strip cover {np.mean(strip_cover):.3f}, outside {np.mean(outside):.4f}, "
          f"pairs {len(overlaps)}, worst overlap {max(overlaps):.3f}")  # fmt: skip
    assert np.mean(strip_cover) >= 0.5
    assert np.mean(outside) <= 0.05
    assert len(overlaps) >= 20  # TUD-Campus walks in groups: the check has pairs to judge
    assert max(overlaps) < 0.10


def _feet_order(ground_truth: GroundTruthRun, config: DepthConfig) -> float:
    run = ground_truth.run
    configs = {segment.STAGE: SegmentConfig(), depth.MAPS_STAGE: config,
               depth.STAGE: DepthStatsConfig()}  # fmt: skip
    table = produce(run, depth.STAGE, configs).table(depth.STAGE)
    frame = table.column("frame").to_numpy()
    det = table.column("det").to_numpy()
    nearness = table.column("mask_median").to_numpy()
    from scipy.stats import spearmanr

    rhos = []
    for number, dets in ground_truth.detections.items():
        rows = frame == number
        feet = dets.xyxy[det[rows], 3]
        values = nearness[rows]
        known = np.isfinite(values)
        if known.sum() >= 3:
            rhos.append(spearmanr(feet[known], values[known]).statistic)
    print(f"{config.backend}: Spearman {np.mean(rhos):.3f}, per frame {np.round(rhos, 2).tolist()}")
    assert len(rhos) >= FRAMES - 2
    return float(np.mean(rhos))


def test_default_depth_orders_people_by_their_feet(ground_truth) -> None:
    need(MODELS / "mobile_pydnet_pruned35.tflite")
    assert _feet_order(ground_truth, DepthConfig()) >= 0.6


def test_pseudo_depth_orders_people_by_their_feet(ground_truth) -> None:
    assert _feet_order(ground_truth, DepthConfig(backend="pseudo")) >= 0.6


@pytest.mark.parametrize(
    ("backend", "weights"),
    [("blazepose", "pose_landmark_full.tflite"), ("selfie", "selfie_segmentation.tflite")],
)
def test_mediapipe_masks_find_the_people_in_their_boxes(
    ground_truth, tmp_path: Path, backend: str, weights: str
) -> None:
    need(MODELS / weights)
    run = open_run(Path(ground_truth.run.source.info.path), tmp_path, frame_range=None)
    first_two = {n: ground_truth.detections[n] for n in (1, 2)}
    det_txt = write_det_txt(tmp_path / "gt-det.txt", first_two)
    configs = {detect.STAGE: DetectConfig(det_txt=det_txt),
               segment.STAGE: SegmentConfig(backend=backend)}  # fmt: skip
    table = produce(replace(run, last=2), segment.STAGE, configs).table(segment.STAGE)
    cover = []
    for row in table.to_pylist():
        mask = decode_mask({"size": [row["height"], row["width"]], "counts": row["rle"]})
        x1, y1, x2, y2 = box_pixels(first_two[row["frame"]].xyxy[row["det"]], *mask.shape)
        third = (x2 - x1) // 3
        cover.append(mask[y1:y2, x1 + third : x2 - third].mean())
    print(f"{backend}: strip cover {np.round(cover, 2).tolist()}")
    assert np.mean(cover) >= 0.4
