"""Whole-process time of `mot-cli eval`: against TrackEval on its reference outputs, and on the
five dev sequences.

Runs `python -m mot_cli eval ../shared/datasets/MOT15-train <tracker> --benchmark MOT15` several
times as a user would (fresh interpreter each time: imports included) and prints the median,
for a tracker of ../shared/metrics-reference (the three sequences TrackEval's numbers cover).
When a Python with TrackEval is available, the same work done by TrackEval (HOTA, CLEAR and
Identity on the same files, results printed, no files written) is timed the same way. Then it
times `mot-cli eval` of our tracker's output on the whole dev set (bench/_common.py: one call
per split, each under its benchmark's rules), as bench/association.py leaves it in
bench/.runs/yolo/trackers/ours.

TrackEval is never a dependency of mot-cli; to compare, point at an interpreter that has it:

    python -m venv /tmp/trackeval-venv && /tmp/trackeval-venv/bin/pip install trackeval==1.3.0 \\
        numpy scipy
    MOT_CLI_TRACKEVAL_PYTHON=/tmp/trackeval-venv/bin/python python bench/eval.py

Examples:
    python bench/eval.py
    python bench/eval.py --repeats 9 --tracker ../shared/metrics-reference/MOT15-train/noisy_s2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV_SET, MOT15, REPO, SHARED, median, time_whole_process

REFERENCE = SHARED / "metrics-reference" / "MOT15-train"
TRACKEVAL_PYTHON_ENV = "MOT_CLI_TRACKEVAL_PYTHON"
LOCAL_TRACKEVAL_PYTHON = REPO / "bench" / ".venv-trackeval" / "bin" / "python"

# TrackEval's own entry point does this (scripts/run_mot_challenge.py); inlined because the
# PyPI package does not ship the script.
_TRACKEVAL_SCRIPT = """
import sys, trackeval
gt_folder, trackers_folder, tracker = sys.argv[1:4]
evaluator = trackeval.Evaluator({"USE_PARALLEL": False, "PRINT_CONFIG": False,
    "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
    "TIME_PROGRESS": False})
dataset = trackeval.datasets.MotChallenge2DBox({"GT_FOLDER": gt_folder,
    "TRACKERS_FOLDER": trackers_folder, "BENCHMARK": "MOT15", "SPLIT_TO_EVAL": "train",
    "TRACKERS_TO_EVAL": [tracker], "PRINT_CONFIG": False})
metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
evaluator.evaluate([dataset], metrics)
"""


def trackeval_python() -> str | None:
    """The interpreter to time TrackEval with, if one is configured."""
    configured = os.environ.get(TRACKEVAL_PYTHON_ENV)
    if configured:
        return configured
    return str(LOCAL_TRACKEVAL_PYTHON) if LOCAL_TRACKEVAL_PYTHON.is_file() else None


def time_trackeval(python: str, tracker: Path, repeats: int) -> list[float]:
    """Seconds of each whole-process TrackEval run on the same ground truth and tracker."""
    # TrackEval wants <TRACKERS_FOLDER>/MOT15-train/<tracker>/data and the seqmap in
    # <GT_FOLDER>/seqmaps, which is exactly ../shared's layout.
    args = [python, "-c", _TRACKEVAL_SCRIPT, str(MOT15.parent), str(tracker.parent.parent),
            tracker.name]  # fmt: skip
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tracker",
        type=Path,
        default=REFERENCE / "mixed_s0",
        help="Tracker folder with data/<seq>.txt for the three dev sequences.",
    )
    parser.add_argument("--repeats", type=int, default=7, help="Runs per tool (median shown).")
    parser.add_argument("--dev-tracker", type=Path,
                        default=REPO / "bench" / ".runs" / "yolo" / "trackers" / "ours",
                        help="A folder of <seq>.txt for the five dev sequences.")
    args = parser.parse_args()
    if not MOT15.is_dir() or not args.tracker.is_dir():
        print(f"skipped: needs {MOT15} and {args.tracker} (the shared data beside the repo)")
        return 0

    eval_args = ("eval", MOT15, args.tracker, "--benchmark", "MOT15")
    time_whole_process(*eval_args, repeats=1)  # warm the OS file cache
    ours = time_whole_process(*eval_args, repeats=args.repeats)
    print(f"mot-cli eval  median {median(ours):.3f} s over {len(ours)} runs "
          f"(min {min(ours):.3f}, max {max(ours):.3f}); tracker {args.tracker.name}, "
          f"3 sequences")  # fmt: skip

    python = trackeval_python()
    if python is None:
        print(f"TrackEval     not timed: set {TRACKEVAL_PYTHON_ENV} to a Python with trackeval")
    else:
        time_trackeval(python, args.tracker, repeats=1)
        theirs = time_trackeval(python, args.tracker, repeats=args.repeats)
        print(f"TrackEval     median {median(theirs):.3f} s over {len(theirs)} runs "
              f"(min {min(theirs):.3f}, max {max(theirs):.3f})")  # fmt: skip
        print(f"ratio         mot-cli / TrackEval = {median(ours) / median(theirs):.2f}")
    _time_dev_set(args.dev_tracker, args.repeats)
    return 0


def _time_dev_set(tracker: Path, repeats: int) -> None:
    """`mot-cli eval` of one tracker on every dev sequence: one call per split, timed."""
    if not all((tracker / f"{seq.name}.txt").is_file() for seq in DEV_SET):
        print(f"dev set       not timed: needs {tracker}/<seq>.txt (run bench/association.py)")
        return
    import tempfile

    splits = sorted({seq.split for seq in DEV_SET})
    calls = []
    folder = Path(tempfile.mkdtemp(prefix="mot-cli-bench-eval-"))
    for split in splits:
        seqmap = folder / f"{split.name}.txt"  # TrackEval's seqmap: a header, then names
        seqmap.write_text("name\n" + "".join(f"{s.name}\n" for s in DEV_SET if s.split == split))
        calls.append(("eval", split, tracker, "--seqmap", seqmap))
    totals = []
    for _ in range(repeats):
        totals.append(sum(time_whole_process(*call, repeats=1)[0] for call in calls))
    print(f"dev set       median {median(totals):.3f} s for {len(DEV_SET)} sequences in "
          f"{len(calls)} calls ({', '.join(p.name for p in splits)}), tracker {tracker}")


if __name__ == "__main__":
    raise SystemExit(main())
