"""Run recipes: what a tracking request computes, as stage configs for the stage graph.

The CLI (`track`, `batch`, `segment`/`depth`/`embed`), batch workers and the Python API all
turn their options into a `TrackRequest` and ask here for the stage configs, so a default or
a rule lives in one place and no library code imports the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from mot_cli.errors import MotCliError

if TYPE_CHECKING:
    from mot_cli.pipeline import Outcome, Run
    from mot_cli.stages.detect import DetectConfig
    from mot_cli.tracking import TrackerConfig

DEFAULT_REID = "osnet_x0_25_msmt17"

Configs = dict[str, object]  # stage name -> its config
Cues = dict[str, str]  # optional stage -> the cue it gives ("embeddings" -> "appearance")


@dataclass(frozen=True)
class TrackRequest:
    """Everything that decides what is computed to track one input (`mot-cli track`'s options
    without Typer). Plain values: it pickles, so batch workers and Ray tasks receive it.

    `settings`: `name=value` tracker settings (`--set`), applied after the `config` file.
    """

    detector: str = "yolo11n"
    classes: str = "person"
    conf: float = 0.3
    imgsz: int = 640
    device: str = "cpu"
    batch: int = 8
    det_txt: Path | None = None
    det_score: str = "auto"
    slice: str = "off"
    slice_overlap: float = 0.2
    masks_txt: Path | None = None
    masks_frames: str = "auto"
    reid: bool = True
    reid_model: str | None = None
    reid_backend: str = "auto"
    cmc: bool = True
    cmc_method: str = "sparse"
    sd: bool = False
    sd_encoder: str | None = None
    config: Path | None = None
    settings: tuple[str, ...] | list[str] | None = None
    start: int = 1
    end: int | None = None
    force: bool = False
    allow_missing_images: bool = False


REQUEST_FIELDS = tuple(f.name for f in fields(TrackRequest))


def settings_strings(settings: Mapping[str, object]) -> tuple[str, ...]:
    """A mapping of tracker settings as `--set` strings (true/false for booleans, floats
    written so that they read back exactly)."""

    def text(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(value) if isinstance(value, float) else str(value)

    return tuple(f"{name}={text(value)}" for name, value in settings.items())


def detect_config(
    detector: str,
    classes: str,
    conf: float,
    imgsz: int,
    device: str,
    batch: int,
    det_txt: Path | None,
    det_score: str = "auto",
    slice: str = "off",
    slice_overlap: float = 0.2,
) -> DetectConfig:
    """The detect stage's config from option values (`detect` and `track` alike)."""
    from mot_cli.stages.detect import DetectConfig

    names = tuple(c.strip() for c in classes.split(",") if c.strip())
    if not names:
        raise MotCliError(f"--classes {classes!r}: names no class; give names or ids, or 'all'")
    return DetectConfig(
        model=detector,
        classes=names,
        confidence=conf,
        image_size=imgsz,
        device=device,
        batch=batch,
        det_txt=det_txt,
        det_score=det_score,
        slice=slice,
        slice_overlap=slice_overlap,
    )


def tracker_config(request: TrackRequest) -> TrackerConfig:
    """The tracker settings: defaults, then the settings file, then `--set` (and --sd's w_sd)."""
    from mot_cli.tracking import TrackerConfig

    base = TrackerConfig()
    if request.config is not None:  # the file first, so that --set wins over it
        from mot_cli.tracking.settings_file import read_settings_file

        base = base.replace(**read_settings_file(request.config).values)
    try:
        config = base.with_overrides(request.settings or [])
    except ValueError as exc:
        raise MotCliError(f"--set: {exc}") from None
    return _with_sd_weight(request, config)


def track_configs(request: TrackRequest, source: Path) -> tuple[Configs, Cues]:
    """The stage configs tracking `source` runs with this request, and the optional cues.

    The optional cues map a stage to the cue it gives: without `reid_model`, absent default
    re-ID weights only turn appearance off.
    """
    from mot_cli.stages import camera_motion, detect, embed, segment, track
    from mot_cli.stages.embed import EmbedConfig

    config = tracker_config(request)
    det_txt = det_txt_for(request.det_txt, source)
    configs: Configs = {
        detect.STAGE: detect_config(
            request.detector, request.classes, request.conf, request.imgsz, request.device,
            request.batch, det_txt, request.det_score, request.slice, request.slice_overlap,
        ),
        track.STAGE: config,
    }  # fmt: skip
    if request.reid:
        configs[embed.STAGE] = EmbedConfig(
            model=request.reid_model or DEFAULT_REID,
            device=request.device,
            backend=request.reid_backend,
        )
    if request.cmc:
        configs[camera_motion.STAGE] = camera_motion.CameraMotionConfig(method=request.cmc_method)
    configs |= _mask_and_depth_configs(request, config)
    if request.masks_txt is not None:  # imported masks: used by the mask cues and MOTS output
        configs[segment.STAGE] = segment.SegmentConfig(
            masks_txt=det_txt_for(request.masks_txt, source), masks_frames=request.masks_frames
        )
    optional = {} if request.reid_model is not None else {embed.STAGE: "appearance"}
    return configs, optional


def _with_sd_weight(request: TrackRequest, config: TrackerConfig) -> TrackerConfig:
    """--sd (or --sd-encoder) turns S_sd on at `DEFAULT_W_SD` unless the settings give
    `w_sd`."""
    from mot_cli.stages.sd_embed import DEFAULT_W_SD

    if not (request.sd or request.sd_encoder is not None):
        return config
    named = {item.partition("=")[0].strip() for item in request.settings or []}
    if request.config is not None:
        from mot_cli.tracking.settings_file import read_settings_file

        named |= set(read_settings_file(request.config).values)
    if "w_sd" not in named:
        return config.replace(w_sd=DEFAULT_W_SD)
    if config.w_sd <= 0:
        raise MotCliError("--sd with --set w_sd=0: the S_sd cue would be off; drop one of them")
    return config


def _mask_and_depth_configs(request: TrackRequest, config: TrackerConfig) -> Configs:
    """The stages the mask and depth×mask cues read, only when the tracker uses them
    (`stages.track.cue_caches` decides which).

    Masks and depth maps a user made with `mot-cli segment` / `mot-cli depth` (any backend)
    are used as they are while they fit the detections; missing ones are made with the
    offline defaults, except that S_sd and the depth-level cue make weight-free ones (box
    masks, pseudo-depth) and S_sd trains its encoder one pass (`sd_embed.SD_MASKS`,
    `SD_DEPTH`, `SD_ENCODER_EPOCHS`: --sd at the price of a default run). Without these cues
    tracking runs none of these stages.
    """
    from mot_cli.pipeline import Cached
    from mot_cli.stages import depth, sd_embed, sd_encoder, segment
    from mot_cli.stages.track import cue_caches

    configs: Configs = {}
    if request.sd_encoder is not None:  # a missing or bad checkpoint fails before any work
        from mot_cli.encoder.model import load_encoder

        load_encoder(request.sd_encoder)
    needed = cue_caches(config)
    if needed.keys() & {segment.STAGE, sd_embed.STAGE}:  # S_sd's embeddings need masks too
        backend = "yolo-seg" if segment.STAGE in needed else sd_embed.SD_MASKS
        configs[segment.STAGE] = Cached(segment.SegmentConfig(backend, device=request.device))
    if sd_embed.STAGE in needed or depth.STAGE in needed:
        configs[depth.MAPS_STAGE] = Cached(depth.DepthConfig(sd_embed.SD_DEPTH,
                                                             device=request.device))
    if depth.STAGE in needed:  # the depth-level cue reads each detection's nearness
        configs[depth.STAGE] = depth.DepthStatsConfig()
    if sd_embed.STAGE in needed:
        if request.sd_encoder is None:
            configs[sd_encoder.STAGE] = Cached(
                sd_encoder.SdEncoderConfig(epochs=sd_embed.SD_ENCODER_EPOCHS, min_steps=0)
            )
        configs[sd_embed.STAGE] = sd_embed.SdEmbedConfig(request.sd_encoder)
    return configs


def produce_tracks(
    run: Run, request: TrackRequest, configs: Configs, optional: Cues, *, trust_keys: bool = False
) -> Outcome:
    """Walk the stage graph up to the tracks, and record the settings file beside them."""
    from mot_cli.pipeline import produce
    from mot_cli.schema import TRACKS_STAGE

    outcome = produce(
        run, TRACKS_STAGE, configs, force=request.force, optional=optional, trust_keys=trust_keys
    )
    if request.config is not None:
        record_settings_file(run, request.config)
    return outcome


def record_settings_file(run: Run, path: Path) -> None:
    """The tracks' manifest entry names the settings file and the sha256 of what it held."""
    from mot_cli.entries import StageEntry
    from mot_cli.schema import TRACKS_STAGE
    from mot_cli.tracking.settings_file import read_settings_file

    entry = run.run_dir.read_entry(TRACKS_STAGE) or StageEntry()
    run.run_dir.write_entry(
        TRACKS_STAGE, entry.with_fields(config_file=read_settings_file(path).describe())
    )


def det_txt_for(det_txt: Path | None, source: Path) -> Path | None:
    """`--det-txt` for one input: `{name}` becomes the input's name (a video's file name
    without extension, a sequence folder's name), and a relative path is looked for inside a
    MOTChallenge sequence folder (`det/det.txt`) when it is not found as it is."""
    if det_txt is None:
        return None
    if "{name}" in str(det_txt):
        name = source.name if source.is_dir() else source.stem  # a file's or a URL's stem
        det_txt = Path(str(det_txt).replace("{name}", name))
    return relative_to_sequence(det_txt, source)


def relative_to_sequence(det_txt: Path | None, source: Path) -> Path | None:
    """Let `--det-txt det/det.txt` be relative to a MOTChallenge sequence folder."""
    if det_txt is None or det_txt.exists() or not source.is_dir():
        return det_txt
    candidate = source / det_txt
    return candidate if candidate.exists() else det_txt


def detections_config(run: Run, detector: str | None, det_txt: Path | None) -> DetectConfig | None:
    """The detect config for a stage that reads detections; None: use the cache as it is.

    With a detector or det.txt the detect stage runs with them (its cache is reused when the
    options match). Without, a detections cache covering the frames is used as it is, whatever
    made it; a source with none is detected with the defaults (or, for a narrower cache, with
    the config that made it, so a wider frame range re-runs it alike).
    """
    from mot_cli.stages import detect

    if detector is not None or det_txt is not None:
        return detect.DetectConfig(model=detector or detect.DetectConfig.model, det_txt=det_txt)
    entry = run.run_dir.read_entry(detect.STAGE) or {}
    done = entry.get("frames") or [0, -1]
    if run.run_dir.completed_key(detect.STAGE) and done[0] <= run.first and done[1] >= run.last:
        return None
    return _recorded_config(run, entry) if entry else detect.DetectConfig()


def _recorded_config(run: Run, entry: dict) -> DetectConfig:
    """The detect config a detections cache was made with, as its manifest entry records it."""
    from mot_cli.stages.detect import DetectConfig

    config = dict(entry.get("config") or {})
    try:
        config["classes"] = tuple(config.get("classes") or ("person",))
        config["det_txt"] = Path(config["det_txt"]) if config.get("det_txt") else None
        return DetectConfig(**config)
    except (TypeError, ValueError) as exc:
        raise MotCliError(
            f"{run.run_dir.manifest_path}: the detections' recorded config is unreadable "
            f"({exc}); re-run `mot-cli detect` with its options, or --force"
        ) from None
