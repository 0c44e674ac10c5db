"""`mot-cli track`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors
from mot_cli.commands.detect import detect_config

if TYPE_CHECKING:
    from mot_cli.pipeline import Run
    from mot_cli.tracking import TrackerConfig

DEFAULT_REID = opt.DEFAULT_REID


def _list_settings(value: bool) -> None:
    """`--list-settings`: one line per setting, name, default and meaning, on stdout."""
    if not value:
        return
    import dataclasses

    from mot_cli.tracking import TrackerConfig
    from mot_cli.tracking.config import setting_descriptions

    described = setting_descriptions()
    rows = [
        (f.name, _yaml_value(f.default), described.get(f.name, ""))
        for f in dataclasses.fields(TrackerConfig)
    ]
    name_width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    typer.echo(f"{'setting':<{name_width}}  {'default':<{value_width}}  meaning")
    for name, value, text in rows:
        typer.echo(f"{name:<{name_width}}  {value:<{value_width}}  {text}")
    raise typer.Exit()


def _yaml_value(value: object) -> str:
    """A default as it is written in --set and in a YAML file (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


ListSettings = Annotated[
    bool,
    typer.Option(
        "--list-settings",
        is_eager=True,
        callback=_list_settings,
        help="Print every tracker setting (for --set and --config) with its default and "
        "meaning, and exit.",
    ),
]


@user_errors
@opt.with_track_options
def track_command(
    source: opt.Source,
    options: opt.TrackOptions,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o",
            help="Also copy the MOTChallenge text here (a .txt file, or a name without an "
            "extension).",
        ),
    ] = None,
    render_path: Annotated[
        Path | None,
        typer.Option("--render", help="Also write an annotated video here (mot-cli render)."),
    ] = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    list_settings: ListSettings = False,
) -> None:
    """Track every person (or --classes) and write MOTChallenge text plus tracks.parquet.

    Missing or stale upstream caches (detections, embeddings, camera motion; with --sd also
    masks, depth maps, the encoder and its embeddings) are computed first; fresh ones are
    replayed, so changing a tracker setting re-runs only the association.

    Examples:

    \b
      mot-cli track video.mp4

    \b
      MOT_CLI_MODELS=~/models mot-cli track video.mp4 --detector yolo11n \\
          --no-cmc

    \b
      mot-cli track MOT15/train/TUD-Campus --det-txt det/det.txt \\
          --set iou_threshold=0.25 -o TUD-Campus.txt

    \b
      mot-cli track video.mp4 --config tracker.yaml --set max_age=60

    \b
      mot-cli track video.mp4 --sd

    \b
      mot-cli track http://127.0.0.1:8000/clip.avi --classes car,person

    \b
      mot-cli track video.mp4 --sd-encoder models/sd_encoder.pt --set w_sd=1.0

    \b
      mot-cli track --list-settings

    \b
      mot-cli track video.mp4 --masks-txt sam2_masks.txt --set w_iom=0.5
    """
    from mot_cli.files import same_file, write_bytes
    from mot_cli.guard import check_outputs, check_suffix
    from mot_cli.pipeline import open_run, produce
    from mot_cli.progress import results_console
    from mot_cli.stages import track
    from mot_cli.video import FrameRange

    configs, optional = track_configs(options, source)
    det_txt = det_txt_for(options.det_txt, source)
    masks_txt = det_txt_for(options.masks_txt, source)
    if render_path is not None:
        from mot_cli.outputs.render import video_codec

        video_codec(render_path)  # a bad name fails now, not after tracking
    outputs = {"--output": output, "--render": render_path}
    check_outputs(
        outputs, reads=[source, det_txt, masks_txt], allow=_own_text_like(output, cache_dir)
    )
    run = open_run(
        source, cache_dir, name, FrameRange(options.start, options.end),
        force=options.force, allow_missing_images=options.allow_missing_images,
    )  # fmt: skip
    _check_outputs_against_run(outputs, run)
    if output is not None:  # after the checks that name an input: theirs is the worse news
        check_suffix(output, "--output", (".txt",), "MOTChallenge text")
    outcome = produce(run, track.STAGE, configs, force=options.force, optional=optional)
    if options.config is not None:
        _record_settings_file(run, options.config)
    entry = outcome.entry(track.STAGE)
    first, last = entry["frames"]  # fewer than asked when the video ended early
    text_path = run.run_dir.path / entry["mot_txt"]
    copied = output is not None and not same_file(output, text_path)
    if copied:
        write_bytes(output, text_path.read_bytes())
    out = results_console()  # where the results went: stdout, for $(…) and pipes
    out.print(
        f"tracks: {entry['ids']} ids in frames {first}-{last} → {text_path}"
        + (f" (copied to {output})" if copied else ""),
        markup=False,
    )
    out.print(
        f"caches: {run.run_dir.path}/ (manifest.json, {run.run_dir.file(track.STAGE).name}, …)",
        markup=False,
    )
    if render_path is not None:
        from mot_cli.outputs.render import RenderConfig, render_run

        video = render_run(run.run_dir.path, render_path, RenderConfig(run.first, run.last))
        out.print(f"render: {video.frames} frames, {video.codec} → {video.path}", markup=False)


def _record_settings_file(run: Run, path: Path) -> None:
    """The tracks' manifest entry names the settings file and the sha256 of what it held."""
    from mot_cli.stages import track
    from mot_cli.tracking.settings_file import read_settings_file

    entry = run.run_dir.entry(track.STAGE) or {}
    run.run_dir.record(track.STAGE, {**entry, "config_file": read_settings_file(path).describe()})


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

    base = TrackerConfig()
    if options.config is not None:  # the file first, so that --set wins over it
        from mot_cli.tracking.settings_file import read_settings_file

        base = base.replace(**read_settings_file(options.config).values)
    try:
        tracker_config = base.with_overrides(options.settings or [])
    except ValueError as exc:
        raise MotCliError(f"--set: {exc}") from None
    tracker_config = _with_sd_weight(options, tracker_config)
    det_txt = det_txt_for(options.det_txt, source)
    configs: dict[str, object] = {
        detect.STAGE: detect_config(
            options.detector, options.classes, options.conf, options.imgsz, options.device,
            options.batch, det_txt, options.det_score, options.slice, options.slice_overlap,
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
    """--sd (or --sd-encoder) turns S_sd on at `DEFAULT_W_SD` unless --set or --config gives
    `w_sd`."""
    from mot_cli.errors import MotCliError
    from mot_cli.stages.sd_embed import DEFAULT_W_SD

    if not (options.sd or options.sd_encoder is not None):
        return config
    named = {item.partition("=")[0].strip() for item in options.settings or []}
    if options.config is not None:
        from mot_cli.tracking.settings_file import read_settings_file

        named |= set(read_settings_file(options.config).values)
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
    if options.sd_encoder is not None:  # a missing or bad checkpoint fails before any work
        from mot_cli.encoder.model import load_encoder

        load_encoder(options.sd_encoder)
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
        name = source.name if source.is_dir() else source.stem  # a file's or a URL's stem
        det_txt = Path(str(det_txt).replace("{name}", name))
    return _relative_to_sequence(det_txt, source)


def _check_outputs_against_run(outputs: dict[str, Path | None], run: Run) -> None:
    """Once the run folder is known: no output is a file the source reads or a file of any
    run folder, except that `-o` may name the run's own text file (then nothing is copied)."""
    from mot_cli.guard import check_output

    own_text = run.run_dir.path / f"{run.name}.txt"
    for option, path in outputs.items():
        if path is not None:
            allow = [own_text] if option == "--output" else []
            check_output(path, option, reads=run.source.input_files(), allow=allow)


def _own_text_like(output: Path | None, cache_dir: Path) -> list[Path]:
    """`-o` shaped like a run's own text, CACHE_DIR/NAME/NAME.txt: allowed until the run is
    open, when `_check_outputs_against_run` knows the name."""
    from mot_cli.files import same_file

    if output is None or output.name != f"{output.parent.name}.txt":
        return []
    return [output] if same_file(output.parent.parent, cache_dir) else []


def _relative_to_sequence(det_txt: Path | None, source: Path) -> Path | None:
    """Let `--det-txt det/det.txt` be relative to a MOTChallenge sequence folder."""
    if det_txt is None or det_txt.exists() or not source.is_dir():
        return det_txt
    candidate = source / det_txt
    return candidate if candidate.exists() else det_txt
