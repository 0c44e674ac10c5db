"""Options shared by several commands, declared once with `Annotated`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Annotated, TypeVar, get_type_hints

import typer

from mot_cli.recipes import DEFAULT_REID, TrackRequest
from mot_cli.urls import source_argument

R = TypeVar("R")


Source = Annotated[
    Path,
    typer.Argument(
        metavar="SOURCE",
        help="Video file (mp4, avi, …), MOTChallenge sequence folder (img1/ + seqinfo.ini), or "
        "http, https or rtsp URL of a video (not a live stream).",
        show_default=False,
        parser=source_argument,  # a URL reaches open_source as typed (no `//` folded)
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
UpstreamDetector = Annotated[
    str | None,
    typer.Option(
        "--detector",
        help="Detect with this model first (default: use the detections cache, or "
        "yolo11n when there is none).",
    ),
]
DetTxt = Annotated[
    Path | None,
    typer.Option(
        "--det-txt",
        help="Import public detections from a MOTChallenge det.txt instead "
        "of running a model (scores keep their own scale). A relative path is also looked for "
        "inside a sequence folder (det/det.txt); {name} stands for the input's name "
        "(dets/{name}.txt), so one option serves every video of a batch.",
    ),
]
MasksTxt = Annotated[
    Path | None,
    typer.Option(
        "--masks-txt",
        help="Import masks (MOTS text: MOTSChallenge or KITTI MOTS, e.g. SAM 2 masks made "
        "elsewhere, or ground truth as an oracle) instead of running a segmenter; each is "
        "matched to one detection by box overlap. {name} and sequence-relative paths as for "
        "--det-txt. Example: --masks-txt MOTS/train/KITTI-17/gt/gt.txt",
    ),
]
MasksFrames = Annotated[
    str,
    typer.Option(
        "--masks-frames",
        help="How the --masks-txt file counts frames: 1 (MOTSChallenge), 0 (KITTI MOTS) or "
        "auto (a frame 0 means 0; else from which numbering matches the detections; printed).",
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
Slice = Annotated[
    str,
    typer.Option(
        "--slice",
        help="Sliced detection, for small people in large frames: off; WxH (e.g. 960x540: "
        "overlapping tiles of that size, plus the whole frame when they are shorter than it); "
        "or auto (decides per video from a few sampled frames whether people are small at "
        "the detector's input, and prints why). Example: mot-cli track cctv.mp4 --slice auto",
    ),
]
SliceOverlap = Annotated[
    float,
    typer.Option(
        "--slice-overlap",
        help="Share of a tile that overlaps its neighbour (0 to <1), e.g. --slice-overlap 0.25.",
    ),
]
Reid = Annotated[
    bool, typer.Option("--reid/--no-reid", help="Use appearance (re-ID) embeddings.")
]
ReidModel = Annotated[
    str | None,
    typer.Option(
        "--reid-model",
        help=f"Re-ID weights (name or path). Default: {DEFAULT_REID} when it can be found, "
        "else tracking runs without appearance.",
    ),
]
Cmc = Annotated[
    bool,
    typer.Option("--cmc/--no-cmc", help="Camera-motion compensation; turn off for static cameras."),
]
CmcMethod = Annotated[
    str,
    typer.Option(
        "--cmc-method",
        help="How camera motion is estimated: sparse (optical flow + RANSAC) or ecc.",
    ),
]
Sd = Annotated[
    bool,
    typer.Option(
        "--sd/--no-sd",
        help="The depth×mask cue S_sd: masks and depth maps (those `mot-cli segment` / "
        "`mot-cli depth` made, else box masks and pseudo-depth from the boxes, which cost "
        "next to nothing), the encoder trained one pass on this video without labels "
        "(unless --sd-encoder), every detection embedded, tracked with w_sd=0.5 (or --set "
        "w_sd=...). E.g. `mot-cli track video.mp4 --sd`.",
    ),
]
SdEncoder = Annotated[
    str | None,
    typer.Option(
        "--sd-encoder",
        help="A depth×mask encoder checkpoint (`mot-cli train-encoder`; a path or a name in "
        "$MOT_CLI_MODELS) to use instead of training one on this video; implies --sd.",
    ),
]
Settings = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a tracker setting, e.g. --set iou_threshold=0.25 (repeatable; wins "
        "over --config; `mot-cli track --list-settings` lists the names and defaults).",
    ),
]
SettingsFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE.yaml",
        help="Tracker settings from a YAML file of `name: value` lines (the --set names); "
        "--set wins over it, and the run's manifest records its path and sha256.",
    ),
]


class TrackOptions:
    """The CLI form of `mot_cli.recipes.TrackRequest`: each field's option, by name.

    `track` and `batch` both take them (`with_track_options`), so an option added here (and
    to `TrackRequest`, which holds the defaults) reaches every video of a batch as it reaches
    `track`. The recipes turn the request into stage configs.
    """

    detector: Detector
    classes: Classes
    conf: Confidence
    imgsz: ImageSize
    device: Device
    batch: Batch
    det_txt: DetTxt
    det_score: DetScore
    slice: Slice
    slice_overlap: SliceOverlap
    masks_txt: MasksTxt
    masks_frames: MasksFrames
    reid: Reid
    reid_model: ReidModel
    reid_backend: ReidBackend
    cmc: Cmc
    cmc_method: CmcMethod
    sd: Sd
    sd_encoder: SdEncoder
    config: SettingsFile
    settings: Settings
    start: Start
    end: End
    force: Force
    allow_missing_images: AllowMissingImages


def with_track_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give a command every `TrackOptions` field as a CLI option, in place of its parameter
    `options: TrackOptions`, and call it with them gathered into one `TrackRequest`.

    Typer reads a command's signature, so the options are spliced into it where `options`
    stands; the command itself sees one frozen value. The defaults are `TrackRequest`'s.
    """
    signature = inspect.signature(command)
    hints = get_type_hints(TrackOptions, include_extras=True)
    defaults = {f.name: f.default for f in fields(TrackRequest)}
    if set(hints) != set(defaults):  # an option without a request field, or the reverse
        raise TypeError(f"TrackOptions and TrackRequest differ: {set(hints) ^ set(defaults)}")
    names = list(defaults)
    spliced = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=hints[name]
        )
        for name in names
    ]
    own = get_type_hints(command, include_extras=True)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name == "options":
            parameters.extend(spliced)
        else:
            annotation = own.get(parameter.name, parameter.annotation)
            parameters.append(
                parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
            )

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> R:
        values = {name: kwargs.pop(name) for name in names if name in kwargs}
        return command(*args, options=TrackRequest(**values), **kwargs)  # type: ignore[arg-type]

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=signature.return_annotation
    )
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
