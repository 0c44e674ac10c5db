"""Track stage: replays cached detections (+ embeddings, camera motion, and the depth×mask
embeddings and masks when their cues are on) through the tracker.

It reads only caches and never touches a model, so re-running with new association settings
takes seconds.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_parquet
from mot_cli.detections import Detections
from mot_cli.entries import StageEntry
from mot_cli.errors import MotCliError
from mot_cli.schema import (
    CAMERA_MOTION_STAGE,
    DEPTH_STAGE,
    DETECTIONS_STAGE,
    EMBEDDINGS_STAGE,
    MASKS_STAGE,
    SD_EMBEDDINGS_STAGE,
    TRACKS,
    TRACKS_STAGE,
)
from mot_cli.stages._job import StageInputs, TableJob
from mot_cli.tracking import TrackerConfig, TrackTable
from mot_cli.tracking.classes import ClassTracks, track_by_class
from mot_cli.tracking.cues import CUE_TABLE, needed_caches

STAGE = TRACKS_STAGE


CUE_CACHES = tuple(sorted({cache for row in CUE_TABLE for cache in row.needs}))
"""The caches only some settings read: those the cue table's rows name (sorted, so the stage
graph walks them in an order that does not depend on the table's)."""


def cue_caches(config: TrackerConfig) -> dict[str, str]:
    """The cue caches these settings read, each with why, as the cue table says
    (`mot_cli.tracking.cues.needed_caches`): the recipes make these stages, `plan` reads
    them and fails when one is missing."""
    return needed_caches(config)


def plan(inputs: StageInputs, config: TrackerConfig) -> TableJob:
    """Track the frames detection covered, reading the finished caches in `inputs.keys`.

    Appearance and camera motion are used when their caches are among the inputs; the cue
    caches (depth×mask embeddings, masks) when a row of the cue table that reads them is on
    (`cue_caches`; each must then be among the inputs). The job always runs: replay takes
    seconds, and a key cannot see a change in the tracker's code.
    """
    from mot_cli.stages import detect

    frames = inputs.run_dir.covered(inputs.frames, [DETECTIONS_STAGE])
    # the scores' calibration is the detections' but not in their key (mot_cli/scores.py)
    score_map = detect.recorded_score_map(inputs.run_dir)
    needed = cue_caches(config)
    used = {
        stage: key
        for stage, key in inputs.keys.items()
        if stage not in CUE_CACHES or stage in needed
    }
    for stage, what in needed.items():
        if stage not in used:
            first = "depth" if stage == DEPTH_STAGE else "segment"
            raise MotCliError(f"{what}: track with --sd, or run `mot-cli {first}` first")
    upstream = used | {"score_map": score_map.describe()}
    key = stage_key(STAGE, config=config.to_dict(), upstream=upstream, frames=list(frames))

    def work() -> None:
        detections, warps = cached_inputs(
            inputs.run_dir,
            appearance=EMBEDDINGS_STAGE in used,
            camera_motion=CAMERA_MOTION_STAGE in used,
            sd_embeddings=SD_EMBEDDINGS_STAGE in used,
            masks=MASKS_STAGE in used,
            depth_levels=DEPTH_STAGE in used,
        )
        write(inputs.run_dir, inputs.name, frames, detections, config, warps, upstream, key)

    return TableJob(STAGE, key, work, always=True)


def write(
    run_dir: RunDir,
    name: str,
    frames: tuple[int, int],
    detections: dict[int, Detections],
    config: TrackerConfig,
    warps: dict[int, np.ndarray] | None,
    upstream: dict[str, str],
    key: str,
) -> None:
    """Track frames `first..last` and commit tracks.parquet, <name>.txt (and MOTS text).

    The Parquet file, the text file (and the MOTS text when the run has masks) and the
    manifest entry are committed together (`RunDir.commit`): a kill leaves the previous
    result or this one, never a mix.
    """
    from mot_cli.formats.mot import format_mot, mot_class_ids
    from mot_cli.formats.mots import format_mots
    from mot_cli.outputs.mots_export import mots_path, run_mots_rows
    from mot_cli.outputs.run import TrackRows
    from mot_cli.stages.detect import recorded_class_names

    first, last = frames
    started = time.perf_counter()
    classified = replay_by_class(frames, detections, config, warps, source_fps(run_dir))
    tracks = classified.table
    table = pa.table(
        {
            "frame": tracks.frame,
            "id": tracks.id,
            "x1": tracks.xyxy[:, 0],
            "y1": tracks.xyxy[:, 1],
            "x2": tracks.xyxy[:, 2],
            "y2": tracks.xyxy[:, 3],
            "score": tracks.score,
            "det": tracks.det,
            "class": classified.cls,
        }
    ).cast(TRACKS)
    parquet_path = run_dir.file(STAGE)
    text_path = run_dir.path / f"{name}.txt"
    names = recorded_class_names(run_dir)
    mot_classes = mot_class_ids(classified.cls, names)
    text = format_mot(tracks.frame, tracks.id, tracks.xywh, tracks.score, mot_classes)
    rows = TrackRows(tracks.frame, tracks.id, tracks.xyxy, tracks.score, tracks.det)
    mots = run_mots_rows(run_dir, name, rows, upstream.get(DETECTIONS_STAGE))
    writers = {
        parquet_path.name: lambda path: write_parquet(path, table, stage=STAGE, key=key),
        text_path.name: lambda path: path.write_bytes(text.encode("utf-8")),
    }
    if mots is not None:
        mots_text = format_mots(mots)
        writers[mots.path.name] = lambda path: path.write_bytes(mots_text.encode("utf-8"))
    entry = StageEntry(
        key=key,
        complete=True,
        config=config.to_dict(),
        upstream=upstream,
        frames=(first, last),
        rows=table.num_rows,
        seconds=round(time.perf_counter() - started, 3),
        extra={
            "ids": len(np.unique(tracks.id)),
            "classes": {str(c): names.get(int(c), str(c)) for c in np.unique(classified.cls)},
            "mot_txt": text_path.name,
            **({"mots_txt": mots.path.name} if mots is not None else {}),
        },
    )
    run_dir.write_entry(STAGE, entry, writers)
    if mots is None:  # a MOTS file of an earlier result describes other tracks
        mots_path(run_dir, name).unlink(missing_ok=True)


def replay(
    frames: tuple[int, int],
    detections: dict[int, Detections],
    config: TrackerConfig,
    warps: dict[int, np.ndarray] | None = None,
    fps: float | None = None,
) -> TrackTable:
    """Feed every frame of `first..last` (empty ones too) to the tracker: association only.

    `fps` is the video's frame rate, for settings given at `config.reference_fps`.
    """
    return replay_by_class(frames, detections, config, warps, fps).table


def replay_by_class(
    frames: tuple[int, int],
    detections: dict[int, Detections],
    config: TrackerConfig,
    warps: dict[int, np.ndarray] | None = None,
    fps: float | None = None,
) -> ClassTracks:
    """`replay`, with each row's detector class: each class is tracked on its own
    (`mot_cli.tracking.classes`), so no id ever moves from one class to another."""
    empty = Detections.empty()
    first, last = frames
    return track_by_class(
        (
            (number, detections.get(number, empty), None if warps is None else warps.get(number))
            for number in range(first, last + 1)
        ),
        config,
        fps,
    )


def source_fps(run_dir: RunDir) -> float | None:
    """The frame rate the run's manifest records for its source (None if unknown)."""
    fps = run_dir.load_manifest().get("source", {}).get("fps")
    return float(fps) if isinstance(fps, int | float) and fps > 0 else None


def load_warps(table: pa.Table) -> dict[int, np.ndarray]:
    """Per-frame 2x3 affine warps from a camera_motion table."""
    frame = table.column("frame").to_numpy()
    matrix = np.stack(
        [table.column(f"m{r}{c}").to_numpy() for r in range(2) for c in range(3)], axis=1
    ).reshape(-1, 2, 3)
    return {int(f): m for f, m in zip(frame, matrix, strict=True)}


def cached_inputs(
    run_dir: RunDir,
    *,
    appearance: bool = True,
    camera_motion: bool = True,
    sd_embeddings: bool = False,
    masks: bool = False,
    depth_levels: bool = False,
) -> tuple[dict[int, Detections], dict[int, np.ndarray] | None]:
    """The tracker's inputs from a run folder's finished caches (benchmarks replay these).

    `sd_embeddings` and `masks` also attach the depth×mask embeddings and the masks (on the
    grid `mot_cli.maskgrid.default_cell` picks for the video's height); each must be cached.
    """
    from mot_cli.schema import CAMERA_MOTION, DETECTIONS
    from mot_cli.stages import detect, embed

    table = run_dir.read_completed(DETECTIONS_STAGE, DETECTIONS)
    if table is None:
        raise MotCliError(f"{run_dir.file(DETECTIONS_STAGE)}: no finished detections cache")
    detections = detect.frame_detections(table, detect.recorded_score_map(run_dir, table))
    embeddings = run_dir.read_completed(EMBEDDINGS_STAGE, None) if appearance else None
    if embeddings is not None:
        detections = embed.attach(detections, embeddings)
    if sd_embeddings:
        detections = attach_sd_embeddings(run_dir, detections)
    if masks:
        detections = attach_masks(run_dir, detections)
    if depth_levels:
        from mot_cli.stages.depth import attach_levels, read_depth

        detections = attach_levels(detections, read_depth(run_dir))
    motion = run_dir.read_completed(CAMERA_MOTION_STAGE, CAMERA_MOTION) if camera_motion else None
    return detections, None if motion is None else load_warps(motion)


def attach_sd_embeddings(
    run_dir: RunDir, detections: dict[int, Detections]
) -> dict[int, Detections]:
    """The detections with the run's cached depth×mask embeddings."""
    from mot_cli.stages import sd_embed

    table = sd_embed.read_sd_embeddings(run_dir)
    if table is None:
        raise MotCliError(
            f"{run_dir.file(sd_embed.STAGE)}: no sd embeddings cache (the S_sd cue needs one)"
        )
    return sd_embed.attach(detections, table)


def attach_masks(run_dir: RunDir, detections: dict[int, Detections]) -> dict[int, Detections]:
    """The detections with the run's cached masks on the default grid for its video."""
    from mot_cli.maskgrid import MaskGrid, default_cell
    from mot_cli.stages import segment

    masks = segment.read_masks(run_dir)
    height = run_dir.load_manifest().get("source", {}).get("height")
    if not isinstance(height, int) or height < 1:
        raise MotCliError(f"{run_dir.manifest_path}: the source's height is not recorded")
    cell = default_cell(height)
    out = {}
    for number, dets in detections.items():
        rles = masks.get(number, [])
        if len(rles) != len(dets):
            raise MotCliError(
                f"{run_dir.file(segment.STAGE)} has {len(rles)} masks for frame {number} but "
                f"detections has {len(dets)}; re-run `mot-cli segment --force`"
            )
        out[number] = dets.replace(masks=MaskGrid.from_rle(rles, dets.xyxy, cell))
    return out
