"""Appearance embeddings for boxes: crop, resize, normalise, run OSNet, L2-normalise."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch
from torch import nn

from mot_cli.errors import MotCliError
from mot_cli.reid.osnet import (
    FEATURE_DIM,
    OSNet,
    build_osnet,
    fuse_for_inference,
    load_osnet_weights,
    read_state_dict,
)

__all__ = ["INPUT_SIZE", "Backend", "ReidEncoder", "file_sha256"]

Backend = Literal["torch", "openvino"]
"""How the network runs: eager PyTorch (any device) or OpenVINO (CPU, compiled once)."""

INPUT_SIZE = (256, 128)
"""Network input (height, width): the person-crop shape torchreid trains OSNet with."""

_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks; cache keys use it to notice changed weights."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve_device(device: str | torch.device) -> torch.device:
    """Turn a device name into a torch device, failing clearly when CUDA is asked for but absent."""
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise MotCliError(f"unknown torch device {device!r}: {error}") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise MotCliError(f"device {device!r} requested but CUDA is not available")
    return resolved


def _check_frame(frame_bgr: np.ndarray) -> None:
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(
            f"frame must be (H, W, 3) uint8 BGR, got {frame_bgr.shape} {frame_bgr.dtype}"
        )


def _crop_resized(frame_bgr: np.ndarray, xyxy: np.ndarray, out: np.ndarray) -> None:
    """Write each box's crop, clipped to the image and resized to INPUT_SIZE, into ``out``.

    Boxes are rounded outwards and kept at least one pixel wide and tall, so a box that lies
    (partly) outside the image still gives a crop and an embedding instead of an error.
    Resizing only the crop (not the frame) keeps the cost proportional to the boxes.
    """
    height, width = frame_bgr.shape[:2]
    x1 = np.clip(np.floor(xyxy[:, 0]), 0, width - 1).astype(np.int64)
    y1 = np.clip(np.floor(xyxy[:, 1]), 0, height - 1).astype(np.int64)
    x2 = np.maximum(np.clip(np.ceil(xyxy[:, 2]), 0, width).astype(np.int64), x1 + 1)
    y2 = np.maximum(np.clip(np.ceil(xyxy[:, 3]), 0, height).astype(np.int64), y1 + 1)
    size = (INPUT_SIZE[1], INPUT_SIZE[0])  # cv2 wants (width, height)
    for row in range(len(xyxy)):
        crop = frame_bgr[y1[row] : y2[row], x1[row] : x2[row]]
        cv2.resize(crop, size, dst=out[row], interpolation=cv2.INTER_LINEAR)


class ReidEncoder:
    """Embeds person boxes with an OSNet; one instance per process, reused across frames.

    Args:
        model: a network mapping (N, 3, 256, 128) ImageNet-normalised RGB to (N, 512).
        device: torch device name (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        batch_size: crops per forward pass; bounds memory, larger is faster up to a point.
        weights_sha256: digest of the weights file, for cache keys (``None`` when unknown).
        backend: ``"torch"`` runs the model eagerly; ``"openvino"`` (CPU only) compiles it
            once (seconds) and then runs 2.5-4x faster on CPU at float32 precision,
            with embeddings matching torch's to about 1e-6.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
        weights_sha256: str | None = None,
        backend: Backend = "torch",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if backend not in ("torch", "openvino"):
            raise ValueError(f"unknown re-ID backend {backend!r}; valid names: openvino, torch")
        self.device = _resolve_device(device)
        if backend == "openvino" and self.device.type != "cpu":
            raise MotCliError(f"the openvino re-ID backend runs on cpu, not {device!r}")
        self.batch_size = batch_size
        self.weights_sha256 = weights_sha256
        self.backend = backend
        self.model = model.eval()
        # What actually runs: batch norms folded away, BGR accepted as is, and channels-last
        # layout, which the depthwise convolutions favour on CPU (together ~1.8x for x0.25).
        self._takes_bgr = isinstance(model, OSNet)
        network = fuse_for_inference(model, bgr_input=True) if self._takes_bgr else model
        network = network.to(self.device, memory_format=torch.channels_last).eval()
        self._run = (
            _openvino_runner(network, weights_sha256) if backend == "openvino" else network
        )
        # Normalisation folded into one multiply-add: (x / 255 - mean) / std == x * scale - shift,
        # per channel in the order the network takes them.
        order = slice(None, None, -1) if self._takes_bgr else slice(None)
        std = torch.tensor(_IMAGENET_STD_RGB[order], dtype=torch.float32)
        mean = torch.tensor(_IMAGENET_MEAN_RGB[order], dtype=torch.float32)
        self._scale = (1.0 / (255.0 * std)).to(self.device)
        self._shift = (mean / std).to(self.device)

    @classmethod
    def load(
        cls,
        weights: Path,
        arch: str = "osnet_x0_25",
        device: str = "cpu",
        batch_size: int = 64,
        backend: Backend = "torch",
    ) -> ReidEncoder:
        """Build ``arch`` and load torchreid weights into it strictly (classifier dropped)."""
        weights = Path(weights)
        model = build_osnet(arch)
        load_osnet_weights(model, read_state_dict(weights), source=str(weights))
        return cls(
            model,
            device=device,
            batch_size=batch_size,
            weights_sha256=file_sha256(weights),
            backend=backend,
        )

    @property
    def feature_dim(self) -> int:
        """Length of one embedding."""
        return FEATURE_DIM

    def embed(self, frame_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        """Embed the (N, 4) x1,y1,x2,y2 boxes of one BGR frame; returns (N, 512) unit vectors."""
        return self.embed_many([frame_bgr], [xyxy])[0]

    def embed_many(
        self, frames: Sequence[np.ndarray], boxes_per_frame: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        """Embed boxes of several frames in shared batches; one (N_i, 512) array per frame.

        Batching across frames keeps forward passes full when frames hold few boxes, which is
        where most of the per-call overhead goes on CPU.
        """
        if len(frames) != len(boxes_per_frame):
            raise ValueError(f"{len(frames)} frames but {len(boxes_per_frame)} box arrays")
        boxes = [np.asarray(b, dtype=np.float32).reshape(-1, 4) for b in boxes_per_frame]
        counts = [len(b) for b in boxes]
        total = sum(counts)
        if total == 0:
            return [np.zeros((0, FEATURE_DIM), np.float32) for _ in counts]
        crops = np.empty((total, *INPUT_SIZE, 3), np.uint8)
        start = 0
        for frame, frame_boxes in zip(frames, boxes, strict=True):
            if len(frame_boxes):
                _check_frame(frame)
                _crop_resized(frame, frame_boxes, crops[start : start + len(frame_boxes)])
            start += len(frame_boxes)
        features = self._embed_crops(crops)
        return np.split(features, np.cumsum(counts)[:-1])

    def _embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Run the network over (M, 256, 128, 3) uint8 BGR crops in batches."""
        out = np.empty((len(crops), FEATURE_DIM), np.float32)
        with torch.inference_mode():
            for start in range(0, len(crops), self.batch_size):
                batch = torch.from_numpy(crops[start : start + self.batch_size]).to(self.device)
                # uint8 crosses to the device; the float maths happens there, in NHWC, and the
                # permute to NCHW is then a free channels-last view.
                pixels = batch.float() if self._takes_bgr else batch.flip(-1).float()
                images = pixels.mul_(self._scale).sub_(self._shift).permute(0, 3, 1, 2)
                features = torch.as_tensor(self._run(images))
                features = torch.nn.functional.normalize(features, dim=1)
                out[start : start + len(batch)] = features.cpu().numpy()
        return out


_OPENVINO_BATCH = 16
"""Crops per OpenVINO call, padded when fewer: OpenVINO's CPU plugin keeps memory for every
input shape it has run, so calls of varying size grew a long run by a gigabyte. The model
stays compiled for any batch: compiled for exactly this one, OpenVINO picks other kernels
and embeddings move in the seventh decimal. (A crop's embedding does not depend on its
batch.)"""

_IR_VERSION = 1
"""Bump when what `_openvino_runner` converts changes (fusing, input order), so cached IRs of the
old network are not used."""


def _openvino_runner(
    network: nn.Module, weights_sha256: str | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Compile ``network`` with OpenVINO for CPU, keeping float32 so caches agree with torch.

    OpenVINO would otherwise pick bfloat16 on CPUs that have it: faster again, but embeddings
    then differ from torch's in the third decimal. Converting (a trace of the network) takes
    seconds, so the converted model of known weights is kept in the user cache and read back
    next time (float32 weights, so the embeddings stay exactly the same).
    """
    try:
        import openvino  # heavy and optional: imported only when chosen
    except ImportError as error:
        raise MotCliError("the openvino re-ID backend needs the 'openvino' package") from error
    core = openvino.Core()
    cached = _cached_ir(openvino, weights_sha256)
    converted = None
    if cached is not None and cached.exists():
        try:
            converted = core.read_model(str(cached))
        except RuntimeError:  # a damaged cache entry: convert again
            converted = None
    if converted is None:
        converted = _convert(openvino, network)
        if cached is not None:
            _save_ir(openvino, converted, cached)
    compiled = core.compile_model(converted, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    def run(images: torch.Tensor) -> torch.Tensor:
        pixels = images.contiguous().numpy()
        out = np.empty((len(pixels), FEATURE_DIM), np.float32)
        for start in range(0, len(pixels), _OPENVINO_BATCH):
            part = pixels[start : start + _OPENVINO_BATCH]
            count = len(part)
            if count < _OPENVINO_BATCH:  # pad with copies of the first crop
                part = np.concatenate([part, np.repeat(part[:1], _OPENVINO_BATCH - count, 0)])
            out[start : start + count] = compiled(part)[0][:count]
        return torch.from_numpy(out)

    return run


def _convert(openvino: Any, network: nn.Module) -> Any:
    example = torch.zeros((1, 3, *INPUT_SIZE), dtype=torch.float32)
    with warnings.catch_warnings():
        # OpenVINO's converter traces with torch.jit, which torch now flags as deprecated;
        # that is the converter's business, not the user's.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        return openvino.convert_model(
            network.cpu(), example_input=example, input=[(-1, 3, *INPUT_SIZE)]
        )


def _cached_ir(openvino: Any, weights_sha256: str | None) -> Path | None:
    """Where the converted network of these weights is kept (None: weights unknown)."""
    if weights_sha256 is None:
        return None
    from mot_cli.models import user_cache_dir

    stamp = f"{weights_sha256}|{openvino.__version__}|{torch.__version__}|{_IR_VERSION}"
    name = hashlib.sha256(stamp.encode()).hexdigest()[:24]
    return user_cache_dir().parent / "openvino" / f"osnet-{name}" / "model.xml"


def _save_ir(openvino: Any, model: Any, path: Path) -> None:
    """Save the IR (.xml + .bin) into a folder of its own, renamed into place when complete.

    The cache only saves time, so a cache that cannot be written is skipped silently.
    """
    import shutil
    import tempfile

    folder = path.parent
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return
    try:
        openvino.save_model(model, str(staging / path.name), compress_to_fp16=False)
        os.replace(staging, folder)
    except (OSError, RuntimeError):  # another process cached it first, or the disk refused
        shutil.rmtree(staging, ignore_errors=True)
