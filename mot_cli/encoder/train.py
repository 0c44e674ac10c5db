"""Self-supervised training of the depth×mask encoder: InfoNCE over views and links, no labels.

ref: InfoNCE (van den Oord et al., 2018) as used by SimCLR (Chen et al., 2020): each anchor
must pick out its positive among the batch. Here a positive is another random view of the
same detection, or a view of the detection it is unambiguously linked to in a neighbouring
frame (`pairs.py`) — the link teaches the encoder what changes from frame to frame (pose,
mask errors), which augmentation alone cannot. Negatives are the batch's other detections;
batches are whole frames, so the objects an embedding must tell apart — those of the same
frame — always compete. Members of one tracklet are never used as each other's negatives.

With ``positives="identities"`` (the reference's supervised recipe, an upper bound for the
bench) the positive is instead another detection of the same ground-truth identity, from
any frame of the same video, and detections of one identity are never each other's
negatives (`labels.py` gives detections their ids).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional

from mot_cli import __version__
from mot_cli.cache import stage_key, write_json
from mot_cli.encoder.augment import AugmentConfig, augmented_views
from mot_cli.encoder.data import (
    FrameArrays,
    RunFrames,
    TrainingSet,
    build_training_set,
    read_run,
)
from mot_cli.encoder.model import DepthMaskEncoder, EncoderConfig, build_encoder, save_checkpoint
from mot_cli.encoder.pairs import LinkConfig
from mot_cli.errors import MotCliError

POSITIVES = ("links", "identities")

__all__ = [
    "POSITIVES",
    "TrainConfig",
    "TrainResult",
    "Trained",
    "checkpoint_record_path",
    "fit_runs",
    "info_nce",
    "train_encoder",
    "train_on_runs",
    "training_key",
]


@dataclass(frozen=True)
class TrainConfig:
    """How to train; `encoder` fixes the network, the rest only how it learns.

    Attributes:
        epochs: passes over every detection (more when that is under `min_steps`).
        min_steps: optimiser steps at least; a short video's few detections need many
            passes (on TUD-Campus, 422 detections: 70 steps leave same- and other-identity
            pairs far less separated than 210 steps do).
        batch: detections per step (whole frames are added until it is reached).
        temperature: InfoNCE temperature; lower sharpens the contrast between candidates.
        learning_rate: Adam's step size (cosine-decayed to zero over training).
        weight_decay: Adam's L2 penalty.
        link_positive: odds that an anchor's positive is its linked detection in a
            neighbouring frame rather than another view of itself (when it has a link).
        seed: fixes initial weights, frame order, positives and augmentations.
        threads: torch CPU threads while training. One is the default because this small
            network's many short kernels gain little from more, a shared CPU makes them
            wait on each other (here, 2 threads ran 3.7x slower than 1 under load), and a
            fixed count keeps the sums, so the weights, the same across machines.
        positives: ``"links"`` (no labels: views and unambiguous cross-frame links) or
            ``"identities"`` (ground-truth ids the training set must carry; supervised).
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    links: LinkConfig = field(default_factory=LinkConfig)
    epochs: int = 3
    min_steps: int = 200
    batch: int = 64
    temperature: float = 0.1
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    link_positive: float = 0.5
    seed: int = 0
    threads: int = 1
    positives: str = "links"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise MotCliError(f"--epochs must be >= 1, got {self.epochs}")
        if self.min_steps < 0:
            raise MotCliError(f"--min-steps must be >= 0, got {self.min_steps}")
        if self.batch < 2:
            raise MotCliError(f"--batch must be >= 2 (InfoNCE needs negatives), got {self.batch}")
        if not 0 < self.temperature < math.inf:  # NaN fails every comparison
            raise MotCliError(f"--temperature must be a positive number, got {self.temperature}")
        if not 0 < self.learning_rate < math.inf:
            raise MotCliError(f"--lr must be a positive number, got {self.learning_rate}")
        if self.threads < 1:
            raise MotCliError(f"--threads must be >= 1, got {self.threads}")
        if not 0.0 <= self.link_positive <= 1.0:
            raise MotCliError(f"link_positive must be in [0, 1], got {self.link_positive}")
        if self.positives not in POSITIVES:
            raise MotCliError(
                f"positives must be one of {', '.join(POSITIVES)}, got {self.positives!r}"
            )


@dataclass(frozen=True)
class TrainResult:
    """The trained encoder (eval mode) and how training went."""

    encoder: DepthMaskEncoder
    epoch_losses: list[float]
    epochs: int
    steps: int
    samples: int
    seconds: float

    @property
    def samples_per_second(self) -> float:
        """Anchor detections per second (each costs two views, forward and backward)."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")


def training_key(config: TrainConfig, upstream: Sequence[dict[str, str | None]]) -> str:
    """A key that changes when the config or any cache trained on (in order) changes; the
    runs' folder names do not enter it, so moving a run folder keeps the key."""
    settings = asdict(config)
    if settings["encoder"]["depth_norm"] == "crop":  # the default keeps the keys it had
        del settings["encoder"]["depth_norm"]
    return stage_key("sd_encoder", config=settings, upstream=list(upstream))


def info_nce(
    anchors: torch.Tensor, positives: torch.Tensor, groups: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Symmetric InfoNCE of (B, D) unit vectors whose row i is a positive pair.

    Other rows are negatives, except rows of the same `groups` label (one tracklet), which
    are left out of the softmax rather than pushed apart.
    """
    logits = anchors @ positives.T / temperature
    same = groups[:, None] == groups[None, :]
    same.fill_diagonal_(False)
    logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(len(anchors))
    return 0.5 * (
        functional.cross_entropy(logits, target) + functional.cross_entropy(logits.T, target)
    )


def _batches(groups: list[np.ndarray], batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Whole frames in random order, packed until each batch holds at least `batch` samples."""
    out, current, size = [], [], 0
    for index in rng.permutation(len(groups)):
        current.append(groups[index])
        size += len(groups[index])
        if size >= batch:
            out.append(np.concatenate(current))
            current, size = [], 0
    if current:
        leftover = np.concatenate(current)
        if out and len(leftover) < 2:
            out[-1] = np.concatenate([out[-1], leftover])
        else:
            out.append(leftover)
    return [b for b in out if len(b) >= 2]


def _partners(
    anchors: np.ndarray, data: TrainingSet, odds: float, rng: np.random.Generator
) -> np.ndarray:
    """Each anchor's positive: a linked neighbour (previous or next, at random) with
    probability `odds` when it has one, else the anchor itself (a second view)."""
    before, after = data.previous[anchors], data.next[anchors]
    pick_before = rng.random(len(anchors)) < 0.5
    neighbour = np.where(pick_before, before, after)
    neighbour = np.where(neighbour >= 0, neighbour, np.where(pick_before, after, before))
    use = (neighbour >= 0) & (rng.random(len(anchors)) < odds)
    return np.where(use, neighbour, anchors)


@dataclass(frozen=True)
class _Identities:
    """Same-identity lookup for supervised positives: members of each id, contiguous."""

    order: np.ndarray  # sample indices sorted by identity
    start: np.ndarray  # (M,) where a sample's identity begins in `order`
    size: np.ndarray  # (M,) members of that identity (0: unlabelled)
    position: np.ndarray  # (M,) the sample's own place among them
    groups: np.ndarray  # (M,) InfoNCE group label: the identity, or a unique one

    @classmethod
    def of(cls, identity: np.ndarray) -> _Identities:
        """The lookup for (M,) identities (−1: unlabelled, never anyone's positive)."""
        count = len(identity)
        order = np.argsort(identity, kind="stable")
        ids = identity[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if count else np.zeros(0, int)
        sizes = np.diff(np.r_[starts, count])
        run_start, run_size = np.repeat(starts, sizes), np.repeat(sizes, sizes)
        start = np.empty(count, np.int64)
        size = np.empty(count, np.int64)
        position = np.empty(count, np.int64)
        start[order], size[order] = run_start, run_size
        position[order] = np.arange(count) - run_start
        labelled = identity >= 0
        size[~labelled] = 0
        groups = np.where(labelled, identity, identity.max(initial=0) + 1 + np.arange(count))
        return cls(order, start, size, position, groups)

    def partners(self, anchors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Another member of each anchor's identity at random (itself when alone or
        unlabelled)."""
        size = self.size[anchors]
        step = 1 + np.floor(rng.random(len(anchors)) * np.maximum(size - 1, 1)).astype(np.int64)
        place = (self.position[anchors] + step) % np.maximum(size, 1)
        other = self.order[self.start[anchors] + place]
        return np.where(size > 1, other, anchors)


@contextmanager
def _deterministic(seed: int, threads: int) -> Iterator[None]:
    """Seeded, deterministic torch on `threads` threads for the block; the global RNG, flag
    and thread count are restored afterwards."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous)
            torch.set_num_threads(previous_threads)


def _batch_loss(
    encoder: DepthMaskEncoder,
    data: TrainingSet,
    anchors: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    generator: torch.Generator,
    identities: _Identities | None = None,
) -> torch.Tensor:
    """InfoNCE of one batch: a view of each anchor against a view of its positive."""
    if identities is not None:
        partners = identities.partners(anchors, rng)
        labels = identities.groups
    else:
        partners = _partners(anchors, data, config.link_positive, rng)
        labels = data.tracklet
    size = config.encoder.input_size
    per_crop = config.encoder.depth_norm == "crop"
    views = torch.cat(
        [
            augmented_views(*data.windows(rows), size, config.augment, generator, per_crop)
            for rows in (anchors, partners)
        ]
    )
    # Channels-last runs these small convolutions ~1.6x faster on CPU.
    embedded = encoder(views.contiguous(memory_format=torch.channels_last))
    groups = torch.from_numpy(labels[anchors])
    return info_nce(embedded[: len(anchors)], embedded[len(anchors) :], groups, config.temperature)


def train_encoder(
    data: TrainingSet, config: TrainConfig, *, show_progress: bool = True
) -> TrainResult:
    """Train a fresh encoder on `data`; same data, config and seed give the same weights
    (CPU kernels of another instruction set may round differently)."""
    from mot_cli.progress import loss_bar

    identities = None
    if config.positives == "identities":
        if data.identity is None:
            raise MotCliError("positives='identities' needs ground-truth ids on every frame")
        identities = _Identities.of(data.identity)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    plan = [_batches(data.groups, config.batch, rng)]
    if not plan[0]:
        raise MotCliError("training needs a frame or batch with at least 2 detections")
    epochs = max(config.epochs, -(-config.min_steps // len(plan[0])))
    plan += [_batches(data.groups, config.batch, rng) for _ in range(epochs - 1)]
    steps = sum(len(epoch) for epoch in plan)
    epoch_losses: list[float] = []
    started = time.perf_counter()
    with _deterministic(config.seed, config.threads):
        encoder = build_encoder(config.encoder, seed=config.seed)
        encoder = encoder.to(memory_format=torch.channels_last).train()
        optimiser = torch.optim.Adam(
            encoder.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
        bar = loss_bar("train-encoder", steps) if show_progress else nullcontext(None)
        with bar as advance:
            for batches in plan:
                losses = []
                for anchors in batches:
                    loss = _batch_loss(
                        encoder, data, anchors, config, rng, generator, identities
                    )
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    schedule.step()
                    losses.append(loss.item())
                    if advance is not None:
                        advance(1, losses[-1])
                epoch_losses.append(float(np.mean(losses)))
    encoder = encoder.to(memory_format=torch.contiguous_format).eval()
    samples = sum(len(anchors) for batches in plan for anchors in batches)
    seconds = time.perf_counter() - started
    return TrainResult(encoder, epoch_losses, epochs, steps, samples, seconds)


def checkpoint_record_path(checkpoint: Path) -> Path:
    """Where a checkpoint's record (sha256, config, what it trained on) is written."""
    return checkpoint.with_name(checkpoint.name + ".json")


def _counted(frames: Iterable[FrameArrays], advance: Callable[[int], None]) -> Iterator:
    for arrays in frames:
        yield arrays
        advance(1)


@dataclass(frozen=True)
class Trained:
    """An encoder trained on run folders' caches, with what its weights depend on.

    `provenance` (config, key, the caches trained on, losses) goes into the checkpoint, so the
    same inputs and seed give the same file; `timings` only into the record beside it.
    """

    result: TrainResult
    provenance: dict[str, Any]
    timings: dict[str, float]

    def record(self, sha256: str) -> dict[str, Any]:
        """The checkpoint's record (`<checkpoint>.json`): provenance, sha256 and timings."""
        return self.provenance | {"sha256": sha256} | self.timings


def fit_runs(
    runs: Sequence[RunFrames], config: TrainConfig, *, show_progress: bool = True
) -> Trained:
    """Cut every detection's context window from the runs' caches, then train on them."""
    from mot_cli.progress import progress_bar

    upstream = {str(run.run_dir.path): dict(run.keys) for run in runs}
    started = time.perf_counter()
    total = sum(len(run) for run in runs)
    bar = progress_bar("encoder crops", total) if show_progress else nullcontext(None)
    with bar as advance:
        frames = [run if advance is None else _counted(run, advance) for run in runs]
        data = build_training_set(
            frames, config.encoder.input_size, config.links, config.encoder.depth_norm
        )
    prepared = time.perf_counter() - started
    result = train_encoder(data, config, show_progress=show_progress)
    provenance: dict[str, Any] = {
        "key": training_key(config, list(upstream.values())),
        "config": asdict(config),
        "runs": upstream,
        "detections": len(data),
        "links": data.links,
        "epochs": result.epochs,
        "steps": result.steps,
        "epoch_losses": [round(loss, 5) for loss in result.epoch_losses],
        "mot_cli_version": __version__,
    }
    timings = {
        "prepare_seconds": round(prepared, 3),
        "train_seconds": round(result.seconds, 3),
        "samples_per_second": round(result.samples_per_second, 1),
    }
    return Trained(result, provenance, timings)


def train_on_runs(
    run_paths: Sequence[Path], output: Path, config: TrainConfig, *, show_progress: bool = True
) -> dict[str, Any]:
    """Train on the caches of run folders, write the checkpoint and its record; returns the
    record (also written beside the checkpoint as `<checkpoint>.json`)."""
    trained = fit_runs([read_run(Path(path)) for path in run_paths], config,
                       show_progress=show_progress)  # fmt: skip
    sha = save_checkpoint(output, trained.result.encoder, trained.provenance)
    record = trained.record(sha)
    write_json(checkpoint_record_path(output), record)
    return record
