"""Instance masks on a coarse grid, each kept over its own box: what the tracker's mask cues use.

The tracker compares masks every frame — a track's last mask with each detection's (the mask
IoM cue) and the masks of one frame with each other's boxes (the occlusion rule) — and
association must stay around a millisecond a frame. Full-frame masks (2 M pixels at 1080p)
cannot be compared that fast, so each mask is stored once, downsampled to square cells of
`cell` pixels over the cells its box touches, with the cell coordinates of the window's
top-left corner. Overlaps then only touch the cells two windows share, and moving a mask is
changing its origin.

Cells lie on one grid per frame (cell (c, r) covers pixels [c·cell, (c+1)·cell) ×
[r·cell, (r+1)·cell)); a cell is set when at least half its pixels are. A detection whose mask
is empty (the segmenter found nothing in its box) gets its whole box as its mask, so every
detection takes part in mask cues and none is favoured for lacking one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "MaskGrid",
    "covered_by_others",
    "default_cell",
    "mask_iom",
    "mask_overlap",
]

TARGET_ROWS = 240
"""`default_cell` picks cells so that a frame is about this many cells high."""


def default_cell(frame_height: int) -> int:
    """Cell side in pixels for a video of this height: 2 px at 480p, 4 px at 1080p."""
    return max(1, round(frame_height / TARGET_ROWS))


def _windows(boxes: np.ndarray, cell: int) -> np.ndarray:
    """(N, 4) int64 cell windows (c1, r1, c2, r2), c2/r2 exclusive, covering each box."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    low = np.floor(boxes[:, :2] / cell).astype(np.int64)
    high = np.maximum(np.ceil(boxes[:, 2:] / cell).astype(np.int64), low + 1)
    return np.concatenate([low, high], axis=1)


@dataclass(frozen=True)
class MaskGrid:
    """N masks, each a bool array of cells over its own window.

    Attributes:
        cell: side of a cell in frame pixels.
        origin: (N, 2) int64 (column, row) of each window's top-left cell.
        bits: N (rows, columns) bool arrays.
        area: (N,) int64 set cells of each mask (computed when not given).
    """

    cell: int
    origin: np.ndarray
    bits: tuple[np.ndarray, ...]
    area: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if int(self.cell) < 1:
            raise ValueError(f"cell must be >= 1 pixel, got {self.cell}")
        origin = np.asarray(self.origin, np.int64).reshape(-1, 2)
        bits = tuple(np.asarray(b, bool) for b in self.bits)
        if len(bits) != len(origin):
            raise ValueError(f"{len(bits)} masks but {len(origin)} origins")
        if any(b.ndim != 2 for b in bits):
            raise ValueError("every mask must be a 2-D array of cells")
        area = self.area
        if area is None:
            area = np.array([np.count_nonzero(b) for b in bits], np.int64)
        object.__setattr__(self, "cell", int(self.cell))
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "area", np.asarray(area, np.int64).reshape(len(bits)))

    def __len__(self) -> int:
        return len(self.bits)

    def __getitem__(self, index: Any) -> MaskGrid:
        """Select masks with a boolean mask, an index array or a slice."""
        rows = np.arange(len(self))[index]
        return MaskGrid(
            self.cell, self.origin[rows], tuple(self.bits[i] for i in rows), self.area[rows]
        )

    @property
    def windows(self) -> np.ndarray:
        """(N, 4) int64 (c1, r1, c2, r2) of each mask's window, c2/r2 exclusive."""
        shape = np.array([b.shape[::-1] for b in self.bits], np.int64).reshape(-1, 2)
        return np.concatenate([self.origin, self.origin + shape], axis=1)

    def moved(self, offset: np.ndarray) -> MaskGrid:
        """The masks moved by (N, 2) pixel offsets (dx, dy), rounded to whole cells."""
        step = np.rint(np.asarray(offset, np.float64).reshape(-1, 2) / self.cell)
        return MaskGrid(self.cell, self.origin + step.astype(np.int64), self.bits, self.area)

    @classmethod
    def empty(cls, cell: int = 1) -> MaskGrid:
        """No masks."""
        return cls(cell, np.zeros((0, 2), np.int64), (), np.zeros(0, np.int64))

    @classmethod
    def from_boxes(cls, boxes: np.ndarray, cell: int) -> MaskGrid:
        """Each box as its own (full) mask."""
        windows = _windows(boxes, cell)
        bits = tuple(np.ones((w[3] - w[1], w[2] - w[0]), bool) for w in windows)
        return cls(cell, windows[:, :2], bits)

    @classmethod
    def from_masks(
        cls, masks: Sequence[np.ndarray], boxes: np.ndarray, cell: int
    ) -> MaskGrid:
        """From full-frame (H, W) masks (non-zero = object) and their detections' boxes."""

        def window(index: int, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
            return np.asarray(masks[index][y1:y2, x1:x2]) != 0

        size = np.shape(masks[0]) if len(masks) else (0, 0)
        return cls._build(window, len(masks), size, boxes, cell)

    @classmethod
    def from_rle(cls, rles: Sequence[dict], boxes: np.ndarray, cell: int) -> MaskGrid:
        """From COCO RLE dicts (`size`, `counts`), decoding only each box's window."""
        from mot_cli.rle import rle_window

        def window(index: int, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
            return rle_window(rles[index], x1, y1, x2, y2)

        size = tuple(int(v) for v in rles[0]["size"]) if len(rles) else (0, 0)
        return cls._build(window, len(rles), size, boxes, cell)

    @classmethod
    def _build(cls, window, count: int, size, boxes: np.ndarray, cell: int) -> MaskGrid:
        """Downsample each mask over its box's cell window (shared by the constructors)."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if len(boxes) != count:
            raise ValueError(f"{len(boxes)} boxes but {count} masks")
        height, width = size
        windows = _windows(boxes, cell)
        bits = []
        for index, (c1, r1, c2, r2) in enumerate(windows.tolist()):
            pixels = np.zeros(((r2 - r1) * cell, (c2 - c1) * cell), np.float32)
            x1, y1 = max(c1 * cell, 0), max(r1 * cell, 0)
            x2, y2 = min(c2 * cell, width), min(r2 * cell, height)
            if x2 > x1 and y2 > y1:
                part = window(index, x1, y1, x2, y2)
                pixels[y1 - r1 * cell : y2 - r1 * cell, x1 - c1 * cell : x2 - c1 * cell] = part
            cells = pixels.reshape(r2 - r1, cell, c2 - c1, cell).mean(axis=(1, 3)) >= 0.5
            if not cells.any():  # nothing segmented: the box stands in for the mask
                cells = np.ones_like(cells)
            bits.append(cells)
        return cls(cell, windows[:, :2], tuple(bits))


def _shared(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j) of windows a[i], b[j] that share cells, and the shared rectangles."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    i, j = np.nonzero(((hi - lo) > 0).all(axis=2))
    return i, j, np.concatenate([lo[i, j], hi[i, j]], axis=1)


def mask_overlap(a: MaskGrid, b: MaskGrid) -> np.ndarray:
    """(A, B) int64 cells set in both masks, for every pair (same cell size required)."""
    if a.cell != b.cell:
        raise ValueError(f"masks on {a.cell}-pixel and {b.cell}-pixel cells cannot be compared")
    out = np.zeros((len(a), len(b)), np.int64)
    if not len(a) or not len(b):
        return out
    rows, cols, rects = _shared(a.windows, b.windows)
    for i, j, (c1, r1, c2, r2) in zip(rows.tolist(), cols.tolist(), rects.tolist(), strict=True):
        (ac, ar), (bc, br) = a.origin[i], b.origin[j]
        part_a = a.bits[i][r1 - ar : r2 - ar, c1 - ac : c2 - ac]
        part_b = b.bits[j][r1 - br : r2 - br, c1 - bc : c2 - bc]
        out[i, j] = np.count_nonzero(part_a & part_b)
    return out


def mask_iom(a: MaskGrid, b: MaskGrid) -> np.ndarray:
    """(A, B) intersection over the smaller mask's area, in [0, 1] (0 for empty masks).

    ref: DIOR's mask IoM (ARCHITECTURE.md): unlike IoU it stays high when one silhouette is
    a part of the other, as a half-hidden person's is of the whole one seen a frame earlier.
    """
    inter = mask_overlap(a, b).astype(np.float64)
    smaller = np.minimum(a.area[:, None], b.area[None, :]).astype(np.float64)
    return np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)


def covered_by_others(grid: MaskGrid) -> np.ndarray:
    """For each mask, the fraction of its window (its box) that other masks cover, in [0, 1].

    This is how much of a detection's crop shows somebody else: the mask version of the
    box rule "another box covers more than half of mine" (ref: SAM2MOT's occlusion-aware
    memory), which also fires when only the empty corners of two boxes overlap.
    """
    windows = grid.windows
    out = np.zeros(len(grid))
    if len(grid) < 2:
        return out
    rows, cols, rects = _shared(windows, windows)
    covers: dict[int, np.ndarray] = {}
    for i, j, (c1, r1, c2, r2) in zip(rows.tolist(), cols.tolist(), rects.tolist(), strict=True):
        if i == j:
            continue
        if i not in covers:
            covers[i] = np.zeros(grid.bits[i].shape, bool)
        (ic, ir), (jc, jr) = grid.origin[i], grid.origin[j]
        covers[i][r1 - ir : r2 - ir, c1 - ic : c2 - ic] |= grid.bits[j][
            r1 - jr : r2 - jr, c1 - jc : c2 - jc
        ]
    for i, cover in covers.items():
        out[i] = np.count_nonzero(cover) / cover.size
    return out
