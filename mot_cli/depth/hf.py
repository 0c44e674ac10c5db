"""Depth Anything V2 and Depth Pro through `transformers` (a Hub id or a local folder).

Depth Anything V2 predicts relative inverse depth (already nearness); its metric checkpoints
and Depth Pro predict depth in metres, which becomes nearness as 1/depth. Depth Pro's metric
scale comes from its field-of-view head: the processor's post-processing applies it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError

_MIN_DEPTH = 1e-3  # metres; keeps 1/depth finite


class TransformersDepth:
    """Any `AutoModelForDepthEstimation` checkpoint with its image processor."""

    def __init__(
        self, path: Path, *, device: str = "cpu", fp16: bool = True, image_size: int | None = None
    ) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            self.processor = AutoImageProcessor.from_pretrained(path)
            self.model = AutoModelForDepthEstimation.from_pretrained(path)
        except (OSError, ValueError, KeyError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MotCliError(
                f"{path}: cannot load as a transformers depth model ({reason})"
            ) from None
        self.device = torch.device(device)
        self.dtype = torch.float16 if fp16 and self.device.type == "cuda" else torch.float32
        self.model.to(device=self.device, dtype=self.dtype).eval()
        config = self.model.config
        self.depth_pro = config.model_type == "depth_pro"
        self.returns_depth = (
            self.depth_pro or getattr(config, "depth_estimation_type", "") == "metric"
        )
        self.metric = (
            bool(getattr(config, "use_fov_model", False))
            if self.depth_pro
            else (self.returns_depth)
        )
        if image_size is not None:
            self.processor.size = {"height": image_size, "width": image_size}

    def estimate(self, images: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
        import cv2
        import torch

        rgb = [cv2.cvtColor(image, cv2.COLOR_BGR2RGB) for image in images]
        inputs = self.processor(images=rgb, return_tensors="pt")
        pixels = inputs["pixel_values"].to(device=self.device, dtype=self.dtype)
        with torch.inference_mode():
            outputs = self.model(pixel_values=pixels)
            outputs.predicted_depth = outputs.predicted_depth.float()
            if getattr(outputs, "field_of_view", None) is not None:
                outputs.field_of_view = outputs.field_of_view.float()
            results = self.processor.post_process_depth_estimation(
                outputs, target_sizes=[shape] * len(images)
            )
        maps = []
        for result in results:
            values = result["predicted_depth"].reshape(shape).cpu().numpy().astype(np.float32)
            if self.returns_depth:  # metres (Depth Pro: after its field-of-view scaling)
                values = 1.0 / np.maximum(values, _MIN_DEPTH)
            maps.append(values)
        return maps
