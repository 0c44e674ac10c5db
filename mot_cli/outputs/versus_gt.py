"""Where a run's tracks disagree with ground truth, row by row, by the CLEAR metrics' matching.

The matching is the metrics' own (`metrics.clear.clear_matches` on a sequence prepared with
the benchmark's preprocessing), so what a video or plot marks as a miss, false positive or id
switch is exactly what CLEAR counts as FN, FP and IDSW.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.mot import MotRows, read_mot
from mot_cli.metrics.clear import clear_matches
from mot_cli.metrics.dataset import detect_benchmark, find_ground_truth
from mot_cli.metrics.evaluate import SequenceResult, score_sequence
from mot_cli.metrics.sequence import prepare_sequence
from mot_cli.outputs.run import TrackRows

__all__ = ["GtComparison", "compare_with_gt", "read_gt"]


@dataclass(frozen=True)
class GtComparison:
    """Ground truth next to tracks, matched frame by frame.

    Attributes:
        benchmark: the preprocessing used (MOT15, MOT16, ...).
        gt_frame, gt_id, gt_xyxy: the scored ground-truth rows (G,), (G,), (G, 4).
        gt_track: (G,) tracker id matched to each, -1 where the tracker missed it (FN).
        false_positive: (N,) over the track rows: unmatched (FP). Rows the preprocessing
            removed (on distractors) are neither.
        switched_from: (N,) over the track rows: at an IDSW, the tracker id its ground-truth
            track was matched to before; -1 elsewhere.
        result: the CLEAR, HOTA and Identity counts of the same sequence.
    """

    benchmark: str
    gt_frame: np.ndarray
    gt_id: np.ndarray
    gt_xyxy: np.ndarray
    gt_track: np.ndarray
    false_positive: np.ndarray
    switched_from: np.ndarray
    result: SequenceResult


def read_gt(path: Path, seq_length: int) -> tuple[MotRows, str]:
    """MOTChallenge box ground truth (a gt.txt or a sequence folder) and its benchmark rules."""
    path = Path(path)
    sequences = find_ground_truth(path, seq_length=None if path.is_dir() else seq_length)
    if len(sequences) != 1:
        raise MotCliError(f"{path}: give one sequence's gt.txt or folder, not a split")
    sequence = sequences[0]
    benchmark = detect_benchmark(path, sequences)
    if benchmark == "MOTS":
        raise MotCliError(f"{sequence.path}: MOTS ground truth; --gt takes MOTChallenge boxes")
    return read_mot(sequence.path, kind="gt", seq_length=sequence.seq_length), benchmark


def compare_with_gt(
    tracks: TrackRows, gt: MotRows, frames: tuple[int, int], benchmark: str = "MOT15"
) -> GtComparison:
    """Match tracks to ground truth within `frames` (first, last) as CLEAR does."""
    first, last = frames
    gt = gt[(gt.frame >= first) & (gt.frame <= last)]
    inside = (tracks.frame >= first) & (tracks.frame <= last)
    track_index = np.flatnonzero(inside)
    tracker = tracks[track_index].as_mot_rows(Path("tracks.parquet"))
    seq = prepare_sequence(gt, tracker, seq_length=last, benchmark=benchmark)  # type: ignore
    matches = clear_matches(seq)
    pair_gt, pair_tracker = seq.pair_gt[matches.pair], seq.pair_tracker[matches.pair]
    gt_rows, tracker_rows = seq.gt_row, track_index[seq.tracker_row]
    track_ids = tracks.id[tracker_rows]

    gt_track = np.full(seq.num_gt_dets, -1, dtype=np.int64)
    gt_track[pair_gt] = track_ids[pair_tracker]
    false_positive = np.zeros(len(tracks), dtype=bool)
    false_positive[tracker_rows] = True
    false_positive[tracker_rows[pair_tracker]] = False

    switched_from = np.full(len(tracks), -1, dtype=np.int64)
    order = np.lexsort((seq.gt_frame[pair_gt], seq.gt_id[pair_gt]))
    previous = np.full(len(order), -1, dtype=np.int64)
    previous[order[1:]] = track_ids[pair_tracker[order[:-1]]]
    switched = np.flatnonzero(matches.id_switch)
    switched_from[tracker_rows[pair_tracker[switched]]] = previous[switched]

    xywh = gt.xywh[gt_rows]
    return GtComparison(
        benchmark=benchmark,
        gt_frame=gt.frame[gt_rows],
        gt_id=gt.id[gt_rows],
        gt_xyxy=np.c_[xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
        gt_track=gt_track,
        false_positive=false_positive,
        switched_from=switched_from,
        result=score_sequence(seq),
    )
