"""Shared fixtures: paths to ../shared (tests skip clearly when it is absent) and tiny inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
MODELS = SHARED / "models"
MOT15 = DATASETS / "MOT15-train"
VIDEOS = DATASETS / "videos"


def need(path: Path) -> Path:
    """Skip the calling test, saying which file is missing, when ../shared lacks `path`."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data beside the repo)")
    return path


@pytest.fixture(autouse=True)
def _isolated_models(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Never download, and keep the user cache out of tests; ../shared/models stays visible."""
    monkeypatch.setenv("MOT_CLI_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    if "MOT_CLI_MODELS" not in os.environ and MODELS.is_dir():
        monkeypatch.setenv("MOT_CLI_MODELS", str(MODELS))


def write_video(path: Path, frames: int, size: tuple[int, int] = (160, 120), fps: int = 10) -> Path:
    """A small MJPG AVI of a bright square moving across a gradient (decodes everywhere)."""
    import cv2

    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    base = np.tile(np.linspace(0, 200, width, dtype=np.uint8), (height, 1))
    for index in range(frames):
        image = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
        x = 5 + 4 * index
        cv2.rectangle(image, (x, 30), (x + 20, 80), (255, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path


@pytest.fixture
def small_video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "walk.avi", 20)


@pytest.fixture
def small_det_txt(tmp_path: Path) -> Path:
    """Public-style detections following the square of `small_video`, ACF-like scores.

    One weak false positive (score -0.5) sets the bottom of the score range, as in real det.txt.
    """
    lines = [f"{i + 1},-1,{5 + 4 * i},30,20,50,{55 + i % 3},-1,-1,-1" for i in range(20)]
    lines.append("7,-1,120,90,10,20,-0.5,-1,-1,-1")
    path = tmp_path / "det.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_det_txt(path: Path, boxes: dict) -> Path:
    """A MOTChallenge det.txt of per-frame `Detections` (score 1), to import as a cache."""
    lines = [
        f"{number},-1,{x1:g},{y1:g},{x2 - x1:g},{y2 - y1:g},1,-1,-1,-1"
        for number, dets in sorted(boxes.items())
        for x1, y1, x2, y2 in dets.xyxy
    ]
    path.write_text("".join(line + "\n" for line in lines))
    return path
