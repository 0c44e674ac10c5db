"""Detect speed on the dev sequences: YOLO11n ms/frame beside plain decode ms/frame (the floor).

Each of the five dev sequences (bench/_common.py; 640x480 to 1080p) is decoded and detected
separately, since cost grows with frame size.

python bench/detect.py [--frames 200] [--detector yolo11n] [--batch 8] [--sequences ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV, DEV_SEQUENCES, MODELS, bench_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--detector", default="yolo11n")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sequences", nargs="+", default=list(DEV_SEQUENCES),
                        choices=DEV_SEQUENCES)
    args = parser.parse_args()
    import os

    os.environ.update(bench_env())
    from mot_cli.models import resolve_model
    from mot_cli.stages.detect import DetectConfig, YoloDetector
    from mot_cli.video import open_source

    config = DetectConfig(model=args.detector, batch=args.batch, device=args.device)
    model = resolve_model(args.detector)
    detector = YoloDetector(model.path, config)
    print(f"detector {model.path.name} on {args.device}, batch {args.batch}")
    print(f"{'sequence':<16}{'size':>10}{'decode':>9}{'detect':>9}{'boxes':>7}  ms/frame")
    for name in args.sequences:
        video = DEV[name].video
        if not video.exists():
            print(f"{name:<16} skipped: needs {video}")
            continue
        source = open_source(video)
        frames = min(args.frames, source.info.frames)
        started = time.perf_counter()
        images = [image for _, image in source.frames(1, frames)]
        decode_ms = (time.perf_counter() - started) * 1000 / frames
        detector.detect(images[: args.batch])  # warm-up: compile, first allocation at this size
        started = time.perf_counter()
        boxes = 0
        for index in range(0, frames, args.batch):
            boxes += sum(len(d) for d in detector.detect(images[index : index + args.batch]))
        detect_ms = (time.perf_counter() - started) * 1000 / frames
        size = f"{source.info.width}x{source.info.height}"
        print(f"{name:<16}{size:>10}{decode_ms:9.2f}{detect_ms:9.2f}{boxes / frames:7.1f}"
              f"  (detect = {detect_ms / decode_ms:.1f}x decode, {frames} frames)")
    print(f"weights searched in {MODELS}")


if __name__ == "__main__":
    main()
