"""Make the README's two pictures in docs/: a frame of `mot-cli render` and a `summary --plot`.

    PYTHONPATH=. MOT_CLI_MODELS=../shared/models .venv/bin/python scripts/readme_stills.py

1. docs/render_still.jpg: the committed sample clip tracked with YOLO11n (INT8 OpenVINO, from
   $MOT_CLI_MODELS) and OSNet re-ID, rendered, and one frame of that video saved.
2. docs/summary_pets09.png: PETS09-S2L1 (read in place from ../shared/datasets) tracked from
   its public det.txt, summarised with its ground truth.

Runs go to a temporary folder; only the two pictures are written into the repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DOCS = REPO / "docs"
SAMPLE = REPO / "sample_videos" / "vtest_first80.mp4"
PETS = SHARED / "datasets" / "MOT15-train" / "PETS09-S2L1"
PETS_VIDEO = SHARED / "datasets" / "videos" / "PETS09-S2L1.avi"
STILL_FRAME = 64
DETECTOR = "yolo11n_int8_openvino_model"


def mot_cli(*args: object) -> None:
    command = [sys.executable, "-m", "mot_cli", *map(str, args)]
    print("+ mot-cli", " ".join(map(str, args)), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def render_still(work: Path) -> Path:
    import cv2

    video = work / "sample.mp4"
    mot_cli("track", SAMPLE, "--detector", DETECTOR, "--cache-dir", work / "runs", "--no-cmc",
            "--render", video)  # fmt: skip
    capture = cv2.VideoCapture(str(video))
    for _ in range(STILL_FRAME):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{video}: fewer than {STILL_FRAME} frames")
    capture.release()
    target = DOCS / "render_still.jpg"
    cv2.imwrite(str(target), frame, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return target


def summary_still(work: Path) -> Path:
    for path in (PETS, PETS_VIDEO):
        if not path.exists():
            raise SystemExit(f"needs {path} (the shared data beside the repo)")
    target = DOCS / "summary_pets09.png"
    mot_cli("track", PETS_VIDEO, "--det-txt", PETS / "det" / "det.txt", "--no-cmc",
            "--cache-dir", work / "runs")  # fmt: skip
    mot_cli("summary", work / "runs" / "PETS09-S2L1", "--gt", PETS, "--plot", target)
    return target


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for made in (render_still(work), summary_still(work)):
            print(f"wrote {made.relative_to(REPO)} ({made.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
