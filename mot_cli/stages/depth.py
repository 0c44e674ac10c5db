"""Depth stages: nearness maps per frame (depth_maps.parquet), then per-detection statistics
(depth.parquet) from the maps, the detections and, once they exist, the masks.

Two caches because they change for different reasons: the maps depend only on the video and
the depth network (the expensive part), the statistics also on the detections and masks. A new
masks cache then re-runs only the cheap statistics.

Values are *nearness* (inverse depth, larger = nearer) for every backend; `metric` says whether
they are 1/metres. Maps are stored downsampled (longest side `map_size`, float16): at the
default 256, 1000 frames of 1080p video take about 70 MB (256 x 144 x 2 bytes a frame,
slightly compressed by Parquet; measured by bench/perception.py).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.depth import BACKENDS, DEFAULT_MODELS
from mot_cli.depth.maps import decode_map, encode_map, map_shape, upsample
from mot_cli.depth.stats import STAT_COLUMNS, region_stats
from mot_cli.detections import Detections, align_to_detections
from mot_cli.devices import check_device
from mot_cli.errors import MotCliError
from mot_cli.models import resolve_model
from mot_cli.progress import console, progress_bar
from mot_cli.schema import (
    DEPTH,
    DEPTH_MAPS,
    DEPTH_MAPS_STAGE,
    DEPTH_STAGE,
    DETECTIONS,
    DETECTIONS_STAGE,
    MASKS,
    MASKS_STAGE,
)
from mot_cli.stages._job import BatchFn, FramewiseJob, Job, StageInputs, StageRun, TableJob

MAPS_STAGE = DEPTH_MAPS_STAGE
STAGE = DEPTH_STAGE

__all__ = [
    "MAPS_STAGE",
    "STAGE",
    "DepthConfig",
    "DepthStatsConfig",
    "plan_maps",
    "plan_stats",
    "read_depth",
    "read_depth_maps",
]


@dataclass(frozen=True)
class DepthConfig:
    """Which depth backend makes the maps, and how large the stored maps are."""

    backend: str = "pydnet"
    model: str | None = None
    device: str = "cpu"
    batch: int = 4
    fp16: bool = True  # on CUDA only; CPUs run float32
    map_size: int = 256
    image_size: int | None = None  # network input side (transformers); None: the model's own

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise MotCliError(
                f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.batch < 1:
            raise MotCliError(f"--batch must be >= 1, got {self.batch}")
        if self.map_size < 8:
            raise MotCliError(f"--map-size must be >= 8, got {self.map_size}")
        if self.image_size is not None and self.image_size < 14:
            raise MotCliError(f"--imgsz must be >= 14, got {self.image_size}")
        if self.model is not None and DEFAULT_MODELS[self.backend] is None:
            raise MotCliError(f"--model: the {self.backend} backend uses no model")
        check_device(self.device)  # a device this machine lacks fails before any work

    @property
    def model_name(self) -> str | None:
        return self.model or DEFAULT_MODELS[self.backend]


@dataclass(frozen=True)
class DepthStatsConfig:
    """The statistics have no settings: their key is the keys of what they read (the maps,
    the detections and, when on, the masks), so they follow any change of those."""


def _map_row(number: int, nearness: np.ndarray, frame_width: int, metric: bool) -> dict:
    height, width = nearness.shape
    return {
        "frame": number,
        "height": height,
        "width": width,
        "scale": frame_width / width,
        "metric": metric,
        "map": encode_map(nearness),
    }


def _maps_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=DEPTH_MAPS)


def plan_maps(inputs: StageInputs, config: DepthConfig) -> Job:
    """Nearness maps for the run's frames (resumable, like detect).

    The networks read only the video: a frame-wise job in the shared decode pass, whose key
    ignores the detections. `pseudo` draws its maps from the detections (and from their masks
    when the masks are among the inputs) on a ground plane fitted to the whole sequence, so it
    runs once they are complete.
    """
    first, last = inputs.frames
    info = inputs.source.info
    shape = map_shape(info.height, info.width, config.map_size)
    model = resolve_model(config.model_name) if config.model_name else None
    sha = model.sha256 if model else None
    pseudo = config.backend == "pseudo"
    detections_key = inputs.keys.get(DETECTIONS_STAGE)
    masks_key = inputs.keys.get(MASKS_STAGE)
    if pseudo and detections_key is None:
        raise MotCliError("pseudo-depth is drawn from the detections: run the detect stage first")
    key = stage_key(
        MAPS_STAGE,
        config=asdict(config) | {"model": None, "device": None, "batch": None},
        model_sha256=sha,
        upstream={DETECTIONS_STAGE: detections_key, MASKS_STAGE: masks_key} if pseudo else None,
        source=info.fingerprint,
        frames=[first, last],
    )
    entry = {
        "config": asdict(config),
        "model": {"path": str(model.path), "sha256": sha} if model else None,
        "upstream": _upstream(detections_key, masks_key) if pseudo else {},
        "map_shape": list(shape),
    }
    spec = StageRun(MAPS_STAGE, key, DEPTH_MAPS, first, last, config.batch, entry)
    if pseudo:
        return TableJob(MAPS_STAGE, key, lambda: _pseudo_maps(inputs, spec, shape))

    def make_process() -> BatchFn:
        from mot_cli.depth import load_estimator

        console.print(f"depth: {config.backend}, {model.name} from {model.path} ({model.source})")
        estimator = load_estimator(
            config.backend,
            model.path,
            device=config.device,
            fp16=config.fp16,
            image_size=config.image_size,
        )

        def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
            maps = estimator.estimate(images, shape)
            return _maps_table(
                [
                    _map_row(n, m, info.width, estimator.metric)
                    for n, m in zip(numbers, maps, strict=True)
                ]
            )

        return process

    return FramewiseJob(spec, make_process)


def _upstream(detections_key: str | None, masks_key: str | None) -> dict:
    upstream = {DETECTIONS_STAGE: detections_key}
    if masks_key is not None:
        upstream[MASKS_STAGE] = masks_key
    return upstream


def _input_masks(inputs: StageInputs) -> dict[int, list[dict]] | None:
    """The masks by frame when they are among the inputs (RLE dicts in `det` order)."""
    from mot_cli.stages.segment import frame_masks

    if MASKS_STAGE not in inputs.keys:
        return None
    return frame_masks(inputs.table(MASKS_STAGE, MASKS))


def _pseudo_maps(inputs: StageInputs, spec: StageRun, shape: tuple[int, int]) -> None:
    """Pseudo-depth maps drawn from the people on a ground plane fitted to the whole sequence."""
    from mot_cli.depth.pseudo import fit_ground_plane, pseudo_map
    from mot_cli.masks import decode_mask

    run_dir = inputs.run_dir
    detections = inputs.detections
    masks = _input_masks(inputs)
    height, width = inputs.source.info.height, inputs.source.info.width
    started = time.perf_counter()
    frames = range(spec.first, spec.last + 1)
    every = [detections[n].xyxy for n in frames if n in detections]
    plane = fit_ground_plane(np.concatenate(every) if every else np.zeros((0, 4)), height)
    how = (
        f"horizon at row {plane.horizon:.0f}"
        if plane.fitted
        else "too few boxes: bottom-edge order"
    )
    console.print(f"depth: pseudo-depth from the boxes, ground plane fitted ({how})")
    empty = Detections.empty()
    rows = []
    for number in frames:
        boxes = detections.get(number, empty).xyxy
        people = None
        rles = [] if masks is None else masks.get(number, [])  # a frame without people: none
        if masks is not None and len(rles) == len(boxes):
            people = [decode_mask(rle) for rle in rles]
        rows.append(_map_row(number, pseudo_map(plane, boxes, width, shape, people), width, False))
    table = _maps_table(rows)
    write_table(run_dir.file(spec.stage), table, stage=spec.stage, key=spec.key)
    run_dir.write_entry(
        spec.stage,
        {
            **spec.entry,
            "ground_plane": {"horizon": plane.horizon, "fitted": plane.fitted},
            "key": spec.key,
            "complete": True,
            "frames": [spec.first, spec.last],
            "rows": table.num_rows,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def plan_stats(inputs: StageInputs, config: DepthStatsConfig) -> TableJob:
    """depth.parquet: box (and mask) nearness statistics of every detection, from the maps.

    Mask statistics are NaN unless the masks are among the inputs (a cue: `mot-cli depth`
    turns it on when a masks cache of these detections exists).
    """
    first, last = inputs.frames
    maps_key = inputs.keys[MAPS_STAGE]
    detections_key = inputs.keys[DETECTIONS_STAGE]
    masks_key = inputs.keys.get(MASKS_STAGE)
    key = stage_key(
        STAGE,
        upstream={MAPS_STAGE: maps_key, DETECTIONS_STAGE: detections_key, MASKS_STAGE: masks_key},
        frames=[first, last],
    )
    upstream = {MAPS_STAGE: maps_key, **_upstream(detections_key, masks_key)}
    entry = {"upstream": upstream, "frames": [first, last]}
    return TableJob(STAGE, key, lambda: _stats(inputs, key, entry))


def _stats(inputs: StageInputs, key: str, entry: dict) -> None:
    from mot_cli.masks import decode_mask
    from mot_cli.stages.detect import frame_detections

    run_dir = inputs.run_dir
    first, last = inputs.frames
    started = time.perf_counter()
    height, width = inputs.source.info.height, inputs.source.info.width
    by_frame = _maps_by_frame(inputs.table(MAPS_STAGE, DEPTH_MAPS))
    detections = frame_detections(inputs.table(DETECTIONS_STAGE, DETECTIONS))
    masks = _input_masks(inputs)
    columns: dict[str, list] = {name: [] for name in DEPTH.names}
    numbers = [n for n in range(first, last + 1) if n in detections and len(detections[n])]
    with progress_bar("depth stats", len(numbers)) as advance:
        for number in numbers:
            dets = detections[number]
            if number not in by_frame:
                raise MotCliError(
                    f"{run_dir.file(MAPS_STAGE)} has no map for frame {number}; re-run with --force"
                )
            nearness = upsample(by_frame[number][0], height, width)
            frame_masks = None
            if masks is not None:
                rles = masks.get(number, [])
                if len(rles) != len(dets):
                    raise MotCliError(
                        f"masks cache has {len(rles)} rows for frame {number} but detections has "
                        f"{len(dets)}; re-run `mot-cli segment` with --force"
                    )
                frame_masks = [decode_mask(rle) for rle in rles]
            stats = region_stats(nearness, dets.xyxy, frame_masks)
            columns["frame"].extend([number] * len(dets))
            columns["det"].extend(range(len(dets)))
            for index, name in enumerate(STAT_COLUMNS):
                columns[name].extend(stats[:, index].tolist())
            advance(1)
    table = pa.table(columns, schema=DEPTH)
    write_table(run_dir.file(STAGE), table, stage=STAGE, key=key)
    run_dir.write_entry(
        STAGE,
        {
            **entry,
            "key": key,
            "complete": True,
            "rows": table.num_rows,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def _maps_by_frame(table: pa.Table) -> dict[int, tuple[np.ndarray, float, bool]]:
    frame = table.column("frame").to_pylist()
    height = table.column("height").to_pylist()
    width = table.column("width").to_pylist()
    scale = table.column("scale").to_pylist()
    metric = table.column("metric").to_pylist()
    data = table.column("map").to_pylist()
    return {
        frame[i]: (decode_map(data[i], height[i], width[i]), float(scale[i]), bool(metric[i]))
        for i in range(table.num_rows)
    }


def read_depth_maps(run_dir: RunDir) -> dict[int, tuple[np.ndarray, float, bool]]:
    """Per frame: (nearness map float32 at the stored size, frame pixels per map pixel, metric).

    `mot_cli.depth.maps.upsample(map, height, width)` stretches a map over its frame.
    """
    table = run_dir.read_completed(MAPS_STAGE, DEPTH_MAPS)
    if table is None:
        raise MotCliError(f"{run_dir.file(MAPS_STAGE)}: no depth maps cache; run `mot-cli depth`")
    return _maps_by_frame(table)


def read_depth(run_dir: RunDir) -> pa.Table:
    """depth.parquet: frame, det and the six nearness statistics of each detection."""
    table = run_dir.read_completed(STAGE, DEPTH)
    if table is None:
        raise MotCliError(f"{run_dir.file(STAGE)}: no depth cache; run `mot-cli depth`")
    return table


def attach_levels(detections: dict[int, Detections], table: pa.Table) -> dict[int, Detections]:
    """Detections with their nearness level from depth.parquet rows (the mask's median, else
    the box's), for the depth-level cue; a row count that disagrees is a stale cache."""
    mask = table.column("mask_median").to_numpy(zero_copy_only=False).astype(np.float32)
    box = table.column("box_median").to_numpy(zero_copy_only=False).astype(np.float32)
    levels = align_to_detections(
        table.column("frame").to_numpy(), table.column("det").to_numpy(),
        np.where(np.isfinite(mask), mask, box), detections,
        f"{STAGE} cache", "re-run `mot-cli depth --force`",
    )  # fmt: skip
    return {number: dets.replace(depth_level=levels[number]) for number, dets in detections.items()}
