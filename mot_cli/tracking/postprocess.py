"""Offline improvements a batch tool can afford once a whole sequence has been tracked.

An online tracker must decide each frame with what it has seen; a batch run can look back.
Each step below is a pure function on a `TrackTable` and each is switched by the config:

- relinking tracklets across gaps by appearance and motion (our own simple take on the
  idea of AFLink, ref: StrongSORT, Du et al. 2023 §3.3);
- dropping tracks shorter than a few frames (mostly false positives);
- linear interpolation of short gaps (ref: StrongSORT's GSI idea, here linear);
- Gaussian smoothing of boxes along each track.

With camera motion (`offline_cmc` and the camera-motion warps), these steps run in one
reference frame's pixels: every box is moved back through the chained warps first and
forward again last, so a straight line between two observations is a straight line in the
scene, not in an image that the camera kept moving.

Emitting a track's frames from before its confirmation ("backfill") happens in
`track_sequence`, which is where those unconfirmed rows are still known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mot_cli.tracking.assign import assign
from mot_cli.tracking.config import TrackerConfig


@dataclass(frozen=True)
class TrackTable:
    """Tracks of a whole sequence as parallel arrays (one row per track per frame).

    Attributes:
        frame: (M,) int32 frame numbers (1-based, as the input gave them).
        id: (M,) int32 track ids from 1, unique within a frame.
        xyxy: (M, 4) float32 boxes.
        score: (M,) float32 detection scores (interpolated rows: interpolated scores).
        det: (M,) int32 index of the detection within its frame, -1 for filled-in rows.
    """

    frame: np.ndarray
    id: np.ndarray
    xyxy: np.ndarray
    score: np.ndarray
    det: np.ndarray

    @classmethod
    def empty(cls) -> TrackTable:
        """Make a table without rows."""
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int32),
        )

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.frame)

    def select(self, rows: np.ndarray) -> TrackTable:
        """Rows picked by a boolean mask or an index array."""
        return TrackTable(
            self.frame[rows], self.id[rows], self.xyxy[rows], self.score[rows], self.det[rows]
        )

    def sorted(self) -> TrackTable:
        """Rows ordered by frame, then id."""
        return self.select(np.lexsort((self.id, self.frame)))

    @property
    def xywh(self) -> np.ndarray:
        """Top-left corner plus size, as MOTChallenge text stores boxes."""
        out = self.xyxy.copy()
        out[:, 2:] -= out[:, :2]
        return out


def drop_short_tracks(table: TrackTable, min_length: int) -> TrackTable:
    """Remove tracks observed in fewer than `min_length` frames (filled-in rows don't count)."""
    if min_length <= 1 or len(table) == 0:
        return table
    observed = table.det >= 0
    ids, counts = np.unique(table.id[observed], return_counts=True)
    keep_ids = ids[counts >= min_length]
    return table.select(np.isin(table.id, keep_ids))


def confident_tracks(table: TrackTable, min_mean: float) -> np.ndarray:
    """Ids of tracks whose detections' mean score (a probability) reaches `min_mean`.

    A low threshold lets a tracker start tracks on weak boxes, which keeps people the
    detector is unsure of; most tracks built only from weak boxes, though, are persistent
    false positives (a pole, a poster). Judging the whole track, offline, keeps the former
    and drops the latter.

    Args:
        table: the tracks, scores in [0, 1] (filled-in rows ignored).
        min_mean: smallest mean score a track needs.
    """
    observed = table.det >= 0
    ids, inverse = np.unique(table.id[observed], return_inverse=True)
    total = np.bincount(inverse, weights=table.score[observed], minlength=len(ids))
    count = np.bincount(inverse, minlength=len(ids))
    return ids[total / np.maximum(count, 1) >= min_mean]


def interpolate_gaps(table: TrackTable, max_gap: int, anchor_score: float = 0.0) -> TrackTable:
    """Fill gaps of up to `max_gap` missing frames in each track by linear interpolation.

    A person hidden for a moment is still there; the ground truth keeps them, so a filled-in
    box usually turns a miss into a hit (and keeps one id across the gap for IDF1/AssA). Only
    a gap between two real observations scoring at least `anchor_score` is filled: a track
    held together by weak boxes must not grow invented ones.
    """
    if max_gap <= 0 or len(table) == 0:
        return table
    t = table.select(np.lexsort((table.frame, table.id)))
    anchor = (t.det >= 0) & (t.score >= anchor_score)
    same = (t.id[1:] == t.id[:-1]) & anchor[1:] & anchor[:-1]
    step = t.frame[1:].astype(np.int64) - t.frame[:-1]
    gaps = np.flatnonzero(same & (step > 1) & (step <= max_gap + 1))
    if len(gaps) == 0:
        return table.sorted()
    counts = step[gaps] - 1
    starts = np.repeat(gaps, counts)
    offsets = np.concatenate([np.arange(1, c + 1) for c in counts])
    frac = (offsets / np.repeat(step[gaps], counts))[:, None]
    a, b = starts, starts + 1
    filled = TrackTable(
        frame=(t.frame[a] + offsets).astype(np.int32),
        id=t.id[a],
        xyxy=(t.xyxy[a] + frac * (t.xyxy[b] - t.xyxy[a])).astype(np.float32),
        score=(t.score[a] + frac[:, 0] * (t.score[b] - t.score[a])).astype(np.float32),
        det=np.full(len(a), -1, np.int32),
    )
    return _concat(t, filled).sorted()


def smooth_tracks(table: TrackTable, sigma: float) -> TrackTable:
    """Fit each box coordinate locally with a Gaussian-weighted line (sigma in frames).

    Detector boxes jitter from frame to frame while people move smoothly; pooling
    neighbours moves each box towards the true one and raises localisation accuracy. A local
    *linear* fit (rather than a plain weighted mean) follows steady motion without lagging
    behind it, also at a track's first and last frames.
    """
    if sigma <= 0 or len(table) == 0:
        return table
    t = table.select(np.lexsort((table.frame, table.id)))
    out = t.xyxy.astype(np.float64).copy()
    bounds = np.flatnonzero(np.diff(t.id)) + 1
    for rows in np.split(np.arange(len(t)), bounds):
        if len(rows) < 3:
            continue
        f = t.frame[rows].astype(np.float64)
        d = f[None, :] - f[:, None]  # row i: offsets of every frame from frame i
        w = np.exp(-0.5 * (d / sigma) ** 2)
        s0, s1, s2 = w.sum(1), (w * d).sum(1), (w * d * d).sum(1)
        x = t.xyxy[rows].astype(np.float64)
        t0, t1 = w @ x, (w * d) @ x
        det = s0 * s2 - s1 * s1
        ok = det > 1e-9 * np.maximum(s0 * s2, 1e-12)
        fit = (s2[:, None] * t0 - s1[:, None] * t1) / np.where(ok, det, 1.0)[:, None]
        out[rows] = np.where(ok[:, None], fit, x)
    return TrackTable(t.frame, t.id, out.astype(np.float32), t.score, t.det).sorted()


@dataclass(frozen=True)
class _Tracklet:
    """Summary of one track for relinking: its ends, end motion and mean appearance."""

    first: int
    last: int
    head: np.ndarray  # (4,) first box
    tail: np.ndarray  # (4,) last box
    head_velocity: np.ndarray  # (2,) centre velocity near the start, px/frame
    tail_velocity: np.ndarray  # (2,) centre velocity near the end, px/frame
    embedding: np.ndarray | None


def _end_velocity(frames: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Least-squares centre velocity (px/frame) over the given rows; zero with one row."""
    if len(frames) < 2 or np.ptp(frames) == 0:
        return np.zeros(2)
    f = frames - frames.mean()
    return (f @ (centres - centres.mean(axis=0))) / (f @ f)


def _tracklets(
    table: TrackTable, embeddings: np.ndarray | None, window: int = 10
) -> tuple[np.ndarray, list[_Tracklet]]:
    ids = np.unique(table.id)
    out = []
    for i in ids:
        rows = np.flatnonzero(table.id == i)
        rows = rows[np.argsort(table.frame[rows])]
        frames = table.frame[rows].astype(np.float64)
        boxes = table.xyxy[rows].astype(np.float64)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        emb = None
        if embeddings is not None:
            mean = embeddings[rows][table.det[rows] >= 0].astype(np.float64).sum(axis=0)
            norm = np.linalg.norm(mean)
            emb = mean / norm if norm > 0 else None
        out.append(
            _Tracklet(
                first=int(frames[0]),
                last=int(frames[-1]),
                head=boxes[0],
                tail=boxes[-1],
                head_velocity=_end_velocity(frames[:window], centres[:window]),
                tail_velocity=_end_velocity(frames[-window:], centres[-window:]),
                embedding=emb,
            )
        )
    return ids, out


def relink_tracklets(
    table: TrackTable,
    embeddings: np.ndarray | None,
    max_gap: int,
    threshold: float,
) -> TrackTable:
    """Join a track that ends to one that starts soon after, when they look and move alike.

    Motion similarity is ``exp(-d)`` with d the distance between the two ends, each
    extrapolated to the middle of the gap with its own end velocity, in box heights (with
    slack growing with the gap). Appearance similarity is the cosine of the tracklets' mean
    embeddings. Their mean (motion alone when either lacks an embedding) must reach
    `threshold`; pairs are chosen one-to-one by Hungarian matching.

    Args:
        table: tracks to relink.
        embeddings: (M, E) per-row appearance embeddings aligned with `table`, or None.
        max_gap: largest number of frames between the end of one and the start of the other.
        threshold: smallest joint similarity to link.
    """
    if len(table) == 0:
        return table
    ids, parts = _tracklets(table, embeddings)
    n = len(parts)
    first = np.array([p.first for p in parts])
    last = np.array([p.last for p in parts])
    gap = first[None, :] - last[:, None]  # row ends, column starts
    allowed = (gap >= 1) & (gap <= max_gap)
    if not allowed.any():
        return table
    score = np.zeros((n, n))
    for a, b in zip(*np.nonzero(allowed), strict=True):
        score[a, b] = _link_similarity(parts[a], parts[b], int(gap[a, b]))
    m = assign(score, allowed & (score >= threshold))
    successor = dict(zip(m.tracks.tolist(), m.dets.tolist(), strict=True))
    has_predecessor = set(successor.values())
    new_id = ids.copy()
    for start in range(n):
        if start in has_predecessor:
            continue
        node = start
        while node in successor:
            node = successor[node]
            new_id[node] = ids[start]
    mapping = dict(zip(ids.tolist(), new_id.tolist(), strict=True))
    relabelled = np.array([mapping[i] for i in table.id.tolist()], dtype=np.int32)
    return TrackTable(table.frame, relabelled, table.xyxy, table.score, table.det)


def _link_similarity(a: _Tracklet, b: _Tracklet, gap: int) -> float:
    """Joint motion and appearance similarity of tracklet `a` continuing as `b`."""
    half = gap / 2.0
    end_a = (a.tail[:2] + a.tail[2:]) / 2 + a.tail_velocity * half
    start_b = (b.head[:2] + b.head[2:]) / 2 - b.head_velocity * half
    height = 0.5 * ((a.tail[3] - a.tail[1]) + (b.head[3] - b.head[1]))
    slack = height * (0.5 + 0.05 * gap)
    motion = float(np.exp(-np.linalg.norm(end_a - start_b) / max(slack, 1e-6)))
    if a.embedding is None or b.embedding is None:
        return motion
    return 0.5 * (motion + float(a.embedding @ b.embedding))


def renumber(table: TrackTable) -> TrackTable:
    """Ids 1..K in order of first appearance, so relinking leaves no holes."""
    if len(table) == 0:
        return table
    t = table.sorted()
    _, first_rows = np.unique(t.id, return_index=True)
    order = t.id[np.sort(first_rows)]
    lookup = np.zeros(int(t.id.max()) + 1, np.int32)
    lookup[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    return TrackTable(t.frame, lookup[t.id], t.xyxy, t.score, t.det).sorted()


def camera_paths(
    frames: np.ndarray, warps: Mapping[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """Per frame, the 3x3 map from the first frame's pixels to that frame's.

    `warps[f]` maps frame f-1 onto frame f (2x3 affine or 3x3); a frame without one counts
    as a still camera. The chain starts at the smallest frame of `frames` and covers every
    frame up to the largest.
    """
    out: dict[int, np.ndarray] = {}
    if len(frames) == 0:
        return out
    first, last = int(np.min(frames)), int(np.max(frames))
    current = np.eye(3)
    for number in range(first, last + 1):
        warp = warps.get(number) if number > first else None
        if warp is not None:
            step = np.eye(3)
            w = np.asarray(warp, dtype=np.float64)
            step[: w.shape[0]] = w[:3] if w.shape[0] == 3 else w
            current = step @ current
        out[number] = current
    return out


def _move_boxes(xyxy: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Each box through its own 3x3 affine: centre mapped, size scaled (as the tracker's
    `warp_boxes` does), so the round trip back is exact."""
    box = xyxy.astype(np.float64)
    centre = (box[:, :2] + box[:, 2:]) / 2
    a = matrices[:, :2, :2]
    moved = np.einsum("nij,nj->ni", a, centre) + matrices[:, :2, 2]
    scale = np.sqrt(np.abs(np.linalg.det(a)))[:, None]
    half = (box[:, 2:] - box[:, :2]) * scale / 2
    return np.concatenate([moved - half, moved + half], axis=1)


def to_reference(
    table: TrackTable, paths: dict[int, np.ndarray], inverse: bool = False
) -> TrackTable:
    """Boxes moved into the first frame's pixels (or back out of them with `inverse`)."""
    if len(table) == 0:
        return table
    chain = np.stack([paths[int(f)] for f in table.frame])
    if not inverse:
        chain = np.linalg.inv(chain)
    moved = _move_boxes(table.xyxy, chain)
    return TrackTable(table.frame, table.id, moved.astype(np.float32), table.score, table.det)


def postprocess_table(
    table: TrackTable,
    config: TrackerConfig,
    embeddings: np.ndarray | None = None,
    warps: Mapping[int, np.ndarray] | None = None,
) -> TrackTable:
    """Apply the config's offline steps: drop weak, relink, drop short, interpolate, smooth.

    Only interpolation adds boxes, and only between two of a track's observations scoring at
    least `fill_min_score`; the other steps drop rows, relabel or move boxes.

    Args:
        table: the online tracker's rows for a whole sequence, scores in [0, 1].
        config: which steps run and with what settings.
        embeddings: optional (M, E) appearance embeddings aligned with `table`'s rows.
        warps: optional per-frame camera-motion warps (frame f-1 onto frame f); with
            `offline_cmc` the geometric steps run in camera-compensated coordinates.
    """
    paths = None
    if warps and config.offline_cmc and len(table):
        paths = camera_paths(table.frame, warps)
        table = to_reference(table, paths)
    if config.min_track_score > 0 and len(table):
        keep = np.isin(table.id, confident_tracks(table, config.min_track_score))
        table = table.select(keep)
        embeddings = None if embeddings is None else embeddings[keep]
    if config.relink:
        table = relink_tracklets(table, embeddings, config.relink_max_gap, config.relink_threshold)
    table = drop_short_tracks(table, config.min_track_length)
    table = interpolate_gaps(table, config.interpolate_max_gap, config.fill_min_score)
    table = smooth_tracks(table, config.smooth_sigma)
    if paths is not None:
        table = to_reference(table, paths, inverse=True)
    return renumber(table)


def _concat(a: TrackTable, b: TrackTable) -> TrackTable:
    return TrackTable(
        np.concatenate([a.frame, b.frame]),
        np.concatenate([a.id, b.id]),
        np.concatenate([a.xyxy, b.xyxy]),
        np.concatenate([a.score, b.score]),
        np.concatenate([a.det, b.det]),
    )
