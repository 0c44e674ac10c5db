"""OSNet, the omni-scale person re-identification network, written to load torchreid weights.

ref: Zhou et al., "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019.
Module names and shapes follow torchreid's published state dicts, so its model-zoo weights load
with ``strict=True`` (only the identity classifier, which we never use, is dropped).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mot_cli.errors import MotCliError

__all__ = [
    "FEATURE_DIM",
    "OSNET_CHANNELS",
    "OSNet",
    "build_osnet",
    "fuse_for_inference",
    "load_osnet_weights",
    "read_state_dict",
]

FEATURE_DIM = 512
"""Length of the embedding every width produces (the fully connected layer after pooling)."""

OSNET_CHANNELS: dict[str, tuple[int, int, int, int]] = {
    "osnet_x1_0": (64, 256, 384, 512),
    "osnet_x0_75": (48, 192, 288, 384),
    "osnet_x0_5": (32, 128, 192, 256),
    "osnet_x0_25": (16, 64, 96, 128),
}
"""Stem and stage widths per model name; the widths scale the x1.0 network (paper, Table 1)."""

_BLOCKS_PER_STAGE = 2
_BOTTLENECK_REDUCTION = 4
_GATE_REDUCTION = 16
_MAX_STREAM_DEPTH = 4


class _ConvBn(nn.Module):
    """Convolution, batch norm and an optional ReLU (torchreid's ConvLayer/Conv1x1 layout)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        *,
        stride: int = 1,
        padding: int = 0,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True) if relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class _LiteConv3x3(nn.Module):
    """Pointwise then depthwise 3x3 convolution: a cheap 3x3 receptive-field step (paper §3.1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class _ChannelGate(nn.Module):
    """Unified aggregation gate: per-channel sigmoid weights from pooled features (paper §3.2).

    One gate is shared by all streams, which is what lets the block mix scales per input.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // _GATE_REDUCTION, 1)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.relu(self.fc1(pooled))))


def _stream(channels: int, depth: int) -> nn.Module:
    """Stack ``depth`` lite 3x3 layers; depth 1 is a bare layer, as the weights expect."""
    if depth == 1:
        return _LiteConv3x3(channels)
    return nn.Sequential(*(_LiteConv3x3(channels) for _ in range(depth)))


class _OSBlock(nn.Module):
    """Residual bottleneck with four streams of receptive field 3, 5, 7 and 9 (paper Fig. 4)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        mid = out_channels // _BOTTLENECK_REDUCTION
        self.conv1 = _ConvBn(in_channels, mid)
        self.conv2a = _stream(mid, 1)
        self.conv2b = _stream(mid, 2)
        self.conv2c = _stream(mid, 3)
        self.conv2d = _stream(mid, _MAX_STREAM_DEPTH)
        self.gate = _ChannelGate(mid)
        self.conv3 = _ConvBn(mid, out_channels, relu=False)
        self.downsample = (
            _ConvBn(in_channels, out_channels, relu=False) if in_channels != out_channels else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeezed = self.conv1(x)
        mixed = self.gate(self.conv2a(squeezed))
        for stream in (self.conv2b, self.conv2c, self.conv2d):
            mixed = mixed + self.gate(stream(squeezed))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(self.conv3(mixed) + shortcut)


def _stage(in_channels: int, out_channels: int, *, reduce: bool) -> nn.Sequential:
    """Two OS blocks, then (for the first two stages) a 1x1 transition and 2x2 average pool."""
    layers: list[nn.Module] = [_OSBlock(in_channels, out_channels)]
    layers += [_OSBlock(out_channels, out_channels) for _ in range(_BLOCKS_PER_STAGE - 1)]
    if reduce:
        layers.append(nn.Sequential(_ConvBn(out_channels, out_channels), nn.AvgPool2d(2, 2)))
    return nn.Sequential(*layers)


class OSNet(nn.Module):
    """OSNet backbone plus the 512-d embedding layer; returns the embedding in eval mode.

    Args:
        channels: stem and three stage widths, e.g. ``OSNET_CHANNELS["osnet_x0_25"]``.
        num_classes: size of the identity classifier used only in training mode; ``None``
            (the default) builds no classifier, because tracking only needs the embedding.
    """

    def __init__(self, channels: tuple[int, int, int, int], num_classes: int | None = None) -> None:
        super().__init__()
        stem, c2, c3, c4 = channels
        self.conv1 = _ConvBn(3, stem, 7, stride=2, padding=3)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = _stage(stem, c2, reduce=True)
        self.conv3 = _stage(c2, c3, reduce=True)
        self.conv4 = _stage(c3, c4, reduce=False)
        self.conv5 = _ConvBn(c4, c4)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(c4, FEATURE_DIM), nn.BatchNorm1d(FEATURE_DIM), nn.ReLU(inplace=True)
        )
        self.classifier = None if num_classes is None else nn.Linear(FEATURE_DIM, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """Kaiming init so random-initialised models give well-scaled features in tests."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map (N, 3, H, W) normalised RGB to (N, 512) features, or to logits when training."""
        x = self.maxpool(self.conv1(images))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        features = self.fc(torch.flatten(self.global_avgpool(x), 1))
        if self.training and self.classifier is not None:
            return self.classifier(features)
        return features


def build_osnet(name: str, num_classes: int | None = None) -> OSNet:
    """Build a randomly initialised OSNet of the named width (``osnet_x0_25`` … ``osnet_x1_0``)."""
    if name not in OSNET_CHANNELS:
        valid = ", ".join(sorted(OSNET_CHANNELS))
        raise ValueError(f"unknown OSNet architecture {name!r}; valid names: {valid}")
    return OSNet(OSNET_CHANNELS[name], num_classes=num_classes)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a torchreid checkpoint: a bare state dict or ``{'state_dict': ...}``, any ``module.``.

    Loads with ``weights_only=True`` so a checkpoint cannot run code when opened.
    """
    path = Path(path)
    if not path.is_file():
        raise MotCliError(f"re-ID weights not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or foreign files
        raise MotCliError(f"cannot read re-ID weights {path}: {error}") from error
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("state_dict"), Mapping):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, Mapping):
        raise MotCliError(f"{path} holds a {type(checkpoint).__name__}, not a state dict")
    return {_strip_prefix(key): value for key, value in checkpoint.items()}


def _strip_prefix(key: str) -> str:
    """Drop the ``module.`` prefixes that (Distributed)DataParallel adds when saving."""
    while key.startswith("module."):
        key = key[len("module.") :]
    return key


def load_osnet_weights(model: OSNet, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Load weights strictly; classifier weights are dropped when the model has no classifier.

    Strict loading is the point: a silently half-loaded network still runs but gives useless
    embeddings, so any missing, unexpected or mis-shaped tensor is an error naming ``source``.
    """
    if model.classifier is None:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("classifier.")}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(
        key
        for key in set(expected) & set(state_dict)
        if tuple(expected[key].shape) != tuple(state_dict[key].shape)
    )
    if missing or unexpected or mismatched:
        problems = [
            f"{label} {len(keys)} (e.g. {keys[0]})"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("mis-shaped", mismatched),
            )
            if keys
        ]
        raise MotCliError(
            f"{source} does not fit this OSNet width: {', '.join(problems)}; "
            "check that the architecture name matches the weights"
        )
    model.load_state_dict(state_dict, strict=True)


def fuse_for_inference(model: OSNet, *, bgr_input: bool = False) -> OSNet:
    """Return an eval-mode copy with every batch norm folded into the layer before it.

    Inference then skips a full pass over each feature map per norm (about a fifth of CPU
    time for x0.25). With ``bgr_input`` the first convolution's input channels are reversed
    so OpenCV's BGR pixels go in without a colour swap per batch. The copy's state dict no
    longer matches torchreid's, so keep the original for loading and saving.
    """
    fused = copy.deepcopy(model).eval()
    if bgr_input:
        stem = fused.conv1.conv
        stem.weight = nn.Parameter(stem.weight.detach().flip(1), requires_grad=False)
    for module in fused.modules():
        if isinstance(module, _ConvBn):
            module.conv = nn.utils.fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
        elif isinstance(module, _LiteConv3x3):
            module.conv2 = nn.utils.fuse_conv_bn_eval(module.conv2, module.bn)
            module.bn = nn.Identity()
    linear, norm, relu = fused.fc
    fused.fc = nn.Sequential(nn.utils.fuse_linear_bn_eval(linear, norm), relu)
    return fused
