"""Camera-motion stage: a 2x3 affine per frame mapping the previous frame onto it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from mot_cli.cache import stage_key
from mot_cli.errors import MotCliError
from mot_cli.schema import CAMERA_MOTION, CAMERA_MOTION_STAGE
from mot_cli.stages._job import BatchFn, FramewiseJob, StageInputs, StageRun
from mot_cli.video import FrameSource

STAGE = CAMERA_MOTION_STAGE
METHODS = ("sparse", "ecc")


@dataclass(frozen=True)
class CameraMotionConfig:
    method: str = "sparse"
    downscale: int = 2

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise MotCliError(
                f"--cmc-method must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        if self.downscale < 1:
            raise MotCliError(f"downscale must be >= 1, got {self.downscale}")


def plan(inputs: StageInputs, config: CameraMotionConfig) -> FramewiseJob:
    """The affine of every frame from the one before it (identity for the first frame)."""
    first, last = inputs.frames
    source = inputs.source
    key = stage_key(
        STAGE, config=asdict(config), source=source.info.fingerprint, frames=[first, last]
    )
    spec = StageRun(STAGE, key, CAMERA_MOTION, first, last, 16, {"config": asdict(config)})
    return FramewiseJob(spec, lambda: _estimator(source, config, first))


def _estimator(source: FrameSource, config: CameraMotionConfig, first: int) -> BatchFn:
    """The batch function; it keeps the previous frame's grey image between batches."""
    import cv2

    from mot_cli.camera_motion import estimate_affine

    previous: dict[str, np.ndarray] = {}
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float32)

    def gray(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)

    def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
        if "gray" not in previous and numbers[0] > first:  # resumed: decode the frame before
            for _, image in source.frames(numbers[0] - 1, numbers[0] - 1):
                previous["gray"] = gray(image)
        matrices = []
        for number, image in zip(numbers, images, strict=True):
            current = gray(image)
            if number == first or "gray" not in previous:
                matrices.append(identity)
            else:
                matrices.append(
                    estimate_affine(
                        previous["gray"], current, method=config.method, downscale=config.downscale
                    )
                )
            previous["gray"] = current
        flat = np.stack(matrices).reshape(-1, 6)
        columns = {"frame": pa.array(numbers, pa.int32())}
        columns.update({f"m{i // 3}{i % 3}": pa.array(flat[:, i], pa.float32()) for i in range(6)})
        return pa.table(columns, schema=CAMERA_MOTION)

    return process
