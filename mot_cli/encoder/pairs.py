"""Label-free positives across frames: detections linked by unambiguous box overlap.

Between consecutive frames an object barely moves, so a detection whose best overlap is high
and clearly above every alternative — in both directions — is almost surely the same object.
Chaining such links gives short tracklets: their members are positives for each other, and
must never serve as each other's negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LinkConfig", "box_iou", "tracklet_ids", "unambiguous_links"]


@dataclass(frozen=True)
class LinkConfig:
    """When two detections in consecutive frames count as the same object.

    Attributes:
        min_iou: the pair's box IoU must reach this.
        margin: and exceed by this both the row's and the column's runner-up.
    """

    min_iou: float = 0.5
    margin: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.min_iou <= 1.0:
            raise ValueError(f"min_iou must be in (0, 1], got {self.min_iou}")
        if not 0.0 <= self.margin < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {self.margin}")


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) IoU of x1, y1, x2, y2 boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _runner_up(iou: np.ndarray, axis: int) -> np.ndarray:
    """Second-largest value along `axis` (0 where there is only one)."""
    if iou.shape[axis] < 2:
        return np.zeros(iou.shape[1 - axis])
    return -np.partition(-iou, 1, axis=axis).take(1, axis=axis)


def unambiguous_links(
    boxes_a: np.ndarray, boxes_b: np.ndarray, config: LinkConfig = LinkConfig()
) -> np.ndarray:
    """(K, 2) index pairs (row in a, row in b) that are mutual best matches with IoU at
    least `min_iou` and at least `margin` above the runner-up of both row and column."""
    iou = box_iou(boxes_a, boxes_b)
    if iou.size == 0:
        return np.zeros((0, 2), np.int64)
    best_b = iou.argmax(axis=1)
    rows = np.arange(len(iou))
    best = iou[rows, best_b]
    mutual = iou.argmax(axis=0)[best_b] == rows
    clear_row = best - _runner_up(iou, axis=1) >= config.margin
    clear_col = best - _runner_up(iou, axis=0)[best_b] >= config.margin
    keep = mutual & (best >= config.min_iou) & clear_row & clear_col
    return np.stack([rows[keep], best_b[keep]], axis=1).astype(np.int64)


def tracklet_ids(count: int, links: np.ndarray) -> np.ndarray:
    """(count,) label per sample: samples joined by a chain of links share one label."""
    parent = np.arange(count)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in np.asarray(links, np.int64).reshape(-1, 2):
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(count)], np.int64)
