"""`mot-cli track`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import console, user_errors
from mot_cli.commands.detect import detect_config

if TYPE_CHECKING:
    from mot_cli.detections import Detections
    from mot_cli.pipeline import Run
    from mot_cli.stages.embed import EmbedConfig

DEFAULT_REID = "osnet_x0_25_msmt17"


@user_errors
def track_command(
    source: opt.Source,
    detector: opt.Detector = "yolo11n",
    classes: opt.Classes = "person",
    conf: opt.Confidence = 0.1,
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
    from mot_cli.pipeline import open_run
    from mot_cli.stages import camera_motion, detect
    from mot_cli.stages import track as track_stage
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
    motion_config = camera_motion.CameraMotionConfig(method=cmc_method) if cmc else None
    det_config = detect_config(
        detector, classes, conf, imgsz, device, batch, det_txt, det_score
    )
    if output is not None:
        check_output(output, "--output", inputs=[source, det_txt])
    run = open_run(
        source, cache_dir, name, FrameRange(start, end),
        force=force, allow_missing_images=allow_missing_images,
    )  # fmt: skip
    if output is not None:
        _check_output_against_run(output, run)
    table = detect.run(run.source, run.run_dir, det_config, run.frames, force=force)
    score_map = detect.recorded_score_map(run.run_dir, table)
    detections = detect.frame_detections(table, score_map)
    upstream = {
        "detections": run.run_dir.completed_key(detect.STAGE) or "",
        "score_map": score_map.describe(),
    }
    if reid:
        embed_config = EmbedConfig(
            model=reid_model or DEFAULT_REID, device=device, backend=reid_backend
        )
        required = reid_model is not None
        detections = _with_embeddings(run, detections, embed_config, required, force, upstream)
    warps = None
    if motion_config is not None:
        motion = camera_motion.run(run.source, run.run_dir, motion_config, run.frames, force=force)
        upstream["camera_motion"] = run.run_dir.completed_key(camera_motion.STAGE) or ""
        warps = track_stage.load_warps(motion)
    frames = run.covered([detect.STAGE])  # fewer than asked when the video ended early
    parquet_path, text_path, ids = track_stage.run(
        run.run_dir, run.name, frames, detections, tracker_config, warps, upstream
    )
    copied = output is not None and not same_file(output, text_path)
    if copied:
        write_bytes(output, text_path.read_bytes())
    console.print(
        f"tracks: {ids} ids in frames {frames[0]}-{frames[1]} → {text_path}"
        + (f" (copied to {output})" if copied else ""),
        highlight=False,
    )
    console.print(
        f"caches: {run.run_dir.path}/ (manifest.json, {parquet_path.name}, …)", highlight=False
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


def _with_embeddings(
    run: Run,
    detections: dict[int, Detections],
    config: EmbedConfig,
    required: bool,
    force: bool,
    upstream: dict[str, str],
) -> dict[int, Detections]:
    """Attach embeddings; without `required`, missing default weights only turn appearance off."""
    from mot_cli.errors import ModelNotFoundError
    from mot_cli.stages import embed

    try:
        table = embed.run(
            run.source, run.run_dir, config, run.frames, detections, upstream["detections"], force
        )
    except ModelNotFoundError as exc:  # only absent weights turn the cue off; all else is an error
        if required:
            raise
        console.print(f"[yellow]warning:[/] appearance off: {exc}", highlight=False)
        return detections
    upstream["embeddings"] = run.run_dir.completed_key(embed.STAGE) or ""
    return embed.attach(detections, table)
