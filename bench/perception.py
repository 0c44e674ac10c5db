"""Segment and depth backends: ms/frame at 640x480 and 1080p, and cache MB per 1000 frames.

python bench/perception.py [--frames 2] [--device cpu] [--skip sam,grabcut] [--depth-pro]

Frames and boxes are real: TUD-Campus (640x480) and MOT16-11 (1920x1080) with their
ground-truth people as the detections. Backends with weights in ../shared/models run them;
the others (SAM, MobileSAM, SAM 2, Depth Anything V2, Depth Pro) run their real architecture
with random weights, labelled "random init" (speed does not depend on the weights' values).
Times are per frame, after one warm-up frame; segmenters' times include every box of the frame.
The heaviest (SAM ViT-B, Depth Pro) time one frame. Depth Pro runs only with --depth-pro: its
1536 px input through three ViTs takes minutes a frame on a small CPU (484 s once here).
Cache sizes come from the stage code writing real caches for the first 30 frames of each.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODELS = SHARED / "models"
DATASETS = SHARED / "datasets"
HEAVY = ("ViT-B", "depth-pro")  # timed on one frame after the warm-up


def _frames(count: int) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per size label: (BGR frames, ground-truth xyxy boxes per frame)."""
    import cv2

    out = {}
    tud = DATASETS / "MOT15-train" / "TUD-Campus"
    gt = np.loadtxt(tud / "gt" / "gt.txt", delimiter=",", ndmin=2)
    images = [cv2.imread(str(tud / "img1" / f"{n:06d}.jpg")) for n in range(1, count + 2)]
    out["640x480"] = (images, [_boxes(gt, n) for n in range(1, count + 2)])
    mot16 = DATASETS / "MOT16-train" / "MOT16-11"
    gt = np.loadtxt(mot16 / "gt" / "gt.txt", delimiter=",", ndmin=2)
    gt = gt[(gt[:, 6] != 0) & (gt[:, 7] == 1)]  # scored pedestrians
    from mot_cli.video import open_source

    source = open_source(DATASETS / "videos" / "MOT16-11.mp4")
    images = [image for _, image in source.frames(1, count + 1)]
    out["1920x1080"] = (images, [_boxes(gt, n) for n in range(1, count + 2)])
    return out


def _boxes(gt: np.ndarray, frame: int) -> np.ndarray:
    rows = gt[gt[:, 0] == frame]
    return np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]


def _time(run: Callable[[np.ndarray, np.ndarray], object], frames, boxes) -> float:
    """ms per frame over frames[1:], after frames[0] as a warm-up."""
    run(frames[0], boxes[0])
    started = time.perf_counter()
    for image, frame_boxes in zip(frames[1:], boxes[1:], strict=True):
        run(image, frame_boxes)
    return (time.perf_counter() - started) * 1000 / max(len(frames) - 1, 1)


def _random_checkpoints(folder: Path, depth_pro: bool) -> dict[str, Path]:
    """Real SAM-family and depth architectures with random weights, saved where loaders look."""
    import torch
    from segment_anything.build_sam import build_sam_vit_b
    from ultralytics.models.sam.build import build_mobile_sam, build_sam2_t

    torch.manual_seed(0)
    paths = {}
    for name, build in (
        ("sam_vit_b.pth", build_sam_vit_b),
        ("mobile_sam.pt", build_mobile_sam),
        ("sam2_t.pt", build_sam2_t),
    ):
        paths[name] = folder / name
        torch.save(build().state_dict(), paths[name])
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        DepthProConfig,
        DepthProForDepthEstimation,
        DepthProImageProcessor,
        Dinov2Config,
        DPTImageProcessor,
    )

    # Depth Anything V2 Small's published layout: DINOv2-S backbone, DPT head
    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                            out_indices=[3, 6, 9, 12], reshape_hidden_states=False)  # fmt: skip
    small = DepthAnythingConfig(backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384],
                                fusion_hidden_size=64, head_hidden_size=32,
                                reassemble_hidden_size=384)  # fmt: skip
    paths["depth-anything"] = folder / "Depth-Anything-V2-Small-random"
    DepthAnythingForDepthEstimation(small).save_pretrained(paths["depth-anything"])
    processor = DPTImageProcessor(size={"height": 518, "width": 518}, keep_aspect_ratio=True,
                                  ensure_multiple_of=14, image_mean=[0.485, 0.456, 0.406],
                                  image_std=[0.229, 0.224, 0.225])  # fmt: skip
    processor.save_pretrained(paths["depth-anything"])
    paths["depth-pro"] = folder / "DepthPro-random"  # the default config is the published one
    if depth_pro:
        model = DepthProForDepthEstimation(DepthProConfig(use_fov_model=True))
        model.save_pretrained(paths["depth-pro"])
        DepthProImageProcessor().save_pretrained(paths["depth-pro"])
    return paths


def _segmenters(random: dict[str, Path], device: str) -> dict[str, Callable]:
    from mot_cli.segment import load_segmenter

    def make(backend: str, path: Path | None) -> Callable:
        return lambda: load_segmenter(backend, path, device=device, image_size=None)

    return {
        "yolo-seg (YOLO11n-seg INT8)": make("yolo-seg", MODELS / "yolo11n-seg_int8_openvino_model"),
        "blazepose (pose_landmark_full)": make("blazepose", MODELS / "pose_landmark_full.tflite"),
        "selfie (selfie_segmentation)": make("selfie", MODELS / "selfie_segmentation.tflite"),
        "grabcut": make("grabcut", None),
        "box": make("box", None),
        "sam ViT-B, random init": make("sam", random["sam_vit_b.pth"]),
        "ultralytics-sam MobileSAM, random init": make("ultralytics-sam", random["mobile_sam.pt"]),
        "ultralytics-sam SAM 2 tiny, random init": make("ultralytics-sam", random["sam2_t.pt"]),
    }


def _depths(random: dict[str, Path], device: str) -> dict[str, Callable]:
    from mot_cli.depth import load_estimator

    def make(backend: str, path: Path) -> Callable:
        return lambda: load_estimator(backend, path, device=device, fp16=True, image_size=None)

    return {
        "pydnet (mobile_pydnet_pruned35)": make("pydnet", MODELS / "mobile_pydnet_pruned35.tflite"),
        "depth-anything V2-Small, random init": make("depth-anything", random["depth-anything"]),
        "depth-pro, random init": make("depth-pro", random["depth-pro"]),
    }


def _pseudo_ms(frames, boxes) -> float:
    from mot_cli.depth.maps import map_shape
    from mot_cli.depth.pseudo import fit_ground_plane, pseudo_map

    height, width = frames[0].shape[:2]
    plane = fit_ground_plane(np.concatenate(boxes), height)
    shape = map_shape(height, width, 256)
    return _time(lambda _, b: pseudo_map(plane, b, width, shape), frames, boxes)


def _cache_sizes(folder: Path, frames: int = 30) -> list[tuple[str, str, float]]:
    """MB per 1000 frames of each cache, from the stage code on the first `frames` frames."""
    from mot_cli.detections import Detections
    from mot_cli.pipeline import open_run, produce
    from mot_cli.stages import depth, detect, segment
    from mot_cli.video import FrameRange

    rows = []
    for label, video, gt_path, scored in (
        ("640x480", "TUD-Campus.mp4", DATASETS / "MOT15-train/TUD-Campus/gt/gt.txt", False),
        ("1920x1080", "MOT16-11.mp4", DATASETS / "MOT16-train/MOT16-11/gt/gt.txt", True),
    ):
        gt = np.loadtxt(gt_path, delimiter=",", ndmin=2)
        if scored:
            gt = gt[(gt[:, 6] != 0) & (gt[:, 7] == 1)]
        detections = {}
        for number in range(1, frames + 1):
            boxes = _boxes(gt, number)
            detections[number] = Detections(boxes, np.ones(len(boxes)), np.zeros(len(boxes)))
        run = open_run(DATASETS / "videos" / video, folder, frame_range=FrameRange(1, frames))
        det_txt = folder / f"{label}-gt-det.txt"  # the ground-truth boxes as the detections
        det_txt.write_text("".join(
            f"{n},-1,{x1},{y1},{x2 - x1},{y2 - y1},1,-1,-1,-1\n"
            for n, dets in detections.items() for x1, y1, x2, y2 in dets.xyxy
        ))  # fmt: skip
        produce(run, depth.STAGE, {
            detect.STAGE: detect.DetectConfig(det_txt=det_txt),
            segment.STAGE: segment.SegmentConfig(),
            depth.MAPS_STAGE: depth.DepthConfig(),
            depth.STAGE: depth.DepthStatsConfig(),
        })  # fmt: skip
        run.close()
        people = sum(len(d) for d in detections.values()) / frames
        for stage in (segment.STAGE, depth.MAPS_STAGE, depth.STAGE):
            size = run.run_dir.file(stage).stat().st_size / 1e6 * 1000 / frames
            rows.append((label, f"{stage}.parquet ({people:.1f} people/frame)", size))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=2, help="timed frames (after a warm-up)")
    parser.add_argument("--depth-pro", action="store_true", help="also time Depth Pro")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip", default="", help="comma-separated name fragments to skip")
    args = parser.parse_args()
    os.environ.setdefault("MOT_CLI_MODELS", str(MODELS))
    os.environ.setdefault("YOLO_VERBOSE", "False")
    skip = [s for s in args.skip.split(",") if s] + ([] if args.depth_pro else ["depth-pro"])
    data = _frames(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        random = _random_checkpoints(Path(tmp), args.depth_pro)
        people = ", ".join(f"{k} {np.mean([len(b) for b in v[1]]):.1f}" for k, v in data.items())
        print(f"ms/frame on {args.device} ({os.cpu_count()} CPU threads), {args.frames} frames "
              f"after a warm-up; people per frame: {people}")  # fmt: skip
        print(f"{'backend':44s} {'640x480':>10s} {'1920x1080':>10s}")
        for title, table in (("segment", _segmenters(random, args.device)),
                             ("depth", _depths(random, args.device))):  # fmt: skip
            print(f"-- {title}")
            for name, make in table.items():
                if any(s in name for s in skip):
                    print(f"{name:44s} {'skipped':>10s}")
                    continue
                model = make()
                if title == "segment":
                    call = lambda image, b, m=model: m.segment(image, b, np.zeros(len(b)))  # noqa: E731
                else:
                    call = lambda image, _, m=model: m.estimate([image], (144, 256))  # noqa: E731
                keep = 2 if any(h in name for h in HEAVY) else len(next(iter(data.values()))[0])
                times = [_time(call, data[size][0][:keep], data[size][1][:keep]) for size in data]
                print(f"{name:44s} {times[0]:10.1f} {times[1]:10.1f}")
                del model
            if title == "depth":
                times = [_pseudo_ms(*data[size]) for size in data]
                print(f"{'pseudo (no weights)':44s} {times[0]:10.1f} {times[1]:10.1f}")
        print("-- cache size, MB per 1000 frames (default backends, map side 256)")
        for label, what, size in _cache_sizes(Path(tmp) / "runs"):
            print(f"{label:10s} {what:44s} {size:8.1f}")


if __name__ == "__main__":
    main()
