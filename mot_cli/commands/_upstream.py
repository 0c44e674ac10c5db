"""The detections that `segment` and `depth` work on, detected first when there are none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mot_cli.detections import Detections
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


def upstream_detections(
    run: Run, detector: str | None, det_txt: Path | None
) -> tuple[dict[int, Detections], str]:
    """(per-frame detections, their cache key) for a stage that reads detections.

    With --detector or --det-txt the detect stage runs with them (its cache is reused when the
    options match). Without, a detections cache covering the frames is used as it is, whatever
    made it; a source with none is detected with the defaults (or, for a narrower cache, with
    the options that made it), so `mot-cli segment video.mp4` works on its own.
    """
    from mot_cli.commands.detect import detect_config
    from mot_cli.schema import DETECTIONS
    from mot_cli.stages import detect

    if detector is not None or det_txt is not None:
        config = detect_config(detector or "yolo11n", "person", 0.3, 640, "cpu", 8, det_txt)
    else:
        entry = run.run_dir.load_manifest().get("stages", {}).get(detect.STAGE) or {}
        done = entry.get("frames") or [0, -1]
        table = run.run_dir.read_completed(detect.STAGE, DETECTIONS)
        if table is not None and done[0] <= run.first and done[1] >= run.last:
            key = run.run_dir.completed_key(detect.STAGE) or ""
            return detect.frame_detections(table), key
        config = _recorded_config(entry) if entry else detect.DetectConfig()
    from mot_cli.pipeline import produce

    outcome = produce(run, detect.STAGE, {detect.STAGE: config})
    return detect.frame_detections(outcome.table(detect.STAGE)), outcome.keys[detect.STAGE]
