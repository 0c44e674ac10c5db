"""Box similarity with TrackEval's exact floating-point steps."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou_pairs", "box_iou_xywh"]

_EPS = np.finfo(float).eps


def box_iou_xywh(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """IoU of every box in `boxes1` (N, 4) with every box in `boxes2` (M, 4): (N, M) in [0, 1].

    Boxes are top-left x, y, width, height.
    """
    a = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    return _iou(a[:, None, :], b[None, :, :])


def box_iou_pairs(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """IoU of `boxes1[i]` with `boxes2[i]` for each i: (N,) from two (N, 4) arrays."""
    a = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    return _iou(a, b)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of broadcastable (..., 4) xywh arrays.

    The steps are TrackEval's, in its order (corners first, areas from the corners, degenerate
    boxes scoring 0), because a match decided at IoU 0.5 can flip on the last bit.
    ref: TrackEval _base_dataset.py `_calculate_box_ious`.
    """
    ax1, ay1 = a[..., 0], a[..., 1]
    ax2, ay2 = ax1 + a[..., 2], ay1 + a[..., 3]
    bx1, by1 = b[..., 0], b[..., 1]
    bx2, by2 = bx1 + b[..., 2], by1 + b[..., 3]
    inter_w = np.maximum(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0)
    inter_h = np.maximum(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0)
    intersection = inter_w * inter_h
    area1 = (ax2 - ax1) * (ay2 - ay1)
    area2 = (bx2 - bx1) * (by2 - by1)
    union = area1 + area2 - intersection
    degenerate = (area1 <= _EPS) | (area2 <= _EPS) | (union <= _EPS)
    return np.where(degenerate, 0.0, intersection / np.where(union <= _EPS, 1.0, union))
