"""MediaPipe person segmenters run with the TFLite runtime (`ai-edge-litert`).

BlazePose GHUM full segments the person in a square crop around one box, so the box acts as
its prompt; it separates people whose boxes are unambiguous but spills onto neighbours inside
tight groups. Selfie segmentation separates people from background, not from each other: its
one person-probability map is cut by each box (and the segment stage's overlap rule then gives
shared pixels to the nearest person).
ref: ../shared/models/MODELS.md and provenance/blazepose_full_roi_person_seg.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_cli.masks import box_pixels
from mot_cli.segment import FrameMasks
from mot_cli.tflite import TfliteModel

_CROP = 256
_BOX_SCALE = 1.25  # the square crop's side, in units of the box's longer side


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def crop_matrix(box: np.ndarray, size: int = _CROP, scale: float = _BOX_SCALE) -> np.ndarray:
    """The 2x3 affine taking frame pixels into a size x size square centred on the box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = scale * max(x2 - x1, y2 - y1, 1.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    k = size / side
    return np.float32([[k, 0, -(cx - side / 2) * k], [0, k, -(cy - side / 2) * k]])


class BlazePoseSegmenter:
    """pose_landmark_full.tflite's segmentation output for a crop around each box."""

    def __init__(self, path: Path) -> None:
        self.model = TfliteModel(path)
        self.model.expect_input((1, _CROP, _CROP, 3))
        self.mask_out = self.model.output("Identity_2", (1, _CROP, _CROP, 1))
        self.presence_out = self.model.output("Identity_1", (1, 1))

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        import cv2

        height, width = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        masks, quality = [], []
        for box in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
            mask = np.zeros((height, width), bool)
            x1, y1, x2, y2 = box_pixels(box, height, width)
            matrix = crop_matrix(box)
            crop = cv2.warpAffine(rgb, matrix, (_CROP, _CROP), flags=cv2.INTER_LINEAR)
            logits, presence = self.model.run(crop[None], [self.mask_out, self.presence_out])
            if x2 > x1 and y2 > y1:
                # warp the probabilities back onto the box's own pixels only
                region = matrix.copy()
                region[:, 2] += matrix[:, :2] @ np.float32([x1, y1])
                prob = cv2.warpAffine(
                    _sigmoid(logits[0, :, :, 0]),
                    region,
                    (x2 - x1, y2 - y1),
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                )
                mask[y1:y2, x1:x2] = prob > 0.5
            masks.append(mask)
            quality.append(float(_sigmoid(presence.reshape(-1)[:1])[0]))
        return FrameMasks(masks, np.asarray(quality, np.float32))


class SelfieSegmenter:
    """selfie_segmentation.tflite on the whole frame, its person mask cut by each box."""

    def __init__(self, path: Path) -> None:
        self.model = TfliteModel(path)
        _, self.in_h, self.in_w, channels = self.model.input_shape
        if channels != 3:
            self.model.expect_input((1, 256, 256, 3))
        self.output = next(iter(self.model.outputs.values()))

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        import cv2

        height, width = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        small = cv2.resize(rgb, (self.in_w, self.in_h), interpolation=cv2.INTER_AREA)
        (prob,) = self.model.run((small.astype(np.float32) / 255.0)[None], [self.output])
        person = prob.reshape(self.in_h, self.in_w)
        masks = []
        for box in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
            mask = np.zeros((height, width), bool)
            x1, y1, x2, y2 = box_pixels(box, height, width)
            if x2 > x1 and y2 > y1:
                # resample the low-resolution map over the box's pixels only
                sx, sy = self.in_w / width, self.in_h / height
                matrix = np.float32(
                    [[sx, 0, (x1 + 0.5) * sx - 0.5], [0, sy, (y1 + 0.5) * sy - 0.5]]
                )
                region = cv2.warpAffine(
                    person,
                    matrix,
                    (x2 - x1, y2 - y1),
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                    borderMode=cv2.BORDER_REPLICATE,
                )
                mask[y1:y2, x1:x2] = region > 0.5
            masks.append(mask)
        return FrameMasks(masks, np.full(len(masks), np.nan, np.float32))
