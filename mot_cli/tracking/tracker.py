"""OC-SORT / Deep OC-SORT tracker: track lifecycle around the cues, the filter and matching.

One `Tracker.update` call per frame runs these rounds (ref: Cao et al. 2023, OC-SORT;
Maggiolino et al. 2023, Deep OC-SORT; Zhang et al. 2022, ByteTrack):

1. confident detections vs all tracks, similarity ``w_iou S_iou + w_angle S_angle +
   W_emb S_emb + w_sd S_sd + w_iom S_mask_iom`` (W_emb adaptive): the weighted sum over the
   cue table's rows (`mot_cli.tracking.cues.CUE_TABLE`), gated by IoU with the
   Kalman prediction; S_sd compares depth×mask embeddings (`Detections.sd_embedding`) with
   each track's moving average of them, S_mask_iom a track's last mask, moved with its
   predicted box, with each detection's (`Detections.masks`);
2. optionally BYTE: weak detections vs the tracks still unmatched, by IoU;
3. OCR: confident detections left vs tracks left, by IoU with their *last observation*
   (recovers tracks whose prediction drifted while lost);
4. optionally re-identification: detections left vs tracks left by appearance alone,
   within a distance that grows with the time the track was missing.

Matched tracks are corrected (with ORU when they come back from a gap), update their
velocity direction and, unless the detection is heavily covered by another one (ref:
SAM2MOT's occlusion-aware memory; by boxes, or with `mask_occlusion` by other masks inside
its box), their appearance and depth×mask memories with Deep OC-SORT's
confidence-dependent moving average. Unmatched confident detections start tracks; a track
gets its public id when it is confirmed, so ids run 1, 2, 3 ... per tracker with no gaps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mot_cli.detections import Detections
from mot_cli.maskgrid import MaskGrid, covered_by_others
from mot_cli.schema import DEPTH_STAGE, MASKS_STAGE, SD_EMBEDDINGS_STAGE
from mot_cli.tracking import kalman
from mot_cli.tracking.assign import Matches, assign
from mot_cli.tracking.config import TrackerConfig
from mot_cli.tracking.cues import (
    CUE_TABLE,
    CueRow,
    DetView,
    TrackView,
    cosine_similarity,
    covered_fraction,
    embedding_cue,
    iou_cue,
    iou_matrix,
)
from mot_cli.tracking.postprocess import TrackTable, drop_short_tracks, postprocess_table


@dataclass(frozen=True)
class TrackOutput:
    """Confirmed tracks matched in one frame, as parallel arrays.

    Attributes:
        ids: (K,) int32 track ids, unique, counted from 1 per tracker.
        xyxy: (K, 4) float32 boxes (the matched detection's box).
        score: (K,) float32 the matched detection's score, as given to the tracker.
        det_index: (K,) int32 index of the matched detection in this frame's Detections.
    """

    ids: np.ndarray
    xyxy: np.ndarray
    score: np.ndarray
    det_index: np.ndarray

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.ids)


def _column(dtype: type, fill: object, shape: tuple[int | str, ...] = ()) -> dict[str, Any]:
    """A `_Tracks` column's declaration (field metadata): its dtype, the value a started track
    takes where `_start` gives none, and its trailing shape in an empty bank ("delta_t": the
    config's velocity window)."""
    return {"dtype": dtype, "fill": fill, "shape": shape}


@dataclass
class _Tracks:
    """Struct-of-arrays state of all live tracks (row t is one track), internal to Tracker.

    The columns are declared once, here; rows come only from `add` (a column it is not given
    takes its declared fill) and go only through `select`, both over every column, and
    assigning a column of another length raises, so no column can get out of step.
    """

    # (T,) internal key, unique per tracker; public id, 0 until confirmed
    key: np.ndarray = field(metadata=_column(np.int64, 0))
    id: np.ndarray = field(metadata=_column(np.int32, 0))
    # Kalman state and covariance; the same right after the last observation (for ORU)
    mean: np.ndarray = field(metadata=_column(np.float64, 0.0, (8,)))
    cov: np.ndarray = field(metadata=_column(np.float64, 0.0, (8, 8)))
    saved_mean: np.ndarray = field(metadata=_column(np.float64, 0.0, (8,)))
    saved_cov: np.ndarray = field(metadata=_column(np.float64, 0.0, (8, 8)))
    # last observed box; box observed this frame (NaN if none); observations 1..delta_t
    # frames ago (NaN if none); unit direction of motion
    last_obs: np.ndarray = field(metadata=_column(np.float64, 0.0, (4,)))
    current_obs: np.ndarray = field(metadata=_column(np.float64, 0.0, (4,)))
    history: np.ndarray = field(metadata=_column(np.float64, np.nan, ("delta_t", 4)))
    velocity: np.ndarray = field(metadata=_column(np.float64, 0.0, (2,)))
    # matched frames; in a row; frames since the last observation
    hits: np.ndarray = field(metadata=_column(np.int64, 1))
    hit_streak: np.ndarray = field(metadata=_column(np.int64, 1))
    since_update: np.ndarray = field(metadata=_column(np.int64, 0))
    # detection matched this frame (-1 if none) and its score
    det_index: np.ndarray = field(metadata=_column(np.int64, -1))
    score: np.ndarray = field(metadata=_column(np.float64, 0.0))
    # (T, E) appearance memory (E = 0 until the first embedding); (T, F) depth x mask memory
    embedding: np.ndarray = field(metadata=_column(np.float64, 0.0, (0,)))
    has_embedding: np.ndarray = field(metadata=_column(np.bool_, False))
    sd_embedding: np.ndarray = field(metadata=_column(np.float64, 0.0, (0,)))
    has_sd: np.ndarray = field(metadata=_column(np.bool_, False))
    # last observed mask's cells (MaskGrid.bits) or None, its window's top-left cell, its set
    # cells, and the centre of the box it was observed with (that frame's pixels)
    mask_bits: np.ndarray = field(metadata=_column(np.object_, None))
    mask_origin: np.ndarray = field(metadata=_column(np.int64, 0, (2,)))
    mask_area: np.ndarray = field(metadata=_column(np.int64, 0))
    mask_centre: np.ndarray = field(metadata=_column(np.float64, 0.0, (2,)))
    has_mask: np.ndarray = field(metadata=_column(np.bool_, False))
    # filtered nearness (the depth-level cue), NaN until a detection brings one
    depth_level: np.ndarray = field(metadata=_column(np.float64, np.nan))
    # started by a weak detection (`weak_start_hits`): dropped at its first miss until confirmed
    weak: np.ndarray = field(metadata=_column(np.bool_, False))
    # sum of the matched detections' scores
    score_sum: np.ndarray = field(metadata=_column(np.float64, 0.0))

    def __setattr__(self, name: str, value: np.ndarray) -> None:
        """Replace a column; one of another length than the bank's is refused."""
        if name != "key" and len(value) != len(self.key):
            raise ValueError(f"track column {name} has {len(value)} rows, the bank {len(self)}")
        object.__setattr__(self, name, value)

    @classmethod
    def empty(cls, delta_t: int) -> _Tracks:
        """No tracks."""
        dims = {"delta_t": delta_t}
        return cls(
            **{
                spec.name: np.zeros(
                    (0, *(dims.get(d, d) for d in spec.metadata["shape"])),
                    spec.metadata["dtype"],
                )
                for spec in _COLUMNS
            }
        )

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.key)

    def select(self, rows: np.ndarray) -> _Tracks:
        """Keep some rows (boolean mask or indices)."""
        if rows.dtype == bool and rows.all():
            return self
        return _Tracks._of({spec.name: getattr(self, spec.name)[rows] for spec in _COLUMNS})

    def add(self, n: int, **given: np.ndarray) -> _Tracks:
        """Append `n` rows: the `given` columns, and every other column's declared fill (in
        that column's trailing shape, e.g. the embedding width in use)."""
        unknown = set(given) - {spec.name for spec in _COLUMNS}
        if unknown:
            raise ValueError(f"no track columns {sorted(unknown)}")
        columns = {}
        for spec in _COLUMNS:
            old = getattr(self, spec.name)
            new = given.get(spec.name)
            if new is None:
                new = np.full((n, *old.shape[1:]), spec.metadata["fill"], spec.metadata["dtype"])
            elif len(new) != n:
                raise ValueError(f"track column {spec.name} given {len(new)} rows for {n}")
            columns[spec.name] = np.concatenate([old, new])
        return _Tracks._of(columns)

    @classmethod
    def _of(cls, columns: dict[str, np.ndarray]) -> _Tracks:
        """A bank of columns already in step (every one made from this bank's rows by one
        rule), without checking each assignment again: `select` runs several times a frame."""
        bank = object.__new__(cls)
        bank.__dict__.update(columns)
        return bank


_COLUMNS = dataclasses.fields(_Tracks)


def _widen(memory: np.ndarray, dim: int, what: str) -> np.ndarray:
    """Give an embedding memory its width on first use; refuse a width change later."""
    if memory.shape[1] == dim:
        return memory
    if memory.shape[1] == 0:
        return np.zeros((len(memory), dim))
    raise ValueError(f"{what} width changed from {memory.shape[1]} to {dim} within a sequence")


_DEFAULT_FPS = 25.0
"""Frame rate assumed for `reid_speed` when the video's own is unknown."""


class Tracker:
    """Online OC-SORT tracker with Deep OC-SORT appearance; one instance per video.

    Call `update` once per frame in order, `reset` before another video. Scores are compared
    with the config's thresholds as given, and clipped to [0, 1] where they weigh cues, so
    pass probability-like scores (`track_sequence` normalises a sequence for you).
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        fps: float | None = None,
        cues: Sequence[CueRow] | None = None,
    ) -> None:
        """Create a tracker with no tracks; `config` defaults to `TrackerConfig()`.

        `fps` (the video's frame rate; 25 when None) turns the frames a track was lost into
        seconds for the re-identification gate (`reid_speed`), and scales the settings
        counted in frames on video slower than `reference_fps` (`TrackerConfig.at_frame_rate`).
        `cues` is the cue table the first round sums (`mot_cli.tracking.cues.CUE_TABLE`
        when None; pass your own rows to try a cue).
        """
        self.config = (config if config is not None else TrackerConfig()).at_frame_rate(fps)
        self.fps = float(fps) if fps and fps > 0 else _DEFAULT_FPS
        self.cues = tuple(CUE_TABLE if cues is None else cues)
        self._terms = tuple(
            (row, weight)
            for row in self.cues
            if row.function is not None and (weight := row.weight_in(self.config))
        )
        # the caches the weighted terms read: only their per-track memories are kept
        self._reads = {cache for row, _ in self._terms for cache in row.needs}
        self._noise = kalman.KalmanNoise(self.config.std_position, self.config.std_velocity)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks; the next confirmed track gets id 1 again."""
        self._tracks = _Tracks.empty(self.config.delta_t)
        self._frame = 0
        self._next_key = 0
        self._next_id = 1
        self._mask_cell: int | None = None

    def update(
        self,
        detections: Detections,
        warp: np.ndarray | None = None,
        sd_embedding: np.ndarray | None = None,
    ) -> TrackOutput:
        """Advance one frame; return the confirmed tracks matched in it.

        Args:
            detections: this frame's boxes, scores and optional appearance embeddings.
            warp: 2x3 affine or 3x3 homography mapping the previous frame's pixels onto this
                frame's (camera motion), or None for a static camera.
            sd_embedding: optional (N, F) depth x segmentation embeddings of the detections;
                None uses `detections.sd_embedding` (if any).
        """
        t = self._step(detections, warp, sd_embedding)
        rows = np.flatnonzero(t.id > 0)
        return TrackOutput(
            ids=t.id[rows].astype(np.int32),
            xyxy=detections.xyxy[t.det_index[rows]].astype(np.float32),
            score=detections.score[t.det_index[rows]].astype(np.float32),
            det_index=t.det_index[rows].astype(np.int32),
        )

    def step(self, detections: Detections, warp: np.ndarray | None = None) -> _Tracks:
        """Advance one frame; return every track row matched or started in it, confirmed or
        not (`key` names a track before it has an id): what offline backfill needs."""
        return self._step(detections, warp, None)

    @property
    def keys_issued(self) -> int:
        """How many track keys were handed out (keys run 0..keys_issued-1)."""
        return self._next_key

    # -- one frame -------------------------------------------------------------------------

    def _step(
        self, dets: Detections, warp: np.ndarray | None, sd_embedding: np.ndarray | None
    ) -> _Tracks:
        """Run one frame; return the rows of tracks that were matched or started in it."""
        cfg = self.config
        self._frame += 1
        sd_embedding = self._sd_input(dets, sd_embedding)
        self._advance(warp)
        tr = self._tracks
        if dets.embedding is not None:
            tr.embedding = _widen(tr.embedding, dets.embedding.shape[1], "embedding")
        if sd_embedding is not None:
            tr.sd_embedding = _widen(tr.sd_embedding, sd_embedding.shape[1], "sd_embedding")
        masks = dets.masks
        if masks is not None:
            if self._mask_cell not in (None, masks.cell):
                raise ValueError(
                    f"mask cell changed from {self._mask_cell} to {masks.cell} within a sequence"
                )
            self._mask_cell = masks.cell

        xyxy = dets.xyxy.astype(np.float64)
        score = dets.score.astype(np.float64)
        high = np.flatnonzero(score > cfg.det_threshold)
        low = np.flatnonzero((score > cfg.low_threshold) & (score <= cfg.det_threshold))
        emb = None if dets.embedding is None else dets.embedding.astype(np.float64)

        previous = self._previous_obs()
        predicted = kalman.z_to_xyxy(tr.mean)
        use_masks = masks is not None and MASKS_STAGE in self._reads
        level = dets.depth_level if DEPTH_STAGE in self._reads else None
        view = TrackView(
            xyxy=predicted,
            last_obs=tr.last_obs,
            previous_obs=previous,
            velocity=tr.velocity,
            embedding=tr.embedding if tr.embedding.shape[1] else None,
            has_embedding=tr.has_embedding,
            sd_embedding=tr.sd_embedding if tr.sd_embedding.shape[1] else None,
            masks=self._track_masks(predicted, masks.cell) if use_masks else None,
            depth_level=None if level is None else tr.depth_level,
        )

        def det_view(idx: np.ndarray) -> DetView:
            return DetView(
                xyxy[idx],
                np.clip(score[idx], 0.0, 1.0),
                None if emb is None else emb[idx],
                None if sd_embedding is None else sd_embedding[idx],
                masks[idx] if use_masks else None,
                None if level is None else level[idx],
            )

        all_tracks = np.arange(len(tr))
        pairs: list[tuple[np.ndarray, np.ndarray]] = []

        def record(m: Matches, track_rows: np.ndarray, det_rows: np.ndarray) -> None:
            pairs.append((track_rows[m.tracks], det_rows[m.dets]))

        occluded = self._occluded(xyxy, score, masks)

        # 1. confident detections, all cues, gated by IoU with the prediction; where the gate
        # leaves a choice, appearance rules out the clearly worse candidates
        similarity, iou, appearance = self._similarity(view, det_view(high))
        gate = iou >= cfg.iou_threshold
        if appearance is not None and cfg.appearance_margin < 2.0:
            gate = appearance_gate(
                gate, appearance, tr.has_embedding, ~occluded[high], cfg.appearance_margin
            )
        m = assign(similarity, gate)
        record(m, all_tracks, high)
        left_tracks, left_high = m.unmatched_tracks, high[m.unmatched_dets]

        # 2. BYTE: weak detections vs unmatched tracks, by IoU with the prediction
        left_low = low
        if cfg.use_byte and len(low) and len(left_tracks):
            iou = iou_matrix(view.xyxy[left_tracks], xyxy[low])
            m = assign(iou, iou >= cfg.iou_threshold)
            record(m, left_tracks, low)
            left_tracks, left_low = left_tracks[m.unmatched_tracks], low[m.unmatched_dets]

        # 3. OCR: confident leftovers vs tracks' last observations
        if cfg.use_ocr and len(left_high) and len(left_tracks):
            iou = iou_matrix(tr.last_obs[left_tracks], xyxy[left_high])
            m = assign(iou, iou >= cfg.ocr_iou_threshold)
            record(m, left_tracks, left_high)
            left_tracks, left_high = left_tracks[m.unmatched_tracks], left_high[m.unmatched_dets]

        # 4. re-identification of lost tracks by appearance, within a growing radius
        if cfg.reid_recovery and emb is not None and len(left_high) and len(left_tracks):
            sim, allowed = self._reid_similarity(
                left_tracks, xyxy[left_high], emb[left_high], predicted
            )
            m = assign(sim, allowed)
            record(m, left_tracks, left_high)
            left_high = left_high[m.unmatched_dets]

        track_rows = np.concatenate([p[0] for p in pairs]).astype(np.int64)
        det_rows = np.concatenate([p[1] for p in pairs]).astype(np.int64)
        self._correct(track_rows, det_rows, xyxy, score, emb, sd_embedding, previous, occluded)
        weak_births = self._weak_births(left_low, xyxy, emb, predicted, high)
        self._start(left_high[score[left_high] > cfg.new_track_threshold], xyxy, score, emb,
                    sd_embedding)
        self._start(weak_births, xyxy, score, emb, sd_embedding, weak=True)
        if masks is not None:
            self._remember_masks(masks, xyxy)
        if level is not None:
            self._remember_levels(level)
        self._confirm()
        matched = self._tracks.select(np.flatnonzero(self._tracks.since_update == 0))  # a copy
        tr = self._tracks
        unproven = tr.weak & (tr.id == 0) & (tr.since_update > 0)
        self._tracks = tr.select((tr.since_update <= cfg.max_age) & ~unproven)
        return matched

    def _weak_births(
        self,
        left_low: np.ndarray,
        xyxy: np.ndarray,
        emb: np.ndarray | None,
        predicted: np.ndarray,
        high: np.ndarray,
    ) -> np.ndarray:
        """The unmatched weak detections that may start a track (`weak_start_hits`).

        Only where no track, live or lost, overlaps the box with its prediction, nor any
        confident detection of this frame, and no lost track may take it back by appearance
        (`_reid_similarity`): a weak birth must not fork a person the tracker knows or is
        about to start, only find one it would never have had.
        """
        cfg = self.config
        if cfg.weak_start_hits <= 0 or not cfg.use_byte or len(left_low) == 0:
            return left_low[:0]
        known = np.concatenate([predicted, xyxy[high]])  # every track, every confident box
        alone = left_low[~(iou_matrix(known, xyxy[left_low]) > 0.0).any(axis=0)]
        tr = self._tracks
        lost = np.flatnonzero((tr.id > 0) & (tr.since_update > 0))
        if emb is not None and len(alone) and len(lost):
            _, allowed = self._reid_similarity(lost, xyxy[alone], emb[alone], predicted)
            alone = alone[~allowed.any(axis=0)]
        return alone

    def _remember_levels(self, level: np.ndarray) -> None:
        """Fold this frame's nearness into the matched and new tracks' levels (an EMA)."""
        tr = self._tracks
        rows = np.flatnonzero(tr.det_index >= 0)
        seen = level.astype(np.float64)[tr.det_index[rows]]
        old = tr.depth_level[rows]
        keep = self.config.depth_level_memory
        blended = np.where(np.isnan(old), seen, keep * old + (1.0 - keep) * seen)
        tr.depth_level[rows] = np.where(np.isnan(seen), old, blended)

    def _sd_input(self, dets: Detections, given: np.ndarray | None) -> np.ndarray | None:
        """This frame's sd embeddings (given, else the detections'), checked; None when no
        weighted cue reads them, since an unweighted memory could not change a match."""
        sd = dets.sd_embedding if given is None else given
        if sd is None or SD_EMBEDDINGS_STAGE not in self._reads:
            return None
        sd = np.asarray(sd, dtype=np.float64)
        if sd.ndim != 2 or len(sd) != len(dets):
            raise ValueError(f"sd_embedding must be (N={len(dets)}, F)")
        return sd

    def _advance(self, warp: np.ndarray | None) -> None:
        """Move every track to this frame: camera warp, Kalman prediction, bookkeeping."""
        tr = self._tracks
        if warp is not None and len(tr):
            tr.mean, tr.cov = kalman.warp_state(tr.mean, tr.cov, warp)
            tr.saved_mean, tr.saved_cov = kalman.warp_state(tr.saved_mean, tr.saved_cov, warp)
            tr.last_obs = kalman.warp_boxes(tr.last_obs, warp)
            tr.current_obs = kalman.warp_boxes(tr.current_obs, warp)
            shape = tr.history.shape
            tr.history = kalman.warp_boxes(tr.history.reshape(-1, 4), warp).reshape(shape)
        tr.mean, tr.cov = kalman.predict(tr.mean, tr.cov, self._noise)
        tr.history = np.concatenate([tr.current_obs[:, None], tr.history[:, :-1]], axis=1)
        tr.current_obs = np.full_like(tr.current_obs, np.nan)
        tr.hit_streak[tr.since_update > 0] = 0
        tr.since_update += 1
        tr.det_index[:] = -1
        self._tracks = tr.select(np.isfinite(tr.mean[:, :4]).all(axis=1))

    def _previous_obs(self) -> np.ndarray:
        """Per track, the oldest observation within the last delta_t frames, else the last one.

        This is OC-SORT's reference point for the direction of motion: far enough back that
        one noisy box does not swing the direction, recent enough to follow turns.
        """
        tr = self._tracks
        present = np.isfinite(tr.history[:, :, 0])
        k = tr.history.shape[1]
        oldest = k - 1 - np.argmax(present[:, ::-1], axis=1)
        picked = tr.history[np.arange(len(tr)), oldest]
        return np.where(present.any(axis=1)[:, None], picked, tr.last_obs)

    def _similarity(
        self, view: TrackView, dets: DetView
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Weigh and sum the first round's cues (the rows of the cue table that are on); also
        return the IoU that gates them and the raw appearance similarity (None without
        embeddings, and then the appearance term is left out)."""
        no_emb = view.embedding is None or dets.embedding is None
        iou = iou_cue(view, dets)
        appearance = None if no_emb else embedding_cue(view, dets)
        known = {iou_cue: iou, embedding_cue: appearance}  # computed once, used twice
        total = np.zeros(iou.shape)
        for row, weight in self._terms:
            sim = known[row.function] if row.function in known else row.function(view, dets)
            if sim is None:
                continue
            if row.weigh is not None:
                sim, weight = row.weigh(sim, weight, self.config)
            total = total + weight * sim
        return total, iou, appearance

    def _reid_similarity(
        self, rows: np.ndarray, det_xyxy: np.ndarray, det_emb: np.ndarray, predicted: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Appearance similarity of lost tracks and detections, and where it may be used.

        A pair is allowed when it looks alike (`reid_threshold`), the detection lies within
        ``height * (reid_max_distance + reid_speed * seconds lost)`` of the track's predicted
        or last box (both already moved by the camera warps), and no other live track (one
        observed in the previous frame) overlaps the detection with its prediction at
        `iou_threshold`: a lost person is never recovered onto someone the tracker is
        following, however alike they look. The detection must also look more like the lost
        track than like any other track, by `reid_margin`: in a group of look-alikes
        appearance cannot say who is who.
        """
        cfg = self.config
        tr = self._tracks
        shape = (len(rows), len(det_xyxy))
        if tr.embedding.shape[1] == 0:
            return np.zeros(shape), np.zeros(shape, bool)
        sim = cosine_similarity(tr.embedding[rows], det_emb)
        centre_d = (det_xyxy[:, :2] + det_xyxy[:, 2:]) / 2
        dist = np.full(shape, np.inf)
        for boxes in (predicted[rows], tr.last_obs[rows]):
            centre_t = (boxes[:, :2] + boxes[:, 2:]) / 2
            dist = np.minimum(dist, np.linalg.norm(centre_t[:, None] - centre_d[None], axis=2))
        last = tr.last_obs[rows]
        height = last[:, 3] - last[:, 1]
        seconds = (tr.since_update[rows] - 1).clip(min=0) / self.fps
        radius = height * (cfg.reid_max_distance + cfg.reid_speed * seconds)
        allowed = (
            (sim >= cfg.reid_threshold) & (dist <= radius[:, None]) & tr.has_embedding[rows, None]
        )
        if cfg.reid_margin > -2.0 and allowed.any():
            allowed &= sim >= _best_other(tr.embedding, tr.has_embedding, rows, det_emb) + (
                cfg.reid_margin
            )
        live = np.flatnonzero(tr.since_update <= 1)
        if len(live):
            covers = iou_matrix(predicted[live], det_xyxy) >= cfg.iou_threshold  # (L, D)
            others = covers.sum(axis=0)[None, :] - (
                covers[np.searchsorted(live, rows).clip(max=len(live) - 1)]
                & np.isin(rows, live)[:, None]
            )
            allowed &= others == 0
        return sim, allowed

    def _occluded(
        self, xyxy: np.ndarray, score: np.ndarray, masks: MaskGrid | None
    ) -> np.ndarray:
        """Which detections another considered detection covers too much to trust appearance:
        by its box, or with `mask_occlusion` and masks, by its mask inside the box."""
        cfg = self.config
        occluded = np.zeros(len(xyxy), bool)
        if not cfg.skip_occluded_embedding:
            return occluded
        considered = np.flatnonzero(score > cfg.low_threshold)
        if cfg.mask_occlusion and masks is not None:
            cover = covered_by_others(masks[considered])
            occluded[considered] = cover > cfg.mask_occlusion_threshold
        else:
            occluded[considered] = covered_fraction(xyxy[considered]) > cfg.occlusion_threshold
        return occluded

    def _track_masks(self, predicted: np.ndarray, cell: int) -> MaskGrid:
        """Every track's last mask moved with its box to the prediction (camera motion
        included); a track without one stands in with its predicted box."""
        tr = self._tracks
        centre = (predicted[:, :2] + predicted[:, 2:]) / 2
        have = tr.has_mask
        if have.all():
            remembered = MaskGrid(cell, tr.mask_origin, tuple(tr.mask_bits), tr.mask_area)
            return remembered.moved(centre - tr.mask_centre)
        boxes = MaskGrid.from_boxes(predicted, cell)
        moved = MaskGrid(
            cell, tr.mask_origin[have], tuple(tr.mask_bits[have]), tr.mask_area[have]
        ).moved(centre[have] - tr.mask_centre[have])
        origin = boxes.origin.copy()
        origin[have] = moved.origin
        bits = list(boxes.bits)
        for row, mask in zip(np.flatnonzero(have).tolist(), moved.bits, strict=True):
            bits[row] = mask
        area = boxes.area.copy()
        area[have] = moved.area
        return MaskGrid(cell, origin, tuple(bits), area)

    def _remember_masks(self, masks: MaskGrid, xyxy: np.ndarray) -> None:
        """Tracks matched or started this frame keep their detection's mask and box centre."""
        tr = self._tracks
        rows = np.flatnonzero(tr.det_index >= 0)
        if not len(rows):
            return
        det = tr.det_index[rows]
        for row, index in zip(rows.tolist(), det.tolist(), strict=True):
            tr.mask_bits[row] = masks.bits[index]
        tr.mask_origin[rows] = masks.origin[det]
        tr.mask_area[rows] = masks.area[det]
        tr.mask_centre[rows] = (xyxy[det, :2] + xyxy[det, 2:]) / 2
        tr.has_mask[rows] = True

    def _alpha(self, score: np.ndarray) -> np.ndarray:
        """Deep OC-SORT's confidence-dependent EMA factor (ref: §3.3, "dynamic appearance").

        alpha = alpha_f + (1 - alpha_f) (1 - trust), trust = (s - threshold) / (1 - threshold):
        a barely-confident box barely changes the memory.
        """
        cfg = self.config
        span = max(1.0 - cfg.det_threshold, 1e-6)
        trust = np.clip((np.clip(score, 0.0, 1.0) - cfg.det_threshold) / span, 0.0, 1.0)
        return cfg.alpha_fixed_emb + (1.0 - cfg.alpha_fixed_emb) * (1.0 - trust)

    def _correct(
        self,
        rows: np.ndarray,
        det_rows: np.ndarray,
        xyxy: np.ndarray,
        score: np.ndarray,
        emb: np.ndarray | None,
        sd: np.ndarray | None,
        previous: np.ndarray,
        occluded: np.ndarray,
    ) -> None:
        """Update matched tracks' filters, velocities, memories and counters in place."""
        if len(rows) == 0:
            return
        cfg = self.config
        tr = self._tracks
        boxes = xyxy[det_rows]
        gaps = tr.since_update[rows]
        back = gaps > 1 if cfg.use_oru else np.zeros(len(rows), bool)
        mean, cov = tr.mean[rows], tr.cov[rows]
        if (~back).any():
            keep = ~back
            mean[keep], cov[keep] = kalman.update(mean[keep], cov[keep], boxes[keep], self._noise)
        if back.any():
            r = rows[back]
            mean[back], cov[back] = kalman.re_update(
                tr.saved_mean[r],
                tr.saved_cov[r],
                tr.last_obs[r],
                boxes[back],
                gaps[back],
                self._noise,
            )
        tr.mean[rows], tr.cov[rows] = mean, cov
        tr.saved_mean[rows], tr.saved_cov[rows] = mean, cov

        step = (boxes[:, :2] + boxes[:, 2:]) / 2 - (previous[rows, :2] + previous[rows, 2:]) / 2
        tr.velocity[rows] = step / (np.linalg.norm(step, axis=1, keepdims=True) + 1e-6)
        tr.last_obs[rows] = boxes
        tr.current_obs[rows] = boxes
        tr.since_update[rows] = 0
        tr.hits[rows] += 1
        tr.hit_streak[rows] += 1
        tr.det_index[rows] = det_rows
        tr.score[rows] = score[det_rows]
        tr.score_sum[rows] += score[det_rows]

        alpha = self._alpha(score[det_rows])
        fresh = ~occluded[det_rows]
        if emb is not None:
            _blend(tr.embedding, tr.has_embedding, rows, emb[det_rows], alpha, fresh)
        if sd is not None:
            _blend(tr.sd_embedding, tr.has_sd, rows, sd[det_rows], alpha, fresh)

    def _start(
        self,
        det_rows: np.ndarray,
        xyxy: np.ndarray,
        score: np.ndarray,
        emb: np.ndarray | None,
        sd: np.ndarray | None,
        weak: bool = False,
    ) -> None:
        """Start one unconfirmed track per unmatched detection (confident, or `weak`)."""
        n = len(det_rows)
        if n == 0:
            return
        tr = self._tracks
        boxes = xyxy[det_rows]
        mean, cov = kalman.initiate(boxes, self._noise)
        keys = np.arange(self._next_key, self._next_key + n, dtype=np.int64)
        self._next_key += n
        given: dict[str, np.ndarray] = {}
        if emb is not None:
            given |= {"embedding": emb[det_rows], "has_embedding": np.ones(n, bool)}
        if sd is not None:
            given |= {"sd_embedding": sd[det_rows], "has_sd": np.ones(n, bool)}
        self._tracks = tr.add(
            n,
            key=keys,
            mean=mean,
            cov=cov,
            saved_mean=mean.copy(),
            saved_cov=cov.copy(),
            last_obs=boxes.copy(),
            current_obs=boxes.copy(),
            det_index=det_rows.astype(np.int64),
            score=score[det_rows],
            weak=np.full(n, weak),
            score_sum=score[det_rows].copy(),
            **given,
        )

    def _confirm(self) -> None:
        """Give ids to tracks matched now that reached min_hits (or in the first frames).

        Confirmation sticks: a confirmed track that comes back after a gap keeps its id and
        is output at once (OC-SORT makes it wait min_hits frames again).
        """
        cfg = self.config
        tr = self._tracks
        ready = (tr.since_update == 0) & (tr.id == 0)
        normal = (tr.hit_streak >= cfg.min_hits) | (self._frame <= cfg.min_hits)
        # a weak-born track dies at its first miss, so its hits are one unbroken streak
        proven = (tr.hit_streak >= cfg.weak_start_hits) & (
            tr.score_sum >= cfg.weak_start_score * tr.hits
        )
        ready &= np.where(tr.weak, proven, normal)
        rows = np.flatnonzero(ready)
        tr.id[rows] = np.arange(self._next_id, self._next_id + len(rows))
        self._next_id += len(rows)


def _best_other(
    memory: np.ndarray, present: np.ndarray, rows: np.ndarray, det_emb: np.ndarray
) -> np.ndarray:
    """(R, D): for each of `rows` and each detection, the highest cosine similarity of the
    detection to any *other* track with an appearance memory (-1 when there is none)."""
    out = np.full((len(rows), len(det_emb)), -1.0)
    have = np.flatnonzero(present)
    if len(have) == 0 or len(det_emb) == 0:
        return out
    every = cosine_similarity(memory[have], det_emb)  # (H, D)
    top = np.argmax(every, axis=0)
    first = every[top, np.arange(every.shape[1])]
    if len(have) > 1:
        masked = every.copy()
        masked[top, np.arange(every.shape[1])] = -np.inf
        second = masked.max(axis=0)
    else:
        second = np.full(len(det_emb), -1.0)
    is_top = have[top][None, :] == rows[:, None]  # (R, D): the row is the detection's top
    return np.where(is_top, second[None, :], first[None, :])


def appearance_gate(
    gate: np.ndarray,
    appearance: np.ndarray,
    track_has: np.ndarray,
    det_clean: np.ndarray,
    margin: float,
) -> np.ndarray:
    """Rule out gated pairs that look clearly worse than another gated candidate.

    Where the IoU gate lets a track reach several detections, or a detection several tracks,
    geometry alone cannot tell them apart; a pair whose appearance similarity is more than
    `margin` below the best alternative of its track (or of its detection) is dropped. Pairs
    with only one candidate are untouched, and so are tracks without an appearance memory and
    detections whose embedding is not clean (covered by another box).

    Args:
        gate: (T, D) bool, the IoU gate.
        appearance: (T, D) cosine similarity of track memories and detection embeddings.
        track_has: (T,) which tracks have an appearance memory.
        det_clean: (D,) which detections' embeddings can be trusted.
        margin: how much worse (in cosine) a candidate may look than the best one.
    """
    usable = gate & track_has[:, None] & det_clean[None, :]
    if usable.sum() < 2:
        return gate
    scored = np.where(usable, appearance, -np.inf)
    best_of_track = scored.max(axis=1, keepdims=True)
    best_of_det = scored.max(axis=0, keepdims=True)
    worse = (appearance < best_of_track - margin) | (appearance < best_of_det - margin)
    return gate & ~(usable & worse)


def _blend(
    memory: np.ndarray,
    present: np.ndarray,
    rows: np.ndarray,
    new: np.ndarray,
    alpha: np.ndarray,
    fresh: np.ndarray,
) -> None:
    """EMA of L2-normalised embeddings in place; rows without memory take the new one."""
    first = ~present[rows]
    use = fresh | first
    a = np.where(first, 0.0, alpha)[:, None]
    mixed = a * memory[rows] + (1.0 - a) * new
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True) + 1e-12
    memory[rows[use]] = mixed[use]
    present[rows[use]] = True


# -- offline ----------------------------------------------------------------------------------


def score_normaliser(scores: np.ndarray, mode: str) -> np.ndarray:
    """Map a whole sequence's detection scores to [0, 1] as `TrackerConfig.score_scale` says.

    Done per sequence, offline, because a detector's scale is only known from its output:
    ACF margins, YOLO probabilities and Faster R-CNN softmax scores all become comparable
    with one set of thresholds.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if mode == "auto":
        inside = scores.size == 0 or (scores.min() >= 0.0 and scores.max() <= 1.0)
        mode = "raw" if inside else "minmax"
    if mode == "raw" or scores.size == 0:
        return scores.copy()
    if mode == "minmax":
        low, high = scores.min(), scores.max()
        if high <= low:
            return np.ones_like(scores)
        return (scores - low) / (high - low)
    if mode == "rank":
        ordered = np.sort(scores)
        below = np.searchsorted(ordered, scores, side="left")
        upto = np.searchsorted(ordered, scores, side="right")
        return (below + upto) / (2.0 * len(scores))
    raise ValueError(f"unknown score_scale {mode!r}; valid: auto, raw, minmax, rank")


def track_sequence(
    frames: Iterable[tuple[int, Detections, np.ndarray | None]],
    config: TrackerConfig | None = None,
    fps: float | None = None,
    *,
    cues: Sequence[CueRow] | None = None,
) -> TrackTable:
    """Track a whole sequence offline and apply the config's offline improvements.

    Args:
        frames: ``(frame number, detections, warp or None)`` in increasing frame order;
            frames without detections may be given as empty Detections or skipped (a skipped
            frame still advances the tracks' prediction).
        config: tracker settings, including `score_scale` and the offline options.
        fps: the video's frame rate, for settings given at `config.reference_fps`.
        cues: the cue table (`Tracker`'s `cues`; the built-in one when None).

    Returns:
        A TrackTable sorted by frame then id, ids counted from 1; scores are the ones the
        tracker compared with its thresholds (after `score_scale`).
    """
    tracker = Tracker(config, fps, cues)
    cfg = tracker.config  # scaled to `fps` by the tracker: the offline steps read the same
    frames = list(frames)
    if not frames:
        return TrackTable.empty()
    all_scores = np.concatenate([d.score for _, d, _ in frames])
    normal = score_normaliser(all_scores, cfg.score_scale)
    parts: list[dict[str, np.ndarray]] = []
    emb_dim = next((d.embedding.shape[1] for _, d, _ in frames if d.embedding is not None), 0)
    start, previous_frame = 0, None
    for number, dets, warp in frames:
        if previous_frame is not None and number <= previous_frame:
            raise ValueError(f"frames must increase; frame {number} follows {previous_frame}")
        if previous_frame is not None:
            for _ in range(number - previous_frame - 1):
                tracker.step(Detections.empty())
        previous_frame = number
        scaled = dets.replace(score=normal[start : start + len(dets)])
        start += len(dets)
        rows = tracker.step(scaled, warp)
        idx = rows.det_index
        parts.append(
            {
                "frame": np.full(len(rows), number, np.int64),
                "key": rows.key,
                "id": rows.id.astype(np.int64),
                "xyxy": dets.xyxy[idx].astype(np.float64),
                "score": scaled.score[idx].astype(np.float64),
                "det": idx,
                "weak": rows.weak.copy(),
                "emb": dets.embedding[idx]
                if dets.embedding is not None
                else np.zeros((len(idx), emb_dim)),
            }
        )
    raw = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    # the id each key finally got (0: never confirmed); with backfill a confirmed track's
    # confident rows from before its confirmation count too, without it only the rows from
    # confirmation on
    final = np.zeros(tracker.keys_issued, np.int64)
    np.maximum.at(final, raw["key"], raw["id"])
    ids = raw["id"]
    # a weak-born track's rows before its confirmation are the evidence that confirmed it
    early = (ids == 0) & raw["weak"]
    if cfg.backfill:
        early |= (ids == 0) & (raw["score"] >= cfg.fill_min_score)
    ids = np.where(early, final[raw["key"]], ids)
    keep = ids > 0
    table = TrackTable(
        frame=raw["frame"][keep].astype(np.int32),
        id=ids[keep].astype(np.int32),
        xyxy=raw["xyxy"][keep].astype(np.float32),
        score=raw["score"][keep].astype(np.float32),
        det=raw["det"][keep].astype(np.int32),
    )
    embeddings = raw["emb"][keep] if emb_dim else None
    # weak evidence must last longer than confident evidence before it is believed, and one
    # confident box must back it (`weak_needs_confident`): BYTE starts no track without one
    weak = np.isin(table.id, ids[keep & raw["weak"]])
    born_weak = table.select(weak)
    proven = drop_short_tracks(born_weak, cfg.weak_min_track_length).id
    if cfg.weak_needs_confident:
        confirmed = (born_weak.det >= 0) & (born_weak.score > cfg.det_threshold)
        proven = np.intersect1d(proven, born_weak.id[confirmed])
    held = ~weak | np.isin(table.id, proven)
    table = table.select(held)
    embeddings = None if embeddings is None else embeddings[held]
    warps = {number: warp for number, _, warp in frames if warp is not None}
    return postprocess_table(table, cfg, embeddings, warps or None)
