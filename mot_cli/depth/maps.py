"""Depth maps as stored in `depth_maps.parquet`: downsampled float16 nearness per frame."""

from __future__ import annotations

import numpy as np

__all__ = ["decode_map", "encode_map", "map_shape", "upsample"]


def map_shape(height: int, width: int, map_size: int) -> tuple[int, int]:
    """The stored map's (height, width): longest side `map_size`, never larger than the frame."""
    scale = min(1.0, map_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def encode_map(nearness: np.ndarray) -> bytes:
    """float16 little-endian, row-major bytes (what the `map` column holds)."""
    return np.ascontiguousarray(nearness, dtype="<f2").tobytes()


def decode_map(data: bytes, height: int, width: int) -> np.ndarray:
    """The float32 (height, width) map of `encode_map`'s bytes."""
    return np.frombuffer(data, dtype="<f2").reshape(height, width).astype(np.float32)


def upsample(nearness: np.ndarray, height: int, width: int) -> np.ndarray:
    """A stored map stretched back over the whole (height, width) frame, bilinearly."""
    import cv2

    if nearness.shape == (height, width):
        return nearness.astype(np.float32, copy=False)
    return cv2.resize(nearness.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
