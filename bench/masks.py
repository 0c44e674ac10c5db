"""Segment backends against real mask ground truth (MOTS-train), and what they give MOTS tracking.

python bench/masks.py [--seq KITTI-17 MOTS20-11] [--backends yolo-seg blazepose selfie grabcut
    box] [--runs /tmp/bench-masks] [--json out.json]

For each MOTS dev sequence (../shared/datasets/MOTS-train: KITTI-17, and MOTS20-11 = the frames
of MOT16-11) a default `mot-cli track` of its video makes the detections (YOLO11n), re-ID and
camera motion once; each backend then segments those detections in a copy of that run folder
(`mot-cli segment --backend B`), and the default tracker is replayed to write its MOTS text.
The row `gt-import` imports the ground-truth masks instead (`segment --masks-txt`): the
oracle, what perfect masks would give these detections and tracks.

Figures per backend, on the detections matched one to one to a ground-truth mask (IoU of the
mask's box with the detection's box >= 0.5, Hungarian):
  with mask   share of those detections that get a non-empty mask
  IoU mean / median   mask IoU with the ground-truth mask (an empty mask counts 0)
  outside     share of the mask's pixels outside that ground-truth person (mean over masks)
  ms/frame    the segment stage's own time per frame (decode included), on this machine
  HOTA, sMOTSA, IDF1   `mot-cli eval` of the run's MOTS text against MOTS-train
The tracks are the same for every backend (the default tracker reads no masks): the MOTS
figures differ by the masks alone. Backends whose weights are not here (SAM family) are left
out; the run folders are kept under --runs, so a second run only re-scores.

`--cues` adds the mask-cue oracle: the mask IoM cue (`w_iom`), mask-based occlusion
(`mask_occlusion`) and the depth×mask cue `S_sd` (`track --sd`, its encoder trained on each
mask source's own caches) replayed with ground-truth masks (imported), YOLO11n-seg masks and box
masks, with and without appearance, scored on boxes against the sequence's box ground truth
(MOT15 rules for KITTI-17, MOT16 for MOTS20-11 = MOT16-11), every grid value shown; with both
sequences, the left-out row picks each sequence's value on the other one. If ground-truth masks
do not make a cue pay, better masks (SAM) will not either: the cue is the limit.

The `S_sd` rows run once per `--cue-depth` backend (default: mobilePydnet and pseudo-depth),
each made explicitly in every mask source's folder (`mot-cli depth --backend B`), with the
encoder `track --sd` trains (`train-encoder RUN --epochs 1 --min-steps 0`, on that folder's
own masks and maps), so every sequence and mask source learns alike. `--cue-skip
MOTS20-11:yolo-seg` leaves a (sequence, mask source) out: YOLO11n-seg on MOTS20-11's 900
1080p frames takes over an hour on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DATASETS, VIDEOS, mot_cli

MOTS_TRAIN = DATASETS / "MOTS-train"
VIDEO = {"KITTI-17": VIDEOS / "KITTI-17.mp4", "MOTS20-11": VIDEOS / "MOT16-11.mp4"}
BACKENDS = ("yolo-seg", "blazepose", "selfie", "grabcut", "box")
ORACLE = "gt-import"
MATCH_IOU = 0.5
BOX_GT = {"KITTI-17": (DATASETS / "MOT15-train", "KITTI-17", "MOT15"),
          "MOTS20-11": (DATASETS / "MOT16-train", "MOT16-11", "MOT16")}  # fmt: skip
CUE_MASKS = (ORACLE, "yolo-seg", "box")
CUE_GRID = (
    [("none", [])]
    + [(f"w_iom={w}", ["--set", f"w_iom={w}"]) for w in (0.25, 0.5, 1.0)]
    + [(f"occl={t}", ["--set", "mask_occlusion=true", "--set", f"mask_occlusion_threshold={t}"])
       for t in (0.15, 0.3, 0.45)]
)  # fmt: skip
SD_GRID = (("S_sd", ["--sd"]), ("S_sd w=2", ["--sd", "--set", "w_sd=2.0"]))
CUE_DEPTHS = ("pydnet", "pseudo")


def family(label: str) -> str:
    """The setting a left-out row picks within: `w_iom`, `occl`, or `S_sd <depth>`."""
    head = label.split("=")[0].split()[0]
    return f"S_sd {label.split()[-1]}" if head == "S_sd" else head


def base_run(runs: Path, seq: str) -> Path:
    """The default track of the sequence's video: detections, re-ID, camera motion, tracks."""
    folder = runs / "base" / seq
    if not (folder / f"{seq}.txt").exists():
        mot_cli("track", VIDEO[seq], "--name", seq, "--cache-dir", runs / "base")
    return folder


def backend_run(runs: Path, seq: str, backend: str) -> Path:
    """A copy of the base run with this backend's masks, replayed to write its MOTS text."""
    folder = runs / backend / seq
    if not folder.exists():
        shutil.copytree(base_run(runs, seq), folder)
    how = (["--masks-txt", MOTS_TRAIN / seq / "gt" / "gt.txt"] if backend == ORACLE
           else ["--backend", backend])  # fmt: skip
    mot_cli("segment", VIDEO[seq], "--name", seq, "--cache-dir", runs / backend, *how)
    mot_cli("track", VIDEO[seq], "--name", seq, "--cache-dir", runs / backend)
    return folder


def mask_quality(folder: Path, seq: str) -> dict[str, float]:
    """Coverage, mask IoU and pixels outside the person, on GT-matched detections."""
    import pyarrow.parquet as pq
    from pycocotools import mask as mask_utils

    from mot_cli.formats.mots import PEDESTRIAN_CLASS, read_mots
    from mot_cli.masks import rle
    from mot_cli.stages.mask_import import match_masks, rle_boxes

    gt = read_mots(MOTS_TRAIN / seq / "gt" / "gt.txt", kind="gt")
    gt = gt[gt.cls == PEDESTRIAN_CLASS]
    gt_boxes = rle_boxes(gt)
    masks = pq.read_table(folder / "masks.parquet").to_pydict()
    dets = pq.read_table(folder / "detections.parquet").to_pydict()
    det_boxes = np.c_[dets["x1"], dets["y1"], dets["x2"], dets["y2"]]
    mask_of = {(f, d): i for i, (f, d) in enumerate(zip(masks["frame"], masks["det"],
                                                        strict=True))}  # fmt: skip
    det_frame = np.asarray(dets["frame"])
    ious, outside, has, matched = [], [], 0, 0
    for frame in np.unique(gt.frame):
        g = np.flatnonzero(gt.frame == frame)
        d = np.flatnonzero(det_frame == frame)
        gi, di = match_masks(gt_boxes[g], det_boxes[d], min_iou=MATCH_IOU)
        for a, b in zip(g[gi], d[di], strict=True):
            matched += 1
            row = mask_of.get((int(frame), int(dets["det"][b])))
            if row is None or masks["area"][row] == 0:
                ious.append(0.0)
                continue
            has += 1
            ours = rle(masks["rle"][row], masks["height"][row], masks["width"][row])
            truth = gt[np.array([a])].rles()[0]
            ious.append(float(mask_utils.iou([ours], [truth], [False])[0, 0]))
            inter = mask_utils.area(mask_utils.merge([ours, truth], intersect=True))
            outside.append(1.0 - float(inter) / float(masks["area"][row]))
    entry = json.loads((folder / "manifest.json").read_text())["stages"]["masks"]
    first, last = entry["frames"]
    return {
        "gt_matched_detections": matched,
        "with_mask": has / max(matched, 1),
        "iou_mean": float(np.mean(ious)) if ious else 0.0,
        "iou_median": float(statistics.median(ious)) if ious else 0.0,
        "outside": float(np.mean(outside)) if outside else 0.0,
        "ms_per_frame": 1000.0 * float(entry.get("seconds") or 0.0) / (last - first + 1),
    }


def tracking(folder: Path, seq: str, out: Path) -> dict[str, float]:
    """`mot-cli eval` of the run's MOTS text: HOTA, sMOTSA (TrackEval's sMOTA), IDF1."""
    mot_cli("eval", MOTS_TRAIN, folder, "--seq", seq, "--json", out)
    summary = json.loads(out.read_text())[seq][seq]
    return {"HOTA": summary["HOTA"], "sMOTSA": summary["sMOTA"], "MOTSA": summary["MOTA"],
            "IDF1": summary["IDF1"]}  # fmt: skip


def cue_oracle(
    runs: Path, seqs: list[str], rows: list[str], depths: list[str], skip: set[str]
) -> dict:
    """HOTA and AssA on boxes of each mask cue setting, per mask source and appearance.

    `S_sd` rows run `track --sd` on each depth backend's maps, with the encoder --sd trains
    on the folder's own caches (so on this mask source's masks)."""
    table: dict = {}
    for seq in seqs:
        sources = [s for s in CUE_MASKS if f"{seq}:{s}" not in skip]
        if "pydnet" in depths and not all((runs / s / seq).exists() for s in sources):
            # the network reads only the video: made once, copied with the base run
            mot_cli("depth", VIDEO[seq], "--name", seq, "--cache-dir", base_run(runs, seq).parent,
                    "--backend", "pydnet")  # fmt: skip
        for source in sources:
            folder = backend_run(runs, seq, source)
            settings = [(label, extra) for label, extra in CUE_GRID if label in rows]
            for depth in depths:
                sd_rows = [(f"{label} {depth}", extra) for label, extra in SD_GRID
                           if label in rows]  # fmt: skip
                if not sd_rows:
                    continue
                settings.append((f"depth {depth}", ["depth", "--backend", depth]))
                settings.append((f"encoder {depth}", ["train-encoder"]))
                settings += sd_rows
            for label, extra in settings:
                if label.startswith("depth "):  # make this backend's maps (--sd reuses them)
                    mot_cli(extra[0], VIDEO[seq], "--name", seq, "--cache-dir", runs / source,
                            *extra[1:])  # fmt: skip
                    # each detection's nearness statistics, kept for bench/depth_level.py
                    kept = runs / "levels" / seq / f"{source}-{extra[-1]}.parquet"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(folder / "depth.parquet", kept)
                    continue
                if label.startswith("encoder "):  # what `track --sd` trains, made explicit
                    mot_cli("train-encoder", folder, "--epochs", "1", "--min-steps", "0")
                    continue
                for reid in ("--reid", "--no-reid"):
                    mot_cli("track", VIDEO[seq], "--name", seq, "--cache-dir", runs / source,
                            reid, *extra)  # fmt: skip
                    row = box_scores(runs, folder, seq)
                    table.setdefault(seq, {}).setdefault(source, {}).setdefault(reid, {})[
                        label] = row
                    print(f"{seq} {source} {reid} {label}: {row}", flush=True)
            mot_cli("track", VIDEO[seq], "--name", seq, "--cache-dir", runs / source)  # default
    return table


def box_scores(runs: Path, folder: Path, seq: str) -> dict[str, float]:
    """HOTA, AssA, IDF1, IDSW of the run's tracks against the sequence's box ground truth."""
    split, gt_name, rules = BOX_GT[seq]
    tracker = runs / "cue-eval" / "data" / f"{gt_name}.txt"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / f"{seq}.txt", tracker)
    out = runs / "cue-eval" / "out.json"
    mot_cli("eval", split / gt_name, tracker.parent.parent, "--benchmark", rules, "--json", out)
    summary = json.loads(out.read_text())["cue-eval"][gt_name]
    return {k: summary[k] for k in ("HOTA", "AssA", "IDF1", "IDSW")}


def print_cues(table: dict) -> None:
    labels = list(dict.fromkeys(label for sources in table.values() for by_reid in
                                sources.values() for rows in by_reid.values() for label in rows))
    print("\n(HOTA/AssA on boxes)")
    for seq, sources in table.items():
        for source, by_reid in sources.items():
            for reid, rows in by_reid.items():
                cells = "  ".join(f"{x} {100 * rows[x]['HOTA']:5.2f}/{100 * rows[x]['AssA']:5.2f}"
                                  for x in labels if x in rows)  # fmt: skip
                print(f"{seq:<10} {source:<10} {reid.strip('-'):<8} {cells}")
    if len(table) != 2:
        return
    first, second = table
    print("\nleft-out (each sequence's setting picked by HOTA on the other; AssA / HOTA change "
          "against the plain tracker on the same masks):")
    for source in CUE_MASKS:
        if not all(source in table[seq] for seq in table):
            continue
        for reid in ("--reid", "--no-reid"):
            for name in dict.fromkeys(family(x) for x in labels if x != "none"):
                picks = []
                for seq, other in ((first, second), (second, first)):
                    rows = table[other][source][reid]
                    best = max((x for x in rows if family(x) == name),
                               key=lambda x, rows=rows: rows[x]["HOTA"])  # fmt: skip
                    mine = table[seq][source][reid]
                    picks.append(f"{seq} {best}: AssA "
                                 f"{100 * (mine[best]['AssA'] - mine['none']['AssA']):+.2f}, HOTA "
                                 f"{100 * (mine[best]['HOTA'] - mine['none']['HOTA']):+.2f}")
                print(f"  {source:<10} {reid:<9} {name:<13} " + "; ".join(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq", nargs="+", default=list(VIDEO), choices=list(VIDEO))
    parser.add_argument("--backends", nargs="+", default=[*BACKENDS, ORACLE],
                        choices=[*BACKENDS, ORACLE])  # fmt: skip
    parser.add_argument("--runs", type=Path, default=Path("/tmp/bench-masks"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cues", action="store_true", help="only the mask-cue oracle table")
    labels = [label for label, _ in (*CUE_GRID, *SD_GRID)]
    parser.add_argument("--cue-rows", nargs="+", default=labels, choices=labels,
                        help="with --cues: these settings only (must include none)")
    parser.add_argument("--cue-depth", nargs="+", default=list(CUE_DEPTHS), choices=CUE_DEPTHS,
                        help="with --cues: the depth backends of the S_sd rows")
    parser.add_argument("--cue-skip", nargs="*", default=[], metavar="SEQ:MASKS",
                        help="with --cues: leave these (sequence, mask source) pairs out")
    args = parser.parse_args()
    if args.cues:
        cues = cue_oracle(args.runs, args.seq, args.cue_rows, args.cue_depth, set(args.cue_skip))
        print_cues(cues)
        if args.json:
            args.json.write_text(json.dumps(cues, indent=1) + "\n")
        return
    table: dict[str, dict[str, dict[str, float]]] = {}
    for seq in args.seq:
        table[seq] = {}
        for backend in args.backends:
            folder = backend_run(args.runs, seq, backend)
            row = mask_quality(folder, seq)
            row |= tracking(folder, seq, args.runs / backend / f"{seq}.eval.json")
            table[seq][backend] = row
            print(f"{seq} {backend}: {row}", flush=True)
    header = (f"{'seq':<10} {'backend':<10} {'matched':>7} {'w/mask':>7} {'IoU':>6} {'med':>6} "
              f"{'outside':>7} {'ms/fr':>7} {'HOTA':>6} {'sMOTSA':>7} {'MOTSA':>6} {'IDF1':>6}")
    print("\n" + header)  # fmt: skip
    for seq, rows in table.items():
        for backend, r in rows.items():
            print(f"{seq:<10} {backend:<10} {r['gt_matched_detections']:>7} "
                  f"{100 * r['with_mask']:>6.1f}% {r['iou_mean']:>6.3f} {r['iou_median']:>6.3f} "
                  f"{100 * r['outside']:>6.1f}% {r['ms_per_frame']:>7.1f} "
                  f"{100 * r['HOTA']:>6.2f} {100 * r['sMOTSA']:>7.2f} {100 * r['MOTSA']:>6.2f} "
                  f"{100 * r['IDF1']:>6.2f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
