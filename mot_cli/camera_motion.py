"""Camera-motion compensation: the 2x3 affine that maps previous-frame pixels onto this frame.

Trackers predict boxes in image coordinates, so a panning or shaking camera makes every
prediction wrong by the same motion; warping predictions by this affine first removes it
(as BoT-SORT's GMC and OC-SORT's CMC variants do). All functions here are pure.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

__all__ = [
    "apply_to_points",
    "compose",
    "estimate_affine",
    "identity",
    "invert",
    "warp_boxes",
]

_MIN_FEATURES = 10
"""Fewer tracked corners than this give no trustworthy estimate, so we return the identity."""
_MAX_CORNERS = 1000
_RANSAC_THRESHOLD = 3.0
"""Inlier distance in (downscaled) pixels; people moving a few pixels apart stay outliers."""
_ECC_ITERATIONS = 100
_ECC_EPSILON = 1e-5


def identity() -> np.ndarray:
    """Return the (2, 3) float32 affine that leaves every point where it is."""
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)


def _homogeneous(affine: np.ndarray) -> np.ndarray:
    matrix = np.eye(3, dtype=np.float64)
    matrix[:2] = np.asarray(affine, dtype=np.float64).reshape(2, 3)
    return matrix


def compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Chain two affines: ``first`` then ``second`` (e.g. frame t-2→t-1 then t-1→t)."""
    return (_homogeneous(second) @ _homogeneous(first))[:2].astype(np.float32)


def invert(affine: np.ndarray) -> np.ndarray:
    """Undo ``affine``: map current-frame coordinates back to the previous frame."""
    return np.linalg.inv(_homogeneous(affine))[:2].astype(np.float32)


def apply_to_points(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) x,y points through ``affine``; returns (N, 2) float32."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    matrix = np.asarray(affine, dtype=np.float64).reshape(2, 3)
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def warp_boxes(affine: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """Move (N, 4) x1,y1,x2,y2 boxes by ``affine``: centres mapped, sizes scaled, kept upright.

    Why not warp the corners: for a rotating camera the enclosing box of rotated corners
    grows every frame, while a person stays an upright box; scaling width and height by the
    affine's area scale keeps the box shape a tracker's Kalman state expects.
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    centres = apply_to_points(affine, (xyxy[:, :2] + xyxy[:, 2:]) / 2).astype(np.float64)
    matrix = np.asarray(affine, dtype=np.float64).reshape(2, 3)
    scale = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    half = (xyxy[:, 2:] - xyxy[:, :2]) * scale / 2
    return np.concatenate([centres - half, centres + half], axis=1).astype(np.float32)


def _to_gray(image: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim != 2:
        raise ValueError(f"{name} must be a (H, W) grey or (H, W, 3) BGR image, got {image.shape}")
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _shrink(image: np.ndarray, downscale: int) -> np.ndarray:
    if downscale == 1:
        return image
    height, width = image.shape
    size = (max(width // downscale, 1), max(height // downscale, 1))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _box_mask(
    shape: tuple[int, int], boxes: np.ndarray | None, downscale: int
) -> np.ndarray | None:
    """255 where estimation may look, 0 inside the (full-resolution) boxes of moving objects."""
    if boxes is None or len(boxes) == 0:
        return None
    mask = np.full(shape, 255, np.uint8)
    scaled = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / downscale
    height, width = shape
    x1 = np.clip(np.floor(scaled[:, 0]), 0, width).astype(int)
    y1 = np.clip(np.floor(scaled[:, 1]), 0, height).astype(int)
    x2 = np.clip(np.ceil(scaled[:, 2]), 0, width).astype(int)
    y2 = np.clip(np.ceil(scaled[:, 3]), 0, height).astype(int)
    for left, top, right, bottom in zip(x1, y1, x2, y2, strict=True):
        mask[top:bottom, left:right] = 0
    return mask


def _sparse(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Corners tracked by pyramidal Lucas-Kanade, then a RANSAC similarity fit."""
    corners = cv2.goodFeaturesToTrack(
        prev, maxCorners=_MAX_CORNERS, qualityLevel=0.01, minDistance=1, blockSize=3, mask=mask
    )
    if corners is None or len(corners) < _MIN_FEATURES:
        return None
    moved, status, _error = cv2.calcOpticalFlowPyrLK(prev, cur, corners, None)
    if moved is None or status is None:
        return None
    tracked = status.reshape(-1) == 1
    if int(tracked.sum()) < _MIN_FEATURES:
        return None
    affine, inliers = cv2.estimateAffinePartial2D(
        corners[tracked], moved[tracked], method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_THRESHOLD
    )
    if affine is None or inliers is None or int(inliers.sum()) < _MIN_FEATURES:
        return None
    return affine


def _ecc(
    prev: np.ndarray,
    cur: np.ndarray,
    mask: np.ndarray | None,
    motion: Literal["euclidean", "affine"],
) -> np.ndarray | None:
    """Enhanced-correlation alignment; dense, so it copes with texture-poor frames."""
    motion_type = cv2.MOTION_EUCLIDEAN if motion == "euclidean" else cv2.MOTION_AFFINE
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ECC_ITERATIONS, _ECC_EPSILON)
    try:
        # ECC minimises |prev(x) - cur(W x)|, so W maps previous-frame points to this frame.
        _rho, warp = cv2.findTransformECC(prev, cur, warp, motion_type, criteria, mask, 1)
    except cv2.error:  # raised when the iteration diverges or the images are flat
        return None
    if not np.all(np.isfinite(warp)):
        return None
    return warp


def estimate_affine(
    prev_gray: np.ndarray,
    gray: np.ndarray,
    *,
    method: Literal["sparse", "ecc"] = "sparse",
    downscale: int = 2,
    mask_boxes: np.ndarray | None = None,
    ecc_motion: Literal["euclidean", "affine"] = "euclidean",
) -> np.ndarray:
    """Estimate the (2, 3) float32 affine mapping ``prev_gray`` pixel coordinates onto ``gray``.

    Args:
        prev_gray: previous frame, (H, W) uint8 grey (BGR is converted).
        gray: current frame, same size.
        method: ``"sparse"`` (corners + optical flow + RANSAC; fast, robust to movers) or
            ``"ecc"`` (dense enhanced-correlation alignment; slower, for texture-poor scenes).
        downscale: integer factor the frames are shrunk by first; the result is in full-size
            pixels either way.
        mask_boxes: (N, 4) x1,y1,x2,y2 full-size boxes of moving objects (detections) whose
            pixels are ignored, so walking people do not pull the estimate. Between consecutive
            frames the previous or the current boxes both serve.
        ecc_motion: the transform family ECC fits.

    Returns the identity whenever estimation fails (too few corners, divergence, blank frames),
    because "no camera motion" is the tracker's safe fallback.
    """
    if downscale < 1:
        raise ValueError(f"downscale must be a positive integer, got {downscale}")
    if method not in ("sparse", "ecc"):
        raise ValueError(f"unknown camera-motion method {method!r}; valid names: ecc, sparse")
    prev = _to_gray(prev_gray, "prev_gray")
    cur = _to_gray(gray, "gray")
    if prev.shape != cur.shape:
        raise ValueError(f"frames differ in size: {prev.shape} vs {cur.shape}")
    prev = _shrink(prev, downscale)
    cur = _shrink(cur, downscale)
    mask = _box_mask(prev.shape, mask_boxes, downscale)
    affine = _ecc(prev, cur, mask, ecc_motion) if method == "ecc" else _sparse(prev, cur, mask)
    if affine is None:
        return identity()
    return _to_full_size(np.asarray(affine, dtype=np.float64), downscale)


def _to_full_size(affine: np.ndarray, downscale: int) -> np.ndarray:
    """Rescale an affine fitted on frames shrunk by ``downscale`` to full-size pixels.

    Shrunk pixel p covers full pixels whose centre is P = s p + c with c = (s - 1) / 2, so
    p' = A p + t becomes P' = A P + s t + (I - A) c.
    """
    if downscale == 1:
        return affine.astype(np.float32)
    linear = affine[:, :2]
    offset = np.full(2, (downscale - 1) / 2)
    full = affine.copy()
    full[:, 2] = downscale * affine[:, 2] + offset - linear @ offset
    return full.astype(np.float32)
