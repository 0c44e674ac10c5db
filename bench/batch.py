"""Videos per minute of `mot-cli batch`: one by one, `--workers 2` and `--ray`, on this machine.

Six short clips are cut with OpenCV from the dev videos (the first N frames of each of the
five, and PETS09-S2L1's next N frames as a sixth; MJPG AVI, so decoding them costs about what
decoding the originals does). Each mode tracks all six as a whole `mot-cli batch` process in
a fresh cache folder with the default cues (YOLO11n INT8, OSNet, camera motion), so the figure
includes start-up: the process's own, the worker processes', and for Ray starting a local
instance. The machine may be shared, so the load average is printed beside each figure.

    python bench/batch.py [--frames 40] [--modes serial workers2 ray] [--keep DIR]
                          [--set=--no-reid ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV_SET, bench_env

MODES = {"serial": [], "workers2": ["--workers", "2"], "ray": ["--ray"]}


def make_clips(folder: Path, frames: int) -> list[Path]:
    """The first `frames` frames of each dev video, and PETS09-S2L1's next `frames`."""
    import cv2

    cuts = [(seq.video, 0) for seq in DEV_SET] + [(DEV_SET[2].video, frames)]
    clips = []
    for video, skip in cuts:
        if not video.exists():
            sys.exit(f"needs {video} (the shared data beside the repo)")
        capture = cv2.VideoCapture(str(video))
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        for _ in range(skip):
            capture.grab()
        path = folder / f"{video.stem}-{skip + 1}-{skip + frames}.avi"
        writer = None
        for _ in range(frames):
            ok, image = capture.read()
            if not ok:
                break
            if writer is None:
                size = (image.shape[1], image.shape[0])
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
            writer.write(image)
        capture.release()
        if writer is not None:
            writer.release()
            clips.append(path)
    return clips


def run_mode(mode: str, clips_dir: Path, cache: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds of one whole `mot-cli batch` process, and the load average around it."""
    env = bench_env()
    env.setdefault("RAY_AUTH_MODE", "disabled")
    args = [sys.executable, "-m", "mot_cli", "batch", str(clips_dir), "--cache-dir", str(cache),
            *MODES[mode], *extra]  # fmt: skip
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, (load + os.getloadavg()[0]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per clip")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--keep", type=Path, help="keep the clips and run folders here")
    parser.add_argument("--set", dest="extra", action="append", default=[],
                        help="an extra batch option, e.g. --set=--no-reid")  # fmt: skip
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="mot-cli-bench-batch-"))
    try:
        clips_dir = work / "clips"
        clips_dir.mkdir(parents=True, exist_ok=True)
        clips = make_clips(clips_dir, options.frames)
        total = len(clips)
        extra = " ".join(options.extra) or "defaults"
        names = ", ".join(clip.stem for clip in clips)
        print(f"{total} clips ({names}); {os.cpu_count()} CPUs; options: {extra}")
        print(f"{'mode':<10} {'seconds':>8} {'videos/min':>11} {'load':>6}")
        for mode in options.modes:
            cache = work / f"runs-{mode}"
            shutil.rmtree(cache, ignore_errors=True)
            wall, load = run_mode(mode, clips_dir, cache, options.extra)
            print(f"{mode:<10} {wall:>8.1f} {60 * total / wall:>11.1f} {load:>6.1f}", flush=True)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
