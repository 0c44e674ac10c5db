"""Imported masks (`segment --masks-txt`): MOTS text matched to the cached detections.

Masks made elsewhere (SAM 2 on a GPU, or ground truth standing in as an oracle) come as MOTS
text (MOTSChallenge, 1-based frames, or KITTI MOTS, 0-based). Each frame's masks are matched
one to one to its detections by the IoU of the mask's own box with the detection's box
(Hungarian, pairs below `MIN_BOX_IOU` never match), so masks.parquet stays aligned row for row
with detections.parquet: a matched detection gets its mask as given (not clipped to its box: an
oracle mask is the truth), the others an empty one. Ignore regions (class 10) are no one's mask.

When the file does not say how it counts frames (`auto`): a frame 0 means 0-based, a mask in
the sequence's last frame number means 1-based, otherwise the numbering under which more masks
match a detection wins (ties go to MOTSChallenge's 1-based). The choice and why is printed and
recorded in the manifest entry, with the file's sha256, as an import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import stage_key, write_table
from mot_cli.errors import MotCliError
from mot_cli.formats.mots import IGNORE_CLASS, MotsRows, mots_frame_base, read_mots
from mot_cli.metrics._assignment import linear_sum_assignment
from mot_cli.models import file_sha256
from mot_cli.progress import console
from mot_cli.schema import DETECTIONS, DETECTIONS_STAGE, MASKS, MASKS_STAGE
from mot_cli.stages._job import StageInputs, TableJob

__all__ = ["FRAME_BASES", "MIN_BOX_IOU", "match_masks", "plan_import", "rle_boxes"]

FRAME_BASES = ("auto", "0", "1")
MIN_BOX_IOU = 0.3
"""A mask's box must overlap its detection's at least this much (IoU): a ground-truth mask
covers the visible person, a detector's box may include a hidden part (on KITTI-17, 755 of the
782 ground-truth boxes have a mask box above 0.3, at mean 0.75)."""


_AREA_CHUNK = 200


@dataclass(frozen=True)
class FrameBase:
    """How the file numbers frames, and why we think so (printed and recorded)."""

    base: int
    why: str


def rle_boxes(rows: MotsRows) -> np.ndarray:
    """(N, 4) float64 xyxy box of each mask (pixel edges; zeros for an empty mask)."""
    from pycocotools import mask as mask_utils

    if not len(rows):
        return np.zeros((0, 4))
    xywh = np.asarray(mask_utils.toBbox(rows.rles()), np.float64).reshape(-1, 4)
    return np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]]


def match_masks(
    mask_boxes: np.ndarray, det_boxes: np.ndarray, min_iou: float = MIN_BOX_IOU
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs (mask index, detection index) of one frame with the largest total box
    IoU, each pair at least `min_iou`."""
    from mot_cli.tracking.cues import iou_matrix

    if not len(mask_boxes) or not len(det_boxes):
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    iou = iou_matrix(np.asarray(mask_boxes, np.float64), np.asarray(det_boxes, np.float64))
    score = np.where(iou >= min_iou, iou, 0.0)
    rows, cols = linear_sum_assignment(-score)
    keep = score[rows, cols] > 0
    return rows[keep].astype(np.intp), cols[keep].astype(np.intp)


def _by_frame(frame: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(frame, kind="stable")
    bounds = np.flatnonzero(np.diff(frame[order])) + 1
    return {int(frame[g[0]]): g for g in np.split(order, bounds) if len(g)}


def _match_all(
    mask_frame: np.ndarray, boxes: np.ndarray, det_frame: np.ndarray, det_boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every frame's pairs, as (mask row, detection row) arrays over the whole file."""
    masks_at, dets_at = _by_frame(mask_frame), _by_frame(det_frame)
    pairs_mask, pairs_det = [], []
    for number, masks in masks_at.items():
        dets = dets_at.get(number)
        if dets is None:
            continue
        m, d = match_masks(boxes[masks], det_boxes[dets])
        pairs_mask.append(masks[m])
        pairs_det.append(dets[d])
    if not pairs_mask:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(pairs_mask), np.concatenate(pairs_det)


def _read(path: Path, seq_length: int, frames: str) -> tuple[MotsRows, FrameBase | None]:
    """The file's rows (1-based) and its numbering, when the file or the user settles it."""
    if frames not in FRAME_BASES:
        raise MotCliError(f"--masks-frames must be one of {', '.join(FRAME_BASES)}, got {frames!r}")
    if not path.is_file():
        raise MotCliError(f"{path}: masks file not found")
    if frames != "auto":
        base = FrameBase(int(frames), f"--masks-frames {frames}")
    elif mots_frame_base(path) == 0:
        base = FrameBase(0, "detected: the file has a frame 0")
    else:
        base = None
    rows = read_mots(path, kind="gt", seq_length=seq_length, frame_base=base.base if base else 1)
    if base is None and len(rows) and int(rows.frame.max()) == seq_length:
        base = FrameBase(1, f"detected: the file has a frame {seq_length}, the last")
    return rows[rows.cls != IGNORE_CLASS], base


def _settle_base(
    rows: MotsRows, boxes: np.ndarray, det_frame: np.ndarray, det_boxes: np.ndarray
) -> FrameBase:
    """Between 1- and 0-based numbering, the one under which the masks overlap the detections
    more (summed box IoU of the matched pairs: a slow walker matches under both, but better
    under the true one)."""

    def overlap(shift: int) -> float:
        m, d = _match_all(rows.frame + shift, boxes, det_frame, det_boxes)
        return float(_pair_iou(boxes[m], det_boxes[d]).sum())

    one, zero = overlap(0), overlap(1)
    n = max(len(rows), 1)
    figures = f"mean box IoU {zero / n:.3f} counted from 0, {one / n:.3f} from 1"
    return FrameBase(0 if zero > one else 1, f"detected: {figures}")


def _pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of `a[i]` with `b[i]`, xyxy boxes."""
    wh = np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None)
    inter = wh[:, 0] * wh[:, 1]
    union = np.prod(a[:, 2:] - a[:, :2], axis=1) + np.prod(b[:, 2:] - b[:, :2], axis=1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _check_size(rows: MotsRows, height: int, width: int) -> None:
    wrong = (rows.height != height) | (rows.width != width)
    if wrong.any():
        i = int(np.argmax(wrong))
        raise MotCliError(
            f"{rows.path}:{rows.line[i]}: mask size {rows.height[i]}x{rows.width[i]} (height x "
            f"width) differs from the video's {height}x{width}"
        )


def plan_import(inputs: StageInputs, masks_txt: Path, frames: str, entry: dict) -> TableJob:
    """masks.parquet from a MOTS file; the file is read and checked now, so a bad file fails
    even when the cache is fresh. The key holds the file's sha256 and the numbering asked."""
    first, last = inputs.frames
    run_dir = inputs.run_dir
    path = Path(masks_txt)
    info = inputs.source.info
    rows, base = _read(path, info.frames, frames)
    _check_size(rows, info.height, info.width)
    sha = file_sha256(path)
    key = stage_key(
        MASKS_STAGE,
        config={"masks_txt_sha256": sha, "masks_frames": frames, "min_box_iou": MIN_BOX_IOU},
        upstream=inputs.keys[DETECTIONS_STAGE],
        source=info.fingerprint,
        frames=[first, last],
    )

    def write() -> None:
        started = time.perf_counter()
        detections = inputs.table(DETECTIONS_STAGE, DETECTIONS)
        det_frame = detections.column("frame").to_numpy().astype(np.int64)
        det_boxes = np.stack(
            [detections.column(c).to_numpy().astype(np.float64) for c in ("x1", "y1", "x2", "y2")],
            axis=1,
        ).reshape(-1, 4)
        boxes = rle_boxes(rows)
        settled = base or _settle_base(rows, boxes, det_frame, det_boxes)
        shift = 1 if settled.base == 0 and base is None else 0  # read as 1-based so far
        if shift and len(rows) and int(rows.frame.max()) + 1 > info.frames:
            i = int(np.argmax(rows.frame))
            raise MotCliError(f"{path}:{rows.line[i]}: frame {rows.frame[i]} is beyond the "
                              f"sequence length {info.frames} (counted from 0, its last frame "
                              f"is {info.frames - 1})")  # fmt: skip
        frame = rows.frame.astype(np.int64) + shift
        inside = (frame >= first) & (frame <= last)
        mask_rows, det_rows = _match_all(frame[inside], boxes[inside], det_frame, det_boxes)
        mask_rows = np.flatnonzero(inside)[mask_rows]
        table = _table(detections, rows, boxes, mask_rows, det_rows, info.height, info.width)
        write_table(run_dir.file(MASKS_STAGE), table, stage=MASKS_STAGE, key=key)
        wanted = int(inside.sum())
        record = {
            "path": str(path), "sha256": sha, "format": "MOTS text", "frame_base": settled.base,
            "frame_base_from": settled.why, "masks": wanted, "matched": len(mask_rows),
            "min_box_iou": MIN_BOX_IOU,
        }  # fmt: skip
        run_dir.write_entry(
            MASKS_STAGE,
            {**entry, "import": record, "key": key, "complete": True, "frames": [first, last],
             "rows": table.num_rows, "seconds": round(time.perf_counter() - started, 3)},
        )  # fmt: skip
        console.print(
            f"segment: imported {len(mask_rows)} of {wanted} masks from {path} onto "
            f"{detections.num_rows} detections (frames counted from {settled.base}: "
            f"{settled.why}); {wanted - len(mask_rows)} masks matched no detection",
            highlight=False,
        )

    return TableJob(MASKS_STAGE, key, write)


def _table(
    detections: pa.Table,
    rows: MotsRows,
    boxes: np.ndarray,
    mask_rows: np.ndarray,
    det_rows: np.ndarray,
    height: int,
    width: int,
) -> pa.Table:
    """masks.parquet rows aligned with detections: matched ones with their mask, others empty."""
    from pycocotools import mask as mask_utils

    from mot_cli.masks import empty_rle

    n = detections.num_rows
    empty = empty_rle(height, width)["counts"]
    counts = np.full(n, empty.decode() if isinstance(empty, bytes) else empty, dtype=object)
    counts[det_rows] = rows.rle[mask_rows]
    area = np.zeros(n, np.int64)
    rles = rows[mask_rows].rles()
    for start in range(0, len(rles), _AREA_CHUNK):  # pycocotools' area fails on 256+ masks
        chunk = rles[start : start + _AREA_CHUNK]
        area[det_rows[start : start + len(chunk)]] = mask_utils.area(chunk)
    xyxy = np.zeros((n, 4), np.float64)
    xyxy[det_rows] = boxes[mask_rows]
    return pa.table(
        {
            "frame": detections.column("frame"),
            "det": detections.column("det"),
            "height": np.full(n, height, np.int32),
            "width": np.full(n, width, np.int32),
            "rle": pa.array(counts.tolist(), pa.string()),
            "area": area.astype(np.int32),
            "x1": xyxy[:, 0].astype(np.float32),
            "y1": xyxy[:, 1].astype(np.float32),
            "x2": xyxy[:, 2].astype(np.float32),
            "y2": xyxy[:, 3].astype(np.float32),
            "quality": np.full(n, np.nan, np.float32),
        },
        schema=MASKS,
    )
