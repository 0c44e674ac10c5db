"""The currency between stages: one frame's detections as parallel, validated arrays."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.maskgrid import MaskGrid


@dataclass(frozen=True)
class Detections:
    """Boxes of one frame as parallel arrays (supervision-style), validated on construction.

    Attributes:
        xyxy: (N, 4) float32 boxes in pixels, x1 < x2 and y1 < y2.
        score: (N,) float32 detector scores, in the detector's own scale (not clipped to [0, 1]).
        cls: (N,) int32 class ids.
        embedding: optional (N, D) float32 appearance embeddings, L2-normalised.
        sd_embedding: optional (N, F) float32 depth×mask embeddings (the `S_sd` cue),
            L2-normalised.
        masks: optional instance masks of the N detections on a coarse grid (`MaskGrid`),
            for the tracker's mask cues.
        depth_level: optional (N,) float32 nearness of each detection (the median of the
            depth map inside its mask, else its box; NaN: unknown), for the depth-level cue.
    """

    xyxy: np.ndarray
    score: np.ndarray
    cls: np.ndarray
    embedding: np.ndarray | None = field(default=None)
    sd_embedding: np.ndarray | None = field(default=None)
    masks: MaskGrid | None = field(default=None)
    depth_level: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        score = np.asarray(self.score, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.cls, dtype=np.int32).reshape(-1)
        if score.shape != (n,):
            raise ValueError(f"score has {score.shape[0]} entries, xyxy has {n}")
        if cls.shape != (n,):
            raise ValueError(f"cls has {cls.shape[0]} entries, xyxy has {n}")
        embedding = self.embedding
        if embedding is not None:
            embedding = np.asarray(embedding, dtype=np.float32)
            if embedding.ndim != 2 or embedding.shape[0] != n:
                raise ValueError(f"embedding must be (N={n}, D), got {embedding.shape}")
        sd_embedding = self.sd_embedding
        if sd_embedding is not None:
            sd_embedding = np.asarray(sd_embedding, dtype=np.float32)
            if sd_embedding.ndim != 2 or sd_embedding.shape[0] != n:
                raise ValueError(f"sd_embedding must be (N={n}, F), got {sd_embedding.shape}")
        if self.masks is not None and len(self.masks) != n:
            raise ValueError(f"masks has {len(self.masks)} entries, xyxy has {n}")
        level = self.depth_level
        if level is not None:
            level = np.asarray(level, dtype=np.float32).reshape(-1)
            if level.shape != (n,):
                raise ValueError(f"depth_level has {level.shape[0]} entries, xyxy has {n}")
            object.__setattr__(self, "depth_level", level)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "cls", cls)
        object.__setattr__(self, "embedding", embedding)
        object.__setattr__(self, "sd_embedding", sd_embedding)

    @classmethod
    def empty(cls, embedding_dim: int | None = None) -> Detections:
        emb = None if embedding_dim is None else np.zeros((0, embedding_dim), np.float32)
        return cls(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), emb
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice) -> Detections:
        """Select rows with a boolean mask, an index array or a slice."""
        emb = None if self.embedding is None else self.embedding[index]
        sd = None if self.sd_embedding is None else self.sd_embedding[index]
        masks = None if self.masks is None else self.masks[index]
        level = None if self.depth_level is None else self.depth_level[index]
        return Detections(
            self.xyxy[index], self.score[index], self.cls[index], emb, sd, masks, level
        )

    def replace(self, **changes: object) -> Detections:
        """A copy with some fields changed (validated again), e.g. ``sd_embedding=...``."""
        return dataclasses.replace(self, **changes)

    @property
    def xywh(self) -> np.ndarray:
        """Top-left corner plus size, as MOTChallenge files store boxes."""
        out = self.xyxy.copy()
        out[:, 2:] -= out[:, :2]
        return out


def rows_by_frame(frame: np.ndarray, det: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame, row indices ordered by det) for each frame present in a cache table."""
    if not len(frame):
        return
    order = np.lexsort((det, frame))
    ordered = frame[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1, len(ordered)]
    for lo, hi in pairwise(bounds):
        yield int(ordered[lo]), order[lo:hi]


def align_to_detections(
    frame: np.ndarray,
    det: np.ndarray,
    values: np.ndarray,
    detections: dict[int, Detections],
    what: str,
    rerun: str,
) -> dict[int, np.ndarray]:
    """A per-detection cache's `values` per frame, in the detections' order (row i is det i).

    A frame whose row count differs from its detections' is a cache made of other detections:
    a one-line error naming `what` holds it and how to `rerun` it.
    """
    by_frame = {number: values[rows] for number, rows in rows_by_frame(frame, det)}
    out = {}
    for number, dets in detections.items():
        rows = by_frame.get(number, values[:0])
        if len(rows) != len(dets):
            raise MotCliError(
                f"{what} has {len(rows)} rows for frame {number} but detections has "
                f"{len(dets)}; {rerun}"
            )
        out[number] = rows
    return out
