"""Similarity cues: pure functions from tracks and detections to a (T, D) matrix, and the
one table that says which of them the tracker adds up.

Every cue has the same call shape, ``cue(tracks: TrackView, dets: DetView) -> (T, D)``. The
cue table `CUE_TABLE` gives each cue of the first round its row: the function, the
`TrackerConfig` field that weighs it, and the stage caches it needs. The tracker's cost is
the weighted sum over the rows that are on (ref: OC-SORT's table of association functions;
SelfTrEncMOT's ``-(S_iou + S_angle + S_sd + S_emb)``), the track stage's plan and the run
recipes ask `needed_caches` which caches to make and read, so nothing else names a cue's
weight. The array-level functions they wrap (`iou_matrix`, `angle_similarity`, ...) are
public for tests and reuse.

Adding a cue: write its function here and add its row to `CUE_TABLE`; give it a weight field
in `TrackerConfig` (default 0, a range in `_RANGES`) so settings can turn it on. A row's
weight is looked up by that field's name, and a row whose field the config lacks uses the
row's `default`, so a cue can be tried without touching mot_cli: pass
``Tracker(config, cues=(*CUE_TABLE, CueRow("mine", my_cue, "w_mine", default=1.0)))``.
A cue that reads what `Detections` does not carry yet also needs that field and the cache
that fills it (`stages.track.cached_inputs`).

Ranges: ``iou``, ``iom``, ``mask_iom`` and ``last_iou`` in [0, 1]; ``angle`` in [-0.5, 0.5]
(times the detection score in [0, 1]); ``embedding`` and ``depth_segmentation`` in [-1, 1]
(cosine), 0 where either side has no embedding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mot_cli.maskgrid import MaskGrid, mask_iom
from mot_cli.schema import DEPTH_STAGE, MASKS_STAGE, SD_EMBEDDINGS_STAGE
from mot_cli.tracking.config import TrackerConfig


@dataclass(frozen=True)
class TrackView:
    """What cues may know about T tracks at this frame (geometry in current-frame pixels).

    Attributes:
        xyxy: (T, 4) Kalman-predicted boxes.
        last_obs: (T, 4) last observed boxes.
        previous_obs: (T, 4) the observation about delta_t frames ago (NaN rows: none yet).
        velocity: (T, 2) unit direction of motion (dx, dy) of the box centre; zeros: unknown.
        embedding: (T, E) L2-normalised appearance memory, or None.
        has_embedding: (T,) which rows of `embedding` hold a memory.
        sd_embedding: (T, F) depth x segmentation memory, or None.
        masks: (T) last observed masks moved to the predicted boxes, or None.
        depth_level: (T,) filtered nearness of each track (NaN: none yet), or None.
    """

    xyxy: np.ndarray
    last_obs: np.ndarray
    previous_obs: np.ndarray
    velocity: np.ndarray
    embedding: np.ndarray | None = None
    has_embedding: np.ndarray | None = None
    sd_embedding: np.ndarray | None = None
    masks: MaskGrid | None = None
    depth_level: np.ndarray | None = None


@dataclass(frozen=True)
class DetView:
    """What cues may know about D detections of this frame.

    Attributes:
        xyxy: (D, 4) boxes.
        score: (D,) scores normalised to [0, 1].
        embedding: (D, E) L2-normalised appearance embeddings, or None.
        sd_embedding: (D, F) depth x segmentation embeddings, or None.
        masks: (D) instance masks, or None.
        depth_level: (D,) nearness of each detection (NaN: unknown), or None.
    """

    xyxy: np.ndarray
    score: np.ndarray
    embedding: np.ndarray | None = None
    sd_embedding: np.ndarray | None = None
    masks: MaskGrid | None = None
    depth_level: np.ndarray | None = None


def _intersection(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise intersection areas (A, B) and each side's areas; NaN boxes give 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if np.isnan(a).any():
        a = np.where(np.isnan(a), 0.0, a)
    if np.isnan(b).any():
        b = np.where(np.isnan(b), 0.0, b)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter, area_a, area_b


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in `a` (A, 4) with every box in `b` (B, 4)."""
    inter, area_a, area_b = _intersection(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iom_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller area, in [0, 1] (ref: DIOR's mask IoM, boxes version).

    Unlike IoU it is 1 when one box lies inside another, which is what a partly hidden
    person's box does; it flags occlusion and containment that IoU underrates.
    """
    inter, area_a, area_b = _intersection(a, b)
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)


def covered_fraction(xyxy: np.ndarray) -> np.ndarray:
    """For each box (N, 4), the largest fraction of its area that one other box covers."""
    inter, area, _ = _intersection(xyxy, xyxy)
    np.fill_diagonal(inter, 0.0)
    frac = np.divide(inter, area[:, None], out=np.zeros_like(inter), where=area[:, None] > 0)
    return frac.max(axis=1, initial=0.0)


def _centres(xyxy: np.ndarray) -> np.ndarray:
    return (xyxy[:, :2] + xyxy[:, 2:]) / 2


def angle_similarity(
    velocity: np.ndarray, previous_obs: np.ndarray, det_xyxy: np.ndarray, det_score: np.ndarray
) -> np.ndarray:
    """OC-SORT's velocity-direction consistency, in [-0.5, 0.5] times the detection score.

    For track t and detection d, compare the track's direction of motion with the direction
    from its observation ~delta_t frames ago to d: ``(pi/2 - angle) / pi`` is 0.5 when they
    agree, -0.5 when opposite (ref: OC-SORT §3.3, "OCM"). Tracks without such an observation
    or without a known velocity score 0. Scaling by the score trusts confident boxes more.
    """
    t, d = len(velocity), len(det_xyxy)
    if t == 0 or d == 0:
        return np.zeros((t, d))
    valid = np.isfinite(previous_obs).all(axis=1)
    prev = _centres(np.where(valid[:, None], previous_obs, 0.0))
    delta = _centres(np.asarray(det_xyxy, dtype=np.float64))[None, :, :] - prev[:, None, :]
    norm = np.linalg.norm(delta, axis=2)
    dot = delta[..., 0] * velocity[:, None, 0] + delta[..., 1] * velocity[:, None, 1]
    cos = dot / np.where(norm > 0, norm, 1.0)
    angle = np.arccos(np.clip(cos, -1.0, 1.0))
    sim = (np.pi / 2 - angle) / np.pi
    sim[~valid] = 0.0
    return sim * np.clip(np.asarray(det_score, dtype=np.float64), 0.0, 1.0)[None, :]


def cosine_similarity(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """Cosine similarity (A, B) of L2-normalised rows; zeros when either side is missing."""
    if a is None or b is None:
        na = 0 if a is None else len(a)
        nb = 0 if b is None else len(b)
        return np.zeros((na, nb))
    return np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64).T


def adaptive_embedding_weight(sim: np.ndarray, base: float, max_gap: float) -> np.ndarray:
    """Deep OC-SORT's per-pair appearance weight, in [base, base + max_gap].

    A track whose best detection is much more similar than its second best (and likewise a
    detection whose best track stands out) is discriminative, so its appearance term gets
    ``0.5 * min(top1 - top2, max_gap)`` extra from each side (ref: Maggiolino et al. 2023,
    Deep OC-SORT §3.3, "adaptive weighting"). With one candidate there is no gap to measure.
    """
    t, d = sim.shape
    weight = np.full((t, d), float(base))
    if d >= 2:
        top = -np.partition(-sim, 1, axis=1)[:, :2]
        weight += 0.5 * np.minimum(top[:, 0] - top[:, 1], max_gap)[:, None]
    if t >= 2:
        top = -np.partition(-sim, 1, axis=0)[:2, :]
        weight += 0.5 * np.minimum(top[0] - top[1], max_gap)[None, :]
    return weight


def bisoftmax(sim: np.ndarray, temperature: float = 0.1) -> np.ndarray:
    """MASA's bi-softmax: mean of the row-wise and column-wise softmax of ``sim / T``, in [0, 1].

    A pair scores high only when each is the other's clear favourite, which suppresses the
    many look-alike pairs raw cosine similarity leaves close together (ref: MASA, Li et al.
    2024, §3.4).
    """
    if sim.size == 0:
        return np.zeros_like(sim, dtype=np.float64)
    logits = np.asarray(sim, dtype=np.float64) / temperature
    rows = np.exp(logits - logits.max(axis=1, keepdims=True))
    rows /= rows.sum(axis=1, keepdims=True)
    cols = np.exp(logits - logits.max(axis=0, keepdims=True))
    cols /= cols.sum(axis=0, keepdims=True)
    return 0.5 * (rows + cols)


def iou_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """IoU of predicted track boxes with detections, in [0, 1]."""
    return iou_matrix(tracks.xyxy, dets.xyxy)


def last_iou_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """IoU of tracks' last observations with detections (OC-SORT's OCR round), in [0, 1]."""
    return iou_matrix(tracks.last_obs, dets.xyxy)


def iom_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Intersection over minimum of predicted boxes and detections, in [0, 1]."""
    return iom_matrix(tracks.xyxy, dets.xyxy)


def mask_iom_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Mask intersection over minimum of tracks' moved masks and detections', in [0, 1].

    Without masks on either side it is the boxes' IoM (`iom_cue`), so the cue still means
    "how much of the smaller object lies inside the other".
    """
    if tracks.masks is None or dets.masks is None:
        return iom_cue(tracks, dets)
    return mask_iom(tracks.masks, dets.masks)


def angle_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Velocity-direction consistency scaled by detection score, in [-0.5, 0.5]."""
    return angle_similarity(tracks.velocity, tracks.previous_obs, dets.xyxy, dets.score)


def embedding_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Cosine similarity of track appearance memories and detection embeddings, in [-1, 1]."""
    sim = cosine_similarity(tracks.embedding, dets.embedding)
    if sim.size and tracks.has_embedding is not None:
        sim[~tracks.has_embedding] = 0.0
    if sim.shape != (len(tracks.xyxy), len(dets.xyxy)):
        return np.zeros((len(tracks.xyxy), len(dets.xyxy)))
    return sim


def depth_segmentation_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Cosine similarity of depth x mask embeddings (S_sd), in [-1, 1]; zeros when absent."""
    sim = cosine_similarity(tracks.sd_embedding, dets.sd_embedding)
    if sim.shape != (len(tracks.xyxy), len(dets.xyxy)):
        return np.zeros((len(tracks.xyxy), len(dets.xyxy)))
    return sim


def depth_level_jump(track_level: np.ndarray, det_level: np.ndarray) -> np.ndarray:
    """Relative jump in nearness from each track's level to each detection's, in [0, 1]:
    |a - b| / max(|a|, |b|), so relative and metric maps read alike; 0 where either is
    unknown (NaN) or both are 0."""
    a = np.asarray(track_level, dtype=np.float64).reshape(-1, 1)
    b = np.asarray(det_level, dtype=np.float64).reshape(1, -1)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = np.abs(a - b) / scale
    return np.nan_to_num(np.clip(jump, 0.0, 1.0), nan=0.0)


def overlapping(xyxy: np.ndarray) -> np.ndarray:
    """(D,) which boxes overlap another box of the frame."""
    return covered_fraction(xyxy) > 0


def ambiguous(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """(D,) detections whose position alone is ambiguous: the box overlaps another
    detection's, or more than one track's predicted box (one box where two people meet)."""
    tracks_over = (iou_matrix(track_xyxy, det_xyxy) > 0).sum(axis=0)
    return overlapping(det_xyxy) | (tracks_over > 1)


def depth_level_cue(tracks: TrackView, dets: DetView) -> np.ndarray:
    """Minus the jump in nearness a match would make (a person does not step from behind
    someone to in front of them between frames), in [-1, 0]; only for detections whose
    position is ambiguous (`ambiguous`; ref: SparseTrack's depth levels, used where boxes
    crowd); zeros without levels."""
    shape = (len(tracks.xyxy), len(dets.xyxy))
    if tracks.depth_level is None or dets.depth_level is None:
        return np.zeros(shape)
    jump = depth_level_jump(tracks.depth_level, dets.depth_level)
    return -jump * ambiguous(tracks.xyxy, dets.xyxy)[None, :]


Cue = Callable[[TrackView, DetView], np.ndarray]
_SETTINGS = frozenset(TrackerConfig.__dataclass_fields__)
Weigh = Callable[[np.ndarray, float, TrackerConfig], tuple[np.ndarray, np.ndarray | float]]


def weigh_appearance(
    sim: np.ndarray, weight: float, config: TrackerConfig
) -> tuple[np.ndarray, np.ndarray | float]:
    """The appearance term as Deep OC-SORT weighs it: optionally MASA's bi-softmax of the
    similarity, and the adaptive per-pair weight (`adaptive_embedding_weight`)."""
    if config.bisoftmax:
        sim = bisoftmax(sim, config.bisoftmax_temperature)
    if config.adaptive_weighting:
        return sim, adaptive_embedding_weight(sim, weight, config.adaptive_max_gap)
    return sim, weight


@dataclass(frozen=True)
class CueRow:
    """One row of the cue table: a term of the first round's similarity, or a setting that
    reads a cache without adding a term.

    Attributes:
        name: the cue's name (`get_cue`).
        function: the pure cue, ``(TrackView, DetView) -> (T, D)``; None for a row that adds
            no term (`mask_occlusion` reads masks to judge occlusion, not to match).
        weight: the `TrackerConfig` field that weighs the term (or, without a function,
            switches the row on); the row is off while it is 0 / false.
        needs: the stage caches the row reads while it is on: the recipes make those stages,
            the track stage's plan requires them and keys the tracks on them, and the tracker
            keeps the matching per-track memory (sd embeddings, masks) only then.
        default: the weight when `TrackerConfig` has no field named `weight`: a cue added
            from outside mot_cli (a notebook, a test) works before it has a setting.
        weigh: optional ``(similarity, weight, config) -> (similarity, weight)`` applied
            before the term is added (appearance: bi-softmax and adaptive weighting).
    """

    name: str
    function: Cue | None
    weight: str
    needs: tuple[str, ...] = ()
    default: float = 0.0
    weigh: Weigh | None = None

    def weight_in(self, config: TrackerConfig) -> float:
        """This row's weight under `config` (its `default` when the config has no such
        field)."""
        return getattr(config, self.weight) if self.weight in _SETTINGS else self.default


CUE_TABLE: tuple[CueRow, ...] = (
    CueRow("iou", iou_cue, "w_iou"),
    CueRow("angle", angle_cue, "w_angle"),
    # the embeddings cache is made while re-ID is on (`--no-reid` turns it off), whatever
    # w_emb says; without embeddings on either side the term is left out
    CueRow("embedding", embedding_cue, "w_emb", weigh=weigh_appearance),
    CueRow("depth_segmentation", depth_segmentation_cue, "w_sd", needs=(SD_EMBEDDINGS_STAGE,)),
    CueRow("mask_iom", mask_iom_cue, "w_iom", needs=(MASKS_STAGE,)),
    CueRow("mask_occlusion", None, "mask_occlusion", needs=(MASKS_STAGE,)),
    CueRow("depth_level", depth_level_cue, "w_depth_level", needs=(DEPTH_STAGE,)),
)
"""The cue table, in the order the terms are summed: the tracker's first-round similarity is
``sum(weight * function(tracks, dets))`` over the rows that are on (module doc: a new cue
is one function above plus one row here, and a weight field in `TrackerConfig`)."""

CUES: dict[str, Cue] = {
    "last_iou": last_iou_cue,
    "iom": iom_cue,
    **{row.name: row.function for row in CUE_TABLE if row.function is not None},
}
"""Every cue function by name: the table's and the helpers other rounds use."""


def needed_caches(
    config: TrackerConfig, table: Sequence[CueRow] = CUE_TABLE
) -> dict[str, str]:
    """The caches the rows that `config` switches on read, each with why (for messages)."""
    why: dict[str, list[str]] = {}
    for row in table:
        if row.weight_in(config):
            said = row.weight if row.function is None else f"{row.weight} > 0 ({row.name})"
            for cache in row.needs:
                why.setdefault(cache, []).append(said)
    return {
        cache: f"{' and '.join(said)} need{'s' if len(said) == 1 else ''} {cache}"
        for cache, said in why.items()
    }


def get_cue(name: str) -> Cue:
    """Look a cue up by name; an unknown name raises a ValueError listing the valid ones."""
    try:
        return CUES[name]
    except KeyError:
        raise ValueError(f"unknown cue {name!r}; valid cues: {', '.join(sorted(CUES))}") from None
