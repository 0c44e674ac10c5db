"""`mot-cli track`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import console, user_errors
from mot_cli.commands.detect import detect_config

if TYPE_CHECKING:
    from mot_cli.pipeline import Run

DEFAULT_REID = "osnet_x0_25_msmt17"


@user_errors
def track_command(
    source: opt.Source,
    detector: opt.Detector = "yolo11n",
    classes: opt.Classes = "person",
    conf: opt.Confidence = 0.3,
    imgsz: opt.ImageSize = 640,
    device: opt.Device = "cpu",
    batch: opt.Batch = 8,
    det_txt: opt.DetTxt = None,
    det_score: opt.DetScore = "auto",
    reid: Annotated[
        bool, typer.Option("--reid/--no-reid", help="Use appearance (re-ID) embeddings.")
    ] = True,
    reid_model: Annotated[
        str | None,
        typer.Option(
            "--reid-model",
            help=f"Re-ID weights (name or path). Default: {DEFAULT_REID} when it "
            "can be found, else tracking runs without appearance.",
        ),
    ] = None,
    reid_backend: opt.ReidBackend = "auto",
    cmc: Annotated[
        bool,
        typer.Option(
            "--cmc/--no-cmc", help="Camera-motion compensation; turn off for static cameras."
        ),
    ] = True,
    cmc_method: Annotated[
        str,
        typer.Option(
            "--cmc-method",
            help="How camera motion is estimated: sparse (optical flow + RANSAC) or ecc.",
        ),
    ] = "sparse",
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a tracker setting, e.g. --set iou_threshold=0.25 (repeatable; "
            "an unknown name lists the valid ones).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also copy the MOTChallenge text here.")
    ] = None,
    render_path: Annotated[
        Path | None,
        typer.Option("--render", help="Also write an annotated video here (mot-cli render)."),
    ] = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    start: opt.Start = 1,
    end: opt.End = None,
    force: opt.Force = False,
    allow_missing_images: opt.AllowMissingImages = False,
) -> None:
    """Track every person (or --classes) and write MOTChallenge text plus tracks.parquet.

    Missing or stale upstream caches (detections, embeddings, camera motion) are computed
    first; fresh ones are replayed, so changing a tracker setting re-runs only the association.

    Examples:

      mot-cli track video.mp4

      MOT_CLI_MODELS=../shared/models mot-cli track video.mp4 --detector yolo11n --no-cmc

      mot-cli track ../shared/datasets/MOT15-train/TUD-Campus --det-txt det/det.txt \\
          --set iou_threshold=0.25 -o TUD-Campus.txt
    """
    from mot_cli.errors import MotCliError
    from mot_cli.files import check_output, same_file, write_bytes
    from mot_cli.pipeline import open_run, produce
    from mot_cli.stages import camera_motion, track
    from mot_cli.stages.embed import EmbedConfig
    from mot_cli.tracking import TrackerConfig
    from mot_cli.video import FrameRange

    try:
        tracker_config = TrackerConfig().with_overrides(settings or [])
    except ValueError as exc:
        raise MotCliError(f"--set: {exc}") from None
    det_txt = _relative_to_sequence(det_txt, source)
    if render_path is not None:
        from mot_cli.outputs.render import video_codec

        video_codec(render_path)  # a bad name fails now, not after tracking
    configs: dict[str, object] = {
        "detections": detect_config(
            detector, classes, conf, imgsz, device, batch, det_txt, det_score
        ),
        track.STAGE: tracker_config,
    }
    if reid:
        configs["embeddings"] = EmbedConfig(
            model=reid_model or DEFAULT_REID, device=device, backend=reid_backend
        )
    if cmc:
        configs[camera_motion.STAGE] = camera_motion.CameraMotionConfig(method=cmc_method)
    if output is not None:
        check_output(output, "--output", inputs=[source, det_txt])
    run = open_run(
        source, cache_dir, name, FrameRange(start, end),
        force=force, allow_missing_images=allow_missing_images,
    )  # fmt: skip
    if output is not None:
        _check_output_against_run(output, run)
    # Without --reid-model, absent default weights only turn appearance off.
    optional = {} if reid_model is not None else {"embeddings": "appearance"}
    outcome = produce(run, track.STAGE, configs, force=force, optional=optional)
    entry = outcome.entry(track.STAGE)
    first, last = entry["frames"]  # fewer than asked when the video ended early
    text_path = run.run_dir.path / entry["mot_txt"]
    copied = output is not None and not same_file(output, text_path)
    if copied:
        write_bytes(output, text_path.read_bytes())
    console.print(
        f"tracks: {entry['ids']} ids in frames {first}-{last} → {text_path}"
        + (f" (copied to {output})" if copied else ""),
        highlight=False,
    )
    console.print(
        f"caches: {run.run_dir.path}/ (manifest.json, {run.run_dir.file(track.STAGE).name}, …)",
        highlight=False,
    )
    if render_path is not None:
        from mot_cli.outputs.render import RenderConfig, render_run

        video = render_run(run.run_dir.path, render_path, RenderConfig(run.first, run.last))
        console.print(f"render: {video.frames} frames → {video.path}", highlight=False)


def _check_output_against_run(output: Path, run: Run) -> None:
    """`-o` is no file the source reads, and no file of the run folder but its own text."""
    from mot_cli.errors import MotCliError
    from mot_cli.files import check_output

    check_output(output, "--output", inputs=run.source.input_files())
    inside = output.resolve().parent == run.run_dir.path.resolve()
    if inside and output.name != f"{run.name}.txt":
        raise MotCliError(
            f"--output {output}: is inside the run folder {run.run_dir.path}, where it would "
            "replace a cache; write it elsewhere"
        )


def _relative_to_sequence(det_txt: Path | None, source: Path) -> Path | None:
    """Let `--det-txt det/det.txt` be relative to a MOTChallenge sequence folder."""
    if det_txt is None or det_txt.exists() or not source.is_dir():
        return det_txt
    candidate = source / det_txt
    return candidate if candidate.exists() else det_txt
