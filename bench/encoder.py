"""Depth×mask encoder speed: embedding per detection, and training samples per second.

Run from the repository root: ``python -m bench.encoder``. Boxes are MOT16-11's ground truth
(1080p, the dev set's largest frames and most crowded sequence); masks are ellipses in the
boxes (COCO RLE, as masks.parquet holds them) and the depth map a noisy ground plane at
1/`--scale` of the frame, so only sizes matter, not content. Prints:

- `embed_detections` milliseconds per frame and per detection (RLE masks and bool masks),
  split into crop building and the network;
- crop preparation for training (frames per second, RLE decoding included);
- training throughput (anchor detections per second, two views each, forward and backward)
  and the time it implies for the five dev sequences' caches at `--epochs`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from mot_cli.encoder import (
    EncoderConfig,
    FrameArrays,
    TrainConfig,
    build_crops,
    build_encoder,
    build_training_set,
    embed_detections,
    train_encoder,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GT = SHARED / "datasets" / "MOT16-train" / "MOT16-11" / "gt" / "gt.txt"
FRAME_SIZE = (1080, 1920)
DEV_GT_BOXES = 359 + 1156 + 4476 + 782 + 9174  # ground-truth boxes of the five dev sequences


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames of MOT16-11 to use")
    parser.add_argument("--scale", type=float, default=4.0, help="frame pixels per map pixel")
    parser.add_argument("--input", default="64x32", help="crop HEIGHTxWIDTH")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    parser.add_argument("--batch", type=int, default=TrainConfig().batch)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser.parse_args()


def _boxes(frames: int) -> list[np.ndarray]:
    rows = np.loadtxt(GT, delimiter=",", ndmin=2)
    rows = rows[(rows[:, 6] > 0) & (rows[:, 7] == 1)]  # scored pedestrians
    out = []
    for frame in range(1, frames + 1):
        xywh = rows[rows[:, 0] == frame, 2:6]
        out.append(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1))
    return out


def _frame(number: int, boxes: np.ndarray, scale: float, rle: bool) -> FrameArrays:
    from pycocotools import mask as mask_utils

    height, width = FRAME_SIZE
    rng = np.random.default_rng(number)
    map_h, map_w = round(height / scale), round(width / scale)
    depth = np.linspace(0.2, 1.0, map_h, dtype=np.float32)[:, None].repeat(map_w, 1)
    depth += rng.normal(0, 0.01, depth.shape).astype(np.float32)
    ys, xs = np.ogrid[0:height, 0:width]
    masks = []
    for x1, y1, x2, y2 in boxes:
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        mask = ((xs - cx) / max(rx, 1)) ** 2 + ((ys - cy) / max(ry, 1)) ** 2 <= 1
        if rle:
            encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            masks.append({"size": encoded["size"], "counts": encoded["counts"].decode()})
        else:
            masks.append(mask)
    return FrameArrays(number, depth, scale, boxes.astype(np.float32), masks)


def _time_embedding(frames: list[FrameArrays], encoder) -> tuple[float, float, float]:
    """(mean ms per detection, median ms per detection over frames, share building crops).

    The median is printed too because on a shared machine a few frames that wait for a
    descheduled thread can dominate the mean.
    """
    size = encoder.config.input_size
    for frame in frames[:2]:  # warm-up
        embed_detections(encoder, frame.depth_map, frame.scale, frame.boxes, frame.masks)
    per_frame = []
    for frame in frames:
        started = time.perf_counter()
        embed_detections(encoder, frame.depth_map, frame.scale, frame.boxes, frame.masks)
        per_frame.append((time.perf_counter() - started) / max(len(frame.boxes), 1))
    total = sum(t * len(f.boxes) for t, f in zip(per_frame, frames, strict=True))
    started = time.perf_counter()
    for frame in frames:
        build_crops(frame.depth_map, frame.scale, frame.boxes, frame.masks, size)
    crops = time.perf_counter() - started
    detections = sum(len(f.boxes) for f in frames)
    return 1000 * total / detections, 1000 * float(np.median(per_frame)), crops / total


def main() -> None:
    args = _parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    height, width = (int(v) for v in args.input.split("x"))
    config = EncoderConfig(input_height=height, input_width=width, embedding_dim=args.dim)
    boxes = _boxes(args.frames)
    detections = sum(len(b) for b in boxes)
    print(
        f"MOT16-11 frames 1-{args.frames}: {detections} boxes "
        f"({detections / args.frames:.1f}/frame), map scale {args.scale}, "
        f"input {args.input}, dim {args.dim}, torch threads {torch.get_num_threads()}"
    )
    encoder = build_encoder(config, seed=0).eval()
    for rle in (True, False):
        frames = [_frame(i + 1, b, args.scale, rle) for i, b in enumerate(boxes)]
        mean, median, crop_share = _time_embedding(frames, encoder)
        print(
            f"embed_detections ({'RLE' if rle else 'bool'} masks): {mean:.3f} ms/detection "
            f"(median frame {median:.3f}; {100 * crop_share:.0f} % building crops)"
        )
    rle_frames = [_frame(i + 1, b, args.scale, True) for i, b in enumerate(boxes)]
    started = time.perf_counter()
    data = build_training_set([rle_frames], config.input_size)
    prepare = time.perf_counter() - started
    print(
        f"training crops: {len(rle_frames) / prepare:.1f} frames/s, "
        f"{len(data) / prepare:.0f} detections/s (RLE decoding included); {data.links} links"
    )
    threads = args.threads or TrainConfig().threads
    train = TrainConfig(encoder=config, epochs=1, min_steps=0, batch=args.batch, threads=threads)
    result = train_encoder(data, train, show_progress=False)
    rate = result.samples_per_second
    minutes = (DEV_GT_BOXES * args.epochs / rate + DEV_GT_BOXES / (len(data) / prepare)) / 60
    print(
        f"training: {rate:.0f} samples/s (batch {args.batch}, {threads} threads); the dev "
        f"set's ~{DEV_GT_BOXES} detections x {args.epochs} epochs would take about "
        f"{minutes:.1f} min"
    )


if __name__ == "__main__":
    main()
