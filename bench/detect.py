"""Sliced detection on the dev sequences: DetRe, DetPr and HOTA of the default tracker, and
detection ms/frame, with and without slicing, in one run.

For each dev sequence (bench/_common.py, plus ETH-Sunnyday when its video is there) and each
of `off` and `--slice` (default `auto`), the product's own stage graph runs as `mot-cli track
VIDEO --slice MODE` would (YOLO11n INT8, OSNet re-ID, camera motion, default tracker): the
detect stage alone first, always recomputed, so its `seconds` in the manifest (the detector's
own work, chunk writes included, decoding on its own thread) gives ms/frame; then the rest of
the track graph, reusing caches whose keys still match. Tracks are scored with TrackEval-exact
metrics under each sequence's benchmark rules. `auto`'s decision is printed per sequence;
where it keeps whole frames without running the model (small frames), its detections key is
`off`'s, so only `off` is run.

The machine may be shared: the load average is printed beside each timing, and both modes of a
sequence run back to back. Since a long run's load drifts, `--interleave N` (default 32) then
times the detector alone on N decoded frames, whole frames and sliced in turn for `--rounds`
rounds, and prints the median of the per-round ratios: the steadier figure on a busy machine.
`--timing-only` skips the tracking runs.

    python bench/detect.py [--slice auto] [--sequences MOT16-11 ...] [--end N] [--runs DIR]
                           [--interleave 32] [--rounds 3] [--timing-only]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV, MOT15, REPO, VIDEOS, DevSequence, bench_env

ETH = DevSequence("ETH-Sunnyday", MOT15, "MOT15", VIDEOS / "ETH-Sunnyday.mp4")
SEQUENCES = {**DEV, ETH.name: ETH}


def _gt(seq: DevSequence, last: int):
    """The sequence's ground truth up to frame `last` (the frames the run covers)."""
    import numpy as np

    from mot_cli.formats.mot import read_mot
    from mot_cli.formats.seqinfo import read_seqinfo

    rows = read_mot(seq.gt, kind="gt", seq_length=read_seqinfo(seq.seqinfo).seq_length)
    keep = rows.frame <= last
    names = ("frame", "id", "xywh", "conf", "cls", "vis", "line")
    return replace(rows, **{name: np.asarray(getattr(rows, name))[keep] for name in names})


def measure(seq: DevSequence, mode: str, runs: Path, end: int | None) -> dict:
    """Detect (timed) then track `seq` with `--slice mode`; its figures and auto's decision."""
    from mot_cli.formats.mot import read_mot
    from mot_cli.metrics.evaluate import evaluate_sequence
    from mot_cli.pipeline import open_run, produce
    from mot_cli.recipes import TrackRequest, track_configs
    from mot_cli.stages import detect, track
    from mot_cli.video import FrameRange

    configs, optional = track_configs(TrackRequest(slice=mode), seq.video)
    run = open_run(seq.video, runs / mode.replace("x", "_"), frame_range=FrameRange(1, end))
    load = os.getloadavg()[0]
    outcome = produce(run, detect.STAGE, {detect.STAGE: configs[detect.STAGE]},
                      force={detect.STAGE})  # fmt: skip
    entry = outcome.entry(detect.STAGE)
    first, last = entry["frames"]
    ms = 1000 * entry["seconds"] / (last - first + 1)
    load = (load + os.getloadavg()[0]) / 2
    tracked = produce(run, track.STAGE, configs, optional=optional).entry(track.STAGE)
    rows = read_mot(run.run_dir.path / tracked["mot_txt"], kind="tracker", seq_length=last)
    result = evaluate_sequence(
        _gt(seq, last), rows, seq_length=last, benchmark=seq.benchmark, name=seq.name
    )
    summary = result.summary()
    slicing = entry.get("slicing") or {}
    windows = slicing.get("windows") or []
    return {
        "ms": ms,
        "load": load,
        "boxes": entry["rows"] / (last - first + 1),
        "frames": last - first + 1,
        **{k: 100 * float(summary[k]) for k in ("DetRe", "DetPr", "HOTA")},
        "tiles": len(windows) + (1 if slicing.get("full_frame", True) and windows else 0),
        "reason": slicing.get("reason", ""),
    }


def interleaved(seq: DevSequence, mode: str, frames: int, rounds: int) -> tuple[float, ...]:
    """(whole-frame ms/frame, sliced ms/frame, median ratio) of the detector alone on the first
    `frames` frames, the two timed in turn for `rounds` rounds; `auto` decides as the stage
    does (its sampling is not timed)."""
    import statistics
    import time

    from mot_cli.models import resolve_model
    from mot_cli.stages.detect import DetectConfig, YoloDetector, decide_auto, planned_slicing
    from mot_cli.video import open_source

    source = open_source(seq.video)
    config = DetectConfig(slice=mode)
    detector = YoloDetector(resolve_model(config.model).path, config)
    sliced = planned_slicing(config, source)
    if sliced.reason == "not sampled":
        sliced = decide_auto(detector, source, (1, source.info.frames))
    whole = detector.slicing
    images = [image for _, image in source.frames(1, frames)]
    batch = config.batch

    def timed(slicing) -> float:
        detector.slicing = slicing
        started = time.perf_counter()
        for index in range(0, len(images), batch):
            detector.detect(images[index : index + batch])
        return 1000 * (time.perf_counter() - started) / len(images)

    timed(sliced)  # warm-up at both input sets
    timed(whole)
    pairs = [(timed(whole), timed(sliced)) for _ in range(rounds)]
    ratio = statistics.median(b / a for a, b in pairs)
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), ratio


def print_row(name: str, size: str, mode: str, row: dict, base_ms: float) -> None:
    """One mode's line of the table: windows, DetRe/DetPr/HOTA, ms/frame and its ratio to
    `off`'s (`base_ms`), boxes per frame, load."""
    figures = f"{row['DetRe']:7.2f}{row['DetPr']:7.2f}{row['HOTA']:7.2f}"
    print(f"{name:<15}{size:>10} {mode:<6}{max(row['tiles'], 1):>7}{figures}"
          f"{row['ms']:10.1f}{row['ms'] / base_ms:6.2f}x{row['boxes']:7.1f}{row['load']:6.1f}",
          flush=True)  # fmt: skip


def _settled(seq: DevSequence, mode: str) -> str | None:
    """Why `auto` keeps whole frames when it decides so without running the model, else None
    (then it is measured like any sliced mode)."""
    from mot_cli.stages.detect import DetectConfig, planned_slicing
    from mot_cli.video import open_source

    if mode != "auto":
        return None
    planned = planned_slicing(DetectConfig(slice=mode), open_source(seq.video))
    return None if planned.sliced or planned.reason == "not sampled" else planned.reason


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slice", default="auto", help="the sliced mode to compare with off")
    parser.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=SEQUENCES)
    parser.add_argument("--end", type=int, default=None, help="last frame (default: all)")
    parser.add_argument("--interleave", type=int, default=32, help="frames (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timing-only", action="store_true", help="skip the tracking runs")
    parser.add_argument("--runs", type=Path, default=REPO / "bench" / ".runs" / "detect",
                        help="run folders (re-ID and camera-motion caches are reused)")
    args = parser.parse_args()
    os.environ.update(bench_env())
    os.environ.setdefault("MOT_CLI_OFFLINE", "1")
    print(f"slicing: off vs --slice {args.slice}; {os.cpu_count()} CPUs; runs in {args.runs}")
    header = (f"{'sequence':<15}{'size':>10} {'slice':<6}{'inputs':>7}{'DetRe':>7}{'DetPr':>7}"
              f"{'HOTA':>7}{'ms/frame':>10}{'ratio':>7}{'boxes':>7}{'load':>6}")  # fmt: skip
    print(header)
    for name in args.sequences:
        seq = SEQUENCES[name]
        if not seq.video.exists() or not seq.gt.exists():
            print(f"{name:<15} skipped: needs {seq.video} and {seq.gt}")
            continue
        from mot_cli.video import open_source

        info = open_source(seq.video).info
        size = f"{info.width}x{info.height}"
        settled = _settled(seq, args.slice)
        if settled is not None:  # auto without the model: whole frames, off's own cache key
            if not args.timing_only:
                row = measure(seq, "off", args.runs, args.end)
                print_row(name, size, "off", row, row["ms"])
            print(f"{'':<15}{'':>10} {args.slice}: whole frames, the same detections key and "
                  f"figures as off ({settled})", flush=True)  # fmt: skip
            continue
        if not args.timing_only:
            base = measure(seq, "off", args.runs, args.end)
            sliced = measure(seq, args.slice, args.runs, args.end)
            for mode, row in (("off", base), (args.slice, sliced)):
                print_row(name, size, mode, row, base["ms"])
            print(f"{'':<15}{'':>10} {args.slice}: {sliced['reason']} ({sliced['frames']} frames)",
                  flush=True)  # fmt: skip
        if args.interleave:
            load = os.getloadavg()[0]
            whole, cut, ratio = interleaved(seq, args.slice, args.interleave, args.rounds)
            load = (load + os.getloadavg()[0]) / 2
            print(f"{name:<15}{size:>10} detector alone, {args.interleave} frames, "
                  f"{args.rounds} rounds in turn: off {whole:.1f}, {args.slice} {cut:.1f} "
                  f"ms/frame, ratio {ratio:.2f}x (median; load {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
