"""Sliced detection on the dev sequences: DetRe, DetPr and HOTA of the default tracker, and
detection ms/frame, with and without slicing, in one run.

For each dev sequence (bench/_common.py, plus ETH-Sunnyday when its video is there) and each
of `off` and `--slice` (default `auto`), the product's own stage graph runs as `mot-cli track
VIDEO --slice MODE` would (YOLO11n INT8, OSNet re-ID, camera motion, default tracker): the
detect stage alone first, always recomputed, so its `seconds` in the manifest (the detector's
own work, chunk writes included, decoding on its own thread) gives ms/frame; then the rest of
the track graph, reusing caches whose keys still match. Tracks are scored with TrackEval-exact
metrics under each sequence's benchmark rules. `auto`'s decision is printed per sequence.

The machine may be shared: the load average is printed beside each timing, and both modes of a
sequence run back to back so their ratio is measured under similar load.

    python bench/detect.py [--slice auto] [--sequences MOT16-11 ...] [--end N] [--runs DIR]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slice", default="auto", help="the sliced mode to compare with off")
    parser.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=SEQUENCES)
    parser.add_argument("--end", type=int, default=None, help="last frame (default: all)")
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
        base = measure(seq, "off", args.runs, args.end)
        sliced = measure(seq, args.slice, args.runs, args.end)
        for mode, row in (("off", base), (args.slice, sliced)):
            ratio = row["ms"] / base["ms"]
            print(f"{name:<15}{size:>10} {mode:<6}{max(row['tiles'], 1):>7}{row['DetRe']:7.2f}"
                  f"{row['DetPr']:7.2f}{row['HOTA']:7.2f}{row['ms']:10.1f}{ratio:6.2f}x"
                  f"{row['boxes']:7.1f}{row['load']:6.1f}", flush=True)  # fmt: skip
        print(f"{'':<15}{'':>10} {args.slice}: {sliced['reason']} ({sliced['frames']} frames)",
              flush=True)


if __name__ == "__main__":
    main()
