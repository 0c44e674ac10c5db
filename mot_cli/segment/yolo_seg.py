"""Ultralytics YOLO-seg instance masks matched to the detections by box IoU.

The offline default: YOLO11n-seg INT8 separates people in tight groups better than any
box-prompted model available offline. Each detection takes the instance whose box overlaps it
most (one-to-one, Hungarian on IoU, same class when the detection's class is known); a
detection no instance overlaps by `match_iou` gets an empty mask.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.segment import FrameMasks, empty_masks


def match_instances(
    boxes: np.ndarray,
    classes: np.ndarray,
    instance_boxes: np.ndarray,
    instance_classes: np.ndarray,
    min_iou: float,
) -> dict[int, int]:
    """detection row -> instance row, one-to-one, maximising total IoU above `min_iou`."""
    from scipy.optimize import linear_sum_assignment

    from mot_cli.metrics.boxes import box_iou_xywh

    if not len(boxes) or not len(instance_boxes):
        return {}

    def xywh(xyxy: np.ndarray) -> np.ndarray:
        xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        return np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]

    iou = box_iou_xywh(xywh(boxes), xywh(instance_boxes))
    classes = np.asarray(classes).reshape(-1)
    same = (classes[:, None] < 0) | (classes[:, None] == np.asarray(instance_classes)[None, :])
    iou = np.where(same, iou, 0.0)
    rows, cols = linear_sum_assignment(-iou)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= min_iou}


class YoloSegSegmenter:
    """Any ultralytics segmentation model: `.pt`, ONNX or an OpenVINO folder."""

    def __init__(
        self,
        path: Path,
        *,
        device: str = "cpu",
        image_size: int = 640,
        confidence: float = 0.1,
        match_iou: float = 0.3,
    ) -> None:
        os.environ.setdefault("YOLO_VERBOSE", "False")
        from ultralytics import YOLO

        try:
            self.model = YOLO(str(path), task="segment")
            self.model.names  # noqa: B018 (exported formats and bad files load here, not later)
        except Exception as exc:  # ultralytics raises many types for a bad file
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split(". ")[0]
            raise MotCliError(
                f"{path}: cannot load as a YOLO segmentation model ({reason})"
            ) from None
        self.device = device
        self.image_size = image_size
        self.confidence = confidence
        self.match_iou = match_iou

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        height, width = image.shape[:2]
        out = empty_masks(height, width, len(boxes))
        if not len(boxes):
            return out
        result = self.model.predict(
            image,
            conf=self.confidence,
            imgsz=self.image_size,
            device=self.device,
            retina_masks=True,  # masks at the frame's own size
            verbose=False,
        )[0]
        if result.masks is None:
            return out
        matches = match_instances(
            boxes,
            classes,
            result.boxes.xyxy.cpu().numpy(),
            result.boxes.cls.cpu().numpy().astype(int),
            self.match_iou,
        )
        data = result.masks.data
        conf = result.boxes.conf.cpu().numpy()
        for row, instance in matches.items():
            out.masks[row] = data[instance].cpu().numpy().astype(bool)
            out.quality[row] = conf[instance]
        return out
