"""mobilePydnet (self-supervised on KITTI) run with the TFLite runtime: the offline default.

ref: ../shared/models/MODELS.md — reflect-pad the frame to the 640:192 KITTI aspect, resize to
640x192, RGB/255, NCHW; the output is inverse depth with its sign flipped, so nearness is its
negation. Without the padding, people are ordered poorly on 4:3 frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_cli.tflite import TfliteModel

INPUT_HEIGHT, INPUT_WIDTH = 192, 640


def _pad_offsets(height: int, width: int) -> tuple[int, int]:
    """Reflect padding (left/right or top/bottom, in resized pixels) to reach 640x192."""
    aspect = INPUT_WIDTH / INPUT_HEIGHT
    if width / height < aspect:
        inner = round(INPUT_HEIGHT * width / height)
        return (INPUT_WIDTH - inner) // 2, 0
    inner = round(INPUT_WIDTH * height / width)
    return 0, (INPUT_HEIGHT - inner) // 2


class MobilePydnet:
    """Nearness maps from mobile_pydnet_pruned35.tflite, relative (not metric)."""

    metric = False

    def __init__(self, path: Path) -> None:
        self.model = TfliteModel(path)
        self.model.expect_input((1, 3, INPUT_HEIGHT, INPUT_WIDTH))
        self.output = next(iter(self.model.outputs.values()))

    def estimate(self, images: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
        return [self._one(image, shape) for image in images]

    def _one(self, image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        import cv2

        height, width = image.shape[:2]
        pad_x, pad_y = _pad_offsets(height, width)
        inner_w, inner_h = INPUT_WIDTH - 2 * pad_x, INPUT_HEIGHT - 2 * pad_y
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        small = cv2.resize(rgb, (inner_w, inner_h), interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(
            small,
            pad_y,
            INPUT_HEIGHT - inner_h - pad_y,
            pad_x,
            INPUT_WIDTH - inner_w - pad_x,
            cv2.BORDER_REFLECT_101,
        )
        tensor = (padded.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        (raw,) = self.model.run(tensor, [self.output])
        out = -raw.reshape(raw.shape[-2:]).astype(np.float32)
        # the frame's part of the output, resampled straight to the map (pixel centres aligned)
        out_h, out_w = out.shape
        sx, sy = out_w / INPUT_WIDTH, out_h / INPUT_HEIGHT
        map_h, map_w = shape
        step_x, step_y = inner_w * sx / map_w, inner_h * sy / map_h
        matrix = np.float32(
            [
                [step_x, 0, pad_x * sx + 0.5 * step_x - 0.5],
                [0, step_y, pad_y * sy + 0.5 * step_y - 0.5],
            ]
        )
        return cv2.warpAffine(
            out,
            matrix,
            (map_w, map_h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
