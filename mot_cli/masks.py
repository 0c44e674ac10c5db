"""Instance masks: COCO RLE encoding (pycocotools), box clipping and overlap resolution.

Masks travel as COCO compressed RLE (`{"size": [height, width], "counts": str}`) so a cache of
masks stays small and any COCO tool reads it; pixels are decoded only where they are needed.
These functions are pure and shared by the segment backends, the segment stage, the depth
statistics and any later reader of `masks.parquet`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "box_pixels",
    "clip_to_box",
    "decode_mask",
    "empty_rle",
    "encode_mask",
    "exclusive",
    "mask_bbox",
]


def encode_mask(mask: np.ndarray) -> dict:
    """COCO compressed RLE of a 2-D mask (any dtype; nonzero = inside), counts as str."""
    from pycocotools import mask as mask_utils

    array = np.asfortranarray(np.asarray(mask, dtype=bool).astype(np.uint8))
    rle = mask_utils.encode(array)
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode()}


def decode_mask(rle: dict) -> np.ndarray:
    """The (height, width) bool mask of a COCO RLE dict (`counts` as str or bytes)."""
    from pycocotools import mask as mask_utils

    counts = rle["counts"]
    height, width = (int(v) for v in rle["size"])
    if isinstance(counts, list):  # uncompressed RLE, as some COCO tools write
        compressed = mask_utils.frPyObjects(
            {"size": [height, width], "counts": counts}, height, width
        )
    else:
        compressed = {
            "size": [height, width],
            "counts": counts.encode() if isinstance(counts, str) else counts,
        }
    return mask_utils.decode(compressed).astype(bool)


def empty_rle(height: int, width: int) -> dict:
    """The RLE of an all-background mask: one run of height*width zeros."""
    return encode_mask(np.zeros((height, width), bool))


def box_pixels(box: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
    """The pixel rows/columns a float xyxy box touches, clipped to the frame: (x1, y1, x2, y2).

    `x2`/`y2` are exclusive, so `mask[y1:y2, x1:x2]` is the box's pixel cover; it may be empty
    for a box outside the frame.
    """
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    left = min(max(int(np.floor(x1)), 0), width)
    top = min(max(int(np.floor(y1)), 0), height)
    right = min(max(int(np.ceil(x2)), left), width)
    bottom = min(max(int(np.ceil(y2)), top), height)
    return left, top, right, bottom


def clip_to_box(mask: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A copy of a full-frame mask with everything outside the box's pixel cover cleared."""
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    x1, y1, x2, y2 = box_pixels(box, height, width)
    out = np.zeros_like(mask)
    out[y1:y2, x1:x2] = mask[y1:y2, x1:x2]
    return out


def mask_bbox(mask: np.ndarray) -> np.ndarray:
    """The mask's own xyxy box in pixel edges (x2 = last column + 1); zeros when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return np.zeros(4, np.float32)
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)


def exclusive(masks: list[np.ndarray], boxes: np.ndarray) -> list[np.ndarray]:
    """Give every pixel claimed by several masks to one of them: the nearest person's.

    Instance segmenters let masks of people in a tight group bleed into each other. On a ground
    plane the person whose box bottom is lowest in the image stands nearest and occludes the
    others (SparseTrack's depth order), so contested pixels go to that detection.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(masks) < 2:
        return [np.asarray(m, dtype=bool) for m in masks]
    claimed = np.zeros_like(np.asarray(masks[0], dtype=bool))
    out: list[np.ndarray] = [np.zeros(0, bool)] * len(masks)
    for index in np.argsort(-boxes[:, 3], kind="stable"):  # nearest (lowest bottom) first
        mask = np.asarray(masks[index], dtype=bool)
        out[index] = mask & ~claimed
        claimed |= mask
    return out
