"""Tune `TrackerConfig` on the MOT15 dev sequences and report HOTA and association speed.

Detections come from two sources, tracked with one config for every sequence:

- ``public``: each sequence's ``det/det.txt`` (``frame,-1,x,y,w,h,score,...``), parsed here;
- ``yolo``: the caches ``mot-cli detect``/``embed`` wrote, ``<runs>/<seq>/detections.parquet``
  and, if present, ``<runs>/<seq>/embeddings.parquet`` (columns in `mot_cli.schema`).

Scoring is in memory with `mot_cli.metrics` (TrackEval-exact HOTA, combined over sequences).

Examples:
    python bench/tune_tracker.py --source public
    python bench/tune_tracker.py --source both --set w_emb=1.0 --grid iou_threshold=0.2,0.3
    python bench/tune_tracker.py --source yolo --time
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mot_cli.detections import Detections  # noqa: E402
from mot_cli.tracking import Tracker, TrackerConfig, TrackTable, track_sequence  # noqa: E402
from mot_cli.tracking.tracker import score_normaliser  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "MOT15-train"
SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte", "PETS09-S2L1")
Frames = list[tuple[int, Detections, np.ndarray | None]]


def seq_length(seq: str) -> int:
    """Frames in a sequence, from its seqinfo.ini."""
    for line in (DATA / seq / "seqinfo.ini").read_text().splitlines():
        if line.lower().startswith("seqlength"):
            return int(line.split("=")[1])
    raise ValueError(f"{seq}: no seqLength in seqinfo.ini")


def _frames(frame: np.ndarray, boxes: np.ndarray, score: np.ndarray, emb: np.ndarray | None,
            length: int) -> Frames:
    """Group rows into one Detections per frame 1..length (empty frames included)."""
    out: Frames = []
    order = np.argsort(frame, kind="stable")
    frame, boxes, score = frame[order], boxes[order], score[order]
    emb = None if emb is None else emb[order]
    bounds = np.searchsorted(frame, np.arange(1, length + 2))
    for f in range(1, length + 1):
        a, b = bounds[f - 1], bounds[f]
        e = None if emb is None else emb[a:b]
        out.append((f, Detections(boxes[a:b], score[a:b], np.zeros(b - a, np.int32), e), None))
    return out


def load_public(seq: str) -> Frames:
    """The sequence's public det.txt as frames (scores in the detector's own scale)."""
    rows = np.loadtxt(DATA / seq / "det" / "det.txt", delimiter=",", ndmin=2)
    boxes = rows[:, 2:6].copy()
    boxes[:, 2:] += boxes[:, :2]
    return _frames(rows[:, 0].astype(np.int64), boxes, rows[:, 6], None, seq_length(seq))


def load_cache(seq: str, runs: Path, min_score: float, use_embeddings: bool) -> Frames | None:
    """YOLO detections (and embeddings) cached by mot-cli; None when the cache is missing."""
    import pyarrow.parquet as pq

    det_path = runs / seq / "detections.parquet"
    if not det_path.exists():
        return None
    det = pq.read_table(det_path).to_pandas()
    emb = None
    emb_path = runs / seq / "embeddings.parquet"
    if use_embeddings and emb_path.exists():
        table = pq.read_table(emb_path).to_pandas()
        lookup = {(f, d): i for i, (f, d) in enumerate(zip(table["frame"], table["det"], strict=True))}
        vectors = np.stack(table["embedding"].to_numpy()).astype(np.float32)
        index = np.array([lookup[(f, d)] for f, d in zip(det["frame"], det["det"], strict=True)])
        emb = vectors[index]
    keep = (det["score"].to_numpy() >= min_score) & (det["cls"].to_numpy() <= 0)
    boxes = det[["x1", "y1", "x2", "y2"]].to_numpy()[keep]
    emb = None if emb is None else emb[keep]
    return _frames(det["frame"].to_numpy()[keep], boxes, det["score"].to_numpy()[keep], emb,
                   seq_length(seq))


def evaluate(tables: dict[str, TrackTable]) -> dict[str, dict[str, float]]:
    """HOTA, DetA, AssA (and IDF1, MOTA) per sequence and COMBINED, with mot_cli.metrics."""
    from mot_cli.formats.mot import MotRows, read_mot
    from mot_cli.metrics.evaluate import combine_results, evaluate_sequence

    out: dict[str, dict[str, float]] = {}
    parts = []
    for seq, table in tables.items():
        n = seq_length(seq)
        gt = read_mot(DATA / seq / "gt" / "gt.txt", kind="gt", seq_length=n)
        m = len(table)
        rows = MotRows(table.frame, table.id, table.xywh.astype(np.float64), table.score,
                       np.full(m, -1), np.ones(m), Path(f"{seq}.txt"))
        result = evaluate_sequence(gt, rows, seq_length=n, benchmark="MOT15", name=seq)
        parts.append(result)
        out[seq] = _summary(result.summary())
    out["COMBINED"] = _summary(combine_results(parts).summary())
    return out


def _summary(s: dict) -> dict[str, float]:
    return {k: 100 * s[k] for k in ("HOTA", "DetA", "AssA", "IDF1", "MOTA")} | {
        "IDSW": s["IDSW"]
    }


def run(data: dict[str, Frames], config: TrackerConfig) -> dict[str, dict[str, float]]:
    """Track every sequence with one config and score the lot."""
    return evaluate({seq: track_sequence(frames, config) for seq, frames in data.items()})


def time_association(frames: Frames, config: TrackerConfig, repeats: int = 3) -> float:
    """Milliseconds per frame of `Tracker.update` alone (scores pre-normalised, no I/O)."""
    scores = score_normaliser(np.concatenate([d.score for _, d, _ in frames]), config.score_scale)
    scaled, start = [], 0
    for _, d, _ in frames:
        scaled.append(Detections(d.xyxy, scores[start:start + len(d)], d.cls, d.embedding))
        start += len(d)
    best = float("inf")
    for _ in range(repeats):
        tracker = Tracker(config)
        t0 = time.perf_counter()
        for d in scaled:
            tracker.update(d)
        best = min(best, (time.perf_counter() - t0) / len(scaled) * 1000)
    return best


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
    """Parse options, load detections, evaluate each config of the grid, print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", choices=("public", "yolo", "both"), default="public")
    p.add_argument("--runs", type=Path, default=ROOT / "runs")
    p.add_argument("--min-score", type=float, default=0.1, help="YOLO score floor")
    p.add_argument("--no-embeddings", action="store_true")
    p.add_argument("--set", action="append", default=[], help="name=value, fixed")
    p.add_argument("--grid", action="append", default=[], help="name=v1,v2,... to sweep")
    p.add_argument("--time", action="store_true", help="also time association per frame")
    p.add_argument("--per-seq", action="store_true", help="print per-sequence HOTA")
    args = p.parse_args(argv)

    sources: dict[str, dict[str, Frames]] = {}
    if args.source in ("public", "both"):
        sources["public"] = {s: load_public(s) for s in SEQUENCES}
    if args.source in ("yolo", "both"):
        yolo = {s: load_cache(s, args.runs, args.min_score, not args.no_embeddings)
                for s in SEQUENCES}
        missing = [s for s, f in yolo.items() if f is None]
        if missing:
            print(f"no YOLO cache for {', '.join(missing)} under {args.runs}; skipping yolo")
        else:
            sources["yolo"] = yolo  # type: ignore[assignment]
    base = TrackerConfig().with_overrides(args.set)
    for combo in grid(args.grid):
        config = base.replace(**combo)
        line = [" ".join(f"{k}={v}" for k, v in combo.items()) or "defaults"]
        for name, data in sources.items():
            res = run(data, config)
            c = res["COMBINED"]
            line.append(f"{name}: HOTA {c['HOTA']:.2f} DetA {c['DetA']:.2f} AssA {c['AssA']:.2f}"
                        f" IDF1 {c['IDF1']:.2f} IDSW {c['IDSW']}")
            if args.per_seq:
                line.append(" ".join(f"{s[:6]} {res[s]['HOTA']:.1f}" for s in SEQUENCES))
            if args.time:
                ms = time_association(data["PETS09-S2L1"], config)
                line.append(f"PETS09 {ms:.3f} ms/frame")
        print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
