"""Shifted folds: every dev sequence at half frame rate and at half resolution, ours vs peers.

Not for tuning: they expose settings that only work at one frame rate or one image size.
Each fold is generated on the fly from the dev caches `bench/association.py` fills:

- ``half-rate``: frames 1, 3, 5, ... renumbered 1, 2, 3, ...; the ground truth likewise; the
  frame rate halves; each camera-motion warp is the two original steps chained;
- ``half-size``: frames, boxes (detections and ground truth) and image size scaled by 0.5;
  each warp's translation halves (the same motion in half-size pixels).

Detections and OSNet embeddings are the cached full-size ones (moved and scaled as above), so
the fold shifts what the *tracker* sees, not what the detector finds. Every boxmot peer runs
on the same shifted detections and embeddings, with the shifted frames (an mp4 written once
per sequence and fold) for its own camera-motion compensation. Each sequence is scored under
its own benchmark's rules.

    python bench/shifted.py [--sources public yolo] [--shifts half-rate half-size]
                            [--peers ...] [--work bench/.runs] [--set name=value ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import DEV_SET, MODELS, REPO, DevSequence  # noqa: E402
from mot_cli.detections import Detections  # noqa: E402
from mot_cli.formats.mot import MotRows  # noqa: E402


@dataclass(frozen=True)
class Shift:
    """One way of shifting a sequence: keep every `step`-th frame, scale pixels by `scale`."""

    name: str
    step: int
    scale: float

    def length(self, length: int) -> int:
        """Frames of the shifted sequence."""
        return (length + self.step - 1) // self.step

    def new_frame(self, old: np.ndarray) -> np.ndarray:
        """Shifted frame numbers of original ones (only kept frames are meaningful)."""
        return (np.asarray(old) - 1) // self.step + 1

    def kept(self, old: np.ndarray) -> np.ndarray:
        """Which original frame numbers the shifted sequence keeps."""
        return (np.asarray(old) - 1) % self.step == 0


SHIFTS = {"half-rate": Shift("half-rate", 2, 1.0), "half-size": Shift("half-size", 1, 0.5)}


def shift_detections(detections: dict[int, Detections], shift: Shift) -> dict[int, Detections]:
    """The kept frames' detections, renumbered, boxes scaled."""
    out = {}
    for old, dets in detections.items():
        if not shift.kept(old):
            continue
        new = int(shift.new_frame(old))
        out[new] = dets if shift.scale == 1 else dets.replace(
            xyxy=(dets.xyxy * shift.scale).astype(np.float32)
        )
    return out


def shift_warps(
    warps: dict[int, np.ndarray] | None, length: int, shift: Shift
) -> dict[int, np.ndarray] | None:
    """Per shifted frame, the warp from the previous kept frame: the original steps chained,
    then expressed in scaled pixels (S M S^-1 halves the translation)."""
    if warps is None:
        return None
    out = {}
    scale = np.diag([shift.scale, shift.scale, 1.0])
    for new in range(1, shift.length(length) + 1):
        old = (new - 1) * shift.step + 1
        chained = np.eye(3)
        for frame in range(max(old - shift.step + 1, 2), old + 1):
            step = np.eye(3)
            if frame in warps:
                step[:2] = np.asarray(warps[frame], np.float64).reshape(2, 3)
            chained = step @ chained
        out[new] = (scale @ chained @ np.linalg.inv(scale))[:2].astype(np.float32)
    return out


def shift_rows(rows: MotRows, shift: Shift) -> MotRows:
    """Ground-truth (or tracker) rows of the kept frames, renumbered, boxes scaled."""
    keep = shift.kept(rows.frame)
    return MotRows(
        shift.new_frame(rows.frame[keep]),
        rows.id[keep],
        rows.xywh[keep] * shift.scale,
        rows.conf[keep],
        rows.cls[keep],
        rows.vis[keep],
        rows.path,
    )


def write_frames(video: Path, out: Path, shift: Shift, length: int) -> Path:
    """The shifted frames as an mp4 (once: an existing file is kept)."""
    import cv2

    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(video))
    tmp = out.with_suffix(".part.mp4")
    writer = None
    for number in range(1, length + 1):
        ok, image = cap.read()
        if not ok:
            raise SystemExit(f"{video}: ended before frame {number}")
        if not shift.kept(number):
            continue
        if shift.scale != 1:
            image = cv2.resize(image, None, fx=shift.scale, fy=shift.scale,
                               interpolation=cv2.INTER_AREA)
        if writer is None:
            h, w = image.shape[:2]
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), 10, (w, h))
        writer.write(image)
    cap.release()
    if writer is not None:
        writer.release()
    tmp.replace(out)
    return out


def write_peer_inputs(run: Path, out: Path, shift: Shift) -> tuple[Path, Path]:
    """The run's detections and embeddings parquet, shifted, for the boxmot runner."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("detections", "embeddings"):
        table = pq.read_table(run / f"{name}.parquet")
        frame = table.column("frame").to_numpy()
        table = table.filter(pa.array(shift.kept(frame)))
        frame = shift.new_frame(table.column("frame").to_numpy()).astype(np.int32)
        table = table.set_column(0, "frame", pa.array(frame, pa.int32()))
        if name == "detections" and shift.scale != 1:
            for col in ("x1", "y1", "x2", "y2"):
                index = table.column_names.index(col)
                scaled = pc.multiply(table.column(col), pa.scalar(shift.scale, pa.float32()))
                table = table.set_column(index, col, scaled.cast(pa.float32()))
        path = out / f"{name}.parquet"
        pq.write_table(table.replace_schema_metadata(None), path)
        paths.append(path)
    return paths[0], paths[1]


def sequence_inputs(work: Path, source: str, seq: DevSequence, shift: Shift):
    """Our tracker's shifted inputs and ground truth, as tune_tracker's SequenceInputs."""
    from bench.tune_tracker import SequenceInputs
    from mot_cli.cache import RunDir
    from mot_cli.formats.mot import read_mot
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.stages.track import cached_inputs, source_fps

    length = read_seqinfo(seq.seqinfo).seq_length
    run = RunDir(work / source / seq.name)
    detections, warps = cached_inputs(run)
    gt = shift_rows(read_mot(seq.gt, kind="gt", seq_length=length), shift)
    fps = source_fps(run)
    return SequenceInputs(
        seq.name,
        seq.benchmark,
        shift.length(length),
        None if fps is None else fps / shift.step,
        shift_detections(detections, shift),
        shift_warps(warps, length, shift),
        gt,
    )


def peer_jobs(
    work: Path, source: str, seq: DevSequence, shift: Shift, peers: list[str], reuse: bool
) -> tuple[list[dict], dict[str, Path]]:
    """The shifted input written for the peers, their jobs, and each one's result file."""
    from mot_cli.formats.seqinfo import read_seqinfo

    info = read_seqinfo(seq.seqinfo)
    base = work / "shifted" / shift.name
    frames = write_frames(seq.video, base / "frames" / f"{seq.name}.mp4", shift, info.seq_length)
    dets, embs = write_peer_inputs(work / source / seq.name, base / source / seq.name, shift)
    jobs, out = [], {}
    for peer in peers:
        path = base / source / "trackers" / peer / f"{seq.name}.txt"
        out[peer] = path
        if reuse and path.is_file() and path.with_suffix(".json").is_file():
            continue
        jobs.append(dict(
            tracker=peer, out=path,
            width=round(info.width * shift.scale), height=round(info.height * shift.scale),
            detections=dets, embeddings=embs, frames=frames,
            num_frames=shift.length(info.seq_length),
            reid_weights=MODELS / "osnet_x0_25_msmt17.pth",
        ))  # fmt: skip
    return jobs, out


def score_file(inputs, path: Path) -> float:
    """HOTA (percent) of a result file on the shifted sequence."""
    from mot_cli.formats.mot import read_mot
    from mot_cli.metrics.evaluate import evaluate_sequence

    rows = read_mot(path, kind="tracker", seq_length=inputs.length)
    result = evaluate_sequence(
        inputs.gt, rows, seq_length=inputs.length, benchmark=inputs.benchmark, name=inputs.name
    )
    return 100 * float(result.summary()["HOTA"])


def run(
    work: Path,
    sources: list[str],
    shifts: list[str],
    peers: list[str],
    settings: list[str],
    reuse: bool = True,
    workers: int = 1,
) -> dict:
    """Score ours and every peer on each (shift, source, sequence); print and return them."""
    from bench.peers.boxmot_env import ensure_boxmot_env, run_peer_batch
    from mot_cli.tracking import TrackerConfig

    config = TrackerConfig().with_overrides(settings)
    results: dict = {}
    python = ensure_boxmot_env() if peers else None
    for shift_name in shifts:
        shift = SHIFTS[shift_name]
        for source in sources:
            rows = results.setdefault(shift_name, {}).setdefault(source, {})
            jobs, files_of = [], {}
            for seq in DEV_SET:
                todo, files_of[seq.name] = peer_jobs(work, source, seq, shift, peers, reuse)
                jobs += todo
            if jobs:
                run_peer_batch(python, jobs, workers)
            for seq in DEV_SET:
                inputs = sequence_inputs(work, source, seq, shift)
                ours = 100 * float(inputs.score(inputs.track(config)).summary()["HOTA"])
                files = files_of[seq.name]
                scored = {peer: score_file(inputs, path) for peer, path in files.items()}
                best = max(scored, key=scored.get) if scored else None
                rows[seq.name] = {"ours": ours, "peers": scored, "best_peer": best,
                                  "best": scored.get(best) if best else None}  # fmt: skip
                print(f"  {shift_name}/{source}/{seq.name}: ours {ours:.2f}"
                      + (f", best peer {best} {scored[best]:.2f}" if best else ""), flush=True)
    report(results)
    return results


def report(results: dict) -> None:
    """One table per shift: ours, the best peer and the margin per (sequence, source)."""
    margins = []
    for shift_name, per_source in results.items():
        print(f"\n=== shifted fold: {shift_name} ===")
        print(f"{'sequence':<16}{'source':<8}{'ours':>8}{'best peer':>11}  {'':<12}{'margin':>8}")
        for source, per_seq in per_source.items():
            for name, row in per_seq.items():
                if row["best"] is None:
                    print(f"{name:<16}{source:<8}{row['ours']:8.2f}")
                    continue
                margin = row["ours"] - row["best"]
                margins.append(margin)
                print(f"{name:<16}{source:<8}{row['ours']:8.2f}{row['best']:11.2f}  "
                      f"{row['best_peer']:<12}{margin:+8.2f}")
    if margins:
        m = np.array(margins)
        print(f"\nshifted folds: ours >= best peer on {int((m >= 0).sum())} of {len(m)}; "
              f">= best peer - 1 on {int((m >= -1).sum())} of {len(m)}; worst margin "
              f"{m.min():+.2f}, mean {m.mean():+.2f}")


def main() -> None:
    from bench._common import bench_env
    from bench.association import PEERS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="+", default=["public", "yolo"],
                        choices=["public", "yolo"])
    parser.add_argument("--shifts", nargs="+", default=list(SHIFTS), choices=list(SHIFTS))
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--rerun-peers", action="store_true",
                        help="run peers again even where their shifted output exists")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".runs")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    parser.add_argument("--peer-workers", type=int, default=1,
                        help="boxmot processes running the peers side by side")
    args = parser.parse_args()
    import os

    os.environ.update(bench_env())
    peers = [] if args.no_peers else args.peers
    results = run(args.work, args.sources, args.shifts, peers, args.settings,
                  reuse=not args.rerun_peers, workers=args.peer_workers)
    path = args.work / "shifted" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
