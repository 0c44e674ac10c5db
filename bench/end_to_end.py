"""Whole-process speed and memory of `mot-cli track` on a bare video, beside plain decoding.

For each video, in a fresh cache folder, with the default cues (YOLO11n INT8 detection, OSNet
re-ID, camera motion): frames per second of the whole `mot-cli track` process (start-up, model
loading and writing included), its CPU seconds per frame and its peak resident memory; beside
it, frames per second of plain decoding of the same video (OpenCV, the way mot-cli reads it),
measured in the same run. The machine may be shared, so the load average is printed with each
figure, and the decode rate says how fast the machine was at that moment.

    python bench/end_to_end.py [--videos PETS09-S2L1.avi MOT16-11.mp4] [--repeats 1]
                               [--end N] [--src DIR] [--keep DIR] [--set=--no-cmc ...]
                               [--compare=--sd ...]

`--src DIR` measures another checkout of mot-cli (e.g. an export of main, for a before/after
on the same machine at the same time); `--end N` stops at frame N for a quick look.
`--compare=--sd` also runs `mot-cli track` with those extra options on each video, right
after the default run (each in its own fresh cache folder), and prints the ratio of their
whole-process wall and CPU times: the price of a cue on a fresh video (issue 19 asks
`--sd` <= 1.5x a default run), measured in the same run so that load slows both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import MODELS, REPO, VIDEOS, median

TARGETS_FPS = {"PETS09-S2L1": 15.0, "MOT16-11": 8.0}
TARGET_RSS_MB = 1536

_DECODE = """
import sys, time
from pathlib import Path
from mot_cli.video import open_source
source = open_source(Path(sys.argv[1]))
last = int(sys.argv[2]) if len(sys.argv) > 2 else None
started = time.perf_counter()
count = sum(1 for _ in source.frames(1, last))
print(count, time.perf_counter() - started)
"""


@dataclass(frozen=True)
class Measured:
    """One whole-process run: wall seconds, CPU seconds, peak RSS and the load around it."""

    wall: float
    cpu: float
    rss_mb: float
    load: float
    stdout: str
    stderr: str


def run_child(args: list[str], src: Path) -> Measured:
    """Run a child process to the end; its own rusage gives CPU time and peak memory.

    It runs in `src`, since `python -m` puts the working folder first on the import path.
    """
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.setdefault("MOT_CLI_MODELS", str(MODELS))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True, cwd=src)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({child.returncode}):\n{stderr[-3000:]}")
    load = (load_before + os.getloadavg()[0]) / 2
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, usage.ru_maxrss / 1024, load, stdout, stderr)


def decode_fps(video: Path, end: int | None, src: Path) -> tuple[int, float, float]:
    """(frames, frames per second, load) of decoding the video alone."""
    args = [sys.executable, "-c", _DECODE, str(video), *([str(end)] if end else [])]
    measured = run_child(args, src)
    frames, seconds = measured.stdout.split()
    return int(frames), int(frames) / float(seconds), measured.load


def track_once(
    video: Path, end: int | None, src: Path, settings: list[str], keep: Path | None
) -> tuple[Measured, dict]:
    """`mot-cli track VIDEO` in a fresh cache folder; returns the run and its manifest.

    With `keep`, the run folder is moved there afterwards (to compare outputs of two checkouts).
    """
    with tempfile.TemporaryDirectory(prefix="mot-cli-e2e-") as cache:
        args = [sys.executable, "-m", "mot_cli", "track", str(video), "--cache-dir", cache]
        args += [*(["--end", str(end)] if end else []), *settings]
        measured = run_child(args, src)
        (manifest_path,) = Path(cache).glob("*/manifest.json")
        manifest = json.loads(manifest_path.read_text())
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(keep / manifest_path.parent.name, ignore_errors=True)
            shutil.move(manifest_path.parent, keep / manifest_path.parent.name)
    return measured, manifest


def stage_times(manifest: dict) -> str:
    """Each stage's own seconds, and the shared decode pass's wall time, from the manifest."""
    stages = manifest.get("stages", {})
    parts = [f"{name} {e['seconds']:.1f}" for name, e in stages.items() if "seconds" in e]
    passes = {json.dumps(e["pass"], sort_keys=True) for e in stages.values() if "pass" in e}
    for shared in map(json.loads, sorted(passes)):
        parts.append(
            f"pass {shared['seconds']:.1f} (waiting for frames {shared['waiting_for_frames']:.1f})"
        )
    return ", ".join(parts) + " s"


def print_ratios(ratios: list[tuple[str, Measured, Measured]], compared: str) -> None:
    """Per video: default and compared wall seconds, and their ratios (medians over repeats)."""
    print(f"\nvideo          default s  {compared:>9} s  wall ratio  CPU ratio  load")
    for stem in dict.fromkeys(row[0] for row in ratios):
        mine = [row for row in ratios if row[0] == stem]
        print(
            f"{stem:<14} {median([m.wall for _, m, _ in mine]):9.1f}  "
            f"{median([o.wall for _, _, o in mine]):{max(len(compared), 9)}.1f}  "
            f"{median([o.wall / m.wall for _, m, o in mine]):10.2f}  "
            f"{median([o.cpu / m.cpu for _, m, o in mine]):9.2f}  "
            f"{median([(m.load + o.load) / 2 for _, m, o in mine]):4.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", nargs="+", default=["PETS09-S2L1.avi", "MOT16-11.mp4"])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--end", type=int, default=None, help="last frame (default: all)")
    parser.add_argument("--src", type=Path, default=REPO, help="mot-cli checkout to measure")
    parser.add_argument("--keep", type=Path, default=None,
                        help="move each run folder here afterwards (default: deleted)")
    parser.add_argument("--set", dest="settings", nargs="*", default=[],
                        help="extra `mot-cli track` options, e.g. --set=--no-cmc")  # fmt: skip
    parser.add_argument("--compare", nargs="*", default=[],
                        help="also run with these options added and print the time ratio, "
                        "e.g. --compare=--sd")  # fmt: skip
    args = parser.parse_args()
    print(f"mot-cli from {args.src}; {os.cpu_count()} CPUs")
    rows = []
    ratios: list[tuple[str, Measured, Measured]] = []
    for name in args.videos:
        video = VIDEOS / name
        if not video.exists():
            sys.exit(f"needs {video}")
        for _ in range(args.repeats):
            frames, decode, decode_load = decode_fps(video, args.end, args.src)
            measured, manifest = track_once(video, args.end, args.src, args.settings, args.keep)
            fps = frames / measured.wall
            rows.append((video.stem, fps, decode, measured))
            print(
                f"{video.stem}: {frames} frames; decode alone {decode:.0f} frames/s (load "
                f"{decode_load:.1f}); track {fps:.2f} frames/s ({measured.wall:.1f} s, "
                f"{measured.cpu / frames * 1000:.0f} CPU ms/frame), peak RSS "
                f"{measured.rss_mb:.0f} MB (load {measured.load:.1f})"
            )
            print(f"  {stage_times(manifest)}")
            if args.compare:
                extra = [*args.settings, *args.compare]
                other, other_manifest = track_once(video, args.end, args.src, extra, None)
                ratios.append((video.stem, measured, other))
                print(
                    f"  with {' '.join(args.compare)}: {other.wall:.1f} s "
                    f"({other.cpu / frames * 1000:.0f} CPU ms/frame), peak RSS "
                    f"{other.rss_mb:.0f} MB (load {other.load:.1f}); wall ratio "
                    f"{other.wall / measured.wall:.2f}, CPU ratio {other.cpu / measured.cpu:.2f}"
                )
                print(f"  {stage_times(other_manifest)}")
    if ratios:
        print_ratios(ratios, " ".join(args.compare))
    print("\nvideo          track fps  target  decode fps  peak RSS MB  load")
    for stem in dict.fromkeys(row[0] for row in rows):
        mine = [row for row in rows if row[0] == stem]
        fps = median([row[1] for row in mine])
        rss = max(row[3].rss_mb for row in mine)
        target = TARGETS_FPS.get(stem)
        verdict = "" if target is None or args.end else ("ok" if fps >= target else "below")
        print(
            f"{stem:<14} {fps:9.2f}  {target or '-':>6} {verdict:<5} "
            f"{median([row[2] for row in mine]):6.0f}  {rss:11.0f}"
            f"{' ok' if rss <= TARGET_RSS_MB else ' over':<3}  "
            f"{median([row[3].load for row in mine]):4.1f}"
        )


if __name__ == "__main__":
    main()
