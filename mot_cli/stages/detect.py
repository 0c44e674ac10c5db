"""Detect stage: boxes per frame from an ultralytics YOLO model or imported public detections."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.detections import Detections, rows_by_frame
from mot_cli.devices import check_device
from mot_cli.errors import MotCliError
from mot_cli.models import file_sha256, resolve_model
from mot_cli.progress import console
from mot_cli.schema import DETECTIONS, DETECTIONS_STAGE, MASKS_STAGE
from mot_cli.scores import PROBABILITY, ScoreMap, infer_score_map, parse_score_map
from mot_cli.segment import FrameMasks, empty_masks
from mot_cli.slicing import (
    Slicing,
    auto_rule,
    auto_slicing,
    check_overlap,
    fixed_slicing,
    merge_windows,
    parse_slice,
    sample_frames,
)
from mot_cli.stages._job import BatchFn, FramewiseJob, Job, StageInputs, StageRun, TableJob
from mot_cli.video import FrameSource

STAGE = DETECTIONS_STAGE


@dataclass(frozen=True)
class DetectConfig:
    """How to detect; `det_txt` replaces the model with public detections (MOTChallenge det.txt).

    `det_score` names the fixed calibration of a det.txt's scores (mot_cli/scores.py): auto,
    probability, acf, dpm or logistic:CENTRE:WIDTH. Model detections are probabilities.

    `slice` runs the model on overlapping tiles (mot_cli/slicing.py): `off`; `WxH`, SAHI's
    grid of W×H tiles overlapping by `slice_overlap` of a tile, plus the whole frame when the
    tiles are shorter than it; or `auto`. `auto` slices into two tiles as tall as the frame,
    at least square, overlapping by `slice_overlap` (no whole-frame pass) when those tiles
    enlarge people at least AUTO_MIN_ENLARGE (1.5x), the whole frame reaches the model at
    AUTO_MAX_SCALE (40 %) of its size or less (1080p at 640: 33 %), and, in AUTO_SAMPLES
    frames of the first AUTO_SPAN (300) detected whole, at least AUTO_SMALL_SHARE (10 %) of
    the people found are shorter than AUTO_SMALL_PX (64 px) at the model's input. Smaller
    frames are settled without running the model and keep `off`'s cache key. The decision
    is printed and recorded in the manifest. A frame's boxes from all windows are merged
    (`merge_windows`). `off` is the default (README, "Sliced detection").
    """

    model: str = "yolo11n"
    classes: tuple[str, ...] = ("person",)
    confidence: float = 0.3
    image_size: int = 640
    device: str = "cpu"
    batch: int = 8
    det_txt: Path | None = field(default=None)
    det_score: str = "auto"
    slice: str = "off"
    slice_overlap: float = 0.2

    def __post_init__(self) -> None:
        parse_score_map(self.det_score)  # a bad name fails before any work
        parse_slice(self.slice)
        check_overlap(self.slice_overlap)
        if not 0.0 <= self.confidence <= 1.0:
            raise MotCliError(f"--conf must be in [0, 1], got {self.confidence}")
        if self.image_size < 32 or self.image_size % 32:
            raise MotCliError(f"--imgsz must be a positive multiple of 32, got {self.image_size}")
        if self.batch < 1:
            raise MotCliError(f"--batch must be >= 1, got {self.batch}")
        if self.det_txt is None:  # public detections need no device
            check_device(self.device)


class Detector(Protocol):
    def class_names(self) -> dict[str, str]:
        """The names of the classes kept (all the model's without a filter), by id: the
        manifest records them, so tracks, MOT text and render can name a `cls`."""
        names = self.model.names
        kept = names if self.class_ids is None else self.class_ids
        return {str(int(i)): str(names[i]) for i in kept}

    def detect(self, images: list[np.ndarray]) -> list[Detections]: ...


class YoloDetector:
    """Ultralytics YOLO in any format ultralytics loads: `.pt`, ONNX, OpenVINO folders.

    A segmentation model (YOLO11n-seg) detects as well and also gives each box its mask, so
    the segment stage's masks come from the same pass at no extra cost (`gives_masks`).
    """

    def __init__(self, weights: Path, config: DetectConfig) -> None:
        os.environ.setdefault("YOLO_VERBOSE", "False")  # keep ultralytics' banners off our output
        from ultralytics import YOLO

        try:
            self.model = YOLO(str(weights))  # the task (detect, segment) from the model's metadata
            names = self.model.names  # exported formats build their backend here
        except Exception as exc:  # ultralytics raises many types for a bad file
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise MotCliError(f"{weights}: cannot load as a YOLO model ({reason})") from None
        self.weights = weights
        self.config = config
        self.class_ids = self._class_ids(config.classes, names)
        self.gives_masks = self.model.task == "segment"
        self.slicing = Slicing()  # whole frames until the stage decides otherwise

    @staticmethod
    def _class_ids(classes: tuple[str, ...], names: dict[int, str]) -> list[int] | None:
        if not classes or "all" in classes:
            return None
        by_name = {name.lower(): index for index, name in names.items()}
        ids = []
        for item in classes:
            if item.isdigit() and int(item) in names:
                ids.append(int(item))
            elif item.lower() in by_name:
                ids.append(by_name[item.lower()])
            else:
                raise MotCliError(
                    f"unknown class {item!r}; the model knows ids 0-{len(names) - 1} "
                    f"and names such as {', '.join(list(names.values())[:5])}"
                )
        return ids

    def class_names(self) -> dict[str, str]:
        """The names of the classes kept (all the model's without a filter), by id: the
        manifest records them, so tracks, MOT text and render can name a `cls`."""
        names = self.model.names
        kept = names if self.class_ids is None else self.class_ids
        return {str(int(i)): str(names[i]) for i in kept}

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        return [detections for detections, _ in self._detect(images, masks=False)]

    def detect_with_masks(self, images: list[np.ndarray]) -> list[tuple[Detections, FrameMasks]]:
        """Boxes per image, with one full-frame mask per box (empty unless `gives_masks`)."""
        return self._detect(images, masks=True)

    def _detect(
        self, images: list[np.ndarray], masks: bool
    ) -> list[tuple[Detections, FrameMasks | None]]:
        """With `slicing`, every window of every image goes to the model in one call (the
        backend batches or queues them as it can), and each image's boxes are merged."""
        if not self.slicing.sliced:
            results = self._predict(images)
            return [(self._boxes(result), self._masks(image, result) if masks else None)
                    for image, result in zip(images, results, strict=True)]  # fmt: skip
        windows = list(self.slicing.windows)
        crops = []
        for image in images:
            if self.slicing.full_frame:
                crops.append(image)
            crops.extend(np.ascontiguousarray(image[y1:y2, x1:x2]) for x1, y1, x2, y2 in windows)
        results = iter(self._predict(crops))
        out = []
        for image in images:
            height, width = image.shape[:2]
            whole = [(0, 0, width, height)] if self.slicing.full_frame else []
            parts = [(window, next(results)) for window in whole + windows]
            out.append(self._merged(image, parts, masks))
        return out

    def _predict(self, images: list[np.ndarray]) -> list:
        try:  # ultralytics builds the backend on the first call: a bad model fails here
            return self.model.predict(
                images,
                conf=self.config.confidence,
                classes=self.class_ids,
                imgsz=self.config.image_size,
                device=self.config.device,
                retina_masks=self.gives_masks,  # masks at the frame's own size
                verbose=False,
            )
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise MotCliError(f"{self.weights}: YOLO could not run this model ({reason})") from None

    @staticmethod
    def _boxes(result: object) -> Detections:
        boxes = result.boxes
        return Detections(
            boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy()
        )

    @staticmethod
    def _masks(image: np.ndarray, result: object) -> FrameMasks:
        count = len(result.boxes)
        if result.masks is None:
            return empty_masks(*image.shape[:2], count)
        return FrameMasks(
            list(result.masks.data.cpu().numpy().astype(bool)),
            result.boxes.conf.cpu().numpy().astype(np.float32),
        )

    def _merged(
        self, image: np.ndarray, parts: list[tuple[tuple[int, int, int, int], object]], masks: bool
    ) -> tuple[Detections, FrameMasks | None]:
        """One frame's detections from its windows' results: shifted to frame pixels, merged;
        a merged box's mask is its parts' masks pasted into the frame and OR-ed."""
        height, width = image.shape[:2]
        found, pieces = [], []
        for window, result in parts:
            x1, y1, _, _ = window
            dets = self._boxes(result)
            shifted = dets.xyxy.astype(np.float64) + np.array([x1, y1, x1, y1], np.float64)
            found.append((window, shifted, dets.score, dets.cls))
            if masks and result.masks is not None:
                tile_masks = result.masks.data.cpu().numpy().astype(bool)
                pieces.extend((window, mask) for mask in tile_masks)
        boxes, score, cls, groups = merge_windows(found, (width, height))
        detections = Detections(boxes, score, cls)
        if not masks:
            return detections, None
        if not pieces:
            return detections, empty_masks(height, width, len(detections))
        frame_masks = []
        for group in groups:
            canvas = np.zeros((height, width), bool)
            for row in group:
                (x1, y1, x2, y2), mask = pieces[row]
                canvas[y1:y2, x1:x2] |= mask
            frame_masks.append(canvas)
        return detections, FrameMasks(frame_masks, detections.score.copy())


def detections_table(frames: list[int], detections: list[Detections]) -> pa.Table:
    """Rows of detections.parquet for several frames."""
    counts = [len(d) for d in detections]
    frame = np.repeat(np.asarray(frames, np.int32), counts)
    det = np.concatenate([np.arange(n, dtype=np.int32) for n in counts]) if counts else []
    xyxy = np.concatenate([d.xyxy for d in detections]) if counts else np.zeros((0, 4))
    return pa.table(
        {
            "frame": pa.array(frame, pa.int32()),
            "det": pa.array(det, pa.int32()),
            "x1": pa.array(xyxy[:, 0], pa.float32()),
            "y1": pa.array(xyxy[:, 1], pa.float32()),
            "x2": pa.array(xyxy[:, 2], pa.float32()),
            "y2": pa.array(xyxy[:, 3], pa.float32()),
            "score": pa.array(
                np.concatenate([d.score for d in detections]) if counts else [], pa.float32()
            ),
            "cls": pa.array(
                np.concatenate([d.cls for d in detections]) if counts else [], pa.int32()
            ),
        },
        schema=DETECTIONS,
    )


def _config_entry(config: DetectConfig) -> dict:
    entry = asdict(config)
    entry["det_txt"] = str(config.det_txt) if config.det_txt else None
    return entry


def plan(inputs: StageInputs, config: DetectConfig) -> Job:
    """Detections for the run's frames: a frame-wise YOLO job, or a det.txt import."""
    if config.det_txt is not None:
        return _plan_import(inputs, config)
    first, last = inputs.frames
    slicing = planned_slicing(config, inputs.source)  # bad tiles fail before any work
    model = resolve_model(config.model)
    sha = model.sha256
    keyed = {k: v for k, v in _config_entry(config).items() if k != "det_score"}
    mode = parse_slice(config.slice).mode
    if mode == "off" or (mode == "auto" and not slicing.sliced and not _unsampled(slicing)):
        # whole frames, as before slicing existed: the same key, so `auto` on a small frame
        # reuses an `off` cache and caches made before slicing stay valid
        keyed = {k: v for k, v in keyed.items() if k not in ("slice", "slice_overlap")}
    elif mode == "auto":
        keyed["auto_rule"] = auto_rule()
    key = stage_key(
        STAGE,
        config=keyed | {"model": None, "batch": None},
        model_sha256=sha,
        source=inputs.source.info.fingerprint,
        frames=[first, last],
    )
    entry = {
        "config": _config_entry(config),
        "model": {"path": str(model.path), "sha256": sha},
        "score_map": PROBABILITY.to_dict(),
        "slicing": slicing.to_dict(),
    }
    spec = StageRun(STAGE, key, DETECTIONS, first, last, config.batch, entry)
    masks: list[pa.Table] = []
    seen: list[int] = []

    def make_process() -> BatchFn:
        from mot_cli.stages.segment import masks_table

        console.print(f"detect: {model.name} from {model.path} ({model.source})")
        detector = YoloDetector(model.path, config)
        entry["class_names"] = detector.class_names()  # committed with the cache
        detector.slicing = slicing
        if _unsampled(slicing):  # auto, on a frame large enough to slice
            detector.slicing = decide_auto(detector, inputs.source, (first, last))
            entry["slicing"] = detector.slicing.to_dict()  # the manifest records the decision
        if config.slice != "off":
            console.print(f"detect: --slice {config.slice}: {detector.slicing.describe()} "
                          f"({detector.slicing.reason})", highlight=False)  # fmt: skip
        if not detector.gives_masks:
            return lambda numbers, images: detections_table(numbers, detector.detect(images))

        def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
            found = detector.detect_with_masks(images)
            boxes = [d.xyxy for d, _ in found]
            masks.append(masks_table(numbers, boxes, [m for _, m in found], exclusive_masks=True))
            seen.extend(numbers)
            return detections_table(numbers, [d for d, _ in found])

        return process

    def finish(_: pa.Table) -> None:
        if masks and seen == list(range(first, last + 1)):  # not resumed: all frames have masks
            _keep_masks(inputs.run_dir, inputs.source, sha, key, model.path, (first, last),
                        pa.concat_tables(masks))  # fmt: skip

    return FramewiseJob(spec, make_process, finish)


def _unsampled(slicing: Slicing) -> bool:
    return slicing.reason == "not sampled"


def planned_slicing(config: DetectConfig, source: FrameSource) -> Slicing:
    """The windows a video is detected in, as far as planning can tell without the model:
    `auto` on a frame too small to gain from tiles is settled here; otherwise its reason is
    "not sampled" until `decide_auto` runs the model on a few frames."""
    spec = parse_slice(config.slice)
    frame = (source.info.width, source.info.height)
    if spec.mode == "off":
        return Slicing()
    if spec.mode == "tiles":
        return fixed_slicing(frame, spec.size, config.slice_overlap)
    return auto_slicing(frame, config.image_size, config.slice_overlap, None)


def decide_auto(detector: YoloDetector, source: FrameSource, frames: tuple[int, int]) -> Slicing:
    """`--slice auto`: whole-frame detection on a few sampled frames, then the rule of
    `auto_slicing` on the heights of the people found. Sampled frames and model are fixed by
    the run, so a resumed run decides as the interrupted one did."""
    wanted = sample_frames(*frames)
    images = [image for number, image in source.frames(wanted[0], wanted[-1])
              if number in wanted]  # fmt: skip
    found = detector.detect(images)
    heights = np.concatenate([d.xyxy[:, 3] - d.xyxy[:, 1] for d in found]) if found else []
    frame = (source.info.width, source.info.height)
    config = detector.config
    return auto_slicing(frame, config.image_size, config.slice_overlap, np.asarray(heights))


def _keep_masks(
    run_dir: RunDir,
    source: FrameSource,
    model_sha256: str,
    detections_key: str,
    model_path: Path,
    frames: tuple[int, int],
    table: pa.Table,
) -> None:
    """Store a segmentation detector's masks as the masks cache the segment stage would make
    with its default yolo-seg backend and these weights, so `segment` finds it up to date."""
    from mot_cli.stages.segment import SegmentConfig, masks_key

    config = SegmentConfig(backend="yolo-seg")
    key = masks_key(config, model_sha256, detections_key, source.info.fingerprint, list(frames))
    write_table(run_dir.file(MASKS_STAGE), table, stage=MASKS_STAGE, key=key)
    run_dir.write_entry(
        MASKS_STAGE,
        {
            "config": asdict(config),
            "model": {"path": str(model_path), "sha256": model_sha256},
            "upstream": {STAGE: detections_key},
            "from_detect_pass": True,
            "key": key,
            "complete": True,
            "frames": list(frames),
            "rows": table.num_rows,
            "seconds": 0.0,
        },
    )
    console.print(f"detect: masks from the same pass → {run_dir.file(MASKS_STAGE)}")


def _plan_import(inputs: StageInputs, config: DetectConfig) -> TableJob:
    """Public detections (MOTChallenge det.txt) become the cache, keeping their own score scale.

    The score calibration (`config.det_score`, or the family the file's score range reveals)
    is recorded in the manifest, so the tracker reads every score on the probability scale.
    It is not part of the key: the cached rows keep the file's own scores, so choosing
    another calibration re-runs only the tracker (whose key includes it), not the stages
    that read the boxes; a fresh cache gets the new calibration recorded here. The file is
    read and checked when planning, so a bad file fails even when the cache is fresh.
    """
    from mot_cli.formats.mot import read_mot

    first, last = inputs.frames
    run_dir = inputs.run_dir
    path = Path(config.det_txt)
    if not path.is_file():
        raise MotCliError(f"{path}: detections file not found")
    seq_length = inputs.source.info.frames
    rows = read_mot(path, kind="det", seq_length=seq_length)  # rows past the end: error
    score_map = (parse_score_map(config.det_score) or infer_score_map(rows.conf)).fitted_to(
        rows.conf
    )
    key = stage_key(
        STAGE,
        config={"det_txt_sha256": file_sha256(path)},
        source=inputs.source.info.fingerprint,
        frames=[first, last],
    )
    entry = {
        "config": _config_entry(config),
        "model": {"path": str(path), "sha256": key},
        "score_map": score_map.to_dict(),
    }
    recorded = run_dir.read_entry(STAGE) or {}
    if recorded.get("key") == key and recorded.get("score_map") != entry["score_map"]:
        run_dir.write_entry(STAGE, {**recorded, "score_map": entry["score_map"]})

    def write() -> None:
        keep = (rows.frame >= first) & (rows.frame <= last)
        frame = rows.frame[keep]
        order = np.argsort(frame, kind="stable")
        frame, xywh, conf = frame[order], rows.xywh[keep][order], rows.conf[keep][order]
        det = np.zeros(len(frame), np.int32)
        if len(frame):
            starts = np.r_[0, np.flatnonzero(np.diff(frame)) + 1]
            det = np.arange(len(frame)) - np.repeat(starts, np.diff(np.r_[starts, len(frame)]))
        xyxy = np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]]
        table = pa.table(
            {
                "frame": frame.astype(np.int32),
                "det": det.astype(np.int32),
                "x1": xyxy[:, 0],
                "y1": xyxy[:, 1],
                "x2": xyxy[:, 2],
                "y2": xyxy[:, 3],
                "score": conf,
                "cls": np.full(len(frame), -1, np.int32),
            }
        ).cast(DETECTIONS)
        write_table(run_dir.file(STAGE), table, stage=STAGE, key=key)
        run_dir.write_entry(
            STAGE,
            {**entry, "key": key, "complete": True, "frames": [first, last],
             "rows": table.num_rows},
        )  # fmt: skip
        low, high = (float(rows.conf.min()), float(rows.conf.max())) if len(rows.conf) else (0, 0)
        how = "" if score_map.kind == "probability" else (
            f" (logistic, centre {score_map.centre:g}, width {score_map.width:g})"
        )
        console.print(
            f"detect: imported {table.num_rows} public detections from {path}; scores "
            f"{low:g}…{high:g} read as {score_map.name}{how}"
            + (" [--det-score auto]" if config.det_score == "auto" else ""),
            highlight=False,
        )

    return TableJob(STAGE, key, write)


def recorded_score_map(run_dir: RunDir, table: pa.Table | None = None) -> ScoreMap:
    """The calibration recorded with the detections cache (older caches: from their range)."""
    entry = run_dir.read_entry(STAGE) or {}
    if isinstance(entry.get("score_map"), dict):
        return ScoreMap.from_dict(entry["score_map"])
    if table is None:
        table = run_dir.read_completed(STAGE, DETECTIONS)
    scores = table.column("score").to_numpy() if table is not None else np.zeros(0)
    return infer_score_map(scores).fitted_to(scores)


def recorded_class_names(run_dir: RunDir) -> dict[int, str]:
    """Detector class id -> name, as the detections cache recorded them (caches made before
    names were recorded: the one class their config asked for, when it names one)."""
    entry = run_dir.read_entry(STAGE) or {}
    names = entry.get("class_names")
    if isinstance(names, dict):
        return {int(i): str(name) for i, name in names.items() if str(i).lstrip("-").isdigit()}
    config = entry.get("config") or {}
    classes = config.get("classes") or ()
    if config.get("det_txt") or len(classes) != 1 or str(classes[0]).isdigit():
        return {}
    table = run_dir.read_completed(STAGE, DETECTIONS)
    ids = np.unique(table.column("cls").to_numpy()) if table is not None else []
    return {int(ids[0]): str(classes[0])} if len(ids) == 1 else {}


def frame_detections(
    table: pa.Table, score_map: ScoreMap | None = None
) -> dict[int, Detections]:
    """Split a detections table into per-frame Detections (the tracker's input).

    With `score_map`, scores become probabilities (the tracker's thresholds read them so).
    """
    columns = {name: table.column(name).to_numpy() for name in table.column_names}
    frame = columns["frame"]
    score = columns["score"] if score_map is None else score_map.apply(columns["score"])
    xyxy = np.stack([columns["x1"], columns["y1"], columns["x2"], columns["y2"]], axis=1)
    return {
        number: Detections(xyxy[rows], score[rows], columns["cls"][rows])
        for number, rows in rows_by_frame(frame, columns["det"])
    }
