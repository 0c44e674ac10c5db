"""The Python API: `track` a video, `open_run` a run folder, `evaluate` results.

What `mot-cli track` and `mot-cli eval` do, for notebooks: the same recipes
(`mot_cli.recipes`), the same caches, the same numbers; errors are `MotCliError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mot_cli.errors import MotCliError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mot_cli.cache import RunDir

PathLike = str | Path


class Run:
    """A run folder's results, read from its caches: tables as cached, arrays on request.

    Opening reads only the manifest; nothing is locked, so a run may be read while another
    process tracks into it.
    """

    def __init__(self, path: PathLike) -> None:
        from mot_cli.cache import RunDir

        self.path = Path(path)
        if not (self.path / "manifest.json").is_file():
            raise MotCliError(f"{self.path}: not a run folder (no manifest.json)")
        self.run_dir: RunDir = RunDir(self.path)
        self.run_dir.load_manifest()  # a corrupt manifest fails now, in one line

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def manifest(self) -> dict:
        """The run's manifest.json: its source and one entry per cached stage."""
        return self.run_dir.load_manifest()

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.path.name))

    def tracks(self) -> pa.Table:
        """tracks.parquet: frame, id, x1, y1, x2, y2, score, det, class."""
        from mot_cli.schema import TRACKS, TRACKS_STAGE

        return self._table(TRACKS_STAGE, TRACKS, "mot_cli.track(...)")

    def detections(self) -> pa.Table:
        """detections.parquet: frame, det, the box, score and class of each detection."""
        from mot_cli.schema import DETECTIONS, DETECTIONS_STAGE

        return self._table(DETECTIONS_STAGE, DETECTIONS, "`mot-cli detect`")

    def masks(self) -> pa.Table:
        """masks.parquet: frame, det and each detection's mask as COCO RLE (`mask` decodes)."""
        from mot_cli.schema import MASKS, MASKS_STAGE

        return self._table(MASKS_STAGE, MASKS, "`mot-cli segment`")

    def mask(self, frame: int, det: int) -> np.ndarray:
        """Detection `det` of `frame` (its row in that frame's detections) as a (height,
        width) bool array over the whole frame."""
        from mot_cli.masks import decode_mask
        from mot_cli.stages.segment import read_masks

        rles = read_masks(self.run_dir).get(int(frame), [])
        if not 0 <= int(det) < len(rles):
            raise MotCliError(f"{self.path}: frame {frame} has no mask for det {det}")
        return decode_mask(rles[int(det)])

    def depth_map(self, frame: int) -> np.ndarray:
        """`frame`'s depth map over the whole frame, float32 nearness (larger is nearer; metric
        when the manifest's depth_maps entry says so)."""
        from mot_cli.depth.maps import upsample
        from mot_cli.stages.depth import read_depth_maps

        maps = read_depth_maps(self.run_dir)
        if int(frame) not in maps:
            raise MotCliError(f"{self.path}: no depth map for frame {frame}")
        nearness, scale, _ = maps[int(frame)]
        source = self.manifest.get("source", {})
        height = source.get("height") or round(nearness.shape[0] * scale)
        width = source.get("width") or round(nearness.shape[1] * scale)
        return upsample(nearness, int(height), int(width))

    def frames(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """The source's decoded frames `start..end` (1-based, inclusive), as (number, BGR
        image); the source must still be where the manifest says."""
        from mot_cli.video import open_source

        source = self.manifest.get("source", {})
        path = source.get("path")
        if not path:
            raise MotCliError(f"{self.run_dir.manifest_path}: the source's path is not recorded")
        return open_source(path).frames(int(start), None if end is None else int(end))

    def _table(self, stage: str, schema: pa.Schema, how: str) -> pa.Table:
        table = self.run_dir.read_completed(stage, schema)
        if table is None:
            raise MotCliError(f"{self.run_dir.file(stage)}: no finished {stage} cache; run {how}")
        return table


def open_run(path: PathLike) -> Run:
    """The run folder at `path` (CACHE_DIR/NAME, as `mot-cli track` wrote it)."""
    return Run(path)


def track(
    source: PathLike,
    *,
    cache_dir: PathLike = "runs",
    name: str | None = None,
    detector: str | None = None,
    det_txt: PathLike | None = None,
    settings: Mapping[str, object] | Iterable[str] | None = None,
    sd: bool = False,
    progress: bool = True,
    **options: Any,
) -> Run:
    """What `mot-cli track SOURCE` does: compute missing caches, track, return the run.

    `settings`: tracker settings by `TrackerConfig` name (`{"max_age": 60}`). Any other
    `mot-cli track` option is a keyword of its `TrackRequest` name (`end=30`, `reid=False`,
    `cmc=False`, `device="cuda"`).
    """
    from mot_cli.pipeline import open_run as open_pipeline_run
    from mot_cli.progress import show_bars
    from mot_cli.recipes import (
        REQUEST_FIELDS,
        TrackRequest,
        produce_tracks,
        settings_strings,
        track_configs,
    )
    from mot_cli.scope import command_scope
    from mot_cli.urls import source_argument
    from mot_cli.video import FrameRange

    unknown = sorted(set(options) - set(REQUEST_FIELDS))
    if unknown:
        raise MotCliError(f"mot_cli.track: unknown option(s) {', '.join(unknown)}")
    values: dict[str, Any] = dict(options)
    if detector is not None:
        values["detector"] = detector
    if det_txt is not None:
        values["det_txt"] = det_txt
    for key in ("det_txt", "masks_txt", "config"):
        if values.get(key) is not None:
            values[key] = Path(values[key])
    if isinstance(settings, Mapping):
        strings = settings_strings(settings)
    else:  # `name=value` strings, as --set takes them
        strings = tuple(settings) if settings else None
    request = TrackRequest(**values, sd=sd, settings=strings)
    path = source_argument(str(source))  # a URL keeps its text
    configs, optional = track_configs(request, path)
    show_bars(progress)
    try:
        with command_scope():  # the run folder is locked until the tracks are written
            run = open_pipeline_run(
                path, Path(cache_dir), name, FrameRange(request.start, request.end),
                force=request.force, allow_missing_images=request.allow_missing_images,
            )  # fmt: skip
            produce_tracks(run, request, configs, optional)
    finally:
        show_bars(True)
    return Run(run.run_dir.path)


def evaluate(gt: PathLike, tracker: PathLike, *, benchmark: str | None = None) -> dict[str, Any]:
    """`mot-cli eval GT TRACKER --json`'s numbers as a dict: the same keys (tracker name,
    then each sequence and COMBINED_SEQ, then TrackEval's field names)."""
    from mot_cli.metrics import EvalConfig
    from mot_cli.metrics import evaluate as score
    from mot_cli.metrics.report import results_json

    config = EvalConfig(ground_truth=Path(gt), trackers=(Path(tracker),), benchmark=benchmark)
    # through JSON, so the values are exactly those --json writes (plain floats and ints)
    return json.loads(json.dumps(results_json(score(config))))
