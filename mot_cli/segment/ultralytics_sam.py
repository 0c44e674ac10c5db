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


class Sam2PairSegmenter:
    """SelfTrEncMOT's use of SAM 2 on two consecutive frames: prompt every box of frame t,
    then let SAM 2's memory carry each object into frame t+1.

    ref: SelfTrEncMOT (Khanchi et al. 2025), train_VAE/prompt_mask/mask_bboxes.py: a two-frame
    video state, the boxes added on its first frame, propagated to the second. The pairs show
    one object in two frames without any tracker, which is what a self-supervised encoder of
    masks learns from. Here ultralytics' interactive SAM 2 predictor holds that memory.
    """

    def __init__(self, path: Path, *, device: str = "cpu", image_size: int = 1024) -> None:
        model, is_sam2 = load_ultralytics_sam(path)
        if not is_sam2:
            raise MotCliError(f"{path}: two-frame mode needs a SAM 2 checkpoint (sam2*.pt)")
        self.model = model
        self.overrides = {"imgsz": image_size, "device": device, "verbose": False, "save": False}

    def _predictor(self, objects: int) -> Any:
        from ultralytics.models.sam import SAM2DynamicInteractivePredictor

        predictor = SAM2DynamicInteractivePredictor(
            overrides=dict(self.overrides), max_obj_num=objects
        )
        predictor.setup_model(model=self.model, verbose=False)
        predictor.args.conf = float("-inf")  # every object slot, aligned by its index
        return predictor

    def segment_pair(
        self, image: np.ndarray, next_image: np.ndarray | None, boxes: np.ndarray
    ) -> tuple[FrameMasks, FrameMasks]:
        """(masks in `image` prompted by `boxes`, the same objects in `next_image`)."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        count = len(boxes)
        here = empty_masks(*image.shape[:2], count)
        shape = next_image.shape[:2] if next_image is not None else image.shape[:2]
        there = empty_masks(*shape, count)
        if not count:
            return here, there
        predictor = self._predictor(count)
        prompted = predictor(source=image, bboxes=boxes, obj_ids=list(range(count)),
                             update_memory=True)[0]  # fmt: skip
        _fill(here, prompted)
        if next_image is not None:
            _fill(there, predictor(source=next_image)[0])
        return here, there


def _fill(out: FrameMasks, result: Any) -> None:
    """Copy a result's masks into `out` by object slot (`cls`), ignoring unused slots."""
    if result.masks is None:
        return
    slots = result.boxes.cls.cpu().numpy().astype(int)
    scores = result.boxes.conf.cpu().numpy()
    data = result.masks.data.cpu().numpy().astype(bool)
    for index, slot in enumerate(slots):
        if slot < len(out.masks):
            out.masks[slot] = data[index]
            out.quality[slot] = scores[index]
