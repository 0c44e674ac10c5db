"""Every threshold and weight of the tracker in one frozen, validated dataclass.

A config is built once (defaults, `from_dict`, or `with_overrides` from CLI strings such as
``iou_threshold=0.25``) and passed explicitly; nothing is global and nothing is mutated, so a
tracking run is fully described by the config that produced it.

Scores: the tracker compares detection scores with `det_threshold` / `low_threshold` and uses
them to weight the angle cue and the embedding memory, so it reads them as probabilities in
[0, 1]. They arrive so: ultralytics detectors give probabilities, and a det.txt import maps its
detector's own scale by a fixed calibration recorded with the cache (mot_cli/scores.py). No
rule computed from the sequence itself is applied by default, because such a rule lets a
sequence full of weak boxes promote its own weakest ones past the threshold (that is how the
former default, ``"rank"``, produced thousands of false boxes on unseen moving-camera video).
`score_scale` keeps the per-sequence maps as options: ``"raw"`` (the default: the scores as
given), ``"minmax"`` (``(s - min) / (max - min)``), ``"rank"`` (each score's quantile within
the sequence) and ``"auto"`` (raw when every score lies in [0, 1], else minmax).

How the defaults were chosen: by ``bench/tune_tracker.py --cv`` on the five dev sequences
(TUD-Campus, TUD-Stadtmitte, PETS09-S2L1, KITTI-17 under MOT15 rules, MOT16-11 under MOT16
rules) and both detection sources (YOLO11n INT8 at conf >= 0.1, and each sequence's public
det.txt), from the caches `mot-cli track` writes. The pick maximises, over the sequences it
may see, the mean margin over the best boxmot peer on each sequence, each margin capped at
3 HOTA points, so that one sequence's large win cannot pay for another's loss; it is the best
of 40 random points of the search space, climbed by steepest ascent over one-step changes.
Leave-one-sequence-out, the same procedure run without each sequence's labels picked almost
the same settings (a fold differs by at most three of them) and lost 0.5 (public) and 0.1
(YOLO) combined HOTA on the sequence it had not seen; the defaults below are the pick over
all five. What moved from the previous (three-sequence, rank-scaled) defaults, and why:

- ``det_threshold=0.55`` and ``low_threshold=0.35`` on the probability scale: a YOLO11n box
  at 0.55 is a person about 70 % of the time on the dev set; weaker boxes only extend
  existing tracks through BYTE's round, and boxes under 0.35 are ignored. ``new_track_
  threshold`` stays 0 (a start needs what a first-round match needs).
- ``iou_threshold=0.3``, ``min_hits=2``, ``max_age=30`` frames, ``w_emb=1.25``,
  ``w_angle=0.1``, ``reid_threshold=0.65``: appearance carries more of the match (OSNet on
  every box), a tighter IoU gate, quicker confirmation and a longer memory.
- Offline steps, each kept only where the left-out figures say so (``--cv --ablate``, mean
  left-out HOTA over the ten sequence/source pairs, 54.40 with each fold's pick): switching
  off interpolation costs 3.5 points and smoothing 2.5, so ``interpolate_max_gap=30`` (only
  between observations scoring at least ``fill_min_score=0.3``) and ``smooth_sigma=5``
  stay; ``backfill`` is off (it gained nothing left-out); ``min_track_length=10`` is
  neutral left-out (+0.02) and ``min_track_score`` is off.

Issue 18 (ETH-Sunnyday, a camera pushed forward along a pavement, lost badly while unseen)
changed the method, not only the numbers:

- Re-identification could merge people: its radius grew by half a box height per frame lost
  around the last box in the image, so a lost track took over a look-alike who entered
  metres away. Now the radius is ``reid_max_distance + reid_speed x seconds lost`` box
  heights around the camera-compensated prediction (or last box), and a detection that a
  live track's prediction overlaps is never taken (tests/test_tracking_no_merge.py).
- Appearance never decided inside the IoU-gated round (``w_emb=0`` and ``1.25`` wrote
  byte-identical tracks): where the gate leaves a choice, ``appearance_margin`` rules out
  candidates that look clearly worse than the best one.
- Offline steps drew straight lines in an image the camera kept moving: they now run in
  camera-compensated coordinates (``offline_cmc``).
- ACF/DPM scores: a scene scoring lower than the calibration files gets the centre lowered,
  at most one width (mot_cli/scores.py says the rule and why it cannot collapse).
- Re-identification also needs the detection to look more like the lost track than like
  any other track, by ``reid_margin``: in a group of look-alikes appearance cannot say who
  is who.
- The objective (``bench/tune_tracker.py --cv``) is now the *worst* margin over the best
  boxmot peer across the six dev sequences x two sources, the mean margin breaking ties.

What moved, by that objective (one climbing step from the shipped point, every axis of the
new method and the main thresholds; leave-one-sequence-out with the same procedure):

- ``det_threshold`` 0.55 -> 0.6: fewer weak tracks; it raised the worst margin (ETH-Sunnyday
  with YOLO11n, where recovery used to merge people) while costing KITTI-17 about 3 points.
- ``reid_speed`` 0.25 box heights per second, ``reid_margin`` 0.05, ``reid_threshold`` 0.65
  kept: with the old radius (half a height per *frame*) ETH-Sunnyday/YOLO11n scored 52.3;
  with this gate 69.4 (best peer 68.5), while PETS09-S2L1 and TUD-Campus, which need
  recovery after occlusions, keep most of it. ``reid_threshold=0.85`` instead also holds
  ETH-Sunnyday but costs PETS09-S2L1/YOLO11n 7 points.
- Kept: ``appearance_margin=0.2`` (2 = off costs TUD-Stadtmitte/public 5 points),
  ``offline_cmc`` on, interpolation (30 frames) and smoothing on, ``relink`` off (it merges
  people on ETH-Sunnyday), ``reference_fps=0``.

Left-out, the worst margin over the best peer was TUD-Campus with YOLO11n (-3.7): its fold
picked ``det_threshold=0.55, reid_margin=0.1``, which loses a recovery TUD-Campus needs.

Issue 18, second pass: settings that hold at another frame rate. At half frame rate (every
second frame, ``bench/shifted.py``) ours lost four of the twelve folds, because the settings
counted in frames meant twice the time there. ``--set`` replays on the half-rate folds
(``bench/tune_tracker.py --shift half-rate``) showed what cost the points:

- PETS09-S2L1/YOLO11n (5 fps at half rate) 47.30 -> 56.49, KITTI-17/public (5 fps) 37.84 ->
  41.71, ETH-Sunnyday/YOLO11n (7 fps) 63.00 -> 66.03, with every frame-counted setting
  (``FRAME_COUNTED``: max_age, min_hits, delta_t, interpolate_max_gap, relink_max_gap,
  min_track_length, smooth_sigma) scaled to the same time span; no single one explains it
  (PETS09-S2L1/public at half rate: 39.81; ``max_age=15`` alone 44.80, ``smooth_sigma=2.5``
  alone 43.68, ``interpolate_max_gap=15`` alone 42.94, all of them scaled 48.27).
- TUD-Campus/public (12.5 fps at half rate, 36 frames) 35.23 -> 42.19 with ``min_hits=1``:
  a track waited one matched frame before it got an id, and on 36 frames of ACF boxes that
  first box (and the tracks that never matched twice in a row) was much of the sequence.

What moved:

- ``reference_fps`` 0 -> 10: the frame counts are read as frames at 10 fps or faster, where
  the dev videos run (10 to 30 fps: PETS09-S2L1's video file plays at 10 fps although its
  seqinfo says 7) and where the same counts held on all six; a slower video gets them scaled
  down to the same time span, never below one frame (`TrackerConfig.at_frame_rate`). So the
  in-sample figures cannot move, and a 5 fps video keeps 3 s of memory instead of 6. Not
  scaled *up* on faster video: there a frame count counts observations, and scaling up at a
  25 fps reference (the former ``reference_fps=25``, both ways) lost in-sample
  (PETS09-S2L1/public 48.07 -> 47.57, KITTI-17/public 44.31 -> 41.25).
- ``min_hits`` 2 -> 1: offline, ``min_track_length`` already drops short tracks, so the
  confirmation wait only cut each track's first box. In-sample it lifts KITTI-17/public
  44.31 -> 46.80 (it was the one sequence under the best peer), TUD-Campus/public 56.81 ->
  58.18, and costs PETS09-S2L1/public 0.5 (48.07 -> 47.54).
- ``appearance_margin`` 0.2 -> 0.1: then ``bench/tune_tracker.py --cv --objective worst
  --samples 4 --steps 2`` over eleven axes (det_threshold, min_hits, max_age, reference_fps,
  reid_threshold, reid_margin, min_track_length, interpolate_max_gap, smooth_sigma,
  appearance_margin, iou_threshold) picked ``appearance_margin=0.1, min_track_length=20``:
  in-sample worst margin +0.24 -> +0.85. Only the first was kept (+0.55 alone): with
  ``min_track_length=20`` TUD-Campus/public at half rate falls from 42.19 to 35.29, under the
  best peer's 41.60. Left-out (the search run without each sequence): worst -0.18
  (MOT16-11/public), mean +4.24 over the best peer.

With these, one ``bench/association.py`` run: ours >= the best of seven boxmot peers on all
12 sequence x source pairs in-sample (worst +0.55 counting HybridSORT's 61.34 on
KITTI-17/YOLO11n from the first pass), combined +5.08 (YOLO11n) and +3.03 (public); at half
frame rate (``bench/shifted.py``) >= the best peer on 11 of 12 and >= it - 1 on 12 of 12
(worst KITTI-17/public -0.98); at half size on 12 of 12 (23 and 24 of the 24 folds).

Issue 18, third pass: a person the detector only ever scores weakly. With all nine boxmot
peers, KITTI-17/YOLO11n at half frame rate lost by 4.45 to HybridSORT (ours 61.89 at full
rate, 56.42 at half; HybridSORT 61.34, 60.87). The replays showed it was no frame-rate
setting: one pedestrian scored 0.37-0.59 on each of their first 22 kept frames (the box
above ``det_threshold`` in that stretch fell on a dropped frame), so BYTE's low round had no
track to extend until frame 34 of 73 (21 of the 22 boxes the full-rate run had and the
half-rate one lacked). A scene that scores lower than the dev set (another detector, a
darker street) loses its people the same way, whatever the frame rate. What moved:

- ``weak_start_hits`` 0 -> 2 (new; counted in frames, so 1 at 5 fps), ``weak_start_score``
  0.5 (new): an unmatched weak box starts a track that dies at its first miss and is
  confirmed after that many matches in a row with a mean score of at least 0.5; its
  earlier rows are output then. Only where no track, live or lost, overlaps the box with
  its prediction, nor any confident box of the frame, and no lost track may take it back by
  appearance. Without those gates weak births forked people (``weak_start_hits=3``:
  TUD-Campus/YOLO11n 56.82 -> 48.88, ETH-Sunnyday/YOLO11n 69.72 -> 64.11); without the
  mean score they add weak false tracks on a moving camera (``weak_start_score=0``:
  ETH-Sunnyday/YOLO11n 67.33, against 69.11 with it). ``tests/test_tracking_weak_births.py``
  scripts each case.
- ``weak_min_track_length`` 15 (new, offline): such a track is kept only if observed on 15
  frames or more (10 for the others, ``min_track_length``): weak evidence must last longer
  before it is believed. It lifted ETH-Sunnyday/YOLO11n 69.11 -> 69.53 (short weak false
  tracks on a moving camera); 20 costs TUD-Campus/public at half rate 10 points (36 frames).
- In-sample (``bench/association.py``, all nine peers): KITTI-17/YOLO11n 61.89 -> 65.85,
  PETS09-S2L1/YOLO11n 63.61 -> 66.23, ETH-Sunnyday/public 45.69 -> 47.68, TUD-Campus/public
  58.18 -> 59.24, MOT16-11/YOLO11n 54.08 -> 54.95; ETH-Sunnyday/YOLO11n 69.72 -> 69.53 and
  TUD-Campus/YOLO11n 56.82 -> 56.64; worst margin over the best peer +0.55 -> +0.85
  (ETH-Sunnyday/YOLO11n against ByteTrack), mean +3.93 -> +4.82, combined +6.37 (YOLO11n)
  and +3.27 (public). Shifted folds: KITTI-17/YOLO11n at half rate 56.42 -> 65.81; >= the
  best peer on 23 of 24, >= it - 1 on 24 of 24 (worst -0.08, TUD-Campus/public at half
  rate), where it was 21 and 23 (worst -4.45).
- The worst-objective search (``--cv --steps 2`` over det_threshold, min_hits, max_age,
  appearance_margin, smooth_sigma, min_track_length and the three new axes) keeps weak births
  and adds ``smooth_sigma=3, weak_min_track_length=20`` in-sample (worst +1.22); not shipped,
  because it drops TUD-Campus/public at half rate to 30.94 (best peer 41.60). Left-out, its
  worst is -0.41 (ETH-Sunnyday/YOLO11n: the fold without it picks ``weak_start_score=0.4,
  max_age=45``, better on ten of the other eleven, but weaker births add false tracks on a
  moving camera), mean +4.66.

Issue 18, fourth pass: why that fold lost ETH-Sunnyday. ``--set weak_start_score=0.4`` on
its YOLO11n run (69.53 -> 68.19) adds two weak-born tracks the ground truth has no one for:
a man seated on a bench and a far-off walker, neither ever scored above 0.57. The shipped
point already keeps one such track, a couple's reflection in a shop window (observed on 70
frames, mean score 0.49, best box 0.62): dropping it alone would lift ETH-Sunnyday/YOLO11n
1.7 points. No score rule tells these from people: on KITTI-17/public at half rate a real
pedestrian's weak-born track also has mean score 0.49 (a whole-track mean of 0.5 costs that
fold 1.1 points), and OSNet puts the reflection as close to the people beside it (cosine
0.92) as real weak-born tracks there are to theirs (0.64-0.97). What does tell them apart is
BYTE's own rule, that a track needs a confident box: at ``weak_start_score=0.4``, five of
the six weak-born tracks on the 24 full and half-rate folds that never score above
``det_threshold`` match nobody (the sixth, 22 frames of a MOT16-11 pedestrian). So:

- ``weak_needs_confident`` (new, on; offline): a weak-born track is kept only if at least
  one of its boxes is confident. Weak births still start a person early, or keep a person
  whose confident boxes a frame rate drops (KITTI-17/YOLO11n at half rate keeps all 65.81:
  each of its weak-born tracks later scores above 0.8), but never output a track the
  detector was never once sure of. At the shipped settings it changes one sequence,
  MOT16-11/YOLO11n (54.95 -> 54.90, at full rate and half size); the other 34 folds are
  unchanged. What it buys is robustness to a lower evidence bar: at
  ``weak_start_score=0.4`` ETH-Sunnyday/YOLO11n scores 68.88 instead of 68.19.
- Left-out, the same search as above (nine axes; the rule is part of weak births, not an
  axis): worst +0.28 (ETH-Sunnyday/YOLO11n, 68.96 against ByteTrack's 68.68), mean +4.97,
  >= 0 on 12 of 12; ``--ablate`` with the rule off: ETH-Sunnyday/YOLO11n 68.96 -> 68.27,
  MOT16-11/YOLO11n 54.76 -> 54.81, the other ten unchanged. It was found by looking at why
  that fold lost ETH-Sunnyday, so this left-out figure is not blind to ETH-Sunnyday: the
  sequences kept outside are.
- Not shipped: the search's in-sample pick, ``det_threshold=0.65, max_age=45`` (in-sample
  worst +2.01, mean +4.65, against +0.85 and +4.81). At half rate it loses
  TUD-Stadtmitte/public by 0.86 (the shipped point's worst shifted fold is -0.08) and its
  mean margin there falls from +4.57 to +3.78; over all 36 folds its worst is -0.86,
  against -0.08. It also cuts ETH-Sunnyday/public 47.68 -> 44.01, the foreign-score case.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCORE_SCALES = ("auto", "raw", "minmax", "rank")

FRAME_COUNTED = (
    "max_age", "min_hits", "weak_start_hits", "delta_t", "interpolate_max_gap",
    "relink_max_gap", "min_track_length", "weak_min_track_length", "smooth_sigma",
)  # fmt: skip
"""Settings counted in frames, which `TrackerConfig.at_frame_rate` scales on slow video."""


@dataclass(frozen=True)
class TrackerConfig:
    """Gating thresholds, cue weights and offline options of the OC-SORT-style tracker.

    Defaults were chosen by leave-one-sequence-out cross-validation on the six dev
    sequences and both detection sources, one set of values for every sequence and detector
    (module doc; ``bench/tune_tracker.py --cv``).

    Attributes:
        score_scale: how `track_sequence` maps a sequence's scores to [0, 1] (module doc).
        det_threshold: a detection above this score takes part in the first association
            round (and the recovery rounds); weaker ones only in BYTE's.
        new_track_threshold: a detection must also score above this to start a track; a
            start needs more certainty than a continuation (ref: ByteTrack's new_track_thresh).
        low_threshold: BYTE's second round uses detections in (low_threshold, det_threshold].
        use_byte: run BYTE's low-score round (ref: ByteTrack, Zhang et al. 2022).
        iou_threshold: smallest IoU between a track's prediction and a detection to match.
        ocr_iou_threshold: smallest IoU between a track's last observation and a detection in
            OC-SORT's observation-centric recovery round.
        use_ocr: run the observation-centric recovery round (ref: OC-SORT §3.3, "OCR").
        min_hits: matched frames in a row before a track is confirmed and gets an id.
        weak_start_hits: when > 0, an unmatched weak detection (score in (low_threshold,
            det_threshold]) also starts a track, which is dropped at its first miss and
            confirmed only after this many matched frames in a row, its earlier rows then
            output too (offline): a person the detector scores weakly before their first
            confident box (or whose confident boxes a frame rate drops) is tracked from their
            first weak one, not from the confident one (0: off, as in BYTE).
            Such a track starts only where no track, live or lost, overlaps the box and no
            lost track may take it back by appearance.
        weak_start_score: ... and only once its detections' mean score reaches this.
        max_age: frames a track survives without a match.
        reference_fps: when > 0, the settings counted in frames (`max_age`, `min_hits`,
            `delta_t`, `interpolate_max_gap`, `relink_max_gap`, `min_track_length`,
            `smooth_sigma`) are read as frames of a video at this rate, and a slower video
            gets them scaled down to the same time span (`at_frame_rate`; at least one
            frame); a video at this rate or faster uses them as given; 0 always does.
        delta_t: OC-SORT's velocity window, in frames (ref: OC-SORT §3.2, Δt).
        w_iou: weight of the IoU similarity.
        w_angle: weight of OC-SORT's velocity-direction consistency (its "inertia").
        w_emb: base weight of appearance similarity (Deep OC-SORT's w_emb).
        w_sd: weight of the depth x segmentation embedding similarity (SelfTrEncMOT's S_sd).
        adaptive_weighting: boost w_emb by how discriminative a pair is (ref: Deep OC-SORT
            §3.3, "adaptive weighting").
        adaptive_max_gap: cap epsilon on the top-1 minus top-2 similarity gap of that boost.
        alpha_fixed_emb: Deep OC-SORT's alpha_f; the embedding EMA keeps this much of the
            memory for a detection at score 1 and all of it at the threshold.
        bisoftmax: replace cosine similarity by MASA's bi-softmax of it.
        bisoftmax_temperature: softmax temperature of that transform.
        skip_occluded_embedding: do not update a track's embedding memory from a detection
            another detection covers by more than `occlusion_threshold` (ref: SAM2MOT).
        occlusion_threshold: covered fraction of a detection's box counted as occluded.
        appearance_margin: first round, where the IoU gate lets a track reach two or more
            detections (or a detection two or more tracks): a pair whose appearance
            similarity falls more than this below the best such alternative is ruled out,
            so appearance decides between overlapping candidates (detections another box
            covers past `occlusion_threshold` are exempt: their crops show someone else);
            2 (the width of the cosine range) switches it off.
        reid_recovery: match still-unmatched detections to lost tracks by appearance, only
            where the track's motion makes the match plausible: within a radius around its
            camera-compensated prediction (or its camera-compensated last box) that grows
            with the time lost, and never onto a detection that another live track's
            prediction overlaps at `iou_threshold` (that person is already explained).
        reid_threshold: smallest cosine similarity for that recovery.
        reid_margin: the detection must also look more like the lost track than like any
            other track (live or lost) by this much cosine; in a group of look-alikes
            appearance cannot say who is who. -2 switches it off.
        reid_max_distance: that radius at the first missed frame, in box heights of the
            track's last box.
        reid_speed: how fast the radius grows, in box heights per second lost (a walker
            covers about one body height a second); seconds come from the video's frame
            rate, 25 fps when it is unknown.
        std_position: Kalman position noise as a fraction of box size (ref: BoT-SORT).
        std_velocity: Kalman velocity noise as a fraction of box size per frame.
        use_oru: observation-centric re-update on re-association (ref: OC-SORT §3.3, "ORU").
        backfill: offline only: also output the frames of a track before it was confirmed
            (those scoring above `fill_min_score`).
        fill_min_score: offline only: the smallest score of an observation that may anchor an
            interpolated gap (at both ends) or be backfilled; weaker ones never make a track
            grow boxes.
        interpolate_max_gap: offline only: linearly fill gaps up to this many frames (0: off).
        offline_cmc: offline only: relink, interpolate and smooth in camera-compensated
            coordinates (the camera-motion warps chained into one reference frame), so a
            filled-in box follows the camera instead of a straight line in the image.
        min_track_length: offline only: drop tracks with fewer observed frames than this.
        weak_min_track_length: offline only: the same for a track a weak detection started
            (`weak_start_hits`): weak evidence must last longer before it is believed.
        weak_needs_confident: offline only: keep a track a weak detection started only if at
            least one of its detections is confident (above `det_threshold`). Weak births
            start a person early, or through a frame rate that drops their confident boxes;
            a track no confident box ever confirms is what BYTE never starts (on the dev set
            a reflection, a seated or far-off person the ground truth leaves out).
        min_track_score: offline only: drop tracks whose mean normalised detection score is
            below this.
        relink: offline only: join tracklets by appearance and motion across gaps.
        relink_max_gap: largest gap, in frames, that relinking bridges.
        relink_threshold: smallest joint similarity (appearance and motion) to relink.
        smooth_sigma: offline only: Gaussian smoothing of boxes along a track, in frames
            (0: off; ref: StrongSORT's GSI, our own simpler version).
        w_iom: weight of the mask IoM cue in the first round: a track's last mask, moved to
            its predicted box, against each detection's mask (ref: DIOR's mask IoM); boxes
            stand in where the detections carry no masks. 0 (the default) leaves it out.
        mask_occlusion: when the detections carry masks, measure the cover of
            `skip_occluded_embedding` by other detections' masks inside a detection's box
            instead of by their boxes (ref: SAM2MOT, on mask overlap).
        mask_occlusion_threshold: fraction of a detection's box that other masks cover for
            it to count as occluded under `mask_occlusion` (a person fills about half of
            their box, so this sits below `occlusion_threshold`).
        w_depth_level: weight of the depth-level cue in the first round: minus the relative
            jump between a track's filtered nearness and a detection's, for detections whose
            box overlaps another's (tracking.cues.depth_level_cue); reads the depth
            statistics (depth.parquet). 0 (the default) leaves it out: left-out on the six
            dev sequences x two detection sources (bench/depth_level.py, box statistics),
            pseudo-depth levels gave -0.89 combined AssA without appearance and mobilePydnet
            +0.06, and with appearance mobilePydnet lost MOT16-11 by up to 2.28 HOTA (the
            README's "Masks and depth" has the table).
        depth_level_memory: how much of a track's nearness level each match keeps (an EMA,
            as for appearance), so one noisy depth reading does not move it.
    """

    score_scale: str = "raw"
    det_threshold: float = 0.6
    new_track_threshold: float = 0.0
    low_threshold: float = 0.35
    use_byte: bool = True
    iou_threshold: float = 0.3
    ocr_iou_threshold: float = 0.3
    use_ocr: bool = True
    min_hits: int = 1
    weak_start_hits: int = 2
    weak_start_score: float = 0.5
    max_age: int = 30
    reference_fps: float = 10.0
    delta_t: int = 3
    w_iou: float = 1.0
    w_angle: float = 0.1
    w_emb: float = 1.25
    w_sd: float = 0.0
    adaptive_weighting: bool = True
    adaptive_max_gap: float = 0.5
    alpha_fixed_emb: float = 0.95
    bisoftmax: bool = False
    bisoftmax_temperature: float = 0.1
    skip_occluded_embedding: bool = True
    occlusion_threshold: float = 0.5
    appearance_margin: float = 0.1
    reid_recovery: bool = True
    reid_threshold: float = 0.65
    reid_margin: float = 0.05
    reid_max_distance: float = 0.5
    reid_speed: float = 0.25
    std_position: float = 1.0 / 20.0
    std_velocity: float = 1.0 / 160.0
    use_oru: bool = True
    backfill: bool = False
    fill_min_score: float = 0.3
    interpolate_max_gap: int = 30
    offline_cmc: bool = True
    min_track_length: int = 10
    weak_min_track_length: int = 15
    weak_needs_confident: bool = True
    min_track_score: float = 0.0
    relink: bool = False
    relink_max_gap: int = 60
    relink_threshold: float = 0.6
    smooth_sigma: float = 5.0
    w_iom: float = 0.0
    mask_occlusion: bool = False
    mask_occlusion_threshold: float = 0.3
    w_depth_level: float = 0.0
    depth_level_memory: float = 0.7

    def __post_init__(self) -> None:
        """Validate every field so a bad value fails here, naming the argument."""
        for f in dataclasses.fields(self):
            _check_field(f.name, getattr(self, f.name))
        if self.low_threshold > self.det_threshold:
            raise ValueError(
                f"low_threshold ({self.low_threshold}) must not exceed "
                f"det_threshold ({self.det_threshold})"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrackerConfig:
        """Build a config from a mapping (e.g. a JSON/YAML section); strings are parsed.

        Unknown names raise a ValueError that lists the valid ones, so a typo never silently
        falls back to a default.
        """
        return cls().replace(**values)

    def replace(self, **changes: Any) -> TrackerConfig:
        """Return a copy with some fields changed; values may be strings (CLI input)."""
        parsed = {name: _parse(name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **parsed)

    def with_overrides(self, assignments: Iterable[str]) -> TrackerConfig:
        """Apply CLI-style ``name=value`` strings, as in ``--set iou_threshold=0.25``."""
        changes: dict[str, str] = {}
        for item in assignments:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"override {item!r} is not of the form name=value")
            changes[name.strip()] = value.strip()
        return self.replace(**changes)

    def at_frame_rate(self, fps: float | None) -> TrackerConfig:
        """The config for a video at `fps`: frame counts scaled down on slower video.

        With `reference_fps` > 0 and `fps` below it, every setting counted in frames
        (`FRAME_COUNTED`) is multiplied by ``fps / reference_fps``, so it spans the same time
        as at the reference rate, never below one frame (a setting at 0, switched off, stays
        off). A video at or above the reference rate keeps the counts as given: there they
        count observations, and the dev videos (7 to 30 fps) all hold with the same counts.
        """
        if self.reference_fps <= 0 or not fps or fps <= 0 or fps >= self.reference_fps:
            return self
        ratio = fps / self.reference_fps
        changes: dict[str, Any] = {"reference_fps": 0.0}
        for name in FRAME_COUNTED:
            value = getattr(self, name)
            if value == 0:
                continue
            changes[name] = (
                max(1, round(value * ratio)) if isinstance(value, int) else value * ratio
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, e.g. to store in a run's manifest next to its output."""
        return dataclasses.asdict(self)


# Valid closed ranges of numeric fields; None means unbounded on that side.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "det_threshold": (0.0, 1.0),
    "new_track_threshold": (0.0, 1.0),
    "reference_fps": (0.0, 1000.0),
    "low_threshold": (0.0, 1.0),
    "iou_threshold": (0.0, 1.0),
    "ocr_iou_threshold": (0.0, 1.0),
    "min_hits": (1, None),
    "weak_start_hits": (0, None),
    "weak_start_score": (0.0, 1.0),
    "max_age": (1, None),
    "delta_t": (1, 100),
    "w_iou": (0.0, None),
    "w_angle": (0.0, None),
    "w_emb": (0.0, None),
    "w_sd": (0.0, None),
    "adaptive_max_gap": (0.0, 1.0),
    "alpha_fixed_emb": (0.0, 1.0),
    "bisoftmax_temperature": (1e-6, None),
    "occlusion_threshold": (0.0, 1.0),
    "reid_threshold": (-1.0, 1.0),
    "reid_max_distance": (0.0, None),
    "reid_speed": (0.0, None),
    "reid_margin": (-2.0, 2.0),
    "appearance_margin": (0.0, 2.0),
    "std_position": (1e-6, 10.0),
    "std_velocity": (1e-6, 10.0),
    "interpolate_max_gap": (0, None),
    "fill_min_score": (0.0, 1.0),
    "min_track_length": (0, None),
    "weak_min_track_length": (0, None),
    "min_track_score": (0.0, 1.0),
    "relink_max_gap": (1, None),
    "relink_threshold": (-1.0, 2.0),
    "smooth_sigma": (0.0, None),
    "w_iom": (0.0, None),
    "mask_occlusion_threshold": (0.0, 1.0),
    "w_depth_level": (0.0, None),
    "depth_level_memory": (0.0, 1.0),
}

_CHOICES: dict[str, tuple[str, ...]] = {"score_scale": SCORE_SCALES}

_FIELD_TYPES: dict[str, type] = {
    f.name: {"str": str, "float": float, "int": int, "bool": bool}[str(f.type)]
    for f in dataclasses.fields(TrackerConfig)
}


_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false"}


def _parse(name: str, value: Any) -> Any:
    """Coerce a CLI string (or a plain value) to the field's type; reject unknown names."""
    if name not in _FIELD_TYPES:
        valid = ", ".join(sorted(_FIELD_TYPES))
        raise ValueError(f"unknown tracker setting {name!r}; valid settings: {valid}")
    kind = _FIELD_TYPES[name]
    if not isinstance(value, str) or kind is str:
        return value
    text = value.strip().lower()
    try:
        if kind is bool:
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be {_KIND_WORDS[kind]}, got {value!r}") from None


def _check_field(name: str, value: Any) -> None:
    """Raise a ValueError naming `name` when its value has the wrong type or range."""
    kind = _FIELD_TYPES[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return
    if kind is str:
        choices = _CHOICES[name]
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    low, high = _RANGES.get(name, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value!r}")


def setting_descriptions() -> dict[str, str]:
    """Each setting's first sentence from `TrackerConfig`'s docstring, by name.

    The docstring is the one place a setting's meaning is written, so `track --list-settings`
    reads it from there instead of keeping a second copy that could drift.
    """
    doc = TrackerConfig.__doc__ or ""
    attributes = doc.partition("Attributes:")[2]
    texts: dict[str, list[str]] = {}
    current = None
    for line in attributes.splitlines():
        stripped = line.strip()
        name, sep, rest = stripped.partition(":")
        if sep and name in _FIELD_TYPES and line.startswith(" " * 8) and not line.startswith(
            " " * 12
        ):
            current = name
            texts[current] = [rest.strip()]
        elif current is not None and stripped:
            texts[current].append(stripped)
    return {name: _first_sentence(" ".join(words)) for name, words in texts.items()}


def _first_sentence(text: str) -> str:
    """Up to the first full stop outside parentheses ("(ref: Zhang et al. 2022)" stays whole)."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "." and depth == 0 and (index + 1 == len(text) or text[index + 1] == " "):
            return text[: index + 1]
    return text
