"""Our tracker against boxmot's peers on labelled sequences, from the same caches.

By default the sequences are the six dev sequences (bench/_common.py: TUD-Campus,
TUD-Stadtmitte, PETS09-S2L1, KITTI-17, ETH-Sunnyday with MOT15 rules, MOT16-11 with MOT16
rules);
``--data DIR --seqmap FILE`` runs the same comparison on any MOTChallenge split folder
(``DIR/<seq>/{gt/gt.txt, det/det.txt, seqinfo.ini, img1/}``; the benchmark's rules come from
the folder's name, as `mot-cli eval` picks them).

For each detection source — (a) each sequence's public `det.txt`, (b) YOLO11n INT8 detections
at conf >= 0.1 — this fills the caches once with `mot-cli track` (detections, OSNet x0_25
MSMT17 embeddings, camera motion; our tracks with the defaults), runs every boxmot 25.0.0
peer on the same cached detections and embeddings (boxmot lives in its own venv,
`bench/.venv-boxmot`, made on first use; see bench/peers/README.md), scores every tracker
per sequence under that sequence's rules with mot-cli's TrackEval-exact metrics, and prints
per sequence HOTA / AssA / IDF1 / MOTA / IDSW of ours and every peer, the combined figures
(TrackEval's combination: counts summed over sequences), and our left-out (leave-one-
sequence-out) figures beside the in-sample ones when `bench/tune_tracker.py --cv` has
written them (``--cv-json``, default bench/.runs/cv.json). It ends with one table of every
sequence x source (ours in-sample, left-out, the best peer) and the worst and mean margin
over the best peer; ``--shifted`` then runs the shifted folds (bench/shifted.py: half frame
rate, half resolution, peers on the same shifted input).

Association-only time: for boxmot, the time inside `tracker.update()`; for ours, the time of
`track_sequence` replaying cached detections, embeddings and camera motion (post-processing
included); per frame over all frames.

    python bench/association.py [--sources public yolo] [--peers bytetrack ocsort ...]
                                [--no-peers] [--work bench/.runs] [--set name=value ...]
                                [--data DIR --seqmap FILE] [--shifted]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV_SET, MODELS, REPO, DevSequence, bench_env, mot_cli

PEERS = (
    "bytetrack", "ocsort", "botsort", "deepocsort", "strongsort", "hybridsort",
    "boosttrack", "occluboost", "sfsort",
)  # fmt: skip; every boxmot 25.0.0 tracker but sam2mot (it needs SAM 2 weights)
FIELDS = ("HOTA", "AssA", "IDF1", "MOTA", "IDSW")


def user_sequences(data: Path, seqmap: Path | None) -> tuple[DevSequence, ...]:
    """Sequences of a user's MOTChallenge split folder, scored with its benchmark's rules."""
    from mot_cli.metrics.dataset import detect_benchmark, find_ground_truth

    found = find_ground_truth(data, seqmap=seqmap, sequences=(), seq_length=None)
    benchmark = detect_benchmark(data, found)
    return tuple(
        DevSequence(seq.name, data, benchmark, data / seq.name) for seq in found
    )


def fill_caches(work: Path, source: str, sequences, settings: list[str]) -> None:
    """Run `mot-cli track` per sequence: fills caches and writes our tracker's results."""
    for seq in sequences:
        args = ["track", seq.video, "--cache-dir", work / source, "--name", seq.name,
                "-o", work / source / "trackers" / "ours" / f"{seq.name}.txt"]
        if source == "public":
            args += ["--det-txt", seq.det_txt]
        else:  # every box a peer may use (ByteTrack's low round goes down to 0.1)
            args += ["--conf", "0.1"]
        for item in settings:
            args += ["--set", item]
        started = time.perf_counter()
        mot_cli(*args)
        print(f"  {source}/{seq.name}: caches + our tracks in "
              f"{time.perf_counter() - started:.1f} s", flush=True)


def time_ours(work: Path, source: str, sequences, settings: list[str],
              repeats: int = 3) -> float:
    """Median over `repeats` of our association ms/frame over every frame of `sequences`."""
    from mot_cli.cache import RunDir
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.stages import track
    from mot_cli.tracking import TrackerConfig

    config = TrackerConfig().with_overrides(settings)
    inputs = []
    for seq in sequences:
        length = read_seqinfo(seq.seqinfo).seq_length
        run = RunDir(work / source / seq.name)
        detections, warps = track.cached_inputs(run)
        inputs.append(((1, length), detections, warps, track.source_fps(run)))
    totals = []
    for _ in range(repeats):
        started = time.perf_counter()
        for frames, detections, warps, fps in inputs:
            track.replay(frames, detections, config, warps, fps)
        totals.append(time.perf_counter() - started)
    return sorted(totals)[repeats // 2] * 1000 / sum(item[0][1] for item in inputs)


def run_peers(work: Path, source: str, sequences, peers: list[str],
              reuse: bool = False, workers: int = 1) -> dict[str, float]:
    """Each peer on each sequence; returns association ms/frame per peer (all frames).

    With `reuse`, a peer whose output for a sequence exists (from an earlier run on the same
    caches) is not run again: its tracks only depend on the cached detections and
    embeddings, which this bench never changes once filled; its time comes from the saved
    summary. The runs share `workers` long-lived boxmot processes (start-up paid once).
    """
    from bench.peers.boxmot_env import ensure_boxmot_env, run_peer_batch
    from mot_cli.formats.seqinfo import read_seqinfo

    python = ensure_boxmot_env()
    jobs = []
    for peer in peers:
        for seq in sequences:
            info = read_seqinfo(seq.seqinfo)
            run = work / source / seq.name
            out = work / source / "trackers" / peer / f"{seq.name}.txt"
            if reuse and out.is_file() and out.with_suffix(".json").is_file():
                continue
            jobs.append(dict(
                tracker=peer, out=out, width=info.width, height=info.height,
                detections=run / "detections.parquet",
                embeddings=run / "embeddings.parquet",
                frames=seq.video, num_frames=info.seq_length,
                reid_weights=MODELS / "osnet_x0_25_msmt17.pth",
            ))  # fmt: skip
    started = time.perf_counter()
    run_peer_batch(python, jobs, workers)
    print(f"  {source}: {len(jobs)} peer runs in {time.perf_counter() - started:.0f} s",
          flush=True)
    timing = {}
    for peer in peers:
        total_ms, total_frames = 0.0, 0
        for seq in sequences:
            saved = work / source / "trackers" / peer / f"{seq.name}.json"
            summary = json.loads(saved.read_text())
            total_ms += summary["assoc_ms_per_frame"] * summary["frames"]
            total_frames += summary["frames"]
        timing[peer] = total_ms / total_frames if total_frames else float("nan")
        print(f"  {source}/{peer}: {timing[peer]:.2f} ms/frame", flush=True)
    return timing


def evaluate(work: Path, source: str, sequences, trackers: list[str]) -> dict[str, dict]:
    """Per tracker: per-sequence summaries (each under its own rules) and COMBINED."""
    from mot_cli.formats.mot import read_mot
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.metrics.evaluate import combine_results, evaluate_sequence

    gts = {}
    for seq in sequences:
        length = read_seqinfo(seq.seqinfo).seq_length
        gts[seq.name] = (read_mot(seq.gt, kind="gt", seq_length=length), length)
    out = {}
    for tracker in trackers:
        parts = {}
        for seq in sequences:
            gt, length = gts[seq.name]
            rows = read_mot(work / source / "trackers" / tracker / f"{seq.name}.txt",
                            kind="tracker", seq_length=length)
            parts[seq.name] = evaluate_sequence(gt, rows, seq_length=length,
                                                benchmark=seq.benchmark, name=seq.name)
        out[tracker] = {name: r.summary() for name, r in parts.items()}
        out[tracker]["COMBINED"] = combine_results(list(parts.values())).summary()
    return out


def _cell(values: dict, field: str) -> str:
    value = values[field]
    return f"{value:6d}" if field == "IDSW" else f"{100 * value:6.2f}"


def report(source: str, sequences, timing: dict, results: dict, cv: dict | None) -> None:
    """Per-sequence and combined tables, with the best peer and our left-out figures."""
    label = "public det.txt" if source == "public" else "YOLO11n INT8 (conf >= 0.1)"
    print(f"\n=== {label} ===")
    header = f"{'tracker':<12}" + "".join(f"{f:>7}" for f in FIELDS)
    wins = 0
    for name in [seq.name for seq in sequences] + ["COMBINED"]:
        rules = next((s.benchmark for s in sequences if s.name == name), "each its own")
        print(f"\n{name} ({rules} rules)\n{header}{'ms/frame':>9}")
        ranked = sorted(results, key=lambda t: -results[t][name]["HOTA"])
        for tracker in ranked:
            ms = f"{timing[tracker]:9.2f}" if name == "COMBINED" and tracker in timing else ""
            print(f"{tracker:<12}" + "".join(_cell(results[tracker][name], f) for f in FIELDS)
                  + ms)
        peers = [t for t in results if t != "ours"]
        if peers:
            best = max(peers, key=lambda t: results[t][name]["HOTA"])
            gap = 100 * (results["ours"][name]["HOTA"] - results[best][name]["HOTA"])
            wins += name != "COMBINED" and gap >= 0
            print(f"ours - best peer ({best}): {gap:+.2f} HOTA")
        if cv and name in cv.get(source, {}):
            row = cv[source][name]
            how = ("each sequence with the settings picked without it" if name == "COMBINED"
                   else f"settings picked without {name}")
            print(f"ours left-out (CV): HOTA {row['left_out']:.2f} vs in-sample "
                  f"{row['in_sample']:.2f} ({how})")
    if len(results) > 1:
        print(f"\nours >= best peer on {wins} of {len(sequences)} sequences ({label})")


def margins_table(sequences, every: dict[str, dict], cv: dict | None) -> None:
    """Every sequence x source: ours in-sample and left-out, the best peer, the margins; then
    the worst and the mean margin (the tuner's objective, bench/tune_tracker.py)."""
    print("\n=== every sequence x source (HOTA) ===")
    print(f"{'sequence':<16}{'source':<8}{'ours':>8}{'left-out':>10}{'best peer':>11}  "
          f"{'':<12}{'margin':>8}{'left-out':>10}")
    inside, outside = [], []
    for source, results in every.items():
        peers = [t for t in results if t != "ours"]
        for seq in [s.name for s in sequences] + ["COMBINED"]:
            ours = 100 * results["ours"][seq]["HOTA"]
            best = max(peers, key=lambda t: results[t][seq]["HOTA"])
            peer = 100 * results[best][seq]["HOTA"]
            row = (cv or {}).get(source, {}).get(seq)
            held = row["left_out"] if row else None
            held_text = f"{held:10.2f}" if held is not None else f"{'':>10}"
            gap_out = f"{held - peer:+10.2f}" if held is not None else f"{'':>10}"
            print(f"{seq:<16}{source:<8}{ours:8.2f}{held_text}{peer:11.2f}  {best:<12}"
                  f"{ours - peer:+8.2f}{gap_out}")
            if seq != "COMBINED":
                inside.append(ours - peer)
                if held is not None:
                    outside.append(held - peer)
    print(f"margin over the best peer, in-sample: worst {min(inside):+.2f}, mean "
          f"{sum(inside) / len(inside):+.2f} ({sum(g >= 0 for g in inside)} of {len(inside)} "
          f">= 0)")
    if outside:
        print(f"margin over the best peer, left-out: worst {min(outside):+.2f}, mean "
              f"{sum(outside) / len(outside):+.2f} ({sum(g >= 0 for g in outside)} of "
              f"{len(outside)} >= 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="+", default=["public", "yolo"],
                        choices=["public", "yolo"])
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".runs")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    parser.add_argument("--reuse-peers", action="store_true",
                        help="keep peers' outputs from an earlier run on the same caches")
    parser.add_argument("--data", type=Path, help="a MOTChallenge split folder (default: "
                        "the six dev sequences)")
    parser.add_argument("--seqmap", type=Path, help="sequence list for --data")
    parser.add_argument("--peer-workers", type=int, default=1,
                        help="boxmot processes running the peers side by side")
    parser.add_argument("--shifted", action="store_true",
                        help="also score the shifted folds (bench/shifted.py)")
    parser.add_argument("--cv-json", type=Path, default=None,
                        help="left-out figures written by tune_tracker.py --cv "
                        "(default: WORK/cv.json, dev set only)")
    args = parser.parse_args()
    import os

    os.environ.update(bench_env())
    sequences = DEV_SET if args.data is None else user_sequences(args.data, args.seqmap)
    cv_path = args.cv_json or (args.work / "cv.json" if args.data is None else None)
    cv = json.loads(cv_path.read_text()) if cv_path and cv_path.is_file() else None
    peers = [] if args.no_peers else args.peers
    every: dict[str, dict] = {}
    for source in args.sources:
        print(f"[{source}] filling caches and running ours", flush=True)
        fill_caches(args.work, source, sequences, args.settings)
        timing = {"ours": time_ours(args.work, source, sequences, args.settings)}
        from bench._sd import sd_replay_line  # S_sd's cost, where sd embeddings are cached

        print(sd_replay_line(args.work, source, sequences, args.settings), flush=True)
        if peers:
            print(f"[{source}] boxmot peers", flush=True)
            timing.update(run_peers(args.work, source, sequences, peers, args.reuse_peers,
                                    args.peer_workers))
        results = evaluate(args.work, source, sequences, ["ours", *peers])
        (args.work / source / "results.json").write_text(json.dumps(results, indent=1))
        report(source, sequences, timing, results, cv)
        every[source] = results
    if peers:
        margins_table(sequences, every, cv)
    if args.shifted and args.data is None:
        from bench import shifted

        found = shifted.run(args.work, args.sources, list(shifted.SHIFTS), peers, args.settings,
                            reuse=args.reuse_peers, workers=args.peer_workers)
        path = args.work / "shifted" / "results.json"
        path.write_text(json.dumps(found, indent=1) + "\n")
    if cv_path:
        print(f"\nleft-out figures from {cv_path}" if cv else
              f"\nno left-out figures: run bench/tune_tracker.py --cv (writes {cv_path})")


if __name__ == "__main__":
    main()
