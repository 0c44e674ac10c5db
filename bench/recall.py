"""Where recall is lost: the detector's own recall by person size and visibility, for several
window layouts, beside the tracker's.

For one labelled sequence, the detector (YOLO11n INT8 at 640, conf >= `--conf`, default 0.1)
runs once on every window any layout needs (`layouts`: the whole frame, `auto`'s two
full-height tiles, 640x640 tiles), and its raw boxes are cached per window
(bench/.runs/recall). Each layout's boxes are then merged as `detect` merges them
(`mot_cli.slicing.merge_boxes`) and scored against the ground truth after the benchmark's
preprocessing (MOT16: boxes on distractors dropped, ignored rows out):

- recall and precision at IoU >= 0.5 (one-to-one, per frame) at several score thresholds,
  the tracker's `low_threshold` and `det_threshold` among them;
- recall at IoU >= 0.5 by ground-truth box height (frame pixels) and visibility bin;
- HOTA's DetRe and DetPr of the boxes themselves (each box its own id), the figures the
  tracker's DetRe compares with (averaged over IoU 0.05..0.95, so lower than recall at 0.5).

`--tracks NAME=FILE` adds tracker outputs (MOTChallenge text) scored the same way, so the
recall lost after detection (thresholds, min_hits, min_track_length) shows bin by bin.
`--write-det DIR` writes each layout's merged boxes (those scoring `--det-conf`, default
0.3 as `detect --conf`, in their window) as a det.txt (probability scores) to track with
`mot-cli track VIDEO --det-txt FILE --det-score probability`.

    python bench/recall.py [--sequence MOT16-11] [--layouts off auto ...] [--conf 0.1]
                           [--tracks off=run/MOT16-11.txt ...] [--write-det DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV, REPO, bench_env

HEIGHT_BINS = (0, 75, 100, 150, 250, 400, 10_000)
VIS_BINS = (0.0, 0.25, 0.5, 0.75, 1.01)
THRESHOLDS = (0.1, 0.2, 0.3, 0.35, 0.5, 0.6)

Window = tuple[int, int, int, int]


def layouts(width: int, height: int, overlap: float) -> dict[str, tuple[list[Window], bool]]:
    """Named window layouts of a frame: (tile windows, whether the whole frame is detected)."""
    from mot_cli.slicing import auto_tile, tile_windows

    auto = tile_windows((width, height), auto_tile((width, height), 640, overlap)[0], overlap)
    native = tile_windows((width, height), (min(width, 640), min(height, 640)), overlap)
    return {
        "off": ([], True),
        "auto": (auto, False),
        "auto+full": (auto, True),
        # the detector's native scale: 640x640 tiles (its input size), too slow to ship at
        # 1080p (8 tiles and the whole frame), but the most slicing can give small people
        "native+full": (native, True),
    }


def detect_windows(
    seq, windows: list[Window], conf: float, cache: Path, every: int = 1
) -> dict:
    """Raw boxes of every window on every `every`-th frame (1, 1 + every, ...): {window:
    (frame, xyxy, score)} in frame pixels, cached per window."""
    from mot_cli.models import resolve_model
    from mot_cli.stages.detect import DetectConfig, YoloDetector
    from mot_cli.video import open_source

    cache.mkdir(parents=True, exist_ok=True)
    step = "" if every == 1 else f"_e{every}"
    path = {w: cache / f"{seq.name}_c{conf:g}{step}_{'_'.join(map(str, w))}.npz" for w in windows}
    todo = [w for w in windows if not path[w].exists()]
    if todo:
        config = DetectConfig(confidence=conf)
        detector = YoloDetector(resolve_model(config.model).path, config)
        found: dict[Window, list] = {w: [] for w in todo}
        started, count = time.perf_counter(), 0
        for number, image in open_source(seq.video).frames():
            if (number - 1) % every:
                continue
            crops = [np.ascontiguousarray(image[y1:y2, x1:x2]) for x1, y1, x2, y2 in todo]
            for w, dets in zip(todo, detector.detect(crops), strict=True):
                found[w].append((number, dets.xyxy + np.array(w[:2] * 2, np.float32),
                                 dets.score))  # fmt: skip
            count += len(crops)
            if number % 100 == 0:
                print(f"  frame {number}: {1000 * (time.perf_counter() - started) / count:.0f} "
                      "ms per window", flush=True)  # fmt: skip
        for w, rows in found.items():
            frame = np.concatenate([np.full(len(s), n, np.int32) for n, _, s in rows])
            xyxy = np.concatenate([b for _, b, _ in rows]).reshape(-1, 4)
            score = np.concatenate([s for _, _, s in rows])
            np.savez(path[w], frame=frame, xyxy=xyxy, score=score)
    out = {}
    for w in windows:
        data = np.load(path[w])
        out[w] = (data["frame"], data["xyxy"], data["score"])
    return out


def merged(
    raw: dict, windows: list[Window], full: bool, frame_size: tuple[int, int], conf: float = 0.0
):
    """One layout's boxes per frame scoring at least `conf` in their window, merged as
    `detect` does: (frame, xyxy, score)."""
    from mot_cli.slicing import merge_windows

    width, height = frame_size
    used = ([(0, 0, width, height)] if full else []) + list(windows)
    raw = {w: tuple(a[raw[w][2] >= conf] for a in raw[w]) for w in used}
    if len(used) == 1:
        return raw[used[0]]
    frames, boxes, scores = [], [], []
    last = max(int(raw[w][0].max(initial=0)) for w in used)
    split = {w: np.searchsorted(raw[w][0], np.arange(1, last + 2)) for w in used}
    for number in range(1, last + 1):
        parts = []
        for w in used:
            lo, hi = split[w][number - 1], split[w][number]
            parts.append((w, raw[w][1][lo:hi], raw[w][2][lo:hi], np.zeros(hi - lo, np.int32)))
        kept_boxes, kept_scores, _, _ = merge_windows(parts, frame_size)
        frames.append(np.full(len(kept_scores), number, np.int32))
        boxes.append(kept_boxes)
        scores.append(kept_scores)
    return np.concatenate(frames), np.concatenate(boxes).reshape(-1, 4), np.concatenate(scores)


def as_rows(frame: np.ndarray, xyxy: np.ndarray, score: np.ndarray, ids=None):
    from mot_cli.formats.mot import MotRows

    xywh = np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]
    ids = np.arange(1, len(frame) + 1) if ids is None else ids
    return MotRows(frame, ids, xywh, score, np.ones(len(frame), np.int32),
                   np.ones(len(frame)), Path("boxes"))  # fmt: skip


def score(gt, rows, seq, last: int) -> dict:
    """Recall/precision at IoU 0.5 (overall, by height and visibility bin) and HOTA DetRe/DetPr."""
    from mot_cli.metrics._assignment import linear_sum_assignment
    from mot_cli.metrics.evaluate import score_sequence
    from mot_cli.metrics.sequence import prepare_sequence

    data = prepare_sequence(gt, rows, seq_length=last, benchmark=seq.benchmark, name=seq.name)
    hota = score_sequence(data).summary()
    found = np.zeros(data.num_gt_dets, bool)
    gt_off = data.offsets[0]
    for t in range(last):
        _, _, iou = data.frame(t)
        if iou.size:
            r, c = linear_sum_assignment(-np.where(iou >= 0.5 - 1e-9, iou, 0))
            good = iou[r, c] >= 0.5 - 1e-9
            found[gt_off[t] + r[good]] = True
    height = gt.xywh[data.gt_row, 3]
    vis = gt.vis[data.gt_row]
    tp = int(found.sum())
    out = {"recall": tp / max(len(found), 1), "precision": tp / max(data.num_tracker_dets, 1),
           "DetRe": float(hota["DetRe"]), "DetPr": float(hota["DetPr"]),
           "HOTA": float(hota["HOTA"]),
           "misses": len(found) - tp, "false": data.num_tracker_dets - tp}  # fmt: skip
    for name, values, bins in (("h", height, HEIGHT_BINS), ("v", vis, VIS_BINS)):
        index = np.digitize(values, bins) - 1
        counts = [int((index == b).sum()) for b in range(len(bins) - 1)]
        out[name] = [(n, float(found[index == b].sum()) / max(n, 1)) for b, n in enumerate(counts)]
        out[f"{name}_found"] = [int(found[index == b].sum()) for b in range(len(bins) - 1)]
    return out


def gt_rows(seq, last: int):
    from mot_cli.formats.mot import read_mot
    from mot_cli.formats.seqinfo import read_seqinfo

    rows = read_mot(seq.gt, kind="gt", seq_length=read_seqinfo(seq.seqinfo).seq_length)
    keep = rows.frame <= last
    names = ("frame", "id", "xywh", "conf", "cls", "vis", "line")
    return replace(rows, **{name: np.asarray(getattr(rows, name))[keep] for name in names})


def report(name: str, result: dict, tracks: bool = False) -> None:
    """One line of figures, then recall by height and by visibility bin (HOTA for tracks only:
    loose boxes, each its own id, have no identities to score)."""
    hs = " ".join(f"{r:5.1%}({n})" for n, r in result["h"])
    vs = " ".join(f"{r:5.1%}({n})" for n, r in result["v"])
    print(f"{name:<28} recall {result['recall']:6.1%} precision {result['precision']:6.1%} "
          f"DetRe {100 * result['DetRe']:5.2f} DetPr {100 * result['DetPr']:5.2f} "
          + (f"HOTA {100 * result['HOTA']:5.2f} " if tracks else "")
          + f"misses {result['misses']} false {result['false']}")  # fmt: skip
    print(f"{'':<28} by height: {hs}")
    print(f"{'':<28} by visibility: {vs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequence", default="MOT16-11", choices=DEV)
    parser.add_argument("--layouts", nargs="+", default=["off", "auto"])
    parser.add_argument("--conf", type=float, default=0.1)
    parser.add_argument("--overlap", type=float, default=0.2)
    parser.add_argument("--every", type=int, default=1, help="detect every N-th frame only")
    parser.add_argument("--tracks", nargs="*", default=[], help="NAME=FILE tracker outputs")
    parser.add_argument("--write-det", type=Path, default=None)
    parser.add_argument("--det-conf", type=float, default=0.3,
                        help="--write-det: boxes scoring this in their window (detect --conf)")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / ".runs" / "recall")
    args = parser.parse_args()
    os.environ.update(bench_env())
    os.environ.setdefault("MOT_CLI_OFFLINE", "1")
    from mot_cli.video import open_source

    seq = DEV[args.sequence]
    info = open_source(seq.video).info
    size = (info.width, info.height)
    named = layouts(*size, args.overlap)
    unknown = set(args.layouts) - set(named)
    if unknown:
        parser.error(f"unknown layouts {sorted(unknown)}; known: {', '.join(named)}")
    needed: list[Window] = []
    for name in args.layouts:
        windows, full = named[name]
        for w in ([(0, 0, *size)] if full else []) + windows:
            if w not in needed:
                needed.append(w)
    print(f"{seq.name} {size[0]}x{size[1]}, {info.frames} frames; windows {needed}", flush=True)
    raw = detect_windows(seq, needed, args.conf, args.cache, args.every)
    last = info.frames
    gt = gt_rows(seq, last)
    if args.every > 1:  # score the frames detected only
        gt = gt[(gt.frame - 1) % args.every == 0]
    print(f"height bins {HEIGHT_BINS[:-1]} px (frame), visibility bins {VIS_BINS[:-1]}")
    for name in args.layouts:
        windows, full = named[name]
        frame, xyxy, conf = merged(raw, windows, full, size)
        print(f"--- {name}: {len(windows)} tiles{' + whole frame' if full else ''}, "
              f"{len(frame) / last:.1f} boxes/frame at >= {args.conf:g}")
        for threshold in THRESHOLDS:
            keep = conf >= threshold
            result = score(gt, as_rows(frame[keep], xyxy[keep], conf[keep]), seq, last)
            report(f"{name} conf>={threshold:g}", result)
        if args.write_det:
            from mot_cli.formats.mot import write_mot

            args.write_det.mkdir(parents=True, exist_ok=True)
            frame, xyxy, conf = merged(raw, windows, full, size, args.det_conf)
            write_mot(args.write_det / f"{seq.name}_{name}.txt", frame,
                      np.full(len(frame), -1), np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], conf)
    for item in args.tracks:
        name, _, path = item.partition("=")
        from mot_cli.formats.mot import read_mot

        rows = read_mot(Path(path), kind="tracker", seq_length=last)
        rows = rows[(rows.frame - 1) % args.every == 0]  # the frames scored
        report(f"tracks {name}", score(gt, rows, seq, last), tracks=True)


if __name__ == "__main__":
    main()
