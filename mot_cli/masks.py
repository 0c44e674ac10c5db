"""Instance masks: COCO RLE (pycocotools) encode, decode and check, box clipping, overlaps.

Masks travel as pycocotools' compressed RLE `counts` strings with the frame's height and width
(as masks.parquet and MOTS text store them; `{"size": [h, w], "counts": str}` dicts where a
COCO tool wants one) and are decoded only where pixels are needed. The functions are pure and
shared by the segment backends and stage, the depth statistics, MOTS text and the renderer.
pycocotools is imported inside the functions, so importing this module costs nothing.

The counts string is pycocotools' own format (maskApi.c `rleToString`): each run length is
written in 5-bit groups, least significant first, as characters 48 + value with bit 0x20 set
while more groups follow and bit 0x10 of the last group carrying the sign; from the fourth run
on, the value stored is the difference to the run two places earlier.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = [
    "box_pixels",
    "clip_to_box",
    "decode",
    "decode_mask",
    "disjoint",
    "empty_rle",
    "encode",
    "encode_mask",
    "exclusive",
    "mask_bbox",
    "rle",
    "rle_pixel_totals",
]

_MAX_GROUPS = 7  # a uint32 run length needs at most 7 groups of 5 bits (35 bits with the sign)


def rle(counts: str, height: int, width: int) -> dict:
    """The dict pycocotools' functions take."""
    return {"size": [int(height), int(width)], "counts": counts.encode("ascii")}


def decode(counts: str, height: int, width: int) -> np.ndarray:
    """(height, width) bool mask; `counts` must have passed `rle_pixel_totals`."""
    from pycocotools import mask as mask_utils

    with warnings.catch_warnings():  # pycocotools 2.0.11 trips numpy 2's copy= deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle(counts, height, width)).astype(bool)


def encode(mask: np.ndarray) -> str:
    """The counts string of a (height, width) mask."""
    from pycocotools import mask as mask_utils

    encoded = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return encoded["counts"].decode("ascii")


def disjoint(
    counts: Sequence[str], height: int, width: int, priority: Sequence[float]
) -> list[str]:
    """The masks with overlaps removed: a pixel claimed by several goes to the highest priority.

    MOTS text requires the masks of a frame not to overlap (TrackEval refuses a file whose masks
    do); instance segmenters give overlapping masks wherever people overlap. Masks that do not
    overlap anything are returned unchanged (same string), without decoding them.
    """
    from pycocotools import mask as mask_utils

    rles = [rle(c, height, width) for c in counts]
    if len(rles) < 2:
        return list(counts)
    areas = mask_utils.area(rles).astype(np.int64)
    if int(mask_utils.area(mask_utils.merge(rles, intersect=False))) == int(areas.sum()):
        return list(counts)
    masks = [decode(c, height, width) for c in counts]
    kept = _nearest_first(masks, priority)
    return [c if kept[i].sum() == areas[i] else encode(kept[i]) for i, c in enumerate(counts)]


def encode_mask(mask: np.ndarray) -> dict:
    """COCO compressed RLE dict of a 2-D mask (any dtype; nonzero = inside), counts as str."""
    mask = np.asarray(mask, dtype=bool)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": encode(mask)}


def decode_mask(rle: dict) -> np.ndarray:
    """The (height, width) bool mask of a COCO RLE dict (`counts` as str or bytes)."""
    from pycocotools import mask as mask_utils

    counts = rle["counts"]
    height, width = (int(v) for v in rle["size"])
    if isinstance(counts, list):  # uncompressed RLE, as some COCO tools write
        compressed = mask_utils.frPyObjects(
            {"size": [height, width], "counts": counts}, height, width
        )
        with warnings.catch_warnings():  # pycocotools 2.0.11 trips numpy 2's copy= deprecation
            warnings.simplefilter("ignore", DeprecationWarning)
            return mask_utils.decode(compressed).astype(bool)
    return decode(counts.decode() if isinstance(counts, bytes) else counts, height, width)


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
    return _nearest_first([np.asarray(m, dtype=bool) for m in masks], boxes[:, 3])


def _nearest_first(masks: list[np.ndarray], priority: Sequence[float]) -> list[np.ndarray]:
    """Each mask less the pixels of masks of higher priority (ties: the earlier one)."""
    if len(masks) < 2:
        return list(masks)
    claimed = np.zeros_like(masks[0])
    out: list[np.ndarray] = [np.zeros(0, bool)] * len(masks)
    for index in np.argsort(-np.asarray(priority, dtype=np.float64), kind="stable").tolist():
        out[index] = masks[index] & ~claimed
        claimed |= masks[index]
    return out


def rle_pixel_totals(counts: Sequence[str]) -> np.ndarray:
    """Pixels covered by each counts string's runs (so a valid one totals height x width).

    Returns (N,) int64, -1 for a malformed string: empty, not ASCII, a character outside the
    format's range, a run cut off at the end, a run longer than 32 bits or a negative run. The
    whole list is decoded at once with numpy (a MOTS file holds tens of thousands of masks).
    """
    totals = np.full(len(counts), -1, dtype=np.int64)
    lengths = np.array([len(c) if c.isascii() else 0 for c in counts], dtype=np.int64)
    usable = lengths > 0
    strings = [c for c, ok in zip(counts, usable.tolist(), strict=True) if ok]
    if not strings:
        return totals
    n = len(strings)
    raw = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8)
    owner = np.repeat(np.arange(n), lengths[usable])
    bad = _any_per(owner, (raw < 48) | (raw > 111), n)
    data = (raw - np.uint8(48)) & np.uint8(63)

    ends = (data & 0x20) == 0  # the last group of a run
    last_char = np.cumsum(lengths[usable]) - 1
    bad |= ~ends[last_char]  # the string stops in the middle of a run
    ends[last_char] = True  # never let a run continue into the next string
    run_end = np.flatnonzero(ends)
    run_start = np.concatenate(([0], run_end[:-1] + 1))
    group = np.arange(len(data)) - np.repeat(run_start, run_end - run_start + 1)
    bad |= _any_per(owner, group >= _MAX_GROUPS, n)
    shift = 5 * np.minimum(group, _MAX_GROUPS - 1)
    value = np.add.reduceat((data & 0x1F).astype(np.int64) << shift, run_start)
    negative = (data[run_end] & 0x10) != 0
    value[negative] -= np.int64(1) << (shift[run_end[negative]] + 5)

    # Undo the difference coding: from the fourth run on, add the run two places earlier, so
    # odd and even runs (after the first) are each a running sum within their string.
    run_owner = owner[run_start]
    first_run = np.searchsorted(run_owner, np.arange(n))
    index = np.arange(len(run_start)) - first_run[run_owner]
    runs = value.copy()
    for parity in (1, 0):
        chosen = np.flatnonzero((index % 2 == parity) & (index > 0))
        if len(chosen):
            runs[chosen] = _cumsum_per(value[chosen], run_owner[chosen])
    bad |= _any_per(run_owner, (runs < 0) | (runs > np.iinfo(np.uint32).max), n)
    totals[usable] = np.where(bad, -1, np.add.reduceat(runs, first_run))
    return totals


def _cumsum_per(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Running sums of `values` restarting at each new owner (owners sorted)."""
    cumulative = np.cumsum(values)
    starts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    offset = np.concatenate(([0], cumulative))[starts]
    return cumulative - np.repeat(offset, np.diff(np.append(starts, len(values))))


def _any_per(owner: np.ndarray, flag: np.ndarray, n: int) -> np.ndarray:
    """(n,) bool: whether any element of each owner has its flag set."""
    return np.bincount(owner[flag], minlength=n) > 0
