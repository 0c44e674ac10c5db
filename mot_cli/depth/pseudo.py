"""Weight-free pseudo-depth from scene geometry: feet lower in the image are nearer.

ref: SparseTrack (Liu et al. 2023), which orders boxes by the distance of their bottom edge
from the image bottom. Here the order gets a scale from a ground plane fitted per sequence:
for a level camera over flat ground, a standing person's image height is proportional to how
far their feet are below the horizon, h = k (y_foot - y_horizon), and inverse depth is
proportional to (y_foot - y_horizon) as well. A least-squares fit of h against y_foot over the
whole sequence gives the horizon row, and nearness = (y - y_horizon) / (H - y_horizon): 1 at
the image's bottom row, 0 at the horizon. Relative, not metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroundPlane", "fit_ground_plane", "pseudo_map"]

_MIN_BOXES = 8  # fewer boxes than this give no trustworthy horizon


@dataclass(frozen=True)
class GroundPlane:
    """The horizon row (may lie above the frame: negative) of a frame of `height` rows."""

    horizon: float
    height: int
    fitted: bool  # False: too few or inconsistent boxes, horizon set to the top row

    def nearness(self, rows: np.ndarray) -> np.ndarray:
        """Nearness of ground points at image rows `rows` (0 at or above the horizon)."""
        rows = np.asarray(rows, dtype=np.float64)
        return np.clip((rows - self.horizon) / (self.height - self.horizon), 0.0, None)


def fit_ground_plane(boxes: np.ndarray, height: int) -> GroundPlane:
    """Fit h = k (y_foot - y_horizon) to every box of a sequence, robustly.

    Boxes cut by the image's top or bottom edge have no true height or foot row and are left
    out; two passes of least squares drop the boxes whose height is far from the fit (people
    sitting, partly detected). Without enough boxes, or with a fit that has people shrinking
    towards the bottom of the image, the horizon falls back to the top row (SparseTrack's
    plain bottom-edge order).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    heights = boxes[:, 3] - boxes[:, 1]
    keep = (boxes[:, 1] > 1) & (boxes[:, 3] < height - 2) & (heights > 4)
    feet, heights = boxes[keep, 3], heights[keep]
    fallback = GroundPlane(0.0, height, fitted=False)
    for _ in range(2):
        if len(feet) < _MIN_BOXES or np.ptp(feet) < 0.05 * height:
            return fallback
        slope, intercept = np.polyfit(feet, heights, 1)
        residual = heights - (slope * feet + intercept)
        spread = 1.4826 * np.median(np.abs(residual - np.median(residual))) + 1e-6
        inliers = np.abs(residual) <= 2.5 * spread
        feet, heights = feet[inliers], heights[inliers]
    if slope <= 0:
        return fallback
    horizon = -intercept / slope
    if not -4.0 * height < horizon < float(np.min(feet)):
        return fallback
    return GroundPlane(float(horizon), height, fitted=True)


def pseudo_map(
    plane: GroundPlane,
    boxes: np.ndarray,
    width: int,
    shape: tuple[int, int],
    masks: list[np.ndarray] | None = None,
) -> np.ndarray:
    """A (map_h, map_w) nearness map: the ground's nearness by row, then each person painted
    with the nearness of their foot row, far people first so nearer ones cover them.

    A person is their mask when `masks` are given (and not empty at the map's size), else
    their box: boxes of a tight group overlap far more than the people do.
    """
    import cv2

    map_h, map_w = shape
    sy, sx = plane.height / map_h, width / map_w
    rows = (np.arange(map_h) + 0.5) * sy
    out = np.repeat(plane.nearness(rows)[:, None], map_w, axis=1).astype(np.float32)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    for index in np.argsort(boxes[:, 3], kind="stable"):
        box = boxes[index]
        value = plane.nearness(np.array([box[3]]))[0]
        if masks is not None:
            small = cv2.resize(
                masks[index].astype(np.float32), (map_w, map_h), interpolation=cv2.INTER_AREA
            )
            if (small > 0.5).any():
                out[small > 0.5] = value
                continue
        x1 = int(np.clip(np.floor(box[0] / sx), 0, map_w))
        x2 = int(np.clip(np.ceil(box[2] / sx), x1, map_w))
        y1 = int(np.clip(np.floor(box[1] / sy), 0, map_h))
        y2 = int(np.clip(np.ceil(box[3] / sy), y1, map_h))
        out[y1:y2, x1:x2] = value
    return out
