"""Segmenters behind one protocol: one mask per detection box, from the frame and its boxes.

Every backend answers the same question — "which pixels of this box are the object?" — so the
segment stage can clip, de-overlap and encode their masks the same way. Backends that need no
weights (`box`, `grabcut`) work anywhere; the others resolve weights through `models.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from mot_cli.errors import MotCliError

__all__ = [
    "BACKENDS",
    "BOX_BACKEND",
    "DEFAULT_MODELS",
    "FrameMasks",
    "Segmenter",
    "empty_masks",
    "load_segmenter",
]

# backend -> the model it uses when none is given (None: weight-free)
DEFAULT_MODELS: dict[str, str | None] = {
    "yolo-seg": "yolo11n-seg",
    "blazepose": "pose_landmark_full",
    "selfie": "selfie_segmentation",
    "sam": "sam_vit_b_01ec64",
    "ultralytics-sam": "mobile_sam",
    "grabcut": None,
    "box": None,
}
BACKENDS = tuple(DEFAULT_MODELS)
BOX_BACKEND = "box"  # each box filled: a weight-free stand-in, not a mask to export


class FrameMasks(NamedTuple):
    """One full-frame bool mask per box, and the model's quality score per mask (NaN: none)."""

    masks: list[np.ndarray]
    quality: np.ndarray


class Segmenter(Protocol):
    """Masks for the boxes of one frame; `classes` are the detector's ids (-1: unknown)."""

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        """One mask per row of `boxes` (xyxy pixels), in the same order."""
        ...


def empty_masks(height: int, width: int, count: int) -> FrameMasks:
    return FrameMasks(
        [np.zeros((height, width), bool) for _ in range(count)], np.full(count, np.nan, np.float32)
    )


def load_segmenter(
    backend: str, path: Path | None, *, device: str, image_size: int | None
) -> Segmenter:
    """Build the segmenter behind `backend` from its resolved weights (None when weight-free)."""
    if backend == BOX_BACKEND:
        from mot_cli.segment.classic import BoxSegmenter

        return BoxSegmenter()
    if backend == "grabcut":
        from mot_cli.segment.classic import GrabCutSegmenter

        return GrabCutSegmenter()
    if path is None:
        raise MotCliError(f"segment backend {backend!r} needs a model")
    if backend == "yolo-seg":
        from mot_cli.segment.yolo_seg import YoloSegSegmenter

        return YoloSegSegmenter(path, device=device, image_size=image_size or 640)
    if backend == "blazepose":
        from mot_cli.segment.mediapipe import BlazePoseSegmenter

        return BlazePoseSegmenter(path)
    if backend == "selfie":
        from mot_cli.segment.mediapipe import SelfieSegmenter

        return SelfieSegmenter(path)
    if backend == "sam":
        from mot_cli.segment.sam import SamPredictorSegmenter

        return SamPredictorSegmenter(path, device=device)
    if backend == "ultralytics-sam":
        from mot_cli.segment.ultralytics_sam import UltralyticsSamSegmenter

        return UltralyticsSamSegmenter(path, device=device, image_size=image_size or 1024)
    raise MotCliError(f"unknown segment backend {backend!r}; one of {', '.join(BACKENDS)}")
