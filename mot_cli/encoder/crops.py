"""Depth×mask crops from arrays: a frame's depth map, its detections' boxes and masks.

A crop is the depth inside the mask, zero outside, over the box resized to the encoder's
input. By default (`depth_norm="crop"`) it is normalised per crop — the mask's median
nearness subtracted, divided by a robust spread — because the same object seen nearer or
farther, or by a relative depth model whose scale drifts between frames, must give the same
input; what is left is the object's silhouette and relief.

That also removes who is in front of whom: with box masks and pseudo-depth (a person is one
flat level) a per-crop crop is a plain rectangle. `depth_norm="frame"` normalises the whole
map by its own median and spread before cutting the crops instead, so a person's depth level
relative to the scene stays in the input (the scale drift between frames is still removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch

from mot_cli.rle import rle_window

__all__ = ["DEPTH_NORMS", "Mask", "build_crops", "frame_normalised", "normalise_crops", "raw_crops"]

Mask = np.ndarray | dict[str, Any]
"""An (H, W) mask at frame size (non-zero = object), or a COCO RLE dict (`size`, `counts`)."""

Z_CLIP = 3.0
"""Normalised depth is clipped to ±Z_CLIP robust spreads: the relief, not stray outliers."""

RELATIVE_SPREAD_FLOOR = 0.01
"""A flat object (spread ≈ 0) is scaled by 1 % of its nearness, not blown up by noise."""

_IQR_TO_SIGMA = 1.349  # a normal distribution's interquartile range is 1.349 σ

DEPTH_NORMS = ("crop", "frame")
"""How the depth channel is normalised: per crop (the default) or per frame (module notes)."""


def _robust_spread(q1: float, median: float, q3: float) -> float:
    return max((q3 - q1) / _IQR_TO_SIGMA, RELATIVE_SPREAD_FLOOR * abs(median), 1e-6)


def frame_normalised(depth_map: np.ndarray) -> np.ndarray:
    """(h, w) float32 map of (nearness − the map's median) / its robust spread.

    The statistics are the whole map's finite pixels (not its detections', which a frame
    with one person would leave without a spread), so the same scene gives the same scale
    from frame to frame and a person's level keeps its place against the others.
    """
    depth_map = np.asarray(depth_map, np.float32)
    finite = depth_map[np.isfinite(depth_map)]
    if not len(finite):
        return np.zeros_like(depth_map)
    q1, median, q3 = np.percentile(finite, (25, 50, 75))
    return ((depth_map - median) / _robust_spread(q1, median, q3)).astype(np.float32)


def _mask_size(mask: Mask) -> tuple[int, int]:
    if isinstance(mask, dict):
        height, width = mask["size"]
        return int(height), int(width)
    if np.ndim(mask) != 2:
        raise ValueError(f"a mask must be (H, W), got shape {np.shape(mask)}")
    return np.shape(mask)


def _mask_window(mask: Mask, window: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The mask over `window` (x1, y1, x2, y2, frame pixels, rounded outwards), area-resized
    to `size` so a large silhouette stays smooth when shrunk; zero outside the frame.

    An RLE mask is decoded only over the window (see `mot_cli/rle.py`); any non-zero pixel of an
    array mask counts (bool, 0/1 or 0/255 alike).
    """
    height, width = _mask_size(mask)
    x1, y1 = int(np.floor(window[0])), int(np.floor(window[1]))
    x2 = max(int(np.ceil(window[2])), x1 + 1)
    y2 = max(int(np.ceil(window[3])), y1 + 1)
    cx1, cy1 = min(max(x1, 0), width), min(max(y1, 0), height)
    cx2, cy2 = min(max(x2, 0), width), min(max(y2, 0), height)
    out_h, out_w = size
    if cx2 <= cx1 or cy2 <= cy1:
        return np.zeros(size, np.float32)
    if isinstance(mask, dict):
        part = rle_window(mask, cx1, cy1, cx2, cy2).astype(np.float32)
    else:
        part = (np.asarray(mask[cy1:cy2, cx1:cx2]) != 0).astype(np.float32)
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        part = cv2.copyMakeBorder(
            part, cy1 - y1, y2 - cy2, cx1 - x1, x2 - cx2, cv2.BORDER_CONSTANT, value=0.0
        )
    return cv2.resize(part, (out_w, out_h), interpolation=cv2.INTER_AREA)


def _depth_window(
    depth_map: np.ndarray, scale: float, window: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """The depth map bilinearly sampled at the centres of a `size` grid over `window`.

    Map pixel u covers frame pixels [u·scale, (u+1)·scale), so frame x samples the map at
    x / scale − 0.5; edges are replicated, since depth does not stop at the frame border.
    """
    out_h, out_w = size
    step_x = (window[2] - window[0]) / out_w
    step_y = (window[3] - window[1]) / out_h
    matrix = np.array(
        [
            [step_x / scale, 0.0, (window[0] + 0.5 * step_x) / scale - 0.5],
            [0.0, step_y / scale, (window[1] + 0.5 * step_y) / scale - 0.5],
        ]
    )
    return cv2.warpAffine(
        depth_map,
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def raw_crops(
    depth_map: np.ndarray,
    scale: float,
    boxes: np.ndarray,
    masks: Sequence[Mask],
    size: tuple[int, int],
    expand: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Un-normalised (N, H, W) depth and mask crops over each box grown by `expand` about its
    centre (training crops a larger window so that jittered views stay inside it).

    Args:
        depth_map: (h, w) nearness map (larger = nearer), any float dtype.
        scale: frame pixels per map pixel (the map may be smaller than the frame).
        boxes: (N, 4) x1, y1, x2, y2 in frame pixels.
        masks: N masks at frame size (arrays or COCO RLE dicts). An empty mask falls back
            to its whole box, so a detection the segmenter missed still gets an embedding.
        size: (height, width) of each crop.
        expand: window size relative to the box.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(masks) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(masks)} masks")
    if scale <= 0:
        raise ValueError(f"depth map scale must be positive, got {scale}")
    depth_map = np.ascontiguousarray(depth_map, dtype=np.float32)
    depth = np.empty((len(boxes), *size), np.float32)
    mask_out = np.empty((len(boxes), *size), np.float32)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0) * expand / 2
    windows = np.concatenate([centre - half, centre + half], axis=1)
    for row, (window, mask) in enumerate(zip(windows, masks, strict=True)):
        depth[row] = _depth_window(depth_map, scale, window, size)
        mask_out[row] = _mask_window(mask, window, size)
        if mask_out[row].sum() < 0.5:
            mask_out[row] = _box_mask(size, expand)
    return depth, mask_out


def _box_mask(size: tuple[int, int], expand: float) -> np.ndarray:
    """The box itself inside a window `expand` times its size."""
    out = np.zeros(size, np.float32)
    height, width = size
    margin_y = round(height * (1 - 1 / expand) / 2)
    margin_x = round(width * (1 - 1 / expand) / 2)
    out[margin_y : height - margin_y, margin_x : width - margin_x] = 1.0
    return out


def _block_means(depth: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """(N, H/2 · W/2) means of the inside pixels of each 2×2 block, NaN where none are.

    Quantiles of these are what the normalisation uses: a quarter of the values to sort
    (sorting dominated the cost), and a small mask still leaves its blocks.
    """
    count, height, width = depth.shape
    weight = inside.float()
    total = torch.where(inside, depth, 0.0).reshape(count, height // 2, 2, width // 2, 2)
    pixels = weight.reshape(count, height // 2, 2, width // 2, 2).sum(dim=(2, 4))
    means = total.sum(dim=(2, 4)) / pixels.clamp_min(1.0)
    return torch.where(pixels > 0, means, float("nan")).flatten(1)


def normalise_crops(
    depth: torch.Tensor, mask: torch.Tensor, per_crop: bool = True
) -> torch.Tensor:
    """(N, H, W) depth and [0, 1] mask → (N, 1, H, W) encoder input, zero outside the mask.

    Inside, nearness becomes 1 + clip((d − median) / spread, ±Z_CLIP) / Z_CLIP, in [0, 2] with
    the median at 1, so the silhouette stays visible even where the relief is flat. The
    median and interquartile spread are taken over the mask (the whole window when the mask
    is empty), on 2×2 block means, ignoring non-finite depth. H and W must be even.

    `per_crop` False: the depth is already normalised (crops of a `frame_normalised` map),
    so only the clip and the shift to 1 apply, and each crop keeps its level.
    """
    depth = depth.float()
    mask = mask.float()
    if not per_crop:
        z = torch.nan_to_num(depth, nan=0.0).clamp(-Z_CLIP, Z_CLIP) / Z_CLIP
        return (mask * (1.0 + z)).unsqueeze(1)
    finite = torch.isfinite(depth)
    inside = (mask > 0.5) & finite
    empty = ~inside.flatten(1).any(dim=1)
    inside[empty] = finite[empty]
    levels = torch.tensor([0.25, 0.5, 0.75])
    stats = torch.nanquantile(_block_means(depth, inside), levels, dim=1)
    q1, median, q3 = torch.nan_to_num(stats, nan=0.0)
    spread = torch.maximum((q3 - q1) / _IQR_TO_SIGMA, RELATIVE_SPREAD_FLOOR * median.abs())
    spread = spread.clamp_min(1e-6)
    z = (depth - median[:, None, None]) / spread[:, None, None]
    z = torch.nan_to_num(z, nan=0.0).clamp(-Z_CLIP, Z_CLIP) / Z_CLIP
    return (mask * (1.0 + z)).unsqueeze(1)


def build_crops(
    depth_map: np.ndarray,
    scale: float,
    boxes: np.ndarray,
    masks: Sequence[Mask],
    size: tuple[int, int],
    depth_norm: str = "crop",
) -> torch.Tensor:
    """(N, 1, H, W) normalised depth×mask crops of one frame's detections (`depth_norm`:
    one of DEPTH_NORMS, as the encoder was trained)."""
    if depth_norm not in DEPTH_NORMS:
        raise ValueError(f"depth_norm must be one of {DEPTH_NORMS}, got {depth_norm!r}")
    per_crop = depth_norm == "crop"
    if not per_crop:
        depth_map = frame_normalised(depth_map)
    depth, mask = raw_crops(depth_map, scale, boxes, masks, size)
    return normalise_crops(torch.from_numpy(depth), torch.from_numpy(mask), per_crop)
