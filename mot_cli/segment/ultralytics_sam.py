"""SAM, SAM 2 and MobileSAM through ultralytics' SAM predictors, boxes as prompts.

Ultralytics builds MobileSAM and SAM 2 / 2.1 by file name (`mobile_sam.pt`, `sam2_b.pt`,
`sam2.1_b.pt`, ...); ViT SAM checkpoints load under any name, their architecture read from the
file as for segment-anything. `image_size` sets the (square) network input: 1024 as trained,
smaller to trade detail for speed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.segment import FrameMasks, empty_masks


def load_ultralytics_sam(path: Path) -> tuple[Any, bool]:
    """(model, is_sam2): ultralytics' own builder for the names it knows, else a ViT SAM."""
    os.environ.setdefault("YOLO_VERBOSE", "False")
    from ultralytics.models.sam.build import _build_sam, build_sam, sam_model_map

    from mot_cli.segment.sam import load_state_dict, vit_sam_arch

    if any(path.name.endswith(name) for name in sam_model_map):
        try:
            model = build_sam(str(path))
        except (RuntimeError, KeyError) as exc:
            reason = str(exc).splitlines()[0]
            raise MotCliError(
                f"{path}: weights do not fit ultralytics' {path.name} ({reason})"
            ) from None
        return model, "sam2" in path.name
    state = load_state_dict(path)
    arch = vit_sam_arch(state, path)
    if arch.image_size != 1024 or arch.window_size != 14 or arch.patch_size != 16:
        raise MotCliError(f"{path}: ultralytics builds ViT SAMs for 1024 px input, 16 px patches")
    model = _build_sam(arch.embed_dim, arch.depth, arch.num_heads, list(arch.global_attn_indexes))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = str(exc).splitlines()
        raise MotCliError(f"{path}: weights do not fit a SAM ({lines[-1].strip()})") from None
    return model.eval(), False


class UltralyticsSamSegmenter:
    """One image encoding per frame; every box of the frame decoded in the same call."""

    def __init__(self, path: Path, *, device: str = "cpu", image_size: int = 1024) -> None:
        from ultralytics.models.sam import Predictor, SAM2Predictor

        model, is_sam2 = load_ultralytics_sam(path)
        predictor_type = SAM2Predictor if is_sam2 else Predictor
        overrides = {"imgsz": image_size, "device": device, "verbose": False, "save": False}
        self.predictor = predictor_type(overrides=overrides)
        self.predictor.setup_model(model=model, verbose=False)
        # keep every mask, whatever its score: one mask per prompt, aligned by prompt index
        self.predictor.args.conf = float("-inf")

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        height, width = image.shape[:2]
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        out = empty_masks(height, width, len(boxes))
        if not len(boxes):
            return out
        self.predictor.set_image(image)
        result = self.predictor(bboxes=boxes)[0]
        self.predictor.reset_image()
        if result.masks is None:
            return out
        # `cls` holds each mask's prompt index
        prompt = result.boxes.cls.cpu().numpy().astype(int)
        scores = result.boxes.conf.cpu().numpy()
        data = result.masks.data.cpu().numpy().astype(bool)
        for index, row in enumerate(prompt):
            out.masks[row] = data[index]
            out.quality[row] = scores[index]
        return out
