"""The compact depth×mask encoder (SelfTrEncMOT's design) and its checkpoint format.

ref: SelfTrEncMOT — three 4×4 stride-2 convolutions 1→32→64→128, each with batch norm and
ReLU, then a linear layer to the embedding and L2 normalisation. The input is one channel:
a detection's mask times its depth, cropped to its box, resized and normalised per crop
(see `crops.py`), so the network sees an object's shape and relief, not its place or range.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mot_cli.cache import atomic_path
from mot_cli.encoder.crops import DEPTH_NORMS
from mot_cli.errors import MotCliError
from mot_cli.models import file_sha256, resolve_model

CHECKPOINT_FORMAT = "mot-cli depth-mask encoder"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of the encoder: crop size (height, width), channels and embedding width.

    The defaults, 64×32 crops and a 32-d embedding, are the smallest that lost no accuracy
    in bench/ablation.py's size comparison (self-supervised on the five dev sequences'
    mobilePydnet depth and YOLO11n-seg masks): how often a person's nearest detection in the
    next frame is that person averaged 91.2 % at 32×16 (16-d and 32-d alike), 92.3 % at
    64×32 with 32-d and with 64-d, and 91.5 % at 128×64 with 64-d, which also trained 2.7×
    slower. Left-out tracking AssA moved by ±2 between sizes with no trend (noise at this
    data size), so it could not rank them. A small embedding keeps the association replay
    cheap.

    `depth_norm` is how the depth channel was normalised in training, per crop or per frame
    (`crops.DEPTH_NORMS`); it lives here, in the checkpoint's config, so the embedding stage
    crops the way the weights learnt and an encoder is never used the other way.
    """

    input_height: int = 64
    input_width: int = 32
    channels: tuple[int, ...] = (32, 64, 128)
    embedding_dim: int = 32
    depth_norm: str = "crop"

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        stride = 2 ** len(self.channels)
        for name in ("input_height", "input_width"):
            value = getattr(self, name)
            if value < stride or value % stride:
                raise MotCliError(
                    f"encoder {name} must be a positive multiple of {stride}, got {value}"
                )
        if not self.channels or min(self.channels) < 1:
            raise MotCliError(f"encoder channels must be positive, got {self.channels}")
        if self.embedding_dim < 1:
            raise MotCliError(f"encoder embedding_dim must be >= 1, got {self.embedding_dim}")
        if self.depth_norm not in DEPTH_NORMS:
            raise MotCliError(
                f"encoder depth_norm must be one of {', '.join(DEPTH_NORMS)}, "
                f"got {self.depth_norm!r}"
            )

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of one crop."""
        return self.input_height, self.input_width

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderConfig:
        """Rebuild from `asdict`, refusing unknown keys (a checkpoint from a newer version)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise MotCliError(f"unknown encoder config keys {unknown}; known: {sorted(names)}")
        return cls(**data)


class DepthMaskEncoder(nn.Module):
    """(N, 1, H, W) normalised depth×mask crops → (N, D) unit vectors."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        previous = 1
        for width in config.channels:
            layers += [
                nn.Conv2d(previous, width, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            previous = width
        self.features = nn.Sequential(*layers)
        stride = 2 ** len(config.channels)
        cells = (config.input_height // stride) * (config.input_width // stride)
        self.head = nn.Linear(previous * cells, config.embedding_dim)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        features = self.features(crops).flatten(1)
        return nn.functional.normalize(self.head(features), dim=1)


def build_encoder(config: EncoderConfig, seed: int | None = None) -> DepthMaskEncoder:
    """A fresh encoder; with `seed`, its initial weights are reproducible (the global RNG is
    left as it was)."""
    if seed is None:
        return DepthMaskEncoder(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DepthMaskEncoder(config)


def save_checkpoint(
    path: Path, encoder: DepthMaskEncoder, training: dict[str, Any] | None = None
) -> str:
    """Write the state dict and config atomically; returns the file's sha256."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": asdict(encoder.config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()},
        "training": training or {},
    }
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        # A file object, not a path: torch would name the archive's folder after the
        # temporary file, and the same weights would not give the same sha256.
        torch.save(payload, handle)
    return file_sha256(path)


def load_encoder(name_or_path: str | Path, device: str = "cpu") -> DepthMaskEncoder:
    """Load a checkpoint found by the model resolver (a path, or a name in $MOT_CLI_MODELS /
    the user cache), in eval mode."""
    model = resolve_model(name_or_path, download=False)
    return read_checkpoint(model.path, device=device)


def read_checkpoint(path: Path, device: str = "cpu") -> DepthMaskEncoder:
    """Rebuild the encoder a checkpoint describes and load its weights strictly."""
    try:
        payload = torch.load(Path(path), map_location=device, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = text.split(". ")[0]  # torch's weights-only refusal runs on for a paragraph
        raise MotCliError(f"{path}: cannot read as a torch checkpoint ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise MotCliError(f"{path}: not a mot-cli depth×mask encoder checkpoint")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise MotCliError(
            f"{path}: encoder checkpoint version {payload.get('version')} is not "
            f"{CHECKPOINT_VERSION}; retrain with `mot-cli train-encoder`"
        )
    for key in ("config", "state_dict"):
        if not isinstance(payload.get(key), dict):
            raise MotCliError(
                f"{path}: encoder checkpoint has no {key}; retrain with `mot-cli train-encoder`"
            )
    try:
        encoder = DepthMaskEncoder(EncoderConfig.from_dict(payload["config"]))
    except (MotCliError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MotCliError(f"{path}: bad encoder config in the checkpoint ({reason})") from None
    try:
        encoder.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise MotCliError(f"{path}: encoder weights do not fit its config ({reason})") from None
    return encoder.to(device).eval()
