"""Does a depth-level cue pay? Left-out on the six dev sequences x two detection sources,
with and without appearance.

    python bench/depth_level.py [--runs /tmp/h19/runs] [--sources yolo public]
                                [--depth pseudo pydnet] [--sequences KITTI-17 ...]
    python bench/depth_level.py --sd crop frame [--sources yolo public] [--sequences ...]

The cue (`w_depth_level`, tracking.cues.depth_level_cue): each track keeps its nearness as a
filtered level (an EMA of the median nearness inside its detections' masks, else boxes), and
a match costs the relative jump from that level to the detection's, only for detections whose
box overlaps another's (where position alone is ambiguous; SparseTrack's use of depth levels
in crowds). Unlike the depth×mask encoder's crops, which are normalised to their own median,
the level keeps who is in front of whom.

Inputs: copies of the dev caches `bench/association.py` fills (RUNS/<source>/<SEQ>:
detections, OSNet embeddings, camera motion; copy them from bench/.runs first, this script
writes into them). For every depth backend the script runs the depth stage in each copied run
(`mot-cli depth VIDEO --backend B`, box statistics: these runs have no masks) and keeps its
depth.parquet as RUNS/levels/<source>/<SEQ>/box-<backend>.parquet, so a second call only
replays. mobilePydnet maps depend only on the video: the first source's maps are reused by the
second (copied with their manifest entry; the stage then only recomputes the statistics).

Every grid weight is replayed on the cached detections (`mot_cli.stages.track.replay`, the
CURRENT tracker defaults otherwise) and scored under each sequence's benchmark rules.
Left-out = leave-one-sequence-out per source: each sequence's weight is the grid value with
the best mean HOTA on the other sequences of that source. Rows give the left-out AssA and HOTA
change against the plain tracker per (sequence, source), the combination over every sequence
x source (TrackEval's combination) and the worst sequence x source.

``--sd crop frame`` asks the same of the depth×mask cue `S_sd` (`w_sd`, grid SD_GRID) with
the encoder's crops normalised per crop and per frame (`train-encoder --depth-norm`): each
encoder is made as a bare `track --sd` makes it (box masks, pseudo-depth, one training pass on
the run, `sd_embed.SD_*`), in its own copy of the run folder (RUNS/sd/<norm>/<source>/<SEQ>).

The rule for turning a cue on (issue 19): combined left-out AssA +1.0 or more without
appearance, and no sequence x source losing more than 0.5 HOTA with appearance.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV, DEV_SEQUENCES, mot_cli
from bench.tune_tracker import SequenceInputs, load_source
from mot_cli.encoder.crops import DEPTH_NORMS

GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
MAPS = "depth_maps"


def levels_path(runs: Path, source: str, seq: str, depth: str) -> Path:
    return runs / "levels" / source / seq / f"box-{depth}.parquet"


def _seed_maps(donor: Path, run: Path, stage: str = MAPS) -> None:
    """Give `run` the cache of `stage` that `donor` made of the same video (the same key: the
    maps of a network depend only on the frames; box masks only on the same detections), so
    the pipeline finds it fresh instead of recomputing it."""
    from mot_cli.cache import RunDir

    src, dst = RunDir(donor), RunDir(run)
    entry = src.read_entry(stage)
    if entry is None or src.load_manifest()["source"] != dst.load_manifest()["source"]:
        return
    shutil.copy2(src.file(stage), dst.file(stage))
    dst.write_entry(stage, entry)


def prepare(runs: Path, sources: list[str], seqs: list[str], depths: list[str]) -> None:
    """Run the depth stage where its statistics are not kept yet (see the module notes)."""
    for depth in depths:
        for seq in seqs:
            donor = None
            for source in sources:
                out = levels_path(runs, source, seq, depth)
                if out.is_file():
                    continue
                run = runs / source / seq
                if not run.is_dir():
                    sys.exit(f"{run}: no run folder (copy bench/.runs/{source}/{seq} there)")
                if donor is not None and depth != "pseudo":
                    _seed_maps(donor, run)
                started = time.perf_counter()
                done = mot_cli("depth", DEV[seq].video, "--backend", depth, "--cache-dir",
                               runs / source, "--name", seq, check=False)  # fmt: skip
                if done.returncode:
                    sys.exit(f"depth {depth} on {run} failed:\n{done.stderr[-2000:]}")
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(run / "depth.parquet", out)
                took = time.perf_counter() - started
                print(f"  depth {depth:<7} {source:<7} {seq:<15} {took:6.1f} s", file=sys.stderr,
                      flush=True)  # fmt: skip
                donor = run


SD_SEQUENCES = ("KITTI-17", "MOT16-11", "ETH-Sunnyday")
SD_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)


def sd_path(runs: Path, norm: str, source: str, seq: str, depth: str = "pseudo") -> Path:
    return runs / ("sd" if depth == "pseudo" else f"sd-{depth}") / norm / source / seq


def prepare_sd(
    runs: Path, sources: list[str], seqs: list[str], norms: list[str], depth_backend: str
) -> None:
    """S_sd embeddings as a bare `track --sd` makes them (box masks, pseudo-depth, the encoder
    trained one pass on the run: sd_embed.SD_*), once per crop normalisation, each in its own
    copy of the run folder (RUNS/sd/<norm>/<source>/<SEQ>). With `depth_backend` pydnet, the
    maps are the mobilePydnet ones the depth-level part left in RUNS/<source>/<SEQ> and the
    box masks those of the pseudo-depth copies, in RUNS/sd-pydnet/<norm>/<source>/<SEQ>."""
    from mot_cli.cache import RunDir
    from mot_cli.pipeline import open_run, produce
    from mot_cli.stages import depth, sd_embed, sd_encoder, segment

    for norm in norms:
        for source in sources:
            for seq in seqs:
                work = sd_path(runs, norm, source, seq, depth_backend)
                if work.is_dir() and sd_embed.read_sd_embeddings(RunDir(work)) is not None:
                    continue
                if not work.is_dir():  # another normalisation's copy has the masks already
                    donors = [sd_path(runs, other, source, seq, depth_backend)
                              for other in norms if other != norm]  # fmt: skip
                    donor = next((d for d in donors if (d / "masks.parquet").is_file()), None)
                    shutil.copytree(donor or runs / source / seq, work)
                    masks = sd_path(runs, norm, source, seq)
                    if donor is None and depth_backend != "pseudo" and masks.is_dir():
                        _seed_maps(masks, work, segment.STAGE)
                started = time.perf_counter()
                configs = {
                    segment.STAGE: segment.SegmentConfig(sd_embed.SD_MASKS),
                    depth.MAPS_STAGE: depth.DepthConfig(depth_backend),
                    sd_encoder.STAGE: sd_encoder.SdEncoderConfig(
                        epochs=sd_embed.SD_ENCODER_EPOCHS, min_steps=0, depth_norm=norm
                    ),
                    sd_embed.STAGE: sd_embed.SdEmbedConfig(None),
                }
                run = open_run(DEV[seq].video, work.parent, seq)
                try:
                    produce(run, sd_embed.STAGE, configs)
                finally:
                    run.close()
                took = time.perf_counter() - started
                print(f"  sd {norm:<6} {depth_backend:<7} {source:<7} {seq:<15} {took:6.1f} s",
                      file=sys.stderr,
                      flush=True)  # fmt: skip


def with_sd(seq: SequenceInputs, run: Path) -> SequenceInputs:
    from mot_cli.cache import RunDir
    from mot_cli.stages.track import attach_sd_embeddings

    return dataclasses.replace(seq, detections=attach_sd_embeddings(RunDir(run), seq.detections))


def with_levels(seq: SequenceInputs, table_path: Path) -> SequenceInputs:
    import pyarrow.parquet as pq

    from mot_cli.stages.depth import attach_levels

    return dataclasses.replace(
        seq, detections=attach_levels(seq.detections, pq.read_table(table_path))
    )


def figures(result) -> tuple[float, float]:
    """(AssA, HOTA) in percent."""
    s = result.summary()
    return 100 * float(s["AssA"]), 100 * float(s["HOTA"])


def left_out(results: dict, names: list[str], grid: tuple[float, ...]) -> dict[str, float]:
    """Each sequence's weight: the grid value with the best mean HOTA on the other sequences."""
    picked = {}
    for name in names:
        others = [o for o in names if o != name]
        picked[name] = max(
            grid, key=lambda w: sum(figures(results[(o, w)])[1] for o in others) / len(others)
        )
    return picked


Variant = tuple[str, Callable[[str, SequenceInputs], SequenceInputs]]


def compare(
    runs: Path,
    sources: list[str],
    names: list[str],
    variants: list[Variant],
    weight: str,
    grid: tuple[float, ...],
) -> dict[tuple[str, str], tuple[float, float]]:
    """Print the left-out table of each variant's cue (`weight` over `grid`) against the plain
    tracker, with and without appearance; return (combined dAssA, worst dHOTA) per (variant,
    "with"/"without")."""
    from mot_cli.metrics.evaluate import combine_results
    from mot_cli.tracking import TrackerConfig

    base = TrackerConfig()
    labels = [label for label, _ in variants]
    header = (f"{'variant':<12} {'source':<7} {'picks':<24}"
              + "".join(f"{n[:14]:>16}" for n in names) + f"{'combined':>16}")  # fmt: skip
    out = {}
    for appearance in (True, False):
        label = "with" if appearance else "without"
        plain_all, held_all = [], {v: [] for v in labels}
        deltas = {v: [] for v in labels}
        print(f"\n{weight}, {label} appearance: left-out dAssA/dHOTA vs the plain tracker "
              f"(its AssA/HOTA on the plain rows)")  # fmt: skip
        print(header)
        for source in sources:
            plain = {s.name: s for s in load_source(
                source, runs, names, appearance=appearance, camera_motion=True)}  # fmt: skip
            plain_res = {n: plain[n].score(plain[n].track(base)) for n in names}
            plain_all += list(plain_res.values())
            pf = {n: figures(plain_res[n]) for n in names}
            comb = figures(combine_results(list(plain_res.values())))
            print(f"{'plain':<12} {source:<7} {'':<24}"
                  + "".join(f"{pf[n][0]:8.2f}/{pf[n][1]:<7.2f}" for n in names)
                  + f"{comb[0]:8.2f}/{comb[1]:<7.2f}", flush=True)  # fmt: skip
            for variant, make in variants:
                seqs = {n: make(source, plain[n]) for n in names}
                results = {
                    (n, w): seqs[n].score(seqs[n].track(base.replace(**{weight: w})))
                    for n in names
                    for w in grid
                }
                picked = left_out(results, names, grid)
                held = {n: results[(n, picked[n])] for n in names}
                held_all[variant] += list(held.values())
                delta = {
                    n: tuple(a - b for a, b in zip(figures(held[n]), pf[n], strict=True))
                    for n in names
                }
                deltas[variant] += [(source, n, *delta[n]) for n in names]
                c = figures(combine_results(list(held.values())))
                print(f"{variant:<12} {source:<7} "
                      f"{'/'.join(f'{picked[n]:g}' for n in names):<24}"
                      + "".join(f"{delta[n][0]:+8.2f}/{delta[n][1]:<+7.2f}" for n in names)
                      + f"{c[0] - comb[0]:+8.2f}/{c[1] - comb[1]:<+7.2f}", flush=True)  # fmt: skip
        pc = figures(combine_results(plain_all))
        for variant in labels:
            hc = figures(combine_results(held_all[variant]))
            worst = min(deltas[variant], key=lambda r: r[3])
            mean_assa = sum(r[2] for r in deltas[variant]) / len(deltas[variant])
            print(f"{variant:<12} all {len(deltas[variant])}: combined dAssA "
                  f"{hc[0] - pc[0]:+.2f} dHOTA {hc[1] - pc[1]:+.2f}; mean dAssA {mean_assa:+.2f}; "
                  f"worst dHOTA {worst[3]:+.2f} ({worst[1]}/{worst[0]})")
            out[(variant, label)] = (hc[0] - pc[0], worst[3])
    return out


def verdicts(rule: dict[tuple[str, str], tuple[float, float]], labels: list[str]) -> None:
    print("rule: combined left-out AssA >= +1.0 without appearance and no sequence x source "
          "below -0.5 HOTA with appearance")  # fmt: skip
    for variant in labels:
        gain = rule[(variant, "without")][0]
        worst = rule[(variant, "with")][1]
        ok = gain >= 1.0 and worst >= -0.5
        print(f"  {variant:<12} AssA {gain:+.2f} without appearance, worst sequence x source "
              f"{worst:+.2f} HOTA with: {'meets' if ok else 'misses'} the rule")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("/tmp/h19/runs"))
    parser.add_argument("--sources", nargs="+", default=["yolo", "public"])
    parser.add_argument("--depth", nargs="+", default=["pseudo", "pydnet"])
    parser.add_argument("--sequences", nargs="+", default=list(DEV_SEQUENCES))
    parser.add_argument("--grid", type=float, nargs="+", default=None,
                        help=f"cue weights (default {GRID}; with --sd {SD_GRID})")
    parser.add_argument("--sd", nargs="+", choices=DEPTH_NORMS, default=None,
                        help="compare S_sd (w_sd) with the encoder's crops normalised per crop "
                        "and/or per frame instead of the depth-level cue (default sequences "
                        f"{' '.join(SD_SEQUENCES)})")
    parser.add_argument("--sd-depth", choices=("pseudo", "pydnet"), default="pseudo",
                        help="the depth maps of --sd's encoders (pseudo: as `track --sd`)")
    args = parser.parse_args()
    if args.sd:
        names = args.sequences if args.sequences != list(DEV_SEQUENCES) else list(SD_SEQUENCES)
        grid = tuple(args.grid or SD_GRID)
        prepare_sd(args.runs, args.sources, names, args.sd, args.sd_depth)
        started = time.perf_counter()

        def sd(norm: str):
            return lambda source, seq: with_sd(
                seq, sd_path(args.runs, norm, source, seq.name, args.sd_depth)
            )

        variants = [(f"{norm} {args.sd_depth}", sd(norm)) for norm in args.sd]
        rule = compare(args.runs, args.sources, names, variants, "w_sd", grid)
        print(f"\n({time.perf_counter() - started:.0f} s of replay)")
        verdicts(rule, [label for label, _ in variants])
        return
    names, grid = args.sequences, tuple(args.grid or GRID)
    prepare(args.runs, args.sources, names, args.depth)
    started = time.perf_counter()

    def levels(depth: str):
        return lambda source, seq: with_levels(seq, levels_path(args.runs, source, seq.name, depth))

    variants = [(f"{depth} level", levels(depth)) for depth in args.depth]
    rule = compare(args.runs, args.sources, names, variants, "w_depth_level", grid)
    print(f"\n({time.perf_counter() - started:.0f} s of replay)")
    verdicts(rule, [label for label, _ in variants])


if __name__ == "__main__":
    main()
