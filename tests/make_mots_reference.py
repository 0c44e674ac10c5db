"""Make the MOTS fixtures under tests/data/mots/ and TrackEval's numbers for them.

    PYTHONPATH=. python tests/make_mots_reference.py [--trackeval-python PATH]

Writes two generated sequences in MOTSChallenge's layout (`MOTS20-train/<seq>/gt/gt.txt`,
`seqinfo.ini`, `seqmaps/MOTS20-train.txt`) and four trackers (`trackers/<name>/data/<seq>.txt`)
with id switches, fragmented tracks, misses, false positives, masks barely above or below
IoU 0.5, false positives inside and half inside ignore regions, a car (class 1) in the ground
truth and the tracker, and empty frames and an empty file. Then, when a Python with TrackEval
exists (default /tmp/trackeval-venv/bin/python: `python3 -m venv /tmp/trackeval-venv &&
/tmp/trackeval-venv/bin/pip install trackeval==1.3.0`), runs TrackEval's MOTSChallenge
evaluation (HOTA, CLEAR, Identity) on them and stores every summary number in
`tests/data/mots/trackeval.json` (fractions, integer counts), which
tests/test_metrics_mots.py compares with `mot-cli eval`. TrackEval is never a dependency of
mot-cli; without that Python the JSON already in the repository is kept.

    PYTHONPATH=. python tests/make_mots_reference.py --real runs/KITTI-17/KITTI-17.mots.txt

keeps instead one real run's MOTS text on KITTI-17 (tests/data/mots/real/trackers/) with
TrackEval's numbers for it against ../shared/datasets/MOTS-train (real/trackeval.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mot_cli.formats.mots import IGNORE_CLASS, PEDESTRIAN_CLASS, MotsRows, write_mots
from mot_cli.masks import encode
from mot_cli.metrics import FIELDS

DATA = Path(__file__).resolve().parent / "data" / "mots"
SPLIT = "MOTS20-train"
HEIGHT, WIDTH = 96, 128
CAR_CLASS = 1
DEFAULT_TRACKEVAL = Path("/tmp/trackeval-venv/bin/python")
REAL = DATA / "real"
REAL_GT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "MOTS-train"
REAL_SEQ = "KITTI-17"
REAL_TRACKER = "yolo11n-seg-default"

# Each person: (id, first frame, last frame, x at first frame, x step, centre y, half width,
# half height). Later entries are painted over earlier ones (nearer the camera).
SEQUENCES = {
    "MOTS20-91": {
        "frames": 16,
        "people": [
            (2001, 1, 16, 10.0, 5.0, 40.0, 7.0, 16.0),
            (2002, 1, 16, 110.0, -5.0, 46.0, 8.0, 18.0),
            (2003, 3, 14, 60.0, 0.5, 70.0, 6.0, 14.0),
            (2004, 1, 10, 30.0, 2.0, 22.0, 4.0, 8.0),  # small: IoU is fragile
        ],
        "car": (1001, 1, 16, 20.0, 3.0, 84.0, 14.0, 6.0),
        # ignore regions: (first frame, last frame, x1, y1, x2, y2)
        "ignore": [(1, 16, 96, 0, 128, 24), (5, 9, 86, 10, 108, 30)],
    },
    "MOTS20-92": {
        "frames": 14,
        "people": [
            (2011, 3, 14, 20.0, 4.0, 50.0, 8.0, 20.0),
            (2012, 3, 9, 100.0, -3.0, 50.0, 9.0, 20.0),
            (2013, 6, 14, 64.0, -1.0, 30.0, 5.0, 12.0),
        ],
        "car": None,
        "ignore": [(3, 14, 0, 70, 30, 96)],
    },
}


def ellipse(cx: float, cy: float, half_w: float, half_h: float) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return ((x + 0.5 - cx) / half_w) ** 2 + ((y + 0.5 - cy) / half_h) ** 2 <= 1.0


def gt_frames(spec: dict) -> dict[int, list[tuple[int, int, np.ndarray]]]:
    """Per frame: (id, class, mask) with masks disjoint (nearer objects win overlaps)."""
    frames: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    objects = [(p, PEDESTRIAN_CLASS) for p in spec["people"]]
    if spec["car"] is not None:
        objects.insert(0, (spec["car"], CAR_CLASS))
    for t in range(1, spec["frames"] + 1):
        taken = np.zeros((HEIGHT, WIDTH), dtype=bool)
        rows = []
        for (ident, first, last, x0, step, cy, hw, hh), cls in reversed(objects):
            if not first <= t <= last:
                continue
            mask = ellipse(x0 + step * (t - first), cy, hw, hh) & ~taken
            taken |= mask
            if mask.any():
                rows.append((ident, cls, mask))
        regions = [r for r in spec["ignore"] if r[0] <= t <= r[1]]
        for _, _, x1, y1, x2, y2 in regions:
            region = np.zeros((HEIGHT, WIDTH), dtype=bool)
            region[y1:y2, x1:x2] = True
            rows.append((10000, IGNORE_CLASS, region & ~taken))  # may overlap each other
        frames[t] = rows
    return frames


def shifted(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    ys, xs = ys + dy, xs + dx
    keep = (ys >= 0) & (ys < HEIGHT) & (xs >= 0) & (xs < WIDTH)
    out[ys[keep], xs[keep]] = True
    return out


def grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate (pixels > 0) or erode (pixels < 0) with a 3x3 cross, |pixels| times."""
    out = mask.copy()
    for _ in range(abs(pixels)):
        neighbours = [shifted(out, dx, dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        if pixels > 0:
            out = out | np.logical_or.reduce(neighbours)
        else:
            out = out & np.logical_and.reduce(neighbours)
    return out


def box(x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[y1:y2, x1:x2] = True
    return mask


def track_id(ident: int, cls: int) -> int:
    """A tracker's id for a ground-truth object: the instance number, cars from 500."""
    return ident % 1000 + (500 if cls == CAR_CLASS else 0)


def tracker_good(seq: str, t: int, objects: list, rng: np.random.Generator) -> list:
    """Close masks; ids 1 and 2 swap after frame 8 (an id switch each); a fragment."""
    out = []
    for ident, cls, mask in objects:
        if cls == IGNORE_CLASS:
            continue
        new = track_id(ident, cls)
        if seq == "MOTS20-91" and t > 8 and new in (1, 2):
            new = 3 - new
        if seq == "MOTS20-92" and ident == 2011 and t >= 10:
            new = 50  # a second id for the same person: fragmentation
        out.append((new, cls, shifted(mask, int(rng.integers(-1, 2)), 0)))
    return out


def tracker_noisy(seq: str, t: int, objects: list, rng: np.random.Generator) -> list:
    """Eroded and shifted masks near IoU 0.5, misses, and false positives of every kind."""
    out = []
    for ident, cls, mask in objects:
        if cls == IGNORE_CLASS or rng.random() < 0.2:
            continue
        noisy = grown(shifted(mask, int(rng.integers(-2, 3)), int(rng.integers(-2, 3))),
                      int(rng.integers(-2, 2)))  # fmt: skip
        if noisy.any():
            out.append((track_id(ident, cls) + 100, cls, noisy))
    if seq == "MOTS20-91":
        if t % 3 == 0:
            out.append((900, PEDESTRIAN_CLASS, box(100, 2, 124, 20)))  # inside ignore: removed
        if t % 4 == 1:
            out.append((901, PEDESTRIAN_CLASS, box(84, 20, 100, 36)))  # partly inside: kept
        if 5 <= t <= 9:
            out.append((902, PEDESTRIAN_CLASS, box(88, 12, 106, 28)))  # inside the 2nd region
        out.append((903, PEDESTRIAN_CLASS, box(2, 2, 10, 14)))  # a plain false positive
    if seq == "MOTS20-92" and t >= 4:
        out.append((904, PEDESTRIAN_CLASS, box(2, 74, 24, 94)))  # inside ignore
    return out


def tracker_sparse(seq: str, t: int, objects: list, rng: np.random.Generator) -> list:
    """Every other frame, a new id each time (an id switch per match); nothing for seq 92."""
    if seq == "MOTS20-92" or t % 2:
        return []
    return [(t * 10 + n, cls, mask) for n, (_, cls, mask) in enumerate(objects)
            if cls != IGNORE_CLASS]  # fmt: skip


def tracker_merged(seq: str, t: int, objects: list, rng: np.random.Generator) -> list:
    """Two people under one mask when they are close (one of them missed, IoU may drop)."""
    people = [o for o in objects if o[1] == PEDESTRIAN_CLASS]
    out = []
    if len(people) >= 2:
        union = people[0][2] | people[1][2]
        out.append((track_id(people[0][0], PEDESTRIAN_CLASS), PEDESTRIAN_CLASS, grown(union, 1)))
        people = people[2:]
    out += [(track_id(ident, cls), cls, grown(mask, 1)) for ident, cls, mask in people]
    return out


TRACKERS = {
    "good": tracker_good,
    "noisy": tracker_noisy,
    "sparse": tracker_sparse,
    "merged": tracker_merged,
}


def disjoint(rows: list) -> list:
    """Later masks lose pixels already claimed, as a MOTS file needs; empty ones are dropped."""
    taken = np.zeros((HEIGHT, WIDTH), dtype=bool)
    out = []
    for ident, cls, mask in rows:
        mask = mask & ~taken
        taken |= mask
        if mask.any():
            out.append((ident, cls, mask))
    return out


def to_rows(path: Path, frames: dict[int, list]) -> MotsRows:
    items = [(t, ident, cls, encode(mask)) for t, rows in frames.items()
             for ident, cls, mask in rows]  # fmt: skip
    n = len(items)
    return MotsRows(
        [i[0] for i in items], [i[1] for i in items], [i[2] for i in items],
        np.full(n, HEIGHT), np.full(n, WIDTH), [i[3] for i in items], path,
    )  # fmt: skip


def write_data(root: Path) -> None:
    rng = np.random.default_rng(11)
    split = root / SPLIT
    (root / "seqmaps").mkdir(parents=True, exist_ok=True)
    (root / "seqmaps" / f"{SPLIT}.txt").write_text("name\n" + "".join(f"{s}\n" for s in SEQUENCES))
    for seq, spec in SEQUENCES.items():
        folder = split / seq
        (folder / "gt").mkdir(parents=True, exist_ok=True)
        (folder / "seqinfo.ini").write_text(
            f"[Sequence]\nname={seq}\nimDir=img1\nframeRate=10\nseqLength={spec['frames']}\n"
            f"imWidth={WIDTH}\nimHeight={HEIGHT}\nimExt=.jpg\n"
        )
        frames = gt_frames(spec)
        gt_path = folder / "gt" / "gt.txt"
        write_mots(gt_path, to_rows(gt_path, frames))
        for name, make in TRACKERS.items():
            out = {t: disjoint(make(seq, t, rows, rng)) for t, rows in frames.items()}
            path = root / "trackers" / name / "data" / f"{seq}.txt"
            write_mots(path, to_rows(path, out))


_RUN_TRACKEVAL = """
import json, sys
import numpy as np
import trackeval

gt_folder, trackers_folder, seqmap, out = sys.argv[1:5]
trackers = sys.argv[5].split(",")
dataset = trackeval.datasets.MOTSChallenge({
    "GT_FOLDER": gt_folder, "TRACKERS_FOLDER": trackers_folder,
    "SEQMAP_FILE": seqmap, "SKIP_SPLIT_FOL": True,
    "TRACKERS_TO_EVAL": trackers, "OUTPUT_FOLDER": out, "PRINT_CONFIG": False,
})
evaluator = trackeval.Evaluator({
    "USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
    "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
    "OUTPUT_EMPTY_CLASSES": False, "TIME_PROGRESS": False, "DISPLAY_LESS_PROGRESS": True,
})
metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
results, messages = evaluator.evaluate([dataset], metrics)
table = {}
for tracker, sequences in results["MOTSChallenge"].items():
    table[tracker] = {}
    for seq, by_class in sequences.items():
        fields = {}
        for metric in metrics:
            values = by_class["pedestrian"][metric.get_name()]
            for key in metric.float_array_fields:
                fields[key] = float(np.mean(values[key]))
            for key in metric.float_fields:
                fields[key] = float(values[key])
            for key in metric.integer_fields:
                fields[key] = int(values[key])
        table[tracker][seq] = fields
print(json.dumps(table))
"""


def run_trackeval(
    python: Path, gt_folder: Path, trackers_folder: Path, seqmap: Path, trackers: list[str]
) -> dict:
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [str(python), "-c", _RUN_TRACKEVAL, str(gt_folder), str(trackers_folder),
             str(seqmap), out, ",".join(trackers)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    table = json.loads(result.stdout.strip().splitlines()[-1])
    return {tracker: {seq: {k: v for k, v in fields.items() if k in FIELDS}
                      for seq, fields in sequences.items()}
            for tracker, sequences in table.items()}  # fmt: skip


def real_reference(python: Path, tracker_txt: Path) -> None:
    """A real run's MOTS text on KITTI-17 (`--real`) and TrackEval's numbers for it, against
    the KITTI MOTS ground truth in ../shared/datasets/MOTS-train (read in place)."""
    gt_folder = REAL_GT
    data = REAL / "trackers" / REAL_TRACKER / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tracker_txt, data / f"{REAL_SEQ}.txt")
    with tempfile.TemporaryDirectory() as folder:
        seqmap = Path(folder) / "seqmap.txt"
        seqmap.write_text(f"name\n{REAL_SEQ}\n")
        table = run_trackeval(python, gt_folder, REAL / "trackers", seqmap, [REAL_TRACKER])
    (REAL / "trackeval.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REAL / 'trackeval.json'} ({REAL_TRACKER} on {REAL_SEQ})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trackeval-python", type=Path, default=DEFAULT_TRACKEVAL)
    parser.add_argument("--real", type=Path, help="Instead: a tracker's KITTI-17 MOTS text "
                        "(a real run) to keep with TrackEval's numbers under tests/data/mots/real")
    args = parser.parse_args()
    if args.real is not None:
        return real_reference(args.trackeval_python, args.real)
    if DATA.exists():
        for child in (DATA / SPLIT, DATA / "trackers", DATA / "seqmaps"):
            shutil.rmtree(child, ignore_errors=True)
    write_data(DATA)
    print(f"wrote {DATA}")
    if not args.trackeval_python.exists():
        print(f"{args.trackeval_python} not found: kept {DATA / 'trackeval.json'} as it was")
        return
    table = run_trackeval(args.trackeval_python, DATA / SPLIT, DATA / "trackers",
                          DATA / "seqmaps" / f"{SPLIT}.txt", list(TRACKERS))  # fmt: skip
    (DATA / "trackeval.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATA / 'trackeval.json'} ({', '.join(table)})")


if __name__ == "__main__":
    sys.exit(main())
