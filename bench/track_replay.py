"""Whole-process time of re-running `mot-cli track` on cached features (PETS09-S2L1, 795 frames).

Once detections (and embeddings, camera motion) are cached, changing an association setting
must not re-run any model: this prints the median wall-clock time of such re-runs, each with a
different `--set`, beside the whole-process time of `mot-cli --version` (the start-up floor).

    python bench/track_replay.py [--cache-dir runs] [--repeats 5] [--det-txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import MOT15, VIDEOS, median, mot_cli, time_whole_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", default="runs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--det-txt", action="store_true", help="public detections, not YOLO")
    args = parser.parse_args()
    video = VIDEOS / "PETS09-S2L1.avi"
    if not video.exists():
        sys.exit(f"needs {video}")
    base = ["track", video, "--cache-dir", args.cache_dir]
    if args.det_txt:
        base += ["--det-txt", MOT15 / "PETS09-S2L1" / "det" / "det.txt"]
    started = time.perf_counter()
    mot_cli(*base)  # fills any missing cache (slow only the first time)
    print(f"first run (fills missing caches): {time.perf_counter() - started:.2f} s")
    floor = median(time_whole_process("--version", repeats=args.repeats))
    times = []
    for index in range(args.repeats):
        started = time.perf_counter()
        result = mot_cli(*base, "--set", f"iou_threshold={0.2 + 0.02 * index}")
        times.append(time.perf_counter() - started)
        assert "cache up to date" in result.stderr, result.stderr
    print(f"PETS09-S2L1 (795 frames), {'det.txt' if args.det_txt else 'YOLO11n'} caches")
    print(f"mot-cli --version:              {floor:.3f} s  (interpreter + CLI start-up floor)")
    print(
        f"track re-run, changed --set:    {median(times):.3f} s  median of {args.repeats} "
        f"(min {min(times):.3f}, max {max(times):.3f}); target < 2 s"
    )


if __name__ == "__main__":
    main()
