"""The run and detections that `segment`, `depth` and `embed` read: detected first if none
(`mot_cli.recipes.detections_config` decides how)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mot_cli.pipeline import Run


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
    from mot_cli.models import resolve_model
    from mot_cli.pipeline import open_run
    from mot_cli.recipes import detections_config, relative_to_sequence
    from mot_cli.stages import detect
    from mot_cli.video import FrameRange

    if model_name:
        resolve_model(model_name)
    run = open_run(
        source, cache_dir, name, FrameRange(*frames),
        force=force, allow_missing_images=allow_missing_images,
    )  # fmt: skip
    config = detections_config(run, detector, relative_to_sequence(det_txt, source))
    return run, {} if config is None else {detect.STAGE: config}
