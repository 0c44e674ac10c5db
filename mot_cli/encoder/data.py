"""Training samples from run folders: each detection's depth and mask around its box.

The encoder trains on caches a run already holds — detections, masks, depth maps — so the
user's own video teaches it, with no labels. Each detection is stored once, as a window a
little larger than its box (see `augment.CONTEXT`), from which every epoch draws fresh views.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from mot_cli.cache import RunDir
from mot_cli.detections import rows_by_frame
from mot_cli.encoder.augment import CONTEXT
from mot_cli.encoder.crops import Mask, frame_normalised, raw_crops
from mot_cli.encoder.pairs import LinkConfig, tracklet_ids, unambiguous_links
from mot_cli.errors import MotCliError
from mot_cli.schema import (
    DEPTH_MAPS,
    DEPTH_MAPS_STAGE,
    DETECTIONS,
    DETECTIONS_STAGE,
    MASKS,
    MASKS_STAGE,
    SD_ENCODER_READS,
)

__all__ = [
    "FrameArrays",
    "RunFrames",
    "TrainingSet",
    "build_training_set",
    "concat_training_sets",
    "read_run",
    "upstream_keys",
]

_NEEDED = (
    (DEPTH_MAPS_STAGE, "depth maps", "mot-cli depth"),
    (MASKS_STAGE, "masks", "mot-cli segment"),
)


@dataclass(frozen=True)
class FrameArrays:
    """One frame's depth map and detections, as arrays (what training and embedding need).

    `identity` (N,) holds ground-truth ids (−1: unmatched) for supervised training only.
    """

    frame: int
    depth_map: np.ndarray
    scale: float
    boxes: np.ndarray
    masks: list[Mask]
    identity: np.ndarray | None = None


@dataclass(frozen=True)
class TrainingSet:
    """Context windows of every detection, grouped by frame, with cross-frame links.

    Attributes:
        depth: (M, Hc, Wc) float16 nearness around each box.
        mask: (M, Hc, Wc) uint8 mask coverage ×255.
        groups: sample indices of each frame (in-batch negatives come from these).
        previous: (M,) the linked sample in the previous frame, −1 when none.
        next: (M,) the linked sample in the next frame, −1 when none.
        tracklet: (M,) samples joined by links share a label; never each other's negatives.
        identity: (M,) ground-truth identity, unique across runs, −1 when unmatched; None
            unless every frame trained on carried identities (supervised training).
    """

    depth: torch.Tensor
    mask: torch.Tensor
    groups: list[np.ndarray]
    previous: np.ndarray
    next: np.ndarray
    tracklet: np.ndarray = field(repr=False)
    identity: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.depth)

    def windows(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Float32 depth and [0, 1] mask windows of the given samples."""
        index = torch.from_numpy(np.asarray(rows, np.int64))
        return self.depth[index].float(), self.mask[index].float() / 255.0

    @property
    def links(self) -> int:
        return int((self.next >= 0).sum())


def context_size(input_size: tuple[int, int]) -> tuple[int, int]:
    """Window size for a crop size: CONTEXT times larger, so jitter stays on real pixels."""
    return round(input_size[0] * CONTEXT), round(input_size[1] * CONTEXT)


def build_training_set(
    runs: Iterable[Iterable[FrameArrays]],
    input_size: tuple[int, int],
    links: LinkConfig | None = None,
    depth_norm: str = "crop",
) -> TrainingSet:
    """Cut every detection's context window and link consecutive frames of each run
    (`depth_norm` "frame": from the frame-normalised map, see `crops.frame_normalised`)."""
    links = links or LinkConfig()
    size = context_size(input_size)
    depths, masks, groups, pairs, identities = [], [], [], [], []
    count = 0
    labelled = True
    for run_index, frames in enumerate(runs):
        previous: tuple[FrameArrays, int] | None = None
        for arrays in frames:
            n = len(arrays.boxes)
            if arrays.identity is None:
                labelled = False
            elif n:
                ids = np.asarray(arrays.identity, np.int64).reshape(n)
                identities.append(np.stack([np.full(n, run_index), ids], axis=1))
            if n:
                depth_map = arrays.depth_map
                if depth_norm == "frame":
                    depth_map = frame_normalised(depth_map)
                depth, mask = raw_crops(
                    depth_map, arrays.scale, arrays.boxes, arrays.masks, size, CONTEXT
                )
                depths.append(torch.from_numpy(depth.astype(np.float16)))
                masks.append(torch.from_numpy(np.rint(mask * 255).astype(np.uint8)))
                groups.append(np.arange(count, count + n))
                if previous is not None and previous[0].frame == arrays.frame - 1:
                    found = unambiguous_links(previous[0].boxes, arrays.boxes, links)
                    pairs.append(found + np.array([previous[1], count]))
            previous = (arrays, count)
            count += n
    if count < 2:
        raise MotCliError(f"training needs at least 2 detections with depth and masks, got {count}")
    link_pairs = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    before = np.full(count, -1, np.int64)
    after = np.full(count, -1, np.int64)
    before[link_pairs[:, 1]] = link_pairs[:, 0]
    after[link_pairs[:, 0]] = link_pairs[:, 1]
    return TrainingSet(
        torch.cat(depths),
        torch.cat(masks),
        groups,
        before,
        after,
        tracklet_ids(count, link_pairs),
        _global_identities(identities) if labelled else None,
    )


def concat_training_sets(sets: Sequence[TrainingSet]) -> TrainingSet:
    """One training set from several (e.g. cut once per video, combined per experiment):
    indices are shifted, tracklets and identities kept apart between the sets."""
    if not sets:
        raise MotCliError("no training sets to combine")
    offsets = np.cumsum([0] + [len(s) for s in sets])[:-1]

    def shifted(values: np.ndarray, offset: int) -> np.ndarray:
        return np.where(values >= 0, values + offset, -1)

    labelled = all(s.identity is not None for s in sets)
    identity = None
    if labelled:
        parts, base = [], 0
        for part in sets:
            ids = np.asarray(part.identity, np.int64)
            parts.append(np.where(ids >= 0, ids + base, -1))
            base += int(ids.max(initial=-1)) + 1
        identity = np.concatenate(parts)
    return TrainingSet(
        torch.cat([s.depth for s in sets]),
        torch.cat([s.mask for s in sets]),
        [g + offset for s, offset in zip(sets, offsets, strict=True) for g in s.groups],
        np.concatenate([shifted(s.previous, o) for s, o in zip(sets, offsets, strict=True)]),
        np.concatenate([shifted(s.next, o) for s, o in zip(sets, offsets, strict=True)]),
        np.concatenate([s.tracklet + o for s, o in zip(sets, offsets, strict=True)]),
        identity,
    )


def _global_identities(per_frame: list[np.ndarray]) -> np.ndarray:
    """(M,) labels unique across runs from (run, id) rows; −1 stays −1."""
    pairs = np.concatenate(per_frame)
    _, label = np.unique(pairs, axis=0, return_inverse=True)
    return np.where(pairs[:, 1] >= 0, label.reshape(-1), -1).astype(np.int64)


def check_run(path: Path) -> RunDir:
    """The run folder, or a one-line error naming the stages still to run there."""
    run_dir = RunDir(Path(path))
    if not run_dir.manifest_path.exists():
        raise MotCliError(
            f"{path}: not a run folder (no manifest.json); run `mot-cli detect` on the video "
            "first, then `mot-cli depth` and `mot-cli segment`"
        )
    if run_dir.completed_key(DETECTIONS_STAGE) is None:
        raise MotCliError(f"{path}: no detections cache; run `mot-cli detect` first")
    missing = [(what, cmd) for stage, what, cmd in _NEEDED if run_dir.completed_key(stage) is None]
    if missing:
        what = " and ".join(what for what, _ in missing)
        commands = " and ".join(f"`{cmd}`" for _, cmd in missing)
        raise MotCliError(f"{path}: no {what} cache; run {commands} first")
    return run_dir


def upstream_keys(run_dir: RunDir) -> dict[str, str | None]:
    """The keys of the caches training reads, for the checkpoint's record and key."""
    return {stage: run_dir.completed_key(stage) for stage in SD_ENCODER_READS}


def _frame_rows(table: pa.Table) -> dict[int, np.ndarray]:
    frame = table.column("frame").to_numpy()
    det = table.column("det").to_numpy()
    return dict(rows_by_frame(frame, det))


@dataclass(frozen=True)
class RunFrames:
    """A run folder's frames with a depth map, read lazily (a long 1080p run's maps would
    not fit in memory at once); `len` is known up front for a progress bar.

    `keys`: the key of each cache the tables came from (what a checkpoint records).
    """

    run_dir: RunDir
    detections: pa.Table
    masks: pa.Table
    depth_maps: pa.Table
    keys: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.depth_maps.num_rows

    def __iter__(self) -> Iterator[FrameArrays]:
        """Frames in order with boxes and RLE masks; a frame whose masks do not line up
        with its detections is a corrupt cache."""
        det_rows = _frame_rows(self.detections)
        mask_rows = _frame_rows(self.masks)
        table = self.detections
        boxes = np.stack([table.column(c).to_numpy() for c in ("x1", "y1", "x2", "y2")], 1)
        det_ids = table.column("det").to_numpy()
        mask_ids = self.masks.column("det").to_numpy()
        rle = self.masks.column("rle").to_pylist()
        heights = self.masks.column("height").to_numpy()
        widths = self.masks.column("width").to_numpy()
        maps = self.depth_maps.to_pydict()
        for index in np.argsort(maps["frame"], kind="stable"):
            frame = int(maps["frame"][index])
            rows = det_rows.get(frame, np.zeros(0, np.int64))
            mrows = mask_rows.get(frame, np.zeros(0, np.int64))
            if not np.array_equal(det_ids[rows], mask_ids[mrows]):
                raise MotCliError(
                    f"{self.run_dir.file(MASKS_STAGE)}: frame {frame} has masks for dets "
                    f"{mask_ids[mrows].tolist()} but detections {det_ids[rows].tolist()}; "
                    "re-run `mot-cli segment --force`"
                )
            yield FrameArrays(
                frame,
                self._depth_map(maps, index),
                float(maps["scale"][index]),
                boxes[rows],
                [{"size": [int(heights[r]), int(widths[r])], "counts": rle[r]} for r in mrows],
            )

    def _depth_map(self, maps: dict, index: int) -> np.ndarray:
        height, width = int(maps["height"][index]), int(maps["width"][index])
        data = np.frombuffer(maps["map"][index], dtype="<f2")
        if data.size != height * width:
            raise MotCliError(
                f"{self.run_dir.file(DEPTH_MAPS_STAGE)}: frame {maps['frame'][index]} map has "
                f"{data.size} values, not {height}x{width}; re-run `mot-cli depth --force`"
            )
        return data.reshape(height, width).astype(np.float32)


def read_run(path: Path) -> RunFrames:
    """The frames of a run folder that have a depth map, with their detections and masks.

    Frames without a depth map are left out (and so break links across them).
    """
    run_dir = check_run(path)
    keys = upstream_keys(run_dir)
    detections = run_dir.read_completed(DETECTIONS_STAGE, DETECTIONS, keys[DETECTIONS_STAGE])
    masks = run_dir.read_completed(MASKS_STAGE, MASKS, keys[MASKS_STAGE])
    depth_maps = run_dir.read_completed(DEPTH_MAPS_STAGE, DEPTH_MAPS, keys[DEPTH_MAPS_STAGE])
    if detections is None or masks is None or depth_maps is None:  # raced with a re-run
        raise MotCliError(f"{path}: a cache changed while reading it; run train-encoder again")
    return RunFrames(run_dir, detections, masks, depth_maps, keys)
