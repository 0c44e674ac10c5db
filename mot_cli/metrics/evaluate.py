"""Evaluate trackers against ground truth: HOTA, CLEAR and Identity per sequence and combined.

`evaluate(EvalConfig(...))` is the one call the CLI makes. It resolves the inputs
(`dataset.py`), reads and validates every file (`formats/mot.py`, or `formats/mots.py` for
masks), applies the benchmark's preprocessing (`sequence.py`, `mots.py`) and scores each
sequence; the combined row sums counts across sequences and recomputes the ratios from them,
as TrackEval does (it is not a mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mot_cli.formats.mot import MotRows, read_mot
from mot_cli.formats.mots import MotsRows, read_mots
from mot_cli.metrics.clear import (
    CLEAR_FIELDS,
    ClearCounts,
    clear_counts,
    clear_summary,
    combine_clear,
)
from mot_cli.metrics.dataset import (
    GtSequence,
    TrackerInput,
    detect_benchmark,
    find_ground_truth,
    find_trackers,
    runs_in,
)
from mot_cli.metrics.hota import (
    HOTA_FIELDS,
    HotaCounts,
    combine_hota,
    hota_counts,
    hota_curves,
    hota_summary,
)
from mot_cli.metrics.identity import (
    IDENTITY_FIELDS,
    IdentityCounts,
    combine_identity,
    identity_counts,
    identity_summary,
)
from mot_cli.metrics.mots import prepare_mots_sequence
from mot_cli.metrics.sequence import BENCHMARKS, Benchmark, SequenceData, prepare_sequence

__all__ = [
    "COMBINED",
    "FIELDS",
    "MOTS",
    "RULES",
    "EvalConfig",
    "EvalResult",
    "SequenceResult",
    "TrackerResult",
    "combine_results",
    "evaluate",
    "evaluate_sequence",
    "ground_truth_for",
    "score_sequence",
    "score_trackers",
]

COMBINED = "COMBINED_SEQ"
MOTS = "MOTS"  # masks: mot_cli.metrics.mots, TrackEval's MOTSChallenge rules
RULES: tuple[str, ...] = (*BENCHMARKS, MOTS)
FIELDS: tuple[str, ...] = (*HOTA_FIELDS, *CLEAR_FIELDS, *IDENTITY_FIELDS)


@dataclass(frozen=True)
class SequenceResult:
    """The counts of the three metric families for one sequence (or a combination)."""

    hota: HotaCounts
    clear: ClearCounts
    identity: IdentityCounts

    def summary(self) -> dict[str, float | int]:
        """Every field of FIELDS, in that order: ratios as fractions, counts as ints."""
        return {
            **hota_summary(self.hota),
            **clear_summary(self.clear),
            **identity_summary(self.identity),
        }

    def curves(self) -> dict[str, np.ndarray]:
        """The HOTA family against alpha (hota.ALPHAS): 19 values per field."""
        return hota_curves(self.hota)


@dataclass(frozen=True)
class TrackerResult:
    """One tracker's results: per sequence (in ground-truth order) and combined."""

    name: str
    sequences: dict[str, SequenceResult]
    combined: SequenceResult

    def table(self) -> dict[str, dict[str, float | int]]:
        """`{COMBINED_SEQ: fields, seq: fields, ...}`: the shape of TrackEval's results."""
        return {
            COMBINED: self.combined.summary(),
            **{name: r.summary() for name, r in self.sequences.items()},
        }


@dataclass(frozen=True)
class EvalResult:
    """All trackers' results and the benchmark rules they were scored with (one of RULES)."""

    benchmark: str
    trackers: tuple[TrackerResult, ...]
    sequences: tuple[str, ...] = ()  # the ground truth's, in order

    def unscored(self, tracker: TrackerResult) -> list[str]:
        """Ground-truth sequences this tracker had no results for (not in its rows)."""
        return [name for name in self.sequences if name not in tracker.sequences]


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate.

    Attributes:
        ground_truth: split folder, sequence folder or gt.txt (see dataset.py).
        trackers: tracker folders, run folders or result files; each becomes one table row group.
        benchmark: MOT15 (score rows with conf != 0), MOT16/MOT17/MOT20 (TrackEval's distractor
            preprocessing), MOTS (masks, MOTSChallenge rules); None picks MOTS when the ground
            truth is MOTS text, else the benchmark its folder names, else MOT15.
        seqmap: sequence list file for a split folder (default: its seqmaps/ file if any).
        sequences: evaluate only these sequences.
        seq_length: frames in a single gt.txt that has no seqinfo.ini beside it.
    """

    ground_truth: Path
    trackers: tuple[Path, ...]
    benchmark: str | None = None
    seqmap: Path | None = None
    sequences: tuple[str, ...] = field(default_factory=tuple)
    seq_length: int | None = None

    def __post_init__(self) -> None:
        if not self.trackers:
            raise ValueError("at least one tracker is needed")
        if self.benchmark is not None and self.benchmark not in RULES:
            raise ValueError(
                f"benchmark must be one of {', '.join(RULES)}, got {self.benchmark!r}"
            )


def score_sequence(data: SequenceData) -> SequenceResult:
    """Run the three metric families on one prepared sequence."""
    return SequenceResult(hota_counts(data), clear_counts(data), identity_counts(data))


def combine_results(parts: Sequence[SequenceResult]) -> SequenceResult:
    """Combine sequences (TrackEval's rules: counts summed, ratios recomputed)."""
    return SequenceResult(
        combine_hota([p.hota for p in parts]),
        combine_clear([p.clear for p in parts]),
        combine_identity([p.identity for p in parts]),
    )


def evaluate_sequence(
    gt: MotRows,
    tracker: MotRows,
    *,
    seq_length: int,
    benchmark: Benchmark = "MOT15",
    name: str = "",
) -> SequenceResult:
    """Score one sequence from its rows (handy for tests and for other commands)."""
    data = prepare_sequence(gt, tracker, seq_length=seq_length, benchmark=benchmark, name=name)
    return score_sequence(data)


def evaluate(config: EvalConfig) -> EvalResult:
    """Resolve, read, validate and score everything `config` names.

    Raises:
        MotCliError: for any missing or malformed input, naming the file (and line).
    """
    gt_sequences = ground_truth_for(config)
    benchmark = config.benchmark or detect_benchmark(config.ground_truth, gt_sequences)

    trackers = find_trackers(config.trackers, gt_sequences, mots=benchmark == MOTS)
    return score_trackers(gt_sequences, trackers, benchmark)


def ground_truth_for(config: EvalConfig) -> list[GtSequence]:
    """The sequences `config` scores: as `find_ground_truth` resolves them, a split folder
    narrowed to the sequences its folders of runs (`batch` output) cover."""
    covered = [name for path in config.trackers for name in runs_in(path)]
    return find_ground_truth(
        config.ground_truth,
        seqmap=config.seqmap,
        sequences=config.sequences,
        seq_length=config.seq_length,
        runs=list(dict.fromkeys(covered)),
    )


def score_trackers(
    gt_sequences: Sequence[GtSequence], trackers: Sequence[TrackerInput], benchmark: str
) -> EvalResult:
    """Read and score each tracker's file per sequence with `benchmark`'s rules (one of RULES).

    A tracker without a file for a sequence is scored on the others. `evaluate` resolves its
    inputs first; `batch` names the files its runs wrote.
    """
    mots = benchmark == MOTS
    gt_rows: dict[str, MotRows | MotsRows] = {}
    results = []
    for tracker in trackers:
        per_sequence: dict[str, SequenceResult] = {}
        for seq in gt_sequences:
            if seq.name not in tracker.files:
                continue
            read = read_mots if mots else read_mot
            if seq.name not in gt_rows:
                gt_rows[seq.name] = read(seq.path, kind="gt", seq_length=seq.seq_length)
            rows = read(tracker.files[seq.name], kind="tracker", seq_length=seq.seq_length)
            if mots:
                data = prepare_mots_sequence(
                    gt_rows[seq.name], rows, seq_length=seq.seq_length, name=seq.name  # type: ignore[arg-type]
                )
            else:
                data = prepare_sequence(
                    gt_rows[seq.name], rows, seq_length=seq.seq_length,  # type: ignore[arg-type]
                    benchmark=benchmark, name=seq.name,  # type: ignore[arg-type]
                )  # fmt: skip
            per_sequence[seq.name] = score_sequence(data)
        combined = combine_results(list(per_sequence.values()))
        results.append(TrackerResult(tracker.name, per_sequence, combined))
    return EvalResult(benchmark, tuple(results), tuple(seq.name for seq in gt_sequences))
