"""Our tracker against boxmot's peers on the MOT15 dev sequences, from the same caches.

For each detection source — (a) each sequence's public `det.txt`, (b) YOLO11n INT8 detections
at conf >= 0.1 — this fills the caches once with `mot-cli track` (detections, OSNet x0_25
MSMT17 embeddings, camera motion), then runs boxmot 25.0.0's ByteTrack, OC-SORT, BoT-SORT,
Deep OC-SORT and StrongSORT on the same cached detections and embeddings (boxmot lives in its
own venv, `bench/.venv-boxmot`, made on first use; see bench/peers/README.md), scores every
tracker with `mot-cli eval`, and prints HOTA, AssA, IDF1, IDSW and association-only ms/frame.

Association-only time: for boxmot, the time inside `tracker.update()`; for ours, the time of
`track_sequence` replaying cached detections, embeddings and camera motion (post-processing
included). Both are per frame over all frames of the three sequences.

    python bench/association.py [--sources public yolo] [--peers bytetrack ocsort ...]
                                [--no-peers] [--work bench/.runs] [--set name=value ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    DEV_SEQUENCES,
    MODELS,
    MOT15,
    REPO,
    VIDEO_FILES,
    VIDEOS,
    bench_env,
    mot_cli,
)

PEERS = ("bytetrack", "ocsort", "botsort", "deepocsort", "strongsort", "boosttrack", "occluboost")


def fill_caches(work: Path, source: str, settings: list[str]) -> None:
    """Run `mot-cli track` per sequence: fills caches and writes our tracker's results."""
    for seq in DEV_SEQUENCES:
        args = ["track", VIDEOS / VIDEO_FILES[seq], "--cache-dir", work / source,
                "-o", work / source / "trackers" / "ours" / "data" / f"{seq}.txt"]
        if source == "public":
            args += ["--det-txt", MOT15 / seq / "det" / "det.txt"]
        for item in settings:
            args += ["--set", item]
        started = time.perf_counter()
        mot_cli(*args)
        print(f"  {source}/{seq}: caches + our tracks in {time.perf_counter() - started:.1f} s",
              flush=True)
    manifest = json.loads((work / source / "PETS09-S2L1" / "manifest.json").read_text())
    embed = manifest["stages"]["embeddings"]
    print(f"  {source}/PETS09-S2L1 embed stage (when its cache was filled): {embed['rows']} "
          f"crops in {embed['seconds']:.1f} s = {embed['rows'] / embed['seconds']:.0f} crops/s "
          f"({embed['config']['backend']} backend)", flush=True)


def time_ours(work: Path, source: str, settings: list[str], repeats: int = 3) -> tuple[float, int]:
    """Median over `repeats` of our association time summed over the sequences; and frames."""
    from mot_cli.cache import RunDir
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.stages import track
    from mot_cli.tracking import TrackerConfig

    config = TrackerConfig().with_overrides(settings)
    inputs = []
    for seq in DEV_SEQUENCES:
        length = read_seqinfo(MOT15 / seq / "seqinfo.ini").seq_length
        detections, warps = track.cached_inputs(RunDir(work / source / seq))
        inputs.append(((1, length), detections, warps))
    totals = []
    for _ in range(repeats):
        started = time.perf_counter()
        for frames, detections, warps in inputs:
            track.replay(frames, detections, config, warps)
        totals.append(time.perf_counter() - started)
    return sorted(totals)[repeats // 2], sum(f[1] for f, _, _ in inputs)


def run_peers(work: Path, source: str, peers: list[str]) -> dict[str, float]:
    """Each peer on each sequence; returns association ms/frame per peer (all frames)."""
    from bench.peers.boxmot_env import ensure_boxmot_env, run_peer
    from mot_cli.formats.seqinfo import read_seqinfo

    python = ensure_boxmot_env()
    timing = {}
    for peer in peers:
        total_ms, total_frames = 0.0, 0
        for seq in DEV_SEQUENCES:
            info = read_seqinfo(MOT15 / seq / "seqinfo.ini")
            run = work / source / seq
            summary = run_peer(
                python, peer, work / source / "trackers" / peer / "data" / f"{seq}.txt",
                width=info.width, height=info.height,
                detections=run / "detections.parquet", embeddings=run / "embeddings.parquet",
                frames=VIDEOS / VIDEO_FILES[seq], num_frames=info.seq_length,
                reid_weights=MODELS / "osnet_x0_25_msmt17.pth",
            )
            total_ms += summary["assoc_ms_per_frame"] * summary["frames"]
            total_frames += summary["frames"]
        timing[peer] = total_ms / total_frames
        print(f"  {source}/{peer}: {timing[peer]:.2f} ms/frame", flush=True)
    return timing


def evaluate(work: Path, source: str, trackers: list[str]) -> dict[str, dict]:
    out = work / source / "eval.json"
    mot_cli("eval", MOT15, *[work / source / "trackers" / t for t in trackers], "--json", out)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="+", default=["public", "yolo"],
                        choices=["public", "yolo"])
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".runs")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    args = parser.parse_args()
    import os

    os.environ.update(bench_env())
    peers = [] if args.no_peers else args.peers
    report = []
    for source in args.sources:
        print(f"[{source}] filling caches and running ours", flush=True)
        fill_caches(args.work, source, args.settings)
        seconds, frames = time_ours(args.work, source, args.settings)
        timing = {"ours": seconds * 1000 / frames}
        if peers:
            print(f"[{source}] boxmot peers", flush=True)
            timing.update(run_peers(args.work, source, peers))
        results = evaluate(args.work, source, ["ours", *peers])
        report.append((source, timing, results))
    for source, timing, results in report:
        label = "public det.txt" if source == "public" else "YOLO11n INT8 (conf >= 0.1)"
        print(f"\n{label}: combined over {', '.join(DEV_SEQUENCES)} (mot-cli eval, MOT15 rules)")
        print(f"{'tracker':<12} {'HOTA':>6} {'AssA':>6} {'IDF1':>6} {'IDSW':>5} {'ms/frame':>9}")
        ranked = sorted(timing, key=lambda t: -results[t]["COMBINED_SEQ"]["HOTA"])
        for tracker in ranked:
            row = results[tracker]["COMBINED_SEQ"]
            print(f"{tracker:<12} {100 * row['HOTA']:6.2f} {100 * row['AssA']:6.2f} "
                  f"{100 * row['IDF1']:6.2f} {row['IDSW']:5d} {timing[tracker]:9.2f}")
        best_peer = max((t for t in timing if t != "ours"),
                        key=lambda t: results[t]["COMBINED_SEQ"]["HOTA"], default=None)
        if best_peer:
            gap = 100 * (results["ours"]["COMBINED_SEQ"]["HOTA"]
                         - results[best_peer]["COMBINED_SEQ"]["HOTA"])
            print(f"ours - best peer ({best_peer}): {gap:+.2f} HOTA points")


if __name__ == "__main__":
    main()
