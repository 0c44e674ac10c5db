"""Detect speed on PETS09-S2L1: YOLO11n ms/frame beside plain decode ms/frame (the floor).

python bench/detect.py [--frames 200] [--detector yolo11n] [--batch 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import MODELS, VIDEOS, bench_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--detector", default="yolo11n")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import os

    os.environ.update(bench_env())
    from mot_cli.models import resolve_model
    from mot_cli.stages.detect import DetectConfig, YoloDetector
    from mot_cli.video import open_source

    video = VIDEOS / "PETS09-S2L1.avi"
    if not video.exists():
        sys.exit(f"needs {video}")
    source = open_source(video)
    frames = min(args.frames, source.info.frames)

    started = time.perf_counter()
    images = [image for _, image in source.frames(1, frames)]
    decode_ms = (time.perf_counter() - started) * 1000 / frames

    config = DetectConfig(model=args.detector, batch=args.batch, device=args.device)
    model = resolve_model(args.detector)
    detector = YoloDetector(model.path, config)
    detector.detect(images[: args.batch])  # warm-up: model compile and first allocation
    started = time.perf_counter()
    boxes = 0
    for index in range(0, frames, args.batch):
        boxes += sum(len(d) for d in detector.detect(images[index : index + args.batch]))
    detect_ms = (time.perf_counter() - started) * 1000 / frames

    print(
        f"PETS09-S2L1, {frames} frames of {source.info.width}x{source.info.height}, "
        f"detector {model.path.name} on {args.device}, batch {args.batch}"
    )
    print(f"decode only:    {decode_ms:7.2f} ms/frame  (the floor)")
    print(f"detect (YOLO):  {detect_ms:7.2f} ms/frame  ({boxes / frames:.1f} boxes/frame)")
    print(
        f"decode+detect:  {decode_ms + detect_ms:7.2f} ms/frame  "
        f"= {(decode_ms + detect_ms) / decode_ms:.1f}x decode"
    )
    print(f"weights searched in {MODELS}")


if __name__ == "__main__":
    main()
