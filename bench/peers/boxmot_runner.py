"""Run one boxmot tracker over cached detections (and embeddings) of one sequence.

This script is executed by the python of the separate boxmot environment
(``bench/peers/boxmot_env.py``), never by mot-cli's own environment: it imports
only boxmot, numpy, pyarrow, opencv and torch (all boxmot dependencies), and
nothing from ``mot_cli``.

Output: a MOTChallenge text file ``frame,id,x,y,w,h,conf,-1,-1,-1`` and, as the
last line on stdout, one JSON object::

    {"tracker": ..., "frames": ..., "assoc_ms_per_frame": ..., ...}

``assoc_ms_per_frame`` is the wall time spent inside ``tracker.update(...)``
only (no decoding, no file I/O, no ReID inference when embeddings are
provided), divided by the number of frames.  For BoT-SORT, Deep OC-SORT and
StrongSORT this includes their camera-motion compensation, which boxmot runs
inside ``update``.

Every tracker is built with ``boxmot.create_tracker(TrackerSpec(name))``, i.e.
with the defaults of boxmot's own ``configs/trackers/<name>.yaml``; the python
backend, AABB geometry and ``per_class=False`` are the TrackerSpec defaults.
"""

from __future__ import annotations

import os

# One thread for BLAS/OpenMP before numpy/torch/cv2 are imported: timings are
# per-frame association costs, and the machines running the bench are small.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TRACKERS = (
    "bytetrack", "ocsort", "botsort", "deepocsort", "strongsort", "hybridsort", "boosttrack",
    "occluboost", "sfsort",
)  # every boxmot 25.0.0 tracker but sam2mot (it needs SAM 2 weights)
APPEARANCE_TRACKERS = frozenset(
    {"botsort", "deepocsort", "strongsort", "hybridsort", "boosttrack", "occluboost"}
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


# --------------------------------------------------------------------------- input


def load_det_parquet(path: Path) -> dict[str, np.ndarray]:
    """Read the bench's detection cache: frame, det, x1, y1, x2, y2, score, cls."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["frame", "det", "x1", "y1", "x2", "y2", "score", "cls"])
    cols = {name: table.column(name).to_numpy() for name in table.column_names}
    return {
        "frame": cols["frame"].astype(np.int64),
        "det": cols["det"].astype(np.int64),
        "xyxy": np.stack([cols[c] for c in ("x1", "y1", "x2", "y2")], axis=1).astype(np.float32),
        "score": cols["score"].astype(np.float32),
        # imported public detections carry class -1 (unknown); boxmot wants ids >= 0
        "cls": np.maximum(cols["cls"], 0).astype(np.int64),
    }


def load_det_txt(path: Path) -> dict[str, np.ndarray]:
    """Read a MOTChallenge ``det.txt``: frame,-1,x,y,w,h,score[,...] (no class: 0)."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    frame = rows[:, 0].astype(np.int64)
    x, y, w, h = rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
    det = np.zeros(len(rows), dtype=np.int64)
    # det index = position of the row within its frame, in file order
    for f in np.unique(frame):
        idx = np.flatnonzero(frame == f)
        det[idx] = np.arange(len(idx))
    return {
        "frame": frame,
        "det": det,
        "xyxy": np.stack([x, y, x + w, y + h], axis=1).astype(np.float32),
        "score": rows[:, 6].astype(np.float32),
        "cls": np.zeros(len(rows), dtype=np.int64),
    }


def load_embeddings(path: Path, dets: dict[str, np.ndarray]) -> np.ndarray:
    """Read ``frame, det, embedding`` rows and align them to the detection rows by key."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["frame", "det", "embedding"])
    frame = table.column("frame").to_numpy().astype(np.int64)
    det = table.column("det").to_numpy().astype(np.int64)
    emb_col = table.column("embedding").combine_chunks()
    dim = emb_col.type.list_size if hasattr(emb_col.type, "list_size") else None
    flat = emb_col.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    if dim is None or dim <= 0:
        dim = flat.size // max(len(frame), 1)
    emb = flat.reshape(len(frame), dim)
    index = {
        (int(f), int(d)): i
        for i, (f, d) in enumerate(zip(frame.tolist(), det.tolist(), strict=True))
    }
    order = []
    for f, d in zip(dets["frame"].tolist(), dets["det"].tolist(), strict=True):
        i = index.get((int(f), int(d)))
        if i is None:
            raise SystemExit(f"embeddings file {path} has no row for frame {f} det {d}")
        order.append(i)
    out = emb[np.asarray(order, dtype=np.int64)] if order else np.zeros((0, dim), np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out / np.where(norms > 1e-12, norms, 1.0), dtype=np.float32)


def normalise_scores(score: np.ndarray, mode: str) -> tuple[np.ndarray, str]:
    """Bring detector scores into boxmot's required [0, 1].

    ``auto`` leaves scores alone when they already lie in [0, 1] (YOLO) and
    clips otherwise (TUD's ACF det.txt: -0.7..122, so nearly every detection
    becomes 1.0 and every detection is treated as a confident one).
    ``minmax`` rescales linearly per sequence, (s - min) / (max - min).
    """
    if score.size == 0:
        return score, "none"
    inside = bool(score.min() >= 0.0 and score.max() <= 1.0)
    if mode == "auto":
        mode = "none" if inside else "clip"
    if mode == "none":
        if not inside:
            raise SystemExit("scores outside [0, 1]: use --score-norm clip or minmax")
        return score, "none"
    if mode == "clip":
        return np.clip(score, 0.0, 1.0).astype(np.float32), "clip"
    if mode == "minmax":
        lo, hi = float(score.min()), float(score.max())
        span = hi - lo if hi > lo else 1.0
        return ((score - lo) / span).astype(np.float32), "minmax"
    raise SystemExit(f"unknown --score-norm {mode}")


class FrameSource:
    """Sequential 1-based frame access from an image folder or a video file."""

    def __init__(self, path: Path | None, width: int, height: int) -> None:
        import cv2

        self.cv2 = cv2
        self.width, self.height = width, height
        self.path = path
        self.files: list[Path] | None = None
        self.cap = None
        self.next_index = 1
        self.count: int | None = None
        if path is None:
            return
        if path.is_dir():
            self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise SystemExit(f"no images in {path}")
            self.count = len(self.files)
        else:
            self.cap = cv2.VideoCapture(str(path))
            if not self.cap.isOpened():
                raise SystemExit(f"cannot open video {path}")
            n = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.count = n if n > 0 else None

    def get(self, index: int) -> np.ndarray:
        """Return frame ``index`` (1-based) as uint8 HWC BGR; frames are read in order."""
        if self.path is None:
            # No pixels given: a constant frame of the right size.  CMC then
            # estimates no motion, which is right for static cameras only.
            return np.zeros((self.height, self.width, 3), dtype=np.uint8)
        if self.files is not None:
            if index > len(self.files):
                raise SystemExit(f"frame {index} missing in {self.path}")
            img = self.cv2.imread(str(self.files[index - 1]), self.cv2.IMREAD_COLOR)
            if img is None:
                raise SystemExit(f"cannot read {self.files[index - 1]}")
            return img
        if index != self.next_index:
            raise SystemExit("video frames must be read in order")
        ok, img = self.cap.read()
        if not ok:
            raise SystemExit(f"video {self.path} ended before frame {index}")
        self.next_index += 1
        return img


def reid_weights_as_pt(weights: Path, tmp: Path) -> Path:
    """boxmot selects its PyTorch backend only for '.pt' names: link '.pth' to '.pt'."""
    if weights.suffix == ".pt":
        return weights
    link = tmp / (weights.stem + ".pt")
    link.symlink_to(weights.resolve())
    return link


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--detections", type=Path, help="detection parquet (frame, det, x1..y2, ...)")
    src.add_argument("--det-txt", type=Path, help="MOTChallenge det.txt instead of the parquet")
    p.add_argument("--embeddings", type=Path, help="embedding parquet (frame, det, embedding)")
    p.add_argument(
        "--frames-dir-or-video", type=Path, help="img1/ folder or video (pixels for CMC)"
    )
    p.add_argument("--tracker", required=True, choices=TRACKERS)
    p.add_argument("--reid-weights", type=Path, help="OSNet weights; only without --embeddings")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument(
        "--num-frames", type=int, help="sequence length (default: frames, else last det)"
    )
    p.add_argument("--score-norm", choices=("auto", "clip", "minmax", "none"), default="auto")
    p.add_argument("--out", type=Path, required=True, help="MOTChallenge result text file")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a boxmot tracker option (JSON value, else string); default: none",
    )
    return p.parse_args(argv)


def parse_options(items: list[str]) -> dict:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def load_detections(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], str]:
    """Detections sorted by frame, degenerate boxes dropped, scores in [0, 1]."""
    dets = load_det_parquet(args.detections) if args.detections else load_det_txt(args.det_txt)
    xyxy = dets["xyxy"]
    keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    keep &= np.isfinite(xyxy).all(axis=1) & np.isfinite(dets["score"])
    dets = {k: v[keep] for k, v in dets.items()}
    order = np.argsort(dets["frame"], kind="stable")
    dets = {k: v[order] for k, v in dets.items()}
    dets["score"], score_norm = normalise_scores(dets["score"], args.score_norm)
    return dets, score_norm


def make_embedder(args: argparse.Namespace, dets: dict[str, np.ndarray], tmp: Path):
    """Return (cached embeddings | None, boxmot ReID backend | None, source label)."""
    if args.tracker not in APPEARANCE_TRACKERS:
        return None, None, "none"
    if args.embeddings:
        return load_embeddings(args.embeddings, dets), None, "provided"
    # Fallback for tests without a cached embedding file: boxmot's own ReID
    # runtime computes them from the frame, outside the timed update.
    if args.reid_weights is None or args.frames_dir_or_video is None:
        raise SystemExit(
            f"{args.tracker} needs --embeddings, or --reid-weights with --frames-dir-or-video"
        )
    from boxmot.reid.core import ReID

    weights = reid_weights_as_pt(args.reid_weights, tmp)
    return None, ReID(weights=weights, device="cpu", half=False).model, "boxmot-reid"


def track_sequence(tracker, dets, embs, reid_model, frames: FrameSource, n_frames: int):
    """Feed every frame to ``tracker``; return MOT rows, wall and CPU seconds in update()."""
    import torch
    from boxmot.structures import Boxes, Detections

    use_app = embs is not None or reid_model is not None
    starts = np.searchsorted(dets["frame"], np.arange(1, n_frames + 2))
    rows: list[str] = []
    update_s = 0.0
    update_cpu_s = 0.0
    for f in range(1, n_frames + 1):
        lo, hi = int(starts[f - 1]), int(starts[f])
        img = frames.get(f)
        xyxy = np.ascontiguousarray(dets["xyxy"][lo:hi], dtype=np.float32)
        emb = None
        if embs is not None:
            emb = np.ascontiguousarray(embs[lo:hi])
        elif use_app and len(xyxy):
            emb = np.asarray(reid_model.get_features(xyxy, img), dtype=np.float32)
            emb = np.ascontiguousarray(emb.reshape(len(xyxy), -1))
        elif use_app:
            emb = np.zeros((0, 512), dtype=np.float32)
        batch = Detections(
            geometry=Boxes(torch.from_numpy(xyxy)),
            scores=torch.from_numpy(np.ascontiguousarray(dets["score"][lo:hi])),
            class_ids=torch.from_numpy(np.ascontiguousarray(dets["cls"][lo:hi])),
            sample_id=f"frame-{f}",
            embeddings=None if emb is None else torch.from_numpy(emb),
        )
        c0, t0 = time.thread_time(), time.perf_counter()
        tracks = tracker.update(batch, img)
        update_s += time.perf_counter() - t0
        update_cpu_s += time.thread_time() - c0
        if not len(tracks):
            continue
        box = tracks.geometry.values.numpy().tolist()
        ids = tracks.track_ids.numpy().tolist()
        conf = tracks.scores.numpy().tolist()
        for (x1, y1, x2, y2), tid, c in zip(box, ids, conf, strict=True):
            # boxmot ids start at 0; MOTChallenge ids are written 1-based
            w, h = x2 - x1, y2 - y1
            rows.append(f"{f},{tid + 1},{x1:.2f},{y1:.2f},{w:.2f},{h:.2f},{c:.4f},-1,-1,-1")
    return rows, update_s, update_cpu_s


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)

    import boxmot
    from boxmot import create_tracker
    from boxmot.trackers.specs import TrackerSpec

    dets, score_norm = load_detections(args)
    frames = FrameSource(args.frames_dir_or_video, args.width, args.height)
    last_det = int(dets["frame"].max()) if len(dets["frame"]) else 0
    n_frames = args.num_frames or frames.count or last_det
    if n_frames <= 0:
        raise SystemExit("no frames")

    options = parse_options(args.set)
    with tempfile.TemporaryDirectory(prefix="boxmot-runner-") as tmp:
        embs, reid_model, emb_source = make_embedder(args, dets, Path(tmp))
        spec = TrackerSpec(name=args.tracker, options=tuple(sorted(options.items())))
        tracker = create_tracker(spec)
        rows, update_s, update_cpu_s = track_sequence(
            tracker, dets, embs, reid_model, frames, n_frames
        )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(rows) + ("\n" if rows else ""))
    summary = {
        "tracker": args.tracker,
        "frames": n_frames,
        "assoc_ms_per_frame": 1000.0 * update_s / n_frames,
        "assoc_cpu_ms_per_frame": 1000.0 * update_cpu_s / n_frames,
        "detections": len(dets["frame"]),
        "track_rows": len(rows),
        "score_norm": score_norm,
        "embeddings": emb_source,
        "frame_source": str(args.frames_dir_or_video or "none"),
        "boxmot": boxmot.__version__,
        "options": options,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
