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
    from mot_cli.tracking import TrackerConfig

DEFAULT_REID = opt.DEFAULT_REID


@user_errors
@opt.with_track_options
def track_command(
    source: opt.Source,
    options: opt.TrackOptions,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also copy the MOTChallenge text here.")
    ] = None,
    render_path: Annotated[
        Path | None,
        typer.Option("--render", help="Also write an annotated video here (mot-cli render)."),
    ] = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
) -> None:
    """Track every person (or --classes) and write MOTChallenge text plus tracks.parquet.

    Missing or stale upstream caches (detections, embeddings, camera motion; with --sd also
    masks, depth maps, the encoder and its embeddings) are computed first; fresh ones are
    replayed, so changing a tracker setting re-runs only the association.

    Examples:

      mot-cli track video.mp4

      MOT_CLI_MODELS=../shared/models mot-cli track video.mp4 --detector yolo11n --no-cmc

      mot-cli track ../shared/datasets/MOT15-train/TUD-Campus --det-txt det/det.txt \\
          --set iou_threshold=0.25 -o TUD-Campus.txt

      mot-cli track video.mp4 --sd

      mot-cli track video.mp4 --sd-encoder models/sd_encoder.pt --set w_sd=1.0

      mot-cli track ../shared/datasets/videos/KITTI-17.mp4 \\
          --masks-txt ../shared/datasets/MOTS-train/KITTI-17/gt/gt.txt --set w_iom=0.5
    """
    from mot_cli.files import check_output, same_file, write_bytes
    from mot_cli.pipeline import open_run, produce
    from mot_cli.stages import track
    from mot_cli.video import FrameRange

    configs, optional = track_configs(options, source)
    det_txt = det_txt_for(options.det_txt, source)
    masks_txt = det_txt_for(options.masks_txt, source)
    if render_path is not None:
        from mot_cli.outputs.render import video_codec

        video_codec(render_path)  # a bad name fails now, not after tracking
    if output is not None:
        check_output(output, "--output", inputs=[source, det_txt, masks_txt])
    run = open_run(
        source, cache_dir, name, FrameRange(options.start, options.end),
        force=options.force, allow_missing_images=options.allow_missing_images,
    )  # fmt: skip
    if output is not None:
        _check_output_against_run(output, run)
    outcome = produce(run, track.STAGE, configs, force=options.force, optional=optional)
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


def track_configs(
    options: opt.TrackOptions, source: Path
) -> tuple[dict[str, object], dict[str, str]]:
    """The stage configs `track` runs for `source` with these options, and the optional cues.

    The optional cues map a stage to the cue it gives: without --reid-model, absent default
    re-ID weights only turn appearance off. `batch` builds each video's configs here too.
    """
    from mot_cli.errors import MotCliError
    from mot_cli.stages import camera_motion, detect, embed, segment, track
    from mot_cli.stages.embed import EmbedConfig
    from mot_cli.tracking import TrackerConfig

    try:
        tracker_config = TrackerConfig().with_overrides(options.settings or [])
    except ValueError as exc:
        raise MotCliError(f"--set: {exc}") from None
    tracker_config = _with_sd_weight(options, tracker_config)
    det_txt = det_txt_for(options.det_txt, source)
    configs: dict[str, object] = {
        detect.STAGE: detect_config(
            options.detector, options.classes, options.conf, options.imgsz, options.device,
            options.batch, det_txt, options.det_score,
        ),
        track.STAGE: tracker_config,
    }  # fmt: skip
    if options.reid:
        configs[embed.STAGE] = EmbedConfig(
            model=options.reid_model or DEFAULT_REID,
            device=options.device,
            backend=options.reid_backend,
        )
    if options.cmc:
        configs[camera_motion.STAGE] = camera_motion.CameraMotionConfig(method=options.cmc_method)
    configs |= _mask_and_depth_configs(options, tracker_config)
    if options.masks_txt is not None:  # imported masks: used by the mask cues and MOTS output
        configs[segment.STAGE] = segment.SegmentConfig(
            masks_txt=det_txt_for(options.masks_txt, source), masks_frames=options.masks_frames
        )
    optional = {} if options.reid_model is not None else {embed.STAGE: "appearance"}
    return configs, optional


def _with_sd_weight(options: opt.TrackOptions, config: TrackerConfig) -> TrackerConfig:
    """--sd (or --sd-encoder) turns S_sd on at `DEFAULT_W_SD` unless --set gives `w_sd`."""
    from mot_cli.errors import MotCliError
    from mot_cli.stages.sd_embed import DEFAULT_W_SD

    if not (options.sd or options.sd_encoder is not None):
        return config
    named = {item.partition("=")[0].strip() for item in options.settings or []}
    if "w_sd" not in named:
        return config.replace(w_sd=DEFAULT_W_SD)
    if config.w_sd <= 0:
        raise MotCliError("--sd with --set w_sd=0: the S_sd cue would be off; drop one of them")
    return config


def _mask_and_depth_configs(options: opt.TrackOptions, config: TrackerConfig) -> dict:
    """The stages the mask and depth×mask cues read, only when the tracker uses them.

    Masks and depth maps a user made with `mot-cli segment` / `mot-cli depth` (any backend)
    are used as they are while they fit the detections; missing ones are made with the
    offline defaults. Without these cues `track` runs none of these stages.
    """
    from mot_cli.pipeline import Cached
    from mot_cli.stages import depth, sd_embed, sd_encoder, segment

    configs: dict[str, object] = {}
    if options.sd_encoder is not None:  # a missing checkpoint fails before any other work
        from mot_cli.models import resolve_model

        resolve_model(options.sd_encoder, download=False)
    sd = config.w_sd > 0
    if sd or config.w_iom > 0 or config.mask_occlusion:
        configs[segment.STAGE] = Cached(segment.SegmentConfig(device=options.device))
    if sd:
        configs[depth.MAPS_STAGE] = Cached(depth.DepthConfig(device=options.device))
        if options.sd_encoder is None:
            configs[sd_encoder.STAGE] = Cached(sd_encoder.SdEncoderConfig())
        configs[sd_embed.STAGE] = sd_embed.SdEmbedConfig(options.sd_encoder)
    return configs


def det_txt_for(det_txt: Path | None, source: Path) -> Path | None:
    """`--det-txt` for one input: `{name}` becomes the input's name (a video's file name
    without extension, a sequence folder's name), and a relative path is looked for inside a
    MOTChallenge sequence folder (`det/det.txt`) when it is not found as it is."""
    if det_txt is None:
        return None
    if "{name}" in str(det_txt):
        name = source.stem if source.is_file() else source.name
        det_txt = Path(str(det_txt).replace("{name}", name))
    return _relative_to_sequence(det_txt, source)


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
