"""The run and detections that `segment`, `depth` and `embed` read: detected first if none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mot_cli.pipeline import Run
    from mot_cli.stages.detect import DetectConfig


def _recorded_config(entry: dict) -> DetectConfig:
    """The detect config a cache was made with, so a wider frame range re-runs it alike."""
    from mot_cli.stages.detect import DetectConfig

    config = dict(entry.get("config") or {})
    try:
        config["classes"] = tuple(config.get("classes") or ("person",))
        config["det_txt"] = Path(config["det_txt"]) if config.get("det_txt") else None
        return DetectConfig(**config)
    except (TypeError, ValueError):
        return DetectConfig()


def detections_config(run: Run, detector: str | None, det_txt: Path | None) -> DetectConfig | None:
    """The detect config for a stage that reads detections; None: use the cache as it is.

    With --detector or --det-txt the detect stage runs with them (its cache is reused when the
    options match). Without, a detections cache covering the frames is used as it is, whatever
    made it; a source with none is detected with the defaults (or, for a narrower cache, with
    the options that made it), so `mot-cli segment video.mp4` works on its own.
    """
    from mot_cli.commands.detect import detect_config
    from mot_cli.stages import detect

    if detector is not None or det_txt is not None:
        return detect_config(detector or "yolo11n", "person", 0.3, 640, "cpu", 8, det_txt)
    entry = run.run_dir.entry(detect.STAGE) or {}
    done = entry.get("frames") or [0, -1]
    if run.run_dir.completed_key(detect.STAGE) and done[0] <= run.first and done[1] >= run.last:
        return None
    return _recorded_config(entry) if entry else detect.DetectConfig()


def open_upstream(
    model_name: str | None,
    source: Path,
    cache_dir: Path,
    name: str | None,
    frames: tuple[int, int | None],
    force: bool,
    detector: str | None,
    det_txt: Path | None,
    *,
    allow_missing_images: bool = False,
) -> tuple[Run, dict[str, object]]:
    """The run `segment`, `depth` or `embed` writes into and the detect config its graph walk needs.

    Missing weights fail before the run folder is touched; the configs are empty when the
    detections cache is used as it is.
    """
    from mot_cli.commands.track import _relative_to_sequence
    from mot_cli.models import resolve_model
    from mot_cli.pipeline import open_run
    from mot_cli.stages import detect
    from mot_cli.video import FrameRange

    if model_name:
        resolve_model(model_name)
    run = open_run(
        source, cache_dir, name, FrameRange(*frames),
        force=force, allow_missing_images=allow_missing_images,
    )  # fmt: skip
    config = detections_config(run, detector, _relative_to_sequence(det_txt, source))
    return run, {} if config is None else {detect.STAGE: config}
