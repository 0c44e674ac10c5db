"""Paths and small helpers the bench scripts share."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
MOT15 = DATASETS / "MOT15-train"
MOT16 = DATASETS / "MOT16-train"
VIDEOS = DATASETS / "videos"
MODELS = SHARED / "models"


@dataclass(frozen=True)
class DevSequence:
    """One labelled sequence of the dev set: where its files are and which rules score it."""

    name: str
    split: Path  # the MOTChallenge split folder holding <name>/gt, det, seqinfo.ini
    benchmark: str  # MOT15 or MOT16 preprocessing (TrackEval's BENCHMARK)
    video: Path  # the frames as one video file, frame-aligned with the ground truth

    @property
    def folder(self) -> Path:
        return self.split / self.name

    @property
    def gt(self) -> Path:
        return self.folder / "gt" / "gt.txt"

    @property
    def det_txt(self) -> Path:
        return self.folder / "det" / "det.txt"

    @property
    def seqinfo(self) -> Path:
        return self.folder / "seqinfo.ini"


# The dev set: the one place the benches learn where the data is (../shared/datasets/README.md,
# "The dev set"). Every bench and the tuning use all six, each with its own benchmark's rules.
# ETH-Sunnyday (a camera on a cart pushed forward along a pavement, 14 fps) joined last: the
# defaults tuned on the other five lost it badly while it was still unseen (issue 18).
DEV_SET: tuple[DevSequence, ...] = (
    DevSequence("TUD-Campus", MOT15, "MOT15", VIDEOS / "TUD-Campus.mp4"),
    DevSequence("TUD-Stadtmitte", MOT15, "MOT15", VIDEOS / "TUD-Stadtmitte.mp4"),
    DevSequence("PETS09-S2L1", MOT15, "MOT15", VIDEOS / "PETS09-S2L1.avi"),
    DevSequence("KITTI-17", MOT15, "MOT15", VIDEOS / "KITTI-17.mp4"),
    DevSequence("ETH-Sunnyday", MOT15, "MOT15", VIDEOS / "ETH-Sunnyday.mp4"),
    DevSequence("MOT16-11", MOT16, "MOT16", VIDEOS / "MOT16-11.mp4"),
)
DEV = {seq.name: seq for seq in DEV_SET}
DEV_SEQUENCES = tuple(DEV)


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
