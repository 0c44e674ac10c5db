"""Re-ID embedding throughput on the dev sequences with their public detections.

Run from the repository root: ``python -m bench.embed --frames 200``. Per dev sequence
(bench/_common.py), prints plain decode cost per frame, then embedding cost (crops per
second, milliseconds per frame), so the embed stage can be judged against the decode it
cannot avoid.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from bench._common import DEV, DEV_SEQUENCES, MODELS
from mot_cli.reid import ReidEncoder

WEIGHTS = MODELS / "osnet_x0_25_msmt17.pth"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames to process")
    parser.add_argument("--sequences", nargs="+", default=list(DEV_SEQUENCES),
                        choices=DEV_SEQUENCES)
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
    """Time decode alone, then decode plus embedding in chunks of frames, per sequence."""
    args = _parse_args()
    if not args.weights.is_file():
        raise SystemExit(f"missing input: {args.weights}")
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    encoder = ReidEncoder.load(
        args.weights,
        arch=args.arch,
        device=args.device,
        batch_size=args.batch_size,
        backend=args.backend,
    )
    print(
        f"{args.arch} on {args.device} ({args.backend}), {torch.get_num_threads()} torch "
        f"threads, batch {args.batch_size}, {args.frames_per_call} frames per call; load "
        f"{time.perf_counter() - start:.2f} s (weights, and compilation for openvino)"
    )
    print(f"{'sequence':<16}{'frames':>7}{'crops/frame':>12}{'decode ms':>10}{'embed ms':>9}"
          f"{'crops/s':>9}")
    for name in args.sequences:
        seq = DEV[name]
        if not (seq.video.is_file() and seq.det_txt.is_file()):
            print(f"{name:<16} skipped: needs {seq.video} and {seq.det_txt}")
            continue
        _bench_sequence(name, seq.video, seq.det_txt, encoder, args)


def _bench_sequence(name: str, video: Path, det_txt: Path, encoder, args) -> None:
    boxes = _boxes_by_frame(det_txt, args.frames)
    encoder.embed(next(_decode(video, 1)), boxes[0])  # warm-up: first-call allocations
    start = time.perf_counter()
    decoded = sum(1 for _ in _decode(video, args.frames))
    decode_seconds = time.perf_counter() - start

    embed_seconds = 0.0
    crops = 0
    chunk: list[np.ndarray] = []
    for index, image in enumerate(_decode(video, args.frames)):
        chunk.append(image)
        if len(chunk) == args.frames_per_call or index == decoded - 1:
            chunk_boxes = boxes[index + 1 - len(chunk) : index + 1]
            start = time.perf_counter()
            encoder.embed_many(chunk, chunk_boxes)
            embed_seconds += time.perf_counter() - start
            crops += sum(len(b) for b in chunk_boxes)
            chunk = []
    print(f"{name:<16}{decoded:7d}{crops / decoded:12.1f}{1e3 * decode_seconds / decoded:10.2f}"
          f"{1e3 * embed_seconds / decoded:9.2f}{crops / max(embed_seconds, 1e-9):9.1f}")


if __name__ == "__main__":
    main()
