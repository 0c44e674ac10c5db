"""Options shared by several commands, declared once with `Annotated`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Source = Annotated[
    Path,
    typer.Argument(
        help="Video file (mp4, avi, …) or MOTChallenge sequence folder (img1/ + seqinfo.ini).",
        show_default=False,
    ),
]
CacheDir = Annotated[
    Path,
    typer.Option("--cache-dir", help="Parent folder of run folders; the run is CACHE_DIR/NAME."),
]
Name = Annotated[
    str | None, typer.Option("--name", help="Run name (default: the video's or sequence's name).")
]
Start = Annotated[int, typer.Option("--start", min=1, help="First frame to process (1-based).")]
End = Annotated[
    int | None, typer.Option("--end", min=1, help="Last frame to process (default: the last).")
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Recompute the stage even if its cache is fresh; also lets this input replace "
        "another source's results in the run folder, and rebuilds a corrupt manifest.",
    ),
]
AllowMissingImages = Annotated[
    bool,
    typer.Option(
        "--allow-missing-images",
        help="In an image folder, treat a missing image (000010.jpg between 000009.jpg and "
        "000011.jpg) as a frame with nothing in it instead of an error.",
    ),
]
Detector = Annotated[
    str,
    typer.Option(
        "--detector",
        "-m",
        help="YOLO model: a name (yolo11n) resolved via $MOT_CLI_MODELS, the user cache or a "
        "download, or a path to .pt / .onnx / an OpenVINO folder.",
    ),
]
Classes = Annotated[
    str, typer.Option("--classes", help="Comma-separated class names or ids to keep, or 'all'.")
]
Confidence = Annotated[
    float,
    typer.Option(
        "--conf",
        min=0.0,
        max=1.0,
        help="Minimum detection confidence. The tracker ignores boxes at or below its "
        "low_threshold (0.35), so weaker ones only cost time; lower both together.",
    ),
]
ImageSize = Annotated[int, typer.Option("--imgsz", help="Detector input size in pixels.")]
Device = Annotated[str, typer.Option("--device", help="cpu, cuda, cuda:0, …")]
ReidBackend = Annotated[
    str,
    typer.Option(
        "--reid-backend",
        help="Re-ID runtime: torch, openvino (CPU only, 2.5-4x faster there) or auto "
        "(openvino on CPU when installed).",
    ),
]
Batch = Annotated[int, typer.Option("--batch", min=1, help="Frames per detector call.")]
DetTxt = Annotated[
    Path | None,
    typer.Option(
        "--det-txt",
        help="Import public detections from a MOTChallenge det.txt instead "
        "of running a model (scores keep their own scale).",
    ),
]
DetScore = Annotated[
    str,
    typer.Option(
        "--det-score",
        help="How --det-txt scores become probabilities: auto (from the file's score range), "
        "probability, acf (MOT15 public), dpm (MOT16/17 public) or logistic:CENTRE:WIDTH. "
        "The tracker's thresholds read probabilities; model detections already are.",
    ),
]
