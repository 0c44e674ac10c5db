"""Monocular depth backends behind one protocol; every backend returns *nearness* maps.

Nearness is inverse depth (larger = nearer): relative for mobilePydnet, Depth Anything V2 and
the pseudo-depth, 1/metres for Depth Pro and metric Depth Anything checkpoints. One direction
for every backend lets later cues compare depths without knowing where they came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from mot_cli.errors import MotCliError

__all__ = ["BACKENDS", "DEFAULT_MODELS", "DepthEstimator", "load_estimator"]

# backend -> the model it uses when none is given (None: weight-free)
DEFAULT_MODELS: dict[str, str | None] = {
    "pydnet": "mobile_pydnet_pruned35",
    "depth-anything": "depth-anything/Depth-Anything-V2-Small-hf",
    "depth-pro": "apple/DepthPro-hf",
    "pseudo": None,
}
BACKENDS = tuple(DEFAULT_MODELS)


class DepthEstimator(Protocol):
    """A network that turns frames into nearness maps covering each whole frame."""

    metric: bool  # True: values are 1/metres; False: relative nearness

    def estimate(self, images: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
        """One float32 nearness map of `shape` (height, width) per BGR image."""
        ...


def load_estimator(
    backend: str, path: Path, *, device: str, fp16: bool, image_size: int | None
) -> DepthEstimator:
    """Build the network behind `backend` from resolved weights (not `pseudo`: it has none)."""
    if backend == "pydnet":
        from mot_cli.depth.pydnet import MobilePydnet

        return MobilePydnet(path)
    if backend in ("depth-anything", "depth-pro"):
        from mot_cli.depth.hf import TransformersDepth

        return TransformersDepth(path, device=device, fp16=fp16, image_size=image_size)
    raise MotCliError(f"depth backend {backend!r} has no network; one of {', '.join(BACKENDS)}")
