"""Re-ID embedding throughput on PETS09-S2L1 with its public detections.

Run from the repository root: ``python -m bench.embed --frames 200``. Prints plain decode cost
per frame, then embedding cost (crops per second, milliseconds per frame), so the embed
stage can be judged against the decode it cannot avoid.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from mot_cli.reid import ReidEncoder

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VIDEO = SHARED / "datasets" / "videos" / "PETS09-S2L1.avi"
DETECTIONS = SHARED / "datasets" / "MOT15-train" / "PETS09-S2L1" / "det" / "det.txt"
WEIGHTS = SHARED / "models" / "osnet_x0_25_msmt17.pth"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames to process")
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--detections", type=Path, default=DETECTIONS, help="MOTChallenge det.txt")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--arch", default="osnet_x0_25")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", choices=["torch", "openvino"], default="torch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--frames-per-call", type=int, default=8, help="frames whose crops share one embed_many"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser.parse_args()


def _boxes_by_frame(path: Path, frames: int) -> list[np.ndarray]:
    """x1,y1,x2,y2 boxes for frames 1..frames from a ``frame,-1,x,y,w,h,score,...`` file."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    boxes = []
    for frame in range(1, frames + 1):
        xywh = rows[rows[:, 0] == frame, 2:6].astype(np.float32)
        boxes.append(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1))
    return boxes


def _decode(video: Path, frames: int) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise SystemExit(f"cannot open video {video}")
    try:
        for _ in range(frames):
            ok, image = capture.read()
            if not ok:
                return
            yield image
    finally:
        capture.release()


def main() -> None:
    """Time decode alone, then decode plus embedding in chunks of frames."""
    args = _parse_args()
    for path in (args.video, args.detections, args.weights):
        if not path.is_file():
            raise SystemExit(f"missing input: {path}")
    if args.threads:
        torch.set_num_threads(args.threads)
    boxes = _boxes_by_frame(args.detections, args.frames)
    start = time.perf_counter()
    encoder = ReidEncoder.load(
        args.weights,
        arch=args.arch,
        device=args.device,
        batch_size=args.batch_size,
        backend=args.backend,
    )
    load_seconds = time.perf_counter() - start
    encoder.embed(next(_decode(args.video, 1)), boxes[0])  # warm-up: first-call allocations

    start = time.perf_counter()
    decoded = sum(1 for _ in _decode(args.video, args.frames))
    decode_seconds = time.perf_counter() - start

    embed_seconds = 0.0
    crops = 0
    chunk: list[np.ndarray] = []
    for index, image in enumerate(_decode(args.video, args.frames)):
        chunk.append(image)
        if len(chunk) == args.frames_per_call or index == decoded - 1:
            chunk_boxes = boxes[index + 1 - len(chunk) : index + 1]
            start = time.perf_counter()
            encoder.embed_many(chunk, chunk_boxes)
            embed_seconds += time.perf_counter() - start
            crops += sum(len(b) for b in chunk_boxes)
            chunk = []

    print(
        f"PETS09-S2L1, {decoded} frames, {crops} crops ({crops / decoded:.1f}/frame), "
        f"{args.arch} on {args.device} ({args.backend}), {torch.get_num_threads()} torch threads, "
        f"batch {args.batch_size}, {args.frames_per_call} frames per call"
    )
    print(f"load        : {load_seconds:7.2f} s (weights, and compilation for openvino)")
    print(f"decode only : {1e3 * decode_seconds / decoded:7.2f} ms/frame")
    print(f"embed       : {1e3 * embed_seconds / decoded:7.2f} ms/frame")
    print(f"embed       : {crops / embed_seconds:7.1f} crops/s")


if __name__ == "__main__":
    main()
