"""Generated depth scenes: objects of distinct shape and relief moving over a ground plane.

Every object has the same box size and range of nearness, so only what lies inside the box —
silhouette and relief — tells them apart: what the depth×mask encoder must learn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.encoder.data import FrameArrays
from mot_cli.schema import DEPTH_MAPS, DETECTIONS, MASKS

WIDTH, HEIGHT = 192, 128
BOX_W, BOX_H = 24, 48
SCALE = 2.0  # the depth map is half the frame's size
STAGES = ("detections", "masks", "depth_maps")


def _ellipse_dome(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = u**2 + v**2 <= 1
    return inside, 1 - (u**2 + v**2)


def _slab_ramp(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = (np.abs(u) <= 0.8) & (np.abs(v) <= 0.95)
    return inside, (u + 1) / 2


def _walker(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    head = (u / 0.5) ** 2 + ((v + 0.72) / 0.25) ** 2 <= 1
    body = (np.abs(u) <= 0.55 + 0.3 * (v + 0.45)) & (v >= -0.45) & (v <= 1)
    relief = np.where(head, 1.0, 0.3 * (1 - np.abs(u)))
    return head | body, relief


def _triangle_tilt(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = (np.abs(u) <= (v + 1) / 2) & (v <= 0.95)
    return inside, (1 - v) / 2


SHAPES: list[Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = [
    _ellipse_dome,
    _slab_ramp,
    _walker,
    _triangle_tilt,
]


def lanes(frames: int, count: int = len(SHAPES)) -> np.ndarray:
    """(frames, count, 2) box top-left corners: each object wanders about its own spot."""
    t = np.arange(frames)[:, None]
    k = np.arange(count)[None, :]
    x = 12 + 44 * k + 10 * np.sin(0.3 * t + k)
    y = 30 + 20 * np.sin(0.15 * t + 2 * k)
    return np.stack([x, y], axis=2).astype(np.float64)


def render(
    corners: np.ndarray,
    shapes: list[int],
    rng: np.random.Generator,
    nearness: float = 1.0,
) -> FrameArrays:
    """A frame with object `shapes[k]` in the box whose top-left corner is `corners[k]`."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64) + 0.5
    depth = 0.2 + 0.4 * ys / HEIGHT  # ground plane: lower rows are nearer
    owner = np.full((HEIGHT, WIDTH), -1)
    boxes = []
    order = np.argsort(corners[:, 1])  # lower boxes are nearer: painted last
    for k in order:
        x, y = corners[k]
        u = (xs - x) / BOX_W * 2 - 1
        v = (ys - y) / BOX_H * 2 - 1
        inside, relief = SHAPES[shapes[k]](u, v)
        inside &= (np.abs(u) <= 1) & (np.abs(v) <= 1)
        level = nearness * (0.8 + 0.2 * y / HEIGHT)
        depth = np.where(inside, level + 0.08 * relief, depth)
        owner[inside] = k
    for k in range(len(corners)):
        x, y = corners[k]
        boxes.append([x, y, x + BOX_W, y + BOX_H])
    depth = depth + rng.normal(0, 0.003, depth.shape)
    small = depth.reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3))
    masks = [owner == k for k in range(len(corners))]
    return FrameArrays(0, small.astype(np.float32), SCALE, np.array(boxes, np.float32), masks)


def sequence(frames: int, seed: int = 0) -> list[FrameArrays]:
    """Frames 1..`frames` of every shape walking its lane, nearness drifting over time."""
    rng = np.random.default_rng(seed)
    corners = lanes(frames)
    shapes = list(range(len(SHAPES)))
    out = []
    for t in range(frames):
        arrays = render(corners[t], shapes, rng, nearness=1.0 + 0.3 * t / frames)
        out.append(FrameArrays(t + 1, arrays.depth_map, SCALE, arrays.boxes, arrays.masks))
    return out


def _record(run_dir: RunDir, stage: str, table: pa.Table) -> None:
    key = stage_key(stage, synthetic=True)
    write_table(run_dir.file(stage), table, stage=stage, key=key)
    run_dir.record(stage, {"key": key, "complete": True, "rows": table.num_rows})


def write_run(path: Path, frames: list[FrameArrays], stages: tuple[str, ...] = STAGES) -> RunDir:
    """A run folder holding the caches `stages` of `frames`, as the real stages write them."""
    from pycocotools import mask as mask_utils

    run_dir = RunDir(path)
    if not run_dir.manifest_path.exists():  # else a run folder `open_run` made for a video
        run_dir.init(path.name, {"fingerprint": f"synthetic-{path.name}"})
    number = [f.frame for f in frames for _ in f.boxes]
    det = [i for f in frames for i in range(len(f.boxes))]
    boxes = np.concatenate([f.boxes for f in frames]).astype(np.float32)
    columns = {"frame": number, "det": det}
    if "detections" in stages:
        table = {**columns, **{c: boxes[:, i] for i, c in enumerate(("x1", "y1", "x2", "y2"))}}
        table |= {"score": np.ones(len(det), np.float32), "cls": np.zeros(len(det), np.int32)}
        _record(run_dir, "detections", pa.table(table).cast(DETECTIONS))
    if "masks" in stages:
        rles = [
            mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
            for f in frames
            for m in f.masks
        ]
        area = [int(m.sum()) for f in frames for m in f.masks]
        table = {
            **columns,
            "height": [r["size"][0] for r in rles],
            "width": [r["size"][1] for r in rles],
            "rle": [r["counts"].decode() for r in rles],
            "area": area,
            **{c: boxes[:, i] for i, c in enumerate(("x1", "y1", "x2", "y2"))},
            "quality": np.full(len(det), np.nan, np.float32),
        }
        _record(run_dir, "masks", pa.table(table).cast(MASKS))
    if "depth_maps" in stages:
        table = {
            "frame": [f.frame for f in frames],
            "height": [f.depth_map.shape[0] for f in frames],
            "width": [f.depth_map.shape[1] for f in frames],
            "scale": [f.scale for f in frames],
            "metric": [False] * len(frames),
            "map": [f.depth_map.astype("<f2").tobytes() for f in frames],
        }
        _record(run_dir, "depth_maps", pa.table(table).cast(DEPTH_MAPS))
    return run_dir
