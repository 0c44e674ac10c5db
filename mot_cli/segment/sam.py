"""Segment Anything: the original `segment_anything` SamPredictor, all boxes in one batch.

The architecture is read off the checkpoint's own tensors (ViT width, depth, heads, global
attention blocks, input size), so vit_b / vit_l / vit_h checkpoints load under any file name,
and so does a small model built for tests: one loader, whatever the size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.segment import FrameMasks

_BOX_CHUNK = 64  # prompts decoded together; bounds memory on crowded frames


@dataclass(frozen=True)
class VitSamArch:
    """What a ViT SAM checkpoint's tensors say about its image encoder and mask decoder."""

    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    window_size: int
    image_size: int
    patch_size: int
    mlp_ratio: float
    out_chans: int
    decoder_depth: int
    decoder_mlp_dim: int


def load_state_dict(path: Path) -> dict[str, Any]:
    """A checkpoint's state dict (plain, or under a "model" key as some exports nest it)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a file that is not a checkpoint
        reason = str(exc).splitlines()[0].split(". ")[0] if str(exc) else type(exc).__name__
        raise MotCliError(f"{path}: cannot read as a PyTorch checkpoint ({reason})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise MotCliError(f"{path}: not a state dict checkpoint")
    return state


def vit_sam_arch(state: dict[str, Any], path: Path) -> VitSamArch:
    """Infer a ViT SAM's architecture from its state dict; a non-SAM file is refused."""
    prefix = "image_encoder."
    if f"{prefix}patch_embed.proj.weight" not in state or f"{prefix}pos_embed" not in state:
        raise MotCliError(f"{path}: not a ViT Segment Anything checkpoint (no image_encoder ViT)")
    embed_dim, _, patch, _ = state[f"{prefix}patch_embed.proj.weight"].shape
    grid = state[f"{prefix}pos_embed"].shape[1]
    depth = 1 + max(int(k.split(".")[2]) for k in state if k.startswith(f"{prefix}blocks."))
    rel = [state[f"{prefix}blocks.{i}.attn.rel_pos_h"].shape for i in range(depth)]
    global_blocks = tuple(i for i, shape in enumerate(rel) if shape[0] == 2 * grid - 1)
    windowed = [shape[0] for shape in rel if shape[0] != 2 * grid - 1]
    head_dim = rel[0][1]
    decoder_layers = {
        int(k.split(".")[3]) for k in state if k.startswith("mask_decoder.transformer.layers.")
    }
    return VitSamArch(
        embed_dim=int(embed_dim),
        depth=depth,
        num_heads=int(embed_dim // head_dim),
        global_attn_indexes=global_blocks,
        window_size=(windowed[0] + 1) // 2 if windowed else 0,
        image_size=int(grid * patch),
        patch_size=int(patch),
        mlp_ratio=state[f"{prefix}blocks.0.mlp.lin1.weight"].shape[0] / embed_dim,
        out_chans=int(state[f"{prefix}neck.0.weight"].shape[0]),
        decoder_depth=len(decoder_layers),
        decoder_mlp_dim=int(state["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0]),
    )


def build_sam(arch: VitSamArch) -> Any:
    """An untrained `segment_anything` Sam of `arch` (SAM's own prompt encoder and decoder)."""
    from functools import partial

    import torch
    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    prompt_dim = arch.out_chans
    grid = arch.image_size // arch.patch_size
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=arch.depth,
            embed_dim=arch.embed_dim,
            img_size=arch.image_size,
            mlp_ratio=arch.mlp_ratio,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=arch.num_heads,
            patch_size=arch.patch_size,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=arch.global_attn_indexes,
            window_size=arch.window_size,
            out_chans=prompt_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=prompt_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(arch.image_size, arch.image_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=arch.decoder_depth,
                embedding_dim=prompt_dim,
                mlp_dim=arch.decoder_mlp_dim,
                num_heads=8,
            ),
            transformer_dim=prompt_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )


def load_sam(path: Path) -> Any:
    """A `segment_anything` Sam with the checkpoint's weights (strict: every tensor must fit)."""
    state = load_state_dict(path)
    model = build_sam(vit_sam_arch(state, path))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        reason = str(exc).splitlines()[1] if len(str(exc).splitlines()) > 1 else str(exc)
        raise MotCliError(f"{path}: weights do not fit a SAM ({reason.strip()})") from None
    return model.eval()


class SamPredictorSegmenter:
    """segment-anything's SamPredictor: one image embedding per frame, every box decoded at once."""

    def __init__(self, path: Path, *, device: str = "cpu") -> None:
        from segment_anything import SamPredictor

        self.predictor = SamPredictor(load_sam(path).to(device))
        self.device = device

    def segment(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> FrameMasks:
        import torch

        height, width = image.shape[:2]
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        masks: list[np.ndarray] = []
        quality: list[np.ndarray] = []
        if not len(boxes):
            return FrameMasks([], np.zeros(0, np.float32))
        self.predictor.set_image(image[:, :, ::-1].copy(), image_format="RGB")
        with torch.inference_mode():
            for start in range(0, len(boxes), _BOX_CHUNK):
                chunk = torch.as_tensor(boxes[start : start + _BOX_CHUNK], device=self.device)
                prompts = self.predictor.transform.apply_boxes_torch(chunk, (height, width))
                out, scores, _ = self.predictor.predict_torch(
                    point_coords=None, point_labels=None, boxes=prompts, multimask_output=False
                )
                masks.extend(m for m in out[:, 0].cpu().numpy().astype(bool))
                quality.append(scores[:, 0].float().cpu().numpy())
        self.predictor.reset_image()
        return FrameMasks(masks, np.concatenate(quality).astype(np.float32))
