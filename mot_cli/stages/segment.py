"""Segment stage: one mask per cached detection, stored as COCO RLE in masks.parquet.

Whatever the backend, every mask is clipped to its frame and its detection's box, and (by
default) a pixel claimed by several masks goes to the nearest person (`masks.exclusive`), so
downstream cues can treat masks as disjoint silhouettes.

With `pair` (SAM 2 through ultralytics) each frame's boxes prompt SAM 2 and its memory carries
every object into the next frame, as SelfTrEncMOT does: mask_pairs.parquet holds both masks
of each detection, and masks.parquet its first half.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.detections import Detections, rows_by_frame
from mot_cli.devices import check_device
from mot_cli.errors import MotCliError
from mot_cli.masks import clip_to_box, encode_mask, exclusive, mask_bbox
from mot_cli.models import ResolvedModel, resolve_model
from mot_cli.progress import console
from mot_cli.schema import DETECTIONS_STAGE, MASK_PAIRS, MASK_PAIRS_STAGE, MASKS, MASKS_STAGE
from mot_cli.segment import BACKENDS, DEFAULT_MODELS, FrameMasks
from mot_cli.stages._framewise import Lane, run_pass
from mot_cli.stages._job import BatchFn, FramewiseJob, Job, StageInputs, StageRun, TableJob
from mot_cli.video import FrameSource, SourceInfo

STAGE = MASKS_STAGE
PAIRS_STAGE = MASK_PAIRS_STAGE

__all__ = [
    "PAIRS_STAGE", "STAGE", "SegmentConfig", "frame_masks", "masks_table", "plan", "read_masks",
]  # fmt: skip


@dataclass(frozen=True)
class SegmentConfig:
    """Which segmenter makes the masks; `model` None means the backend's default weights.

    `masks_txt` imports masks (MOTS text) instead of running a segmenter (stages/mask_import.py);
    `masks_frames` says how that file counts frames: auto, 0 or 1.
    """

    backend: str = "yolo-seg"
    model: str | None = None
    device: str = "cpu"
    image_size: int | None = None
    exclusive: bool = True
    batch: int = 8
    pair: bool = False  # SAM 2 two-frame mode (SelfTrEncMOT): also each mask in frame + 1
    masks_txt: Path | None = field(default=None)
    masks_frames: str = "auto"

    def __post_init__(self) -> None:
        from mot_cli.stages.mask_import import FRAME_BASES

        if self.masks_frames not in FRAME_BASES:
            raise MotCliError(
                f"--masks-frames must be one of {', '.join(FRAME_BASES)}, got {self.masks_frames!r}"
            )
        if self.masks_txt is not None and (self.model is not None or self.pair):
            raise MotCliError("--masks-txt imports masks: it takes no --model or --pair")
        if self.backend not in BACKENDS:
            raise MotCliError(
                f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.image_size is not None and (self.image_size < 32 or self.image_size % 32):
            raise MotCliError(f"--imgsz must be a positive multiple of 32, got {self.image_size}")
        if self.batch < 1:
            raise MotCliError(f"--batch must be >= 1, got {self.batch}")
        if self.model is not None and DEFAULT_MODELS[self.backend] is None:
            raise MotCliError(f"--model: the {self.backend} backend uses no model")
        check_device(self.device)  # a device this machine lacks fails before any work
        if self.pair and (self.backend != "ultralytics-sam" or self.model is None):
            raise MotCliError(
                "--pair needs --backend ultralytics-sam with a SAM 2 --model (sam2.1_b.pt, ...)"
            )

    @property
    def model_name(self) -> str | None:
        if self.masks_txt is not None:
            return None
        return self.model or DEFAULT_MODELS[self.backend]

    def entry(self) -> dict:
        """The config as the manifest records it (paths as text; an import only its file)."""
        if self.masks_txt is not None:
            return {"masks_txt": str(self.masks_txt), "masks_frames": self.masks_frames}
        config = asdict(self)
        config["masks_txt"] = str(self.masks_txt) if self.masks_txt is not None else None
        return config


def masks_table(
    frames: list[int], boxes: list[np.ndarray], results: list[FrameMasks], *, exclusive_masks: bool
) -> pa.Table:
    """Rows of masks.parquet for several frames: masks clipped to their boxes, then encoded."""
    columns: dict[str, list] = {name: [] for name in MASKS.names}
    for number, frame_boxes, result in zip(frames, boxes, results, strict=True):
        masks = [clip_to_box(m, b) for m, b in zip(result.masks, frame_boxes, strict=True)]
        if exclusive_masks:
            masks = exclusive(masks, frame_boxes)
        for det, (mask, quality) in enumerate(zip(masks, result.quality, strict=True)):
            height, width = mask.shape
            bbox = mask_bbox(mask)
            columns["frame"].append(number)
            columns["det"].append(det)
            columns["height"].append(height)
            columns["width"].append(width)
            columns["rle"].append(encode_mask(mask)["counts"])
            columns["area"].append(int(mask.sum()))
            for name, value in zip(("x1", "y1", "x2", "y2"), bbox, strict=True):
                columns[name].append(float(value))
            columns["quality"].append(float(quality))
    return pa.table(columns, schema=MASKS)


def masks_key(
    config: SegmentConfig, model_sha256: str | None, detections_key: str, source: str, frames: list
) -> str:
    """The key of a masks cache; the detect stage uses it when its model also gives masks."""
    return stage_key(
        STAGE,
        config={k: v for k, v in asdict(config).items() if k not in ("masks_txt", "masks_frames")}
        | {"model": None, "device": None, "batch": None},
        model_sha256=model_sha256,
        upstream=detections_key,
        source=source,
        frames=frames,
    )


def plan(inputs: StageInputs, config: SegmentConfig) -> Job:
    """Masks aligned row for row with detections.parquet (frame, det), resumable.

    Frame-wise, so it joins the shared decode pass and reads each frame's detections as
    detect makes them. The SAM 2 pair mode looks one frame ahead, so it runs a pass of its own
    once the detections are complete.
    """
    if config.masks_txt is not None:
        from mot_cli.stages.mask_import import plan_import

        entry = {"config": config.entry(), "model": None,
                 "upstream": {DETECTIONS_STAGE: inputs.keys[DETECTIONS_STAGE]}}  # fmt: skip
        return plan_import(inputs, config.masks_txt, config.masks_frames, entry)
    first, last = inputs.frames
    model = resolve_model(config.model_name) if config.model_name else None
    sha = model.sha256 if model else None
    detections_key = inputs.keys[DETECTIONS_STAGE]
    key = masks_key(config, sha, detections_key, inputs.source.info.fingerprint, [first, last])
    entry = {
        "config": config.entry(),
        "model": {"path": str(model.path), "sha256": sha} if model else None,
        "upstream": {DETECTIONS_STAGE: detections_key},
    }
    spec = StageRun(STAGE, key, MASKS, first, last, config.batch, entry)
    detections = inputs.detections  # filled frame by frame when detect shares the pass
    if config.pair:
        return TableJob(STAGE, key, lambda: _run_pairs(inputs, config, spec, model, detections))
    empty = Detections.empty()

    def make_process() -> BatchFn:
        from mot_cli.segment import load_segmenter

        where = f"{model.name} from {model.path} ({model.source})" if model else "no weights"
        console.print(f"segment: {config.backend}, {where}")
        segmenter = load_segmenter(
            config.backend,
            model.path if model else None,
            device=config.device,
            image_size=config.image_size,
        )

        def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
            dets = [detections.get(n, empty) for n in numbers]
            results = []
            for image, frame_dets in zip(images, dets, strict=True):
                if len(frame_dets):
                    results.append(segmenter.segment(image, frame_dets.xyxy, frame_dets.cls))
                else:
                    results.append(FrameMasks([], np.zeros(0, np.float32)))
            boxes = [d.xyxy for d in dets]
            return masks_table(numbers, boxes, results, exclusive_masks=config.exclusive)

        return process

    return FramewiseJob(spec, make_process)


class PairedFrames(FrameSource):
    """A source whose frames come with the next one: `(number, (image, next image or None))`,
    read in one pass, so a batch stage can look one frame ahead."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self.info: SourceInfo = source.info

    def frames(self, first: int = 1, last: int | None = None):
        previous = None
        for number, image in self.source.frames(first, None if last is None else last + 1):
            if previous is not None:
                yield previous[0], (previous[1], image)
            previous = (number, image)
        if previous is not None and (last is None or previous[0] <= last):
            yield previous[0], (previous[1], None)


def _next_columns(results: list[FrameMasks]) -> dict[str, list]:
    """The next_* columns of mask_pairs.parquet (frame-sized masks, not clipped to any box)."""
    columns: dict[str, list] = {f"next_{n}": [] for n in ("rle", "area", "x1", "y1", "x2", "y2")}
    columns["next_quality"] = []
    for result in results:
        for mask, quality in zip(result.masks, result.quality, strict=True):
            columns["next_rle"].append(encode_mask(mask)["counts"])
            columns["next_area"].append(int(mask.sum()))
            for name, value in zip(("x1", "y1", "x2", "y2"), mask_bbox(mask), strict=True):
                columns[f"next_{name}"].append(float(value))
            columns["next_quality"].append(float(quality))
    return columns


def _run_pairs(
    inputs: StageInputs,
    config: SegmentConfig,
    spec: StageRun,
    model: ResolvedModel,
    detections: Mapping[int, Detections],
) -> None:
    """mask_pairs.parquet (resumable, in a pass of its own), then masks.parquet from its
    first half."""
    from mot_cli.segment.ultralytics_sam import Sam2PairSegmenter

    run_dir = inputs.run_dir
    started = time.perf_counter()
    pairs_spec = StageRun(PAIRS_STAGE, spec.key, MASK_PAIRS, spec.first, spec.last, spec.batch,
                          spec.entry)  # fmt: skip
    empty = Detections.empty()

    def make_process() -> BatchFn:
        console.print(f"segment: SAM 2 on frame pairs, {model.name} from {model.path}")
        segmenter = Sam2PairSegmenter(
            model.path, device=config.device, image_size=config.image_size or 1024
        )

        def process(numbers: list[int], images: list) -> pa.Table:
            dets = [detections.get(n, empty) for n in numbers]
            pairs = [segmenter.segment_pair(image, following, d.xyxy)
                     for (image, following), d in zip(images, dets, strict=True)]  # fmt: skip
            here = masks_table(numbers, [d.xyxy for d in dets], [p[0] for p in pairs],
                               exclusive_masks=config.exclusive)  # fmt: skip
            columns = {name: here.column(name) for name in MASKS.names}
            columns.update(_next_columns([p[1] for p in pairs]))
            return pa.table(columns, schema=MASK_PAIRS)

        return process

    lane = Lane(FramewiseJob(pairs_spec, make_process), restart=inputs.force)
    pairs = run_pass(run_dir, PairedFrames(inputs.source), [lane])[PAIRS_STAGE]
    table = pairs.select(MASKS.names).replace_schema_metadata(None).cast(MASKS)
    write_table(run_dir.file(STAGE), table, stage=STAGE, key=spec.key)
    run_dir.write_entry(
        STAGE,
        {
            **spec.entry,
            "from": PAIRS_STAGE,
            "key": spec.key,
            "complete": True,
            "frames": [spec.first, spec.last],
            "rows": table.num_rows,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def read_masks(run_dir: RunDir) -> dict[int, list[dict]]:
    """Per frame, the COCO RLE dicts of its detections in `det` order (decode: masks.decode_mask).

    Each dict is `{"size": [height, width], "counts": str}` plus the row's `area`, `bbox`
    (the mask's own xyxy) and `quality`, so a reader needs no other file.
    """
    table = run_dir.read_completed(STAGE, MASKS)
    if table is None:
        raise MotCliError(f"{run_dir.file(STAGE)}: no masks cache; run `mot-cli segment` first")
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in MASKS.names}
    out: dict[int, list[dict]] = {}
    for number, rows in rows_by_frame(columns["frame"], columns["det"]):
        out[number] = [
            {
                "size": [int(columns["height"][r]), int(columns["width"][r])],
                "counts": str(columns["rle"][r]),
                "area": int(columns["area"][r]),
                "bbox": [float(columns[c][r]) for c in ("x1", "y1", "x2", "y2")],
                "quality": float(columns["quality"][r]),
            }
            for r in rows
        ]
    return out


def frame_masks(table: pa.Table) -> dict[int, list[dict]]:
    """Per frame, the bare RLE dicts of a masks table in `det` order (what decode_mask takes)."""
    frame = table.column("frame").to_numpy()
    det = table.column("det").to_numpy()
    height = table.column("height").to_numpy()
    width = table.column("width").to_numpy()
    rle = table.column("rle").to_pylist()
    return {
        number: [{"size": [int(height[r]), int(width[r])], "counts": rle[r]} for r in rows]
        for number, rows in rows_by_frame(frame, det)
    }
