"""Does a depth-level cue pay? Left-out on the two MOTS dev sequences, with and without appearance.

    python bench/depth_level.py [--runs /tmp/bench-masks]

The cue (`w_depth_level`, tracking.cues.depth_level_cue): each track keeps its nearness as a
filtered level (an EMA of the median nearness inside its detections' masks, else boxes), and
a match costs the relative jump from that level to the detection's, only for detections whose
box overlaps another's (where position alone is ambiguous; SparseTrack's use of depth levels
in crowds). Unlike the depth×mask encoder's crops, which are normalised to their own median,
the level keeps who is in front of whom.

Inputs: the run folders `bench/masks.py --cues` leaves under RUNS (KITTI-17 and MOTS20-11 =
MOT16-11: YOLO11n detections, OSNet embeddings and camera motion in RUNS/base/SEQ) and the
per-detection depth statistics it keeps for every mask source and depth backend
(RUNS/levels/SEQ/<masks>-<depth>.parquet). Every level source is replayed on the same
detections with `mot_cli.stages.track.replay` and scored on boxes (MOT15 rules for KITTI-17,
MOT16 for MOT16-11). Left-out: each sequence's weight is the grid value with the best HOTA on
the other sequence; the rows give the left-out AssA and HOTA change against the plain
tracker, per sequence and combined (TrackEval's combination).

The rule for turning a cue on (issue 19): left-out AssA +1.0 or more without appearance, and
no sequence losing more than 0.5 HOTA with appearance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV
from bench.tune_tracker import SequenceInputs

SEQS = {"KITTI-17": "KITTI-17", "MOTS20-11": "MOT16-11"}  # MOTS run folder -> dev sequence
GRID = (0.25, 0.5, 1.0, 2.0)


def load(runs: Path, seq: str, appearance: bool) -> SequenceInputs:
    """The sequence's cached tracker inputs (the base run) with its box ground truth."""
    from mot_cli.cache import RunDir
    from mot_cli.formats.mot import read_mot
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.stages.track import cached_inputs, source_fps

    dev = DEV[SEQS[seq]]
    run = RunDir(runs / "base" / seq)
    detections, warps = cached_inputs(run, appearance=appearance, camera_motion=True)
    length = read_seqinfo(dev.seqinfo).seq_length
    gt = read_mot(dev.gt, kind="gt", seq_length=length)
    return SequenceInputs(dev.name, dev.benchmark, length, source_fps(run), detections, warps, gt)


def with_levels(seq: SequenceInputs, table_path: Path) -> SequenceInputs:
    import dataclasses

    import pyarrow.parquet as pq

    from mot_cli.stages.depth import attach_levels

    return dataclasses.replace(
        seq, detections=attach_levels(seq.detections, pq.read_table(table_path))
    )


def main() -> None:
    from mot_cli.metrics.evaluate import combine_results
    from mot_cli.tracking import TrackerConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("/tmp/bench-masks"))
    args = parser.parse_args()
    names = list(SEQS)
    sources = sorted(
        {p.stem for p in (args.runs / "levels" / names[0]).glob("*.parquet")}
        & {p.stem for p in (args.runs / "levels" / names[1]).glob("*.parquet")}
    )
    if not sources:
        sys.exit(f"no depth statistics in {args.runs}/levels/<seq>/ (run bench/masks.py --cues)")
    base = TrackerConfig()

    def figures(result) -> tuple[float, float]:
        s = result.summary()
        return 100 * float(s["AssA"]), 100 * float(s["HOTA"])

    verdicts = []
    print(f"{'levels from':<22} {'appear.':<8} {'picks':<10} "
          + "".join(f"{n + ' dAssA/dHOTA':>24}" for n in names)
          + f"{'combined dAssA/dHOTA':>24}")  # fmt: skip
    for appearance in (True, False):
        plain = {n: load(args.runs, n, appearance) for n in names}
        plain_results = {n: s.score(s.track(base)) for n, s in plain.items()}
        plain_combined = figures(combine_results(list(plain_results.values())))
        label = "with" if appearance else "without"
        print(f"{'(plain tracker)':<22} {label:<8} {'':<10} "
              + "".join(f"{figures(r)[0]:11.2f}/{figures(r)[1]:<12.2f}"
                        for r in plain_results.values())
              + f"{plain_combined[0]:11.2f}/{plain_combined[1]:<12.2f}")  # fmt: skip
        for source in sources:
            seqs = {n: with_levels(plain[n], args.runs / "levels" / n / f"{source}.parquet")
                    for n in names}  # fmt: skip
            results = {
                (n, w): seqs[n].score(seqs[n].track(base.replace(w_depth_level=w)))
                for n in names
                for w in GRID
            }
            picked = {}
            for n in names:
                other = next(o for o in names if o != n)
                best = max(GRID, key=lambda w, o=other: figures(results[(o, w)])[1])
                picked[n] = best
            held = {n: results[(n, picked[n])] for n in names}
            combined = figures(combine_results(list(held.values())))
            cells = "".join(
                f"{figures(held[n])[0] - figures(plain_results[n])[0]:+11.2f}/"
                f"{figures(held[n])[1] - figures(plain_results[n])[1]:<+12.2f}"
                for n in names
            )
            gain = combined[0] - plain_combined[0]
            print(f"{source:<22} {label:<8} {'/'.join(f'{picked[n]:g}' for n in names):<10} "
                  f"{cells}{gain:+11.2f}/{combined[1] - plain_combined[1]:<+12.2f}")
            if appearance:
                worst = min(figures(held[n])[1] - figures(plain_results[n])[1] for n in names)
                verdicts.append((source, "with", worst))
            else:
                verdicts.append((source, "without", gain))
    print("\nrule: left-out AssA >= +1.0 without appearance and no sequence below -0.5 HOTA "
          "with appearance")
    for source in sources:
        gain = next(v for s, a, v in verdicts if s == source and a == "without")
        worst = next(v for s, a, v in verdicts if s == source and a == "with")
        ok = gain >= 1.0 and worst >= -0.5
        print(f"  {source:<22} AssA {gain:+.2f} without appearance, worst sequence "
              f"{worst:+.2f} HOTA with: {'meets' if ok else 'misses'} the rule")


if __name__ == "__main__":
    main()
