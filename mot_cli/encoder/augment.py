"""Random views of a detection for self-supervised training, batched in torch.

Each view is what a slightly different detector, segmenter or depth model might have given
for the same object: the box jittered in scale and position, the mask eroded or dilated by
a pixel, the depth rescaled, tilted and noisy. An embedding that ignores these differences
but still separates objects is what the association needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional

from mot_cli.encoder.crops import normalise_crops

__all__ = ["CONTEXT", "AugmentConfig", "augmented_views"]

CONTEXT = 1.25
"""Training crops cover the box grown 1.25× so jittered views stay inside real pixels."""


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each augmentation (0 turns it off).

    Attributes:
        scale: box width and height each multiplied by a factor in [1/(1+scale), 1+scale].
        shift: box moved by up to this fraction of its width / height.
        erode: probability of eroding the mask by one pixel (at crop resolution).
        dilate: probability of dilating it by one pixel (exclusive with erode).
        gain: depth multiplied by a factor in [1/(1+gain), 1+gain].
        tilt: a linear ramp across the crop, up to this many in-mask standard deviations.
        noise: per-pixel Gaussian noise, this many in-mask standard deviations.
    """

    scale: float = 0.1
    shift: float = 0.08
    erode: float = 0.25
    dilate: float = 0.25
    gain: float = 0.3
    tilt: float = 0.3
    noise: float = 0.15

    def __post_init__(self) -> None:
        for name in ("scale", "shift", "gain", "tilt", "noise"):
            if getattr(self, name) < 0:
                raise ValueError(f"augmentation {name} must be >= 0, got {getattr(self, name)}")
        if not (0 <= self.erode and 0 <= self.dilate and self.erode + self.dilate <= 1):
            raise ValueError("erode and dilate are probabilities that sum to at most 1")


def _log_uniform(count: int, spread: float, generator: torch.Generator) -> torch.Tensor:
    bound = math.log1p(spread)
    return torch.exp((torch.rand(count, generator=generator) * 2 - 1) * bound)


def _jittered_windows(
    context: torch.Tensor, size: tuple[int, int], config: AugmentConfig, gen: torch.Generator
) -> torch.Tensor:
    """Resample (B, C, Hc, Wc) context windows to (B, C, H, W) over jittered boxes.

    The box spans ±1/CONTEXT of the context in normalised coordinates; with no jitter the
    samples fall on the same frame positions as an inference crop of the box itself.
    """
    count = len(context)
    scale_x = _log_uniform(count, config.scale, gen)
    scale_y = _log_uniform(count, config.scale, gen)
    shift = (torch.rand(count, 2, generator=gen) * 2 - 1) * config.shift
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = scale_x / CONTEXT
    theta[:, 1, 1] = scale_y / CONTEXT
    theta[:, :, 2] = 2 * shift / CONTEXT
    grid = functional.affine_grid(theta, [count, context.shape[1], *size], align_corners=False)
    return functional.grid_sample(
        context, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


def _max3(images: torch.Tensor) -> torch.Tensor:
    """3×3 maximum filter of (B, H, W), as two separable passes (max_pool2d is ~7× slower
    on single-channel CPU tensors); the border is ignored, not zero-padded."""
    padded = functional.pad(images.unsqueeze(1), (1, 1, 1, 1), value=float("-inf")).squeeze(1)
    rows = torch.maximum(torch.maximum(padded[:, :, :-2], padded[:, :, 1:-1]), padded[:, :, 2:])
    return torch.maximum(torch.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def _morph_masks(mask: torch.Tensor, config: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Erode or dilate each (B, H, W) soft mask by one pixel with the configured odds."""
    draw = torch.rand(len(mask), generator=gen)
    erode = draw < config.erode
    dilate = (draw >= config.erode) & (draw < config.erode + config.dilate)
    out = mask.clone()
    if erode.any():
        out[erode] = -_max3(-mask[erode])
    if dilate.any():
        out[dilate] = _max3(mask[dilate])
    return out


def _perturb_depth(
    depth: torch.Tensor, mask: torch.Tensor, config: AugmentConfig, gen: torch.Generator
) -> torch.Tensor:
    """Rescale, tilt and add noise to (B, H, W) depth, scaled by its in-mask spread."""
    count, height, width = depth.shape
    weight = (mask > 0.5).float()
    pixels = weight.sum(dim=(1, 2)).clamp_min(1.0)
    mean = (depth * weight).sum(dim=(1, 2)) / pixels
    std = (((depth - mean[:, None, None]) ** 2 * weight).sum(dim=(1, 2)) / pixels).sqrt()
    std = torch.maximum(std, 0.01 * mean.abs()).clamp_min(1e-6)[:, None, None]
    gain = _log_uniform(count, config.gain, gen)[:, None, None]
    ys = torch.linspace(-1, 1, height)[None, :, None]
    xs = torch.linspace(-1, 1, width)[None, None, :]
    slope = (torch.rand(count, 2, generator=gen) * 2 - 1) * config.tilt
    ramp = slope[:, 0, None, None] * ys + slope[:, 1, None, None] * xs
    noise = torch.randn(depth.shape, generator=gen) * config.noise
    return gain * (depth + std * (ramp + noise))


def augmented_views(
    context_depth: torch.Tensor,
    context_mask: torch.Tensor,
    size: tuple[int, int],
    config: AugmentConfig,
    generator: torch.Generator,
    per_crop: bool = True,
) -> torch.Tensor:
    """(B, 1, H, W) normalised encoder inputs: one random view of each context window
    (float depth, mask coverage in [0, 1]; `per_crop` False: windows of frame-normalised
    maps, see `crops.normalise_crops`)."""
    context = torch.stack([context_depth, context_mask], dim=1)
    window = _jittered_windows(context, size, config, generator)
    depth, mask = window[:, 0], window[:, 1]
    mask = _morph_masks(mask, config, generator)
    depth = _perturb_depth(depth, mask, config, generator)
    return normalise_crops(depth, mask, per_crop)
