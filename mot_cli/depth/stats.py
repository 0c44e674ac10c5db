"""Per-detection depth statistics: median and quartiles of nearness inside the box and mask."""

from __future__ import annotations

import numpy as np

from mot_cli.masks import box_pixels

__all__ = ["STAT_COLUMNS", "region_stats"]

STAT_COLUMNS = tuple(
    f"{where}_{stat}" for where in ("box", "mask") for stat in ("median", "q1", "q3")
)


def _quartiles(values: np.ndarray) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return (np.nan, np.nan, np.nan)
    q1, median, q3 = np.percentile(values, (25, 50, 75))
    return float(median), float(q1), float(q3)


def region_stats(
    nearness: np.ndarray, boxes: np.ndarray, masks: list[np.ndarray] | None
) -> np.ndarray:
    """(N, 6) float32 rows of STAT_COLUMNS for boxes on a full-frame nearness map.

    A box outside the frame, a missing mask (`masks` None) or an empty mask gives NaN, so a
    reader can tell "no pixels" from a real value.
    """
    height, width = nearness.shape
    out = np.full((len(boxes), 6), np.nan, np.float32)
    for index, box in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)):
        x1, y1, x2, y2 = box_pixels(box, height, width)
        region = nearness[y1:y2, x1:x2]
        out[index, :3] = _quartiles(region.reshape(-1))
        if masks is not None:
            inside = np.asarray(masks[index], dtype=bool)[y1:y2, x1:x2]
            out[index, 3:] = _quartiles(region[inside])
    return out
