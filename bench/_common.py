"""Paths and small helpers the bench scripts share."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MOT15 = SHARED / "datasets" / "MOT15-train"
VIDEOS = SHARED / "datasets" / "videos"
MODELS = SHARED / "models"
DEV_SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte", "PETS09-S2L1")
VIDEO_FILES = {
    "TUD-Campus": "TUD-Campus.mp4",
    "TUD-Stadtmitte": "TUD-Stadtmitte.mp4",
    "PETS09-S2L1": "PETS09-S2L1.avi",
}


def bench_env() -> dict[str, str]:
    """The environment for timed child processes: repo importable, shared models visible."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.setdefault("MOT_CLI_MODELS", str(MODELS))
    return env


def mot_cli(*args: object, check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m mot_cli ARGS` as a user would, returning the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "mot_cli", *map(str, args)],
        env=bench_env(),
        capture_output=True,
        text=True,
        check=check,
    )


def time_whole_process(*args: object, repeats: int = 5) -> list[float]:
    """Wall-clock seconds of each of `repeats` whole-process runs of `mot-cli ARGS`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        mot_cli(*args)
        times.append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
