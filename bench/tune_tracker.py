"""Tune `TrackerConfig` on the six dev sequences, with leave-one-sequence-out cross-validation.

The tracker's inputs come from the caches `mot-cli track` wrote (`bench/association.py` fills
them), loaded exactly as the product loads them (`mot_cli.stages.track.cached_inputs`) and
replayed with `mot_cli.stages.track.replay`:

- ``public``: ``<runs>/public/<seq>/``, each sequence's ``det/det.txt`` (scores calibrated
  as `mot_cli/scores.py` says) with OSNet embeddings and camera-motion warps;
- ``yolo``: ``<runs>/yolo/<seq>/``, YOLO11n INT8 detections (conf >= 0.1), likewise.

Each sequence is scored in memory with `mot_cli.metrics` under its own benchmark's rules
(MOT15 for the MOT15 sequences, MOT16 for MOT16-11; the dev set lives in bench/_common.py).

``--cv`` runs leave-one-sequence-out over the dev sequences and both sources. The procedure
that picks settings is: score ``--samples`` random points of the search space (SPACE below)
on the sequences it may see, take the best by the objective (by default the *worst* margin
over the best boxmot peer across sequence x source, the mean margin breaking ties), then
climb (steepest ascent over one-step neighbours) while the objective improves. It runs once
per left-out sequence on the *other* sequences (both sources) and is scored on the one left
out, and once on all sequences: that in-sample pick is what the defaults should be. Every
point is scored once (workers share a memo). ``--ablate`` adds, per offline step, the
left-out HOTA of each fold's pick with that step switched off.

Examples:
    python bench/tune_tracker.py --per-seq
    python bench/tune_tracker.py --cv --ablate --workers 2
    python bench/tune_tracker.py --source yolo --grid det_threshold=0.4,0.5,0.6 --per-seq
    python bench/tune_tracker.py --source public --set reid_recovery=false --no-cmc
    python bench/tune_tracker.py --shift half-rate --grid max_age=15,30 --per-seq
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

# The search space of --cv: each axis lists its values in order, so a point's neighbours are
# the adjacent values of one axis. Offline steps are axes too, so CV decides whether each one
# earns its place.
SPACE: dict[str, tuple[str, ...]] = {
    "det_threshold": ("0.45", "0.5", "0.55", "0.6", "0.65", "0.7"),
    "new_track_threshold": ("0", "0.6", "0.65", "0.7", "0.75"),
    "low_threshold": ("0.1", "0.2", "0.25", "0.3", "0.35"),
    "iou_threshold": ("0.1", "0.15", "0.2", "0.25", "0.3"),
    "min_hits": ("1", "2", "3", "4"),
    "weak_start_hits": ("0", "2", "3", "5"),
    "weak_start_score": ("0.4", "0.5", "0.55"),
    "max_age": ("15", "30", "45", "60", "90"),
    "reference_fps": ("0", "10", "14", "25"),
    "w_emb": ("0.5", "0.75", "1.0", "1.25"),
    "w_angle": ("0", "0.1", "0.2", "0.3"),
    "reid_threshold": ("0.65", "0.75", "0.85"),
    "reid_recovery": ("false", "true"),
    "reid_speed": ("0.25", "0.5", "1", "2"),
    "reid_max_distance": ("0.25", "0.5", "1"),
    "reid_margin": ("-2", "0", "0.05", "0.1"),
    "relink": ("false", "true"),
    "relink_threshold": ("0.6", "0.7", "0.8"),
    "appearance_margin": ("0.1", "0.2", "0.3", "2"),
    "offline_cmc": ("false", "true"),
    "backfill": ("false", "true"),
    "fill_min_score": ("0", "0.3", "0.5"),
    "interpolate_max_gap": ("0", "5", "10", "20", "30"),
    "smooth_sigma": ("0", "2", "3", "5", "8"),
    "min_track_length": ("1", "5", "10", "20"),
    "weak_min_track_length": ("0", "10", "15", "20"),
    "min_track_score": ("0", "0.4", "0.5", "0.6"),
}
# Offline steps and the setting that switches each off (for --ablate).
OFFLINE_OFF = {
    "backfill": "backfill=false",
    "interpolation": "interpolate_max_gap=0",
    "smoothing": "smooth_sigma=0",
    "minimum length": "min_track_length=1",
    "minimum score": "min_track_score=0",
    "weak confident": "weak_needs_confident=false",
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


def _valid(point: dict[str, str]) -> bool:
    return float(point["low_threshold"]) <= float(point["det_threshold"])


def sample_space(count: int, seed: int) -> list[dict[str, str]]:
    """`count` distinct random points of SPACE."""
    rng = random.Random(seed)
    seen, out = set(), []
    while len(out) < count:
        point = {name: rng.choice(values) for name, values in SPACE.items()}
        frozen = tuple(sorted(point.items()))
        if _valid(point) and frozen not in seen:
            seen.add(frozen)
            out.append(point)
    return out


def _as_number(value: object) -> float:
    if isinstance(value, str):
        words = {"true": 1.0, "false": 0.0}
        return words[value] if value in words else float(value)
    return float(value)


def base_point(base: TrackerConfig) -> dict[str, str]:
    """The point of SPACE closest to `base` (the shipped defaults, with any --set), so the
    search always starts from where the defaults are."""
    point = {}
    for name, values in SPACE.items():
        target = _as_number(getattr(base, name))
        point[name] = min(values, key=lambda v: abs(_as_number(v) - target))
    return point


def neighbours(point: dict[str, str], axes: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The points one step away on one axis of SPACE (only `axes`, when given)."""
    out = []
    for name, values in SPACE.items():
        if axes is not None and name not in axes:
            continue
        index = values.index(point[name])
        for step in (-1, 1):
            if 0 <= index + step < len(values):
                moved = {**point, name: values[index + step]}
                if _valid(moved):
                    out.append(moved)
    return out


# -- cross-validation -------------------------------------------------------------------------

Key = tuple[str, str]  # (source, sequence)
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


class Scorer:
    """Scores settings on every (source, sequence) in worker processes, each point once."""

    def __init__(
        self, sources: dict[str, list[SequenceInputs]], base: TrackerConfig, workers: int
    ) -> None:
        self.base = base
        self.memo: dict[tuple, dict[Key, SequenceResult]] = {}
        self.started = time.perf_counter()
        if workers <= 1:
            _init_worker(sources)
            self.pool = None
        else:
            ctx = multiprocessing.get_context("fork")
            self.pool = ctx.Pool(workers, initializer=_init_worker, initargs=(sources,))

    def __call__(self, points: list[dict[str, str]]) -> list[dict[Key, SequenceResult]]:
        todo = [p for p in points if tuple(sorted(p.items())) not in self.memo]
        todo = list({tuple(sorted(p.items())): p for p in todo}.values())
        jobs = [(self.base, p) for p in todo]
        run = self.pool.map if self.pool is not None else map
        results = run(_score_candidate, jobs)
        for point, result in zip(todo, results, strict=True):
            self.memo[tuple(sorted(point.items()))] = result
        if todo:
            elapsed = time.perf_counter() - self.started
            print(f"  {len(self.memo)} settings scored ({elapsed:.0f} s)", file=sys.stderr,
                  flush=True)
        return [self.memo[tuple(sorted(p.items()))] for p in points]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _hota(result: SequenceResult) -> float:
    return 100 * float(result.summary()["HOTA"])


Value = tuple[float, float]  # (primary, tie-break): compared lexicographically


@dataclass(frozen=True)
class Objective:
    """What a pick maximises over the sequences it may see, as (primary, tie-break).

    ``worst`` (the default): the worst over sequence x source of our HOTA minus the best
    boxmot peer's, the mean of those margins breaking ties; a setting that wins five
    sequences by a lot and loses a sixth is worth less than one that holds on all six.
    ``margin``: the mean margin, each capped at `cap` points (the former objective).
    ``mean``: the mean per-sequence HOTA (every sequence counts alike, whatever its length).
    The peers' figures come from bench/association.py's results.json.
    """

    kind: str = "worst"
    peers: dict[Key, float] | None = None
    cap: float = 3.0

    def __call__(self, result: dict[Key, SequenceResult], keys: list[Key]) -> Value:
        if self.kind == "mean" or not self.peers:
            return float(np.mean([_hota(result[k]) for k in keys])), 0.0
        margins = np.array([_hota(result[k]) - self.peers[k] for k in keys])
        if self.kind == "worst":
            return float(margins.min()), float(margins.mean())
        return float(np.mean(np.minimum(margins, self.cap))), 0.0


def _better(a: Value, b: Value, tol: float = 1e-9) -> bool:
    """Whether `a` beats `b`: a higher primary, or the same primary and a higher tie-break."""
    if a[0] > b[0] + tol:
        return True
    return abs(a[0] - b[0]) <= tol and a[1] > b[1] + tol


def load_peers(runs: Path, sources: Sequence[str]) -> dict[Key, float]:
    """The best peer's HOTA per (source, sequence) from association.py's results.json."""
    out = {}
    for source in sources:
        path = runs / source / "results.json"
        if not path.is_file():
            raise SystemExit(f"--objective margin needs {path}: run bench/association.py first")
        results = json.loads(path.read_text())
        for tracker, per_seq in results.items():
            if tracker == "ours":
                continue
            for seq, row in per_seq.items():
                key = (source, seq)
                out[key] = max(out.get(key, -1.0), 100 * float(row["HOTA"]))
    return out


def select(
    scorer: Scorer,
    objective: Objective,
    keys: list[Key],
    starts: list[dict[str, str]],
    steps: int = 8,
    axes: Sequence[str] | None = None,
) -> dict[str, str]:
    """The best start on `keys`, then steepest ascent over its neighbours while it improves."""
    results = scorer(starts)
    best = max(range(len(starts)), key=lambda i: (*objective(results[i], keys), -i))
    point, value = starts[best], objective(results[best], keys)
    for _ in range(steps):
        around = neighbours(point, axes)
        scored = [objective(r, keys) for r in scorer(around)]
        top = max(range(len(scored)), key=lambda i: (*scored[i], -i))
        if not _better(scored[top], value):
            break
        point, value = around[top], scored[top]
    return point


def cross_validate(
    sources: dict[str, list[SequenceInputs]],
    scorer: Scorer,
    objective: Objective,
    starts: list[dict[str, str]],
    ablate: bool,
    out: Path | None = None,
    steps: int = 8,
    axes: Sequence[str] | None = None,
) -> None:
    """Print in-sample and left-out HOTA per sequence and combined, per source.

    The procedure that picks settings (best of `starts`, then steepest ascent) runs once per
    left-out sequence on the other sequences' labels, and once on all of them (in-sample: the
    defaults to ship). With `out`, also write the figures as JSON (`bench/association.py`
    prints them beside its table) and every scored point's figures beside it.
    """
    names = [seq.name for seq in next(iter(sources.values()))]
    keys = [(source, name) for source in sources for name in names]
    best = select(scorer, objective, keys, starts, steps, axes)
    folds = {
        name: select(scorer, objective, [k for k in keys if k[1] != name], starts, steps, axes)
        for name in names
    }
    picked = scorer([best])[0]
    held = {name: scorer([folds[name]])[0] for name in names}

    print(f"\nleave-one-sequence-out ({objective.kind} objective): settings picked on the other "
          "sequences (both sources), scored on the one left out")
    print(f"{'sequence':<16}{'source':<8}{'in-sample':>10}{'left-out':>10}"
          f"{'best peer':>10}  fold's pick")
    record: dict = {"objective": objective.kind, "in_sample_pick": best, "folds": folds}
    for source in sources:
        inside, outside = [], []
        record[source] = {}
        for name in names:
            a, b = picked[(source, name)], held[name][(source, name)]
            inside.append(a)
            outside.append(b)
            peer = (objective.peers or {}).get((source, name))
            record[source][name] = {"in_sample": _hota(a), "left_out": _hota(b), "peer": peer}
            peer_text = f"{peer:10.2f}" if peer is not None else f"{'':>10}"
            print(f"{name:<16}{source:<8}{_hota(a):10.2f}{_hota(b):10.2f}{peer_text}  "
                  f"{_describe(_changes(folds[name], best))}")
        if objective.peers:
            gaps_in = [_hota(picked[(source, n)]) - objective.peers[(source, n)] for n in names]
            gaps_out = [_hota(held[n][(source, n)]) - objective.peers[(source, n)] for n in names]
            record[source]["margins"] = {
                "in_sample_worst": min(gaps_in), "in_sample_mean": float(np.mean(gaps_in)),
                "left_out_worst": min(gaps_out), "left_out_mean": float(np.mean(gaps_out)),
            }
        ci, co = combine_results(inside), combine_results(outside)
        mi = np.mean([_hota(r) for r in inside])
        mo = np.mean([_hota(r) for r in outside])
        print(f"{'COMBINED':<16}{source:<8}{_hota(ci):10.2f}{_hota(co):10.2f}{'':>10}  "
              f"(mean of sequences: {mi:.2f} in-sample, {mo:.2f} left-out)")
        record[source]["COMBINED"] = {"in_sample": _hota(ci), "left_out": _hota(co)}
    if objective.peers:
        every = {
            "in-sample": [_hota(picked[(s, n)]) - objective.peers[(s, n)]
                          for s in sources for n in names],
            "left-out": [_hota(held[n][(s, n)]) - objective.peers[(s, n)]
                         for s in sources for n in names],
        }  # fmt: skip
        for when, gaps in every.items():
            print(f"{when} margin over the best peer, over sequence x source: worst "
                  f"{min(gaps):+.2f}, mean {np.mean(gaps):+.2f}")
            record[f"{when}_worst"], record[f"{when}_mean"] = min(gaps), float(np.mean(gaps))
    print(f"\nin-sample pick (the defaults to ship): {_describe(best)}")
    print("(a fold's pick is shown as its differences from the in-sample pick)")
    if out is not None:
        out.write_text(json.dumps(record, indent=1) + "\n")
        table = [
            {"settings": dict(point), **{f"{s}/{n}": summary(r) for (s, n), r in res.items()}}
            for point, res in scorer.memo.items()
        ]
        out.with_suffix(".points.json").write_text(json.dumps(table) + "\n")
        print(f"wrote {out} and {out.with_suffix('.points.json')}")
    if ablate:
        _ablate(sources, scorer, folds, names, keys)


def _ablate(
    sources: dict[str, list[SequenceInputs]],
    scorer: Scorer,
    folds: dict[str, dict[str, str]],
    names: list[str],
    keys: list[Key],
) -> None:
    """Left-out HOTA of each fold's pick with and without each offline step."""
    print("\noffline steps, left-out: each fold's pick as picked, and with the step off")
    header = "".join(f"{s + ' ' + n[:8]:>18}" for s, n in keys)
    print(f"{'variant':<16}{header}{'mean':>8}")
    variants = {"as picked": None, **OFFLINE_OFF}
    for label, off in variants.items():
        cells = []
        for source, name in keys:
            point = folds[name]
            if off is not None:
                setting, _, value = off.partition("=")
                point = {**point, setting: value}
            cells.append(_hota(scorer([point])[0][(source, name)]))
        print(f"{label:<16}" + "".join(f"{c:18.2f}" for c in cells) + f"{np.mean(cells):8.2f}")


def _changes(point: dict[str, str], reference: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in point.items() if reference.get(k) != v}


def _describe(changes: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in changes.items()) or "(the same)"


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
    p.add_argument("--shift", choices=("half-rate", "half-size"), default=None,
                   help="score on a shifted fold (bench/shifted.py) instead; not with --cv")
    p.add_argument("--cv", action="store_true", help="leave-one-sequence-out cross-validation")
    p.add_argument("--samples", type=int, default=60,
                   help="--cv: random starting points of the search")
    p.add_argument("--objective", choices=("worst", "margin", "mean"), default="worst",
                   help="--cv: what a pick maximises (see Objective)")
    p.add_argument("--seed", type=int, default=0, help="--cv: seed of that sample")
    p.add_argument("--steps", type=int, default=8, help="--cv: most steps of the climb")
    p.add_argument("--peer-hota", type=Path, default=None,
                   help="--cv: best peer HOTA per source and sequence as JSON "
                   "({source: {sequence: hota}}) instead of association.py's results.json")
    p.add_argument("--axes", nargs="+", choices=list(SPACE), default=None,
                   help="--cv: climb only along these axes (default: all of SPACE)")
    p.add_argument("--ablate", action="store_true", help="--cv: what each offline step brings")
    p.add_argument("--workers", type=int, default=1, help="--cv: processes")
    p.add_argument("--cv-json", type=Path, default=RUNS / "cv.json",
                   help="--cv: where to write the figures (bench/association.py reads them)")
    args = p.parse_args(argv)

    names = SOURCES if args.source == "both" else (args.source,)
    if args.shift is not None and args.cv:
        p.error("--shift is not for tuning: the shifted folds only check what --cv picked")
    if args.shift is not None:
        from bench.shifted import SHIFTS, sequence_inputs

        sources = {
            name: [sequence_inputs(args.runs, name, DEV[seq], SHIFTS[args.shift])
                   for seq in args.sequences]
            for name in names
        }
    else:
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
        peers = None
        if args.peer_hota is not None:
            given = json.loads(args.peer_hota.read_text())
            peers = {(s, n): float(v) for s in names for n, v in given[s].items()}
        elif args.objective != "mean":
            peers = load_peers(args.runs, names)
        starts = [base_point(base), *sample_space(max(args.samples - 1, 0), args.seed)]
        scorer = Scorer(sources, base, args.workers)
        try:
            cross_validate(sources, scorer, Objective(args.objective, peers), starts,
                           args.ablate, args.cv_json, args.steps, args.axes)
        finally:
            scorer.close()
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
