"""Tune `TrackerConfig` on the MOT15 dev sequences and report HOTA and association speed.

The tracker's inputs come from the caches `mot-cli track` wrote (as `bench/association.py`
fills them), loaded exactly as the product loads them (`mot_cli.stages.track.cached_inputs`)
and replayed with `mot_cli.stages.track.replay`:

- ``public``: ``<runs>/public/<seq>/``, each sequence's ``det/det.txt`` with OSNet embeddings
  and camera-motion warps;
- ``yolo``: ``<runs>/yolo/<seq>/``, YOLO11n INT8 detections (conf >= 0.1), likewise.

``--no-embeddings`` / ``--no-cmc`` drop the appearance or camera-motion cache to measure what
each brings. Scoring is in memory with `mot_cli.metrics` (TrackEval-exact HOTA; the combined
row is TrackEval's combination over the sequences, not a mean).

Examples:
    python bench/tune_tracker.py --per-seq --time
    python bench/tune_tracker.py --source yolo --grid max_age=20,30,40 --grid w_emb=0.5,1.0
    python bench/tune_tracker.py --source public --set reid_recovery=false --no-cmc
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mot_cli.cache import RunDir  # noqa: E402
from mot_cli.detections import Detections  # noqa: E402
from mot_cli.formats.mot import MotRows, read_mot  # noqa: E402
from mot_cli.formats.seqinfo import read_seqinfo  # noqa: E402
from mot_cli.metrics.evaluate import SequenceResult, combine_results, evaluate_sequence  # noqa: E402
from mot_cli.stages.track import cached_inputs, replay  # noqa: E402
from mot_cli.tracking import TrackerConfig, TrackTable  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "MOT15-train"
RUNS = ROOT / "bench" / ".runs"
SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte", "PETS09-S2L1")
SOURCES = ("public", "yolo")
METRICS = ("HOTA", "DetA", "AssA", "IDF1", "MOTA")


@dataclass(frozen=True)
class SequenceInputs:
    """One sequence's cached tracker inputs and its ground truth."""

    name: str
    length: int
    detections: dict[int, Detections]
    warps: dict[int, np.ndarray] | None
    gt: MotRows

    def track(self, config: TrackerConfig) -> TrackTable:
        """Replay the whole sequence through the tracker, as `mot-cli track` does."""
        return replay((1, self.length), self.detections, config, self.warps)

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
            self.gt, rows, seq_length=self.length, benchmark="MOT15", name=self.name
        )


def load_source(
    source: str, runs: Path, sequences: Sequence[str], *, appearance: bool, camera_motion: bool
) -> list[SequenceInputs]:
    """Every sequence's cached inputs for one detection source."""
    out = []
    for seq in sequences:
        length = read_seqinfo(DATA / seq / "seqinfo.ini").seq_length
        detections, warps = cached_inputs(
            RunDir(runs / source / seq), appearance=appearance, camera_motion=camera_motion
        )
        gt = read_mot(DATA / seq / "gt" / "gt.txt", kind="gt", seq_length=length)
        out.append(SequenceInputs(seq, length, detections, warps, gt))
    return out


def _summary(result: SequenceResult) -> dict[str, float]:
    s = result.summary()
    return {k: 100 * float(s[k]) for k in METRICS} | {"IDSW": float(s["IDSW"])}


def evaluate(inputs: list[SequenceInputs], config: TrackerConfig) -> dict[str, dict[str, float]]:
    """Track every sequence with one config; metrics per sequence and ``COMBINED``."""
    parts = [seq.score(seq.track(config)) for seq in inputs]
    out = {seq.name: _summary(part) for seq, part in zip(inputs, parts, strict=True)}
    out["COMBINED"] = _summary(combine_results(parts))
    return out


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


def main(argv: Sequence[str] | None = None) -> None:
    """Parse options, load the caches, evaluate each config of the grid, print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", choices=(*SOURCES, "both"), default="both")
    p.add_argument("--runs", type=Path, default=RUNS, help="folder holding public/ and yolo/")
    p.add_argument("--no-embeddings", action="store_true", help="ignore embeddings.parquet")
    p.add_argument("--no-cmc", action="store_true", help="ignore camera_motion.parquet")
    p.add_argument("--set", action="append", default=[], help="name=value, fixed")
    p.add_argument("--grid", action="append", default=[], help="name=v1,v2,... to sweep")
    p.add_argument("--time", action="store_true", help="also time association on PETS09-S2L1")
    p.add_argument("--per-seq", action="store_true", help="print per-sequence HOTA/AssA/IDF1")
    p.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=SEQUENCES)
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
    for combo in grid(args.grid):
        config = base.replace(**combo)
        line = [" ".join(f"{k}={v}" for k, v in combo.items()) or "defaults"]
        for name, inputs in sources.items():
            res = evaluate(inputs, config)
            c = res["COMBINED"]
            line.append(
                f"{name}: HOTA {c['HOTA']:.2f} DetA {c['DetA']:.2f} AssA {c['AssA']:.2f}"
                f" IDF1 {c['IDF1']:.2f} IDSW {c['IDSW']:.0f}"
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
