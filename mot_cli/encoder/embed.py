"""One frame's detections → depth×mask embeddings, from arrays (no cache, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mot_cli.encoder.crops import Mask, build_crops
from mot_cli.encoder.model import DepthMaskEncoder


def embed_detections(
    encoder: DepthMaskEncoder,
    depth_map: np.ndarray,
    scale: float,
    boxes: np.ndarray,
    masks: Sequence[Mask],
) -> np.ndarray:
    """(N, D) float32 L2-normalised embeddings of one frame's detections.

    Args:
        encoder: a `DepthMaskEncoder` (put in eval mode here: batch norm must use its
            running statistics, not the frame's).
        depth_map: (h, w) nearness map of the frame (larger = nearer).
        scale: frame pixels per map pixel.
        boxes: (N, 4) x1, y1, x2, y2 in frame pixels.
        masks: N masks at frame size, bool arrays or COCO RLE dicts.
    """
    encoder.eval()
    dim = encoder.config.embedding_dim
    if len(boxes) == 0:
        return np.zeros((0, dim), np.float32)
    config = encoder.config
    crops = build_crops(depth_map, scale, boxes, masks, config.input_size, config.depth_norm)
    device = next(encoder.parameters()).device
    with torch.inference_mode():
        return encoder(crops.to(device)).cpu().numpy().astype(np.float32, copy=False)
