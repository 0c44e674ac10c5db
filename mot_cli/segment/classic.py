"""Weight-free segmenters: the box itself, and GrabCut seeded by the box."""

from __future__ import annotations

import numpy as np

from mot_cli.masks import box_pixels
from mot_cli.segment import FrameMasks

_GRABCUT_SIDE = 160  # GrabCut runs on the box's region scaled to at most this many rows


class BoxSegmenter:
    """Every pixel of the box: the baseline any real mask must beat, and a free fallback."""

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        height, width = image.shape[:2]
        masks = []
        for box in np.asarray(boxes).reshape(-1, 4):
            x1, y1, x2, y2 = box_pixels(box, height, width)
            mask = np.zeros((height, width), bool)
            mask[y1:y2, x1:x2] = True
            masks.append(mask)
        return FrameMasks(masks, np.full(len(masks), np.nan, np.float32))


class GrabCutSegmenter:
    """OpenCV GrabCut initialised with the box as "probably foreground", 3 iterations.

    It runs on the box plus a margin of background, downscaled to at most 160 rows, so its cost
    does not grow with the video's resolution.
    """

    def __init__(self, iterations: int = 3, margin: float = 0.15) -> None:
        self.iterations = iterations
        self.margin = margin

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        masks = [self._one(image, box) for box in np.asarray(boxes).reshape(-1, 4)]
        return FrameMasks(masks, np.full(len(masks), np.nan, np.float32))

    def _one(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        import cv2

        height, width = image.shape[:2]
        out = np.zeros((height, width), bool)
        x1, y1, x2, y2 = box_pixels(box, height, width)
        if x2 - x1 < 3 or y2 - y1 < 3:
            out[y1:y2, x1:x2] = True
            return out
        pad_x, pad_y = round((x2 - x1) * self.margin), round((y2 - y1) * self.margin)
        rx1, ry1 = max(x1 - pad_x, 0), max(y1 - pad_y, 0)
        rx2, ry2 = min(x2 + pad_x, width), min(y2 + pad_y, height)
        region = image[ry1:ry2, rx1:rx2]
        scale = min(1.0, _GRABCUT_SIDE / region.shape[0])
        small = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rect = (
            round((x1 - rx1) * scale),
            round((y1 - ry1) * scale),
            max(round((x2 - x1) * scale), 2),
            max(round((y2 - y1) * scale), 2),
        )
        labels = np.zeros(small.shape[:2], np.uint8)
        background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(
                small, labels, rect, background, foreground, self.iterations, cv2.GC_INIT_WITH_RECT
            )
        except cv2.error:  # a degenerate region (one colour): keep the box
            out[y1:y2, x1:x2] = True
            return out
        keep = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
        full = cv2.resize(keep, (rx2 - rx1, ry2 - ry1), interpolation=cv2.INTER_NEAREST)
        out[ry1:ry2, rx1:rx2] = full.astype(bool)
        return out
