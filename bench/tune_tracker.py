"""Tune `TrackerConfig` on the five dev sequences, with leave-one-sequence-out cross-validation.

The tracker's inputs come from the caches `mot-cli track` wrote (`bench/association.py` fills
them), loaded exactly as the product loads them (`mot_cli.stages.track.cached_inputs`) and
replayed with `mot_cli.stages.track.replay`:

- ``public``: ``<runs>/public/<seq>/``, each sequence's ``det/det.txt`` (scores calibrated
  as `mot_cli/scores.py` says) with OSNet embeddings and camera-motion warps;
- ``yolo``: ``<runs>/yolo/<seq>/``, YOLO11n INT8 detections (conf >= 0.1), likewise.

Each sequence is scored in memory with `mot_cli.metrics` under its own benchmark's rules
(MOT15 for the MOT15 sequences, MOT16 for MOT16-11; the dev set lives in bench/_common.py).

``--cv`` runs leave-one-sequence-out over the dev sequences and both sources: every
candidate of the search space (``--grid`` specs, or the built-in space below) is scored once
on every sequence; for each sequence the candidate with the best mean HOTA over the *other*
sequences (both sources) is picked and scored on the one left out. The in-sample pick is the
best candidate over all sequences. ``--ablate`` adds, per offline step, the left-out HOTA of
each fold's pick with that step switched off.

Examples:
    python bench/tune_tracker.py --per-seq
    python bench/tune_tracker.py --cv --ablate --workers 2
    python bench/tune_tracker.py --source yolo --grid det_threshold=0.4,0.5,0.6 --per-seq
    python bench/tune_tracker.py --source public --set reid_recovery=false --no-cmc
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import DEV, DEV_SEQUENCES  # noqa: E402
from mot_cli.cache import RunDir  # noqa: E402
from mot_cli.detections import Detections  # noqa: E402
from mot_cli.formats.mot import MotRows, read_mot  # noqa: E402
from mot_cli.formats.seqinfo import read_seqinfo  # noqa: E402
from mot_cli.metrics.evaluate import SequenceResult, combine_results, evaluate_sequence  # noqa: E402
from mot_cli.stages.track import cached_inputs, replay, source_fps  # noqa: E402
from mot_cli.tracking import TrackerConfig, TrackTable  # noqa: E402

RUNS = ROOT / "bench" / ".runs"
SOURCES = ("public", "yolo")
METRICS = ("HOTA", "DetA", "AssA", "IDF1", "MOTA")

# The built-in search space of --cv: a random sample of this product (plus the current
# defaults). Offline steps are axes too, so CV decides whether each one earns its place.
SPACE: dict[str, tuple[str, ...]] = {
    "det_threshold": ("0.4", "0.5", "0.55", "0.6", "0.65"),
    "new_track_threshold": ("0", "0.6", "0.7"),
    "low_threshold": ("0.1", "0.2", "0.3"),
    "iou_threshold": ("0.15", "0.2", "0.3"),
    "min_hits": ("2", "3"),
    "max_age": ("15", "30", "45", "60"),
    "reference_fps": ("0", "25"),
    "w_emb": ("0.5", "0.75", "1.0"),
    "backfill": ("true", "false"),
    "fill_min_score": ("0", "0.3", "0.5"),
    "interpolate_max_gap": ("0", "10", "20", "30"),
    "smooth_sigma": ("0", "2", "5"),
    "min_track_length": ("1", "5", "10", "20"),
    "min_track_score": ("0", "0.5", "0.6"),
}
# Offline steps and the setting that switches each off (for --ablate).
OFFLINE_OFF = {
    "backfill": "backfill=false",
    "interpolation": "interpolate_max_gap=0",
    "smoothing": "smooth_sigma=0",
    "minimum length": "min_track_length=1",
    "minimum score": "min_track_score=0",
}


@dataclass(frozen=True)
class SequenceInputs:
    """One sequence's cached tracker inputs and its ground truth."""

    name: str
    benchmark: str
    length: int
    fps: float | None
    detections: dict[int, Detections]
    warps: dict[int, np.ndarray] | None
    gt: MotRows

    def track(self, config: TrackerConfig) -> TrackTable:
        """Replay the whole sequence through the tracker, as `mot-cli track` does."""
        return replay((1, self.length), self.detections, config, self.warps, self.fps)

    def score(self, table: TrackTable) -> SequenceResult:
        """TrackEval-exact metrics of `table` against this sequence's ground truth."""
        m = len(table)
        rows = MotRows(
            table.frame,
            table.id,
            table.xywh.astype(np.float64),
            table.score,
            np.full(m, -1),
            np.ones(m),
            Path(f"{self.name}.txt"),
        )
        return evaluate_sequence(
            self.gt, rows, seq_length=self.length, benchmark=self.benchmark, name=self.name
        )


def load_source(
    source: str, runs: Path, sequences: Sequence[str], *, appearance: bool, camera_motion: bool
) -> list[SequenceInputs]:
    """Every sequence's cached inputs for one detection source."""
    out = []
    for name in sequences:
        seq = DEV[name]
        length = read_seqinfo(seq.seqinfo).seq_length
        run = RunDir(runs / source / name)
        detections, warps = cached_inputs(
            run, appearance=appearance, camera_motion=camera_motion
        )
        gt = read_mot(seq.gt, kind="gt", seq_length=length)
        out.append(SequenceInputs(
            name, seq.benchmark, length, source_fps(run), detections, warps, gt
        ))
    return out


def summary(result: SequenceResult) -> dict[str, float]:
    """The bench's headline metrics of one result, in percent (IDSW as a count)."""
    s = result.summary()
    return {k: 100 * float(s[k]) for k in METRICS} | {"IDSW": float(s["IDSW"])}


def evaluate(inputs: list[SequenceInputs], config: TrackerConfig) -> dict[str, SequenceResult]:
    """Track every sequence with one config; results per sequence and ``COMBINED``."""
    parts = {seq.name: seq.score(seq.track(config)) for seq in inputs}
    return parts | {"COMBINED": combine_results(list(parts.values()))}


def time_association(inputs: list[SequenceInputs], config: TrackerConfig, repeats: int = 3):
    """Best-of-`repeats` ms/frame of `replay` (post-processing included) over `inputs`."""
    frames = sum(seq.length for seq in inputs)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for seq in inputs:
            seq.track(config)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / frames


def grid(specs: Sequence[str]) -> Iterator[dict[str, str]]:
    """Cartesian product of ``name=v1,v2,...`` specs."""
    names, values = [], []
    for spec in specs:
        name, _, vals = spec.partition("=")
        names.append(name)
        values.append(vals.split(","))
    for combo in itertools.product(*values):
        yield dict(zip(names, combo, strict=True))


def sample_space(count: int, seed: int) -> list[dict[str, str]]:
    """`count` distinct random points of SPACE (the empty dict, the defaults, comes first)."""
    rng = random.Random(seed)
    seen, out = set(), [{}]
    while len(out) < count:
        point = {name: rng.choice(values) for name, values in SPACE.items()}
        if float(point["low_threshold"]) > float(point["det_threshold"]):
            continue
        frozen = tuple(sorted(point.items()))
        if frozen not in seen:
            seen.add(frozen)
            out.append(point)
    return out


# -- cross-validation -------------------------------------------------------------------------

_INPUTS: dict[str, list[SequenceInputs]] = {}


def _init_worker(inputs: dict[str, list[SequenceInputs]]) -> None:
    _INPUTS.update(inputs)


def _score_candidate(args: tuple[TrackerConfig, dict[str, str]]) -> dict:
    """Per (source, sequence): the SequenceResult of one candidate (run in a worker)."""
    base, changes = args
    config = base.replace(**changes)
    return {
        (source, seq.name): seq.score(seq.track(config))
        for source, inputs in _INPUTS.items()
        for seq in inputs
    }


def score_candidates(
    sources: dict[str, list[SequenceInputs]],
    base: TrackerConfig,
    candidates: list[dict[str, str]],
    workers: int,
) -> list[dict]:
    """Every candidate's results on every (source, sequence), in parallel processes."""
    jobs = [(base, c) for c in candidates]
    started = time.perf_counter()
    results = []
    if workers <= 1:
        _init_worker(sources)
        iterator = map(_score_candidate, jobs)
        pool = None
    else:
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(workers, initializer=_init_worker, initargs=(sources,))
        iterator = pool.imap(_score_candidate, jobs)
    try:
        for index, result in enumerate(iterator, 1):
            results.append(result)
            if index % 10 == 0 or index == len(jobs):
                print(f"  scored {index}/{len(jobs)} candidates "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return results


def _hota(result: SequenceResult) -> float:
    return 100 * float(result.summary()["HOTA"])


def pick(results: list[dict], keys: list[tuple[str, str]]) -> int:
    """The candidate with the best mean per-sequence HOTA over `keys` (ties: the earlier)."""
    means = [np.mean([_hota(r[k]) for k in keys]) for r in results]
    return int(np.argmax(means))


def cross_validate(
    sources: dict[str, list[SequenceInputs]],
    base: TrackerConfig,
    candidates: list[dict[str, str]],
    workers: int,
    ablate: bool,
    out: Path | None = None,
) -> None:
    """Print in-sample and left-out HOTA per sequence and combined, per source.

    With `out`, also write them as JSON (`bench/association.py` prints them beside its table).
    """
    results = score_candidates(sources, base, candidates, workers)
    names = [seq.name for seq in next(iter(sources.values()))]
    keys = [(source, name) for source in sources for name in names]
    best = pick(results, keys)
    folds = {name: pick(results, [k for k in keys if k[1] != name]) for name in names}

    print("\nleave-one-sequence-out: settings picked on the other sequences (both sources, "
          "mean per-sequence HOTA), scored on the one left out")
    print(f"{'sequence':<16}{'source':<8}{'in-sample':>10}{'left-out':>10}  fold's pick")
    record: dict = {"in_sample_pick": candidates[best], "folds": {}}
    for source in sources:
        inside, outside = [], []
        record[source] = {}
        for name in names:
            a = results[best][(source, name)]
            b = results[folds[name]][(source, name)]
            inside.append(a)
            outside.append(b)
            record[source][name] = {"in_sample": _hota(a), "left_out": _hota(b)}
            record["folds"][name] = candidates[folds[name]]
            print(f"{name:<16}{source:<8}{_hota(a):10.2f}{_hota(b):10.2f}  "
                  f"#{folds[name]} {_describe(candidates[folds[name]])}")
        ci, co = combine_results(inside), combine_results(outside)
        mi = np.mean([_hota(r) for r in inside])
        mo = np.mean([_hota(r) for r in outside])
        print(f"{'COMBINED':<16}{source:<8}{_hota(ci):10.2f}{_hota(co):10.2f}  "
              f"(mean of sequences: {mi:.2f} in-sample, {mo:.2f} left-out)")
        record[source]["COMBINED"] = {"in_sample": _hota(ci), "left_out": _hota(co)}
    print(f"\nin-sample pick (the defaults to ship): #{best} {_describe(candidates[best])}")
    if out is not None:
        out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {out}")
    if ablate:
        _ablate(sources, base, candidates, folds, names)


def _ablate(
    sources: dict[str, list[SequenceInputs]],
    base: TrackerConfig,
    candidates: list[dict[str, str]],
    folds: dict[str, int],
    names: list[str],
) -> None:
    """Left-out HOTA of each fold's pick with and without each offline step."""
    print("\noffline steps, left-out: each fold's pick as picked, and with the step off")
    header = "".join(f"{source + ' ' + n[:8]:>18}" for source in sources for n in names)
    print(f"{'variant':<16}{header}{'mean':>8}")
    variants = {"as picked": None, **OFFLINE_OFF}
    for label, off in variants.items():
        cells = []
        for inputs in sources.values():
            for seq in inputs:
                config = base.replace(**candidates[folds[seq.name]])
                if off is not None:
                    config = config.with_overrides([off])
                cells.append(_hota(seq.score(seq.track(config))))
        print(f"{label:<16}" + "".join(f"{c:18.2f}" for c in cells) + f"{np.mean(cells):8.2f}")


def _describe(changes: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in changes.items()) or "(defaults)"


def main(argv: Sequence[str] | None = None) -> None:
    """Parse options, load the caches, evaluate each config of the grid, print a table."""
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.split("Examples:")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--source", choices=(*SOURCES, "both"), default="both")
    p.add_argument("--runs", type=Path, default=RUNS, help="folder holding public/ and yolo/")
    p.add_argument("--no-embeddings", action="store_true", help="ignore embeddings.parquet")
    p.add_argument("--no-cmc", action="store_true", help="ignore camera_motion.parquet")
    p.add_argument("--set", action="append", default=[], help="name=value, fixed")
    p.add_argument("--grid", action="append", default=[], help="name=v1,v2,... to sweep")
    p.add_argument("--time", action="store_true", help="also time association on PETS09-S2L1")
    p.add_argument("--per-seq", action="store_true", help="print per-sequence HOTA/AssA/IDF1")
    p.add_argument("--sequences", nargs="+", default=list(DEV_SEQUENCES), choices=DEV_SEQUENCES)
    p.add_argument("--cv", action="store_true", help="leave-one-sequence-out cross-validation")
    p.add_argument("--samples", type=int, default=200, help="--cv: random points of the space")
    p.add_argument("--seed", type=int, default=0, help="--cv: seed of that sample")
    p.add_argument("--ablate", action="store_true", help="--cv: what each offline step brings")
    p.add_argument("--workers", type=int, default=1, help="--cv: processes")
    p.add_argument("--cv-json", type=Path, default=RUNS / "cv.json",
                   help="--cv: where to write the figures (bench/association.py reads them)")
    args = p.parse_args(argv)

    names = SOURCES if args.source == "both" else (args.source,)
    sources = {
        name: load_source(
            name,
            args.runs,
            args.sequences,
            appearance=not args.no_embeddings,
            camera_motion=not args.no_cmc,
        )
        for name in names
    }
    base = TrackerConfig().with_overrides(args.set)
    if args.cv:
        candidates = list(grid(args.grid)) if args.grid else sample_space(args.samples, args.seed)
        cross_validate(sources, base, candidates, args.workers, args.ablate, args.cv_json)
        return
    for combo in grid(args.grid):
        config = base.replace(**combo)
        line = [_describe(combo)]
        for name, inputs in sources.items():
            res = {k: summary(v) for k, v in evaluate(inputs, config).items()}
            c = res["COMBINED"]
            mean = np.mean([res[s]["HOTA"] for s in args.sequences])
            line.append(
                f"{name}: HOTA {c['HOTA']:.2f} (mean {mean:.2f}) DetA {c['DetA']:.2f} "
                f"AssA {c['AssA']:.2f} IDF1 {c['IDF1']:.2f} IDSW {c['IDSW']:.0f}"
            )
            if args.per_seq:
                line.append(
                    " ".join(
                        f"{s[:6]} {res[s]['HOTA']:.1f}/{res[s]['AssA']:.1f}/{res[s]['IDF1']:.1f}"
                        for s in args.sequences
                    )
                )
            if args.time:
                pets = [seq for seq in inputs if seq.name == "PETS09-S2L1"]
                if pets:
                    line.append(f"PETS09 {time_association(pets, config):.3f} ms/frame")
        print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
