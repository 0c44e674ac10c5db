"""Sliced detection maths: which windows of a frame to detect in, and how to merge their boxes.

A detector with a fixed input (YOLO11n INT8 at 640×640) shrinks a 1080p frame threefold, and
people who are 40 px tall in the frame become 13 px at its input, below what it finds. Running
it on overlapping windows ("tiles") shrinks each part less. The windows follow SAHI's grid
(`sahi.slicing.get_slice_bboxes`, checked against it in tests/test_slice.py), so tile sizes
and overlaps mean what they mean there. Merging differs from SAHI's default (greedy
non-maximum *merging* by intersection over the smaller box), which joins two people of a crowd
when one stands half in front of the other: here boxes suppress each other by IoU like the
detector's own NMS, and only a box cut by a tile's inner edge is joined with the box it is part
of (their union), which is what the seams of the grid need.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mot_cli.errors import MotCliError

SEAM_MARGIN = 0.02
"""A box within this share of the window's size (and at least 3 px) of a window edge that lies
inside the frame is taken as cut there: the detector's box of a cut person stops a few pixels
short of the edge (seen up to 6 px on 540 px tiles of MOT16-11)."""
MERGE_IOS = 0.6
"""A cut box joins a box of the same class covering at least this share of its own area."""
SUPPRESS_IOU = 0.5
"""Boxes of the same class from different windows overlapping this much are one object."""


@dataclass(frozen=True)
class SliceSpec:
    """What `--slice` asked for: `auto`, `off`, or tiles of `size` (width, height) in pixels."""

    mode: str  # "auto", "off" or "tiles"
    size: tuple[int, int] | None = None

    def __str__(self) -> str:
        return f"{self.size[0]}x{self.size[1]}" if self.size else self.mode


def parse_slice(text: str) -> SliceSpec:
    """`auto`, `off` or `WxH` (e.g. 960x540); anything else is a one-line error."""
    value = text.strip().lower()
    if value in ("auto", "off"):
        return SliceSpec(value)
    match = re.fullmatch(r"(\d+)\s*[x×]\s*(\d+)", value)
    if not match:
        raise MotCliError(f"--slice {text!r}: expected auto, off or WIDTHxHEIGHT such as 960x540")
    width, height = int(match[1]), int(match[2])
    if width < 32 or height < 32:
        raise MotCliError(f"--slice {text}: tiles must be at least 32x32 pixels")
    return SliceSpec("tiles", (width, height))


def check_overlap(overlap: float) -> None:
    if not 0.0 <= overlap < 1.0:
        raise MotCliError(f"--slice-overlap must be in [0, 1), got {overlap:g}")


@dataclass(frozen=True)
class Slicing:
    """The windows one video is detected in: `windows` in frame pixels, plus the whole frame
    when `full_frame` (always, when there are no windows)."""

    windows: tuple[tuple[int, int, int, int], ...] = ()
    full_frame: bool = True
    reason: str = ""

    @property
    def sliced(self) -> bool:
        return bool(self.windows)

    def describe(self) -> str:
        if not self.windows:
            return "whole frames"
        x1, y1, x2, y2 = self.windows[0]
        extra = " plus the whole frame" if self.full_frame else ""
        return f"{len(self.windows)} tiles of {x2 - x1}x{y2 - y1}{extra}"

    def to_dict(self) -> dict:
        return {"windows": [list(w) for w in self.windows], "full_frame": self.full_frame,
                "reason": self.reason}  # fmt: skip


def fixed_slicing(
    frame: tuple[int, int], tile: tuple[int, int], overlap: float
) -> Slicing:
    """`--slice WxH`: SAHI's grid; the whole frame is detected too when the tiles are shorter
    than the frame, so a person taller than a tile is still found whole once."""
    windows = tuple(tile_windows(frame, tile, overlap))
    if len(windows) == 1:  # the tile is the frame: no slicing at all
        return Slicing(reason=f"one {tile[0]}x{tile[1]} tile is the whole frame")
    return Slicing(windows, full_frame=tile[1] < frame[1], reason=f"--slice {tile[0]}x{tile[1]}")


AUTO_MIN_ENLARGE = 1.5
"""`auto` slices only when its tiles show people at least this much larger at the detector's
input than the whole frame does (1080p at 640: 1.78; 640x480 at 640: never)."""
AUTO_MAX_SCALE = 0.4
"""`auto` slices only frames that the whole-frame pass shrinks to at most this share of their
size (1080p at 640: 0.33; KITTI's 1224x370: 0.52; 640x480: 1). On KITTI-17 two 680x370 tiles
raise the tracker's DetRe 66.4 -> 72.7 but its DetPr falls 79.2 -> 66.9 and HOTA 63.2 -> 59.8:
the tiles' extra boxes at score >= 0.35 that match no ground truth (276 more) lie mostly in
the distant crowd by the cafe, on people its ground truth leaves out or marks to ignore,
which MOT15 rules count as false (bench/recall.py). The gain is in frames far larger than
the input (1080p crowds, CCTV); below that, `--slice WxH` asks for tiles."""
AUTO_SMALL_PX = 64.0
"""A person shorter than this at the detector's input (after its resize) counts as small:
YOLO11n's recall of MOT16-11's visible people drops from 96 % above 67 px to about 30 %
below it. In `auto`'s samples, 14 % of MOT16-11's people and 43 % of KITTI-17's are under
it at 640 px (the whole frame misses most small people, so a small share found means more)."""
AUTO_SMALL_SHARE = 0.1
"""`auto` slices when at least this share of the people found in the sampled frames is small
(or none is found at all: they may all be too small to see)."""
AUTO_SAMPLES = 8
"""Frames `auto` looks at, spread over the first AUTO_SPAN frames of the run (with 4, MOT16-11's
share of small people read 12 % of 26; with 8, 14 % of 56)."""
AUTO_SPAN = 300


def auto_tile(
    frame: tuple[int, int], image_size: int, overlap: float
) -> tuple[tuple[int, int], float]:
    """The tile `auto` would use and how much larger it shows people than the whole frame.

    Two tiles side by side, as tall as the frame (nobody is cut vertically, so no
    whole-frame pass is needed), each at least square (a square input wastes nothing on a
    square tile) and wide enough that the two overlap by `overlap`: 1080x1080 on 1080p
    (1.78x larger), 680x370 on KITTI's 1224x370 (1.8x). Two inferences a frame, whatever the
    size: a time budget rather than a fixed magnification.
    """
    width, height = frame
    tile = (min(width, max(height, math.ceil(width / (2.0 - overlap)))), height)
    enlarge = min(image_size / tile[0], image_size / tile[1]) / min(
        image_size / width, image_size / height
    )
    return tile, enlarge


def auto_slicing(
    frame: tuple[int, int], image_size: int, overlap: float, heights: np.ndarray | None
) -> Slicing:
    """`--slice auto`: tiles (`auto_tile`) when they enlarge people by AUTO_MIN_ENLARGE, the
    whole frame is shrunk to AUTO_MAX_SCALE of its size or less, and at least
    AUTO_SMALL_SHARE of the people in the sampled frames (`heights`, in frame pixels) are
    shorter than AUTO_SMALL_PX at the detector's input. `heights` None: not sampled yet (the
    first two tests need no samples, so small frames are settled without running the model)."""
    tile, enlarge = auto_tile(frame, image_size, overlap)
    if enlarge < AUTO_MIN_ENLARGE:
        return Slicing(reason=f"tiles would enlarge people only {enlarge:.2f}x "
                              f"(< {AUTO_MIN_ENLARGE:g}x)")  # fmt: skip
    scale = min(image_size / frame[0], image_size / frame[1])
    if scale > AUTO_MAX_SCALE:
        return Slicing(reason=f"the whole frame keeps {scale:.0%} of its size at the "
                              f"detector's input (> {AUTO_MAX_SCALE:.0%})")  # fmt: skip
    if heights is None:
        return Slicing(reason="not sampled")
    small = float(np.mean(np.asarray(heights) * scale < AUTO_SMALL_PX)) if len(heights) else 1.0
    found = f"{small:.0%} of {len(heights)} people in the sampled frames"
    if small < AUTO_SMALL_SHARE:
        return Slicing(reason=f"{found} are under {AUTO_SMALL_PX:g} px at the detector's "
                              f"input (< {AUTO_SMALL_SHARE:.0%})")  # fmt: skip
    windows = tuple(tile_windows(frame, tile, overlap))
    return Slicing(
        windows, full_frame=False,
        reason=f"{found} are under {AUTO_SMALL_PX:g} px at the detector's input; "
        f"tiles enlarge them {enlarge:.2f}x",
    )  # fmt: skip


def auto_rule() -> dict[str, float]:
    """`auto`'s constants, for the detections key: a changed rule recomputes `auto` caches."""
    return {
        "min_enlarge": AUTO_MIN_ENLARGE,
        "max_scale": AUTO_MAX_SCALE,
        "small_px": AUTO_SMALL_PX,
        "small_share": AUTO_SMALL_SHARE,
        "samples": AUTO_SAMPLES,
        "span": AUTO_SPAN,
    }


def sample_frames(first: int, last: int) -> list[int]:
    """The frames `auto` samples: AUTO_SAMPLES spread over the run's first AUTO_SPAN frames."""
    end = min(last, first + AUTO_SPAN - 1)
    return sorted({round(float(x)) for x in np.linspace(first, end, AUTO_SAMPLES)})


def tile_windows(
    frame: tuple[int, int], tile: tuple[int, int], overlap: float
) -> list[tuple[int, int, int, int]]:
    """Windows (x1, y1, x2, y2) of `tile` = (width, height) covering a (width, height) frame.

    Neighbours overlap by `overlap` of the tile's size (rounded down, as SAHI does); the last
    window of a row or column is moved back to end at the frame's edge, so every window has
    the full tile size. A tile larger than the frame is an error, not a silent crop.
    """
    width, height = frame
    tile_w, tile_h = tile
    check_overlap(overlap)
    if tile_w > width or tile_h > height:
        raise MotCliError(
            f"--slice {tile_w}x{tile_h}: tiles are larger than the {width}x{height} frame; "
            "give smaller tiles, or --slice off"
        )
    step_x = tile_w - int(overlap * tile_w)
    step_y = tile_h - int(overlap * tile_h)
    xs = _starts(width, tile_w, step_x)
    ys = _starts(height, tile_h, step_y)
    return [(x, y, x + tile_w, y + tile_h) for y in ys for x in xs]


def _starts(length: int, tile: int, step: int) -> list[int]:
    starts, start = [], 0
    while True:
        if start + tile >= length:
            starts.append(length - tile)
            return starts
        starts.append(start)
        start += step


def cut_edges(
    xyxy: np.ndarray, window: tuple[int, int, int, int], frame: tuple[int, int]
) -> np.ndarray:
    """Which boxes (in frame pixels) touch an edge of `window` that lies inside the frame."""
    x1, y1, x2, y2 = window
    width, height = frame
    mx = max(3.0, SEAM_MARGIN * (x2 - x1))
    my = max(3.0, SEAM_MARGIN * (y2 - y1))
    cut = np.zeros(len(xyxy), bool)
    if x1 > 0:
        cut |= xyxy[:, 0] <= x1 + mx
    if y1 > 0:
        cut |= xyxy[:, 1] <= y1 + my
    if x2 < width:
        cut |= xyxy[:, 2] >= x2 - mx
    if y2 < height:
        cut |= xyxy[:, 3] >= y2 - my
    return cut


def merge_windows(
    parts: Sequence[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray]],
    frame: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """One frame's boxes from several windows merged, as `detect` merges them.

    Each part is a window and its boxes in frame pixels, with their scores and classes; the
    boxes touching one of its seams inside the frame are cut (`cut_edges`), then
    `merge_boxes` joins them. Returns the merged boxes, their scores and classes, and each
    one's group (rows of the parts taken in order).
    """
    xyxy = [np.asarray(boxes, np.float64).reshape(-1, 4) for _, boxes, _, _ in parts]
    cut = np.concatenate([cut_edges(b, w, frame) for (w, *_), b in zip(parts, xyxy, strict=True)])
    score = np.concatenate([score for _, _, score, _ in parts])
    cls = np.concatenate([cls for _, _, _, cls in parts])
    kept, boxes, groups = merge_boxes(np.concatenate(xyxy), score, cls, cut)
    return boxes, score[kept], cls[kept], groups


def merge_boxes(
    xyxy: np.ndarray, score: np.ndarray, cls: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Merge detections gathered from several windows of one frame.

    Greedy by score: each box kept absorbs the lower-scored boxes of its class that overlap
    it at IoU > SUPPRESS_IOU (the same object seen in two windows). When either of the two
    is cut by a seam and their intersection covers MERGE_IOS of the smaller box, the pair
    becomes its union instead, so a person split across two tiles comes out whole and a
    high-scored cut half cannot suppress the whole person seen elsewhere.
    Returns the kept rows' indices (by descending score), their (possibly grown) boxes, and
    for each the rows joined into it (itself first; a mask of the union is theirs OR-ed).
    """
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    cls = np.asarray(cls)
    cut = np.asarray(cut, bool)
    order = np.argsort(-np.asarray(score), kind="stable")
    boxes = xyxy.copy()
    area = (xyxy[:, 2] - xyxy[:, 0]).clip(0) * (xyxy[:, 3] - xyxy[:, 1]).clip(0)
    alive = np.ones(len(xyxy), bool)
    kept: list[int] = []
    groups: list[np.ndarray] = []
    for i in order:
        if not alive[i]:
            continue
        alive[i] = False
        kept.append(i)
        others = np.flatnonzero(alive & (cls == cls[i]))
        box = xyxy[i]
        w = np.minimum(box[2], xyxy[others, 2]) - np.maximum(box[0], xyxy[others, 0])
        h = np.minimum(box[3], xyxy[others, 3]) - np.maximum(box[1], xyxy[others, 1])
        inter = w.clip(0) * h.clip(0)
        union = area[i] + area[others] - inter
        smaller = np.maximum(np.minimum(area[i], area[others]), 1e-9)
        joined = (cut[i] | cut[others]) & (inter >= MERGE_IOS * smaller) & (inter > 0)
        same = ~joined & (inter > SUPPRESS_IOU * np.maximum(union, 1e-9))
        alive[others[same | joined]] = False
        members = others[joined]
        groups.append(np.r_[i, members].astype(np.int64))
        if len(members):
            boxes[i, :2] = np.minimum(box[:2], xyxy[members, :2].min(axis=0))
            boxes[i, 2:] = np.maximum(box[2:], xyxy[members, 2:].max(axis=0))
    index = np.asarray(kept, np.int64)
    return index, boxes[index], groups
