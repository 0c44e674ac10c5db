"""Depth×mask embedding stage: the `S_sd` embedding of every cached detection.

It reads only caches — detections, masks and depth maps — and a trained encoder checkpoint
(`mot-cli train-encoder`), and writes sd_embeddings.parquet beside embeddings.parquet, row for
row with the detections. Its key hashes the checkpoint's sha256 and the keys of the three
caches, so a new checkpoint or new masks re-embed, and nothing else does.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.detections import Detections, rows_by_frame
from mot_cli.errors import MotCliError
from mot_cli.schema import embeddings_schema

STAGE = "sd_embeddings"

__all__ = ["STAGE", "attach", "embeddings_table", "read_sd_embeddings", "run"]


def embeddings_table(frames: list[int], embeddings: list[np.ndarray], dim: int) -> pa.Table:
    """sd_embeddings.parquet rows: per frame, one (N, dim) array in `det` order."""
    counts = [len(e) for e in embeddings]
    frame = np.repeat(np.asarray(frames, np.int32), counts)
    det = np.concatenate([np.arange(n, dtype=np.int32) for n in counts] or [np.zeros(0)])
    flat = (
        np.concatenate(embeddings).astype(np.float32).reshape(-1)
        if embeddings
        else np.zeros(0, np.float32)
    )
    column = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim)
    return pa.table(
        {
            "frame": pa.array(frame, pa.int32()),
            "det": pa.array(det.astype(np.int32), pa.int32()),
            "embedding": column,
        },
        schema=embeddings_schema(dim),
    )


def run(
    run_dir: RunDir, checkpoint: str | Path, *, force: bool = False, show_progress: bool = True
) -> pa.Table:
    """Embed every detection of a run folder with the encoder `checkpoint` (a path, or a
    name the model resolver finds); an up-to-date cache is returned as it is."""
    import torch

    from mot_cli.encoder import embed_detections, read_checkpoint, read_run
    from mot_cli.encoder.data import upstream_keys
    from mot_cli.models import resolve_model
    from mot_cli.progress import console, progress_bar

    model = resolve_model(checkpoint, download=False)
    frames = read_run(run_dir.path)
    upstream = upstream_keys(run_dir)
    key = stage_key(STAGE, model_sha256=model.sha256, upstream=upstream)
    if not force:
        table = run_dir.read_completed(STAGE, None, key)
        if table is not None:
            console.print(f"{STAGE}: cache up to date ({run_dir.file(STAGE)})")
            return table
    encoder = read_checkpoint(model.path)
    dim = encoder.config.embedding_dim
    started = time.perf_counter()
    numbers, embeddings = [], []
    bar = progress_bar("sd embed", len(frames)) if show_progress else nullcontext(_ignore)
    # One torch thread, as in training: this network's short kernels only wait on each
    # other with more (on this shared 2-core machine, 2 threads ran 3.5x slower than 1).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with bar as advance:
            for arrays in frames:
                numbers.append(arrays.frame)
                embeddings.append(
                    embed_detections(encoder, arrays.depth_map, arrays.scale, arrays.boxes,
                                     arrays.masks)
                )
                advance(1)
    finally:
        torch.set_num_threads(threads)
    table = embeddings_table(numbers, embeddings, dim)
    release = run_dir.lock()
    try:
        write_table(run_dir.file(STAGE), table, stage=STAGE, key=key)
        run_dir.record(
            STAGE,
            {
                "key": key,
                "complete": True,
                "model": {"path": str(model.path), "sha256": model.sha256},
                "upstream": upstream,
                "rows": table.num_rows,
                "dim": dim,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
    finally:
        release()
    return table


def _ignore(_count: int) -> None:
    """What a progress bar's advance does when there is no bar."""


def read_sd_embeddings(run_dir: RunDir) -> pa.Table | None:
    """The finished sd_embeddings table of a run folder, or None when there is none."""
    return run_dir.read_completed(STAGE, None)


def attach(detections: dict[int, Detections], table: pa.Table) -> dict[int, Detections]:
    """Detections with their sd embeddings; a row count that disagrees is a corrupt cache."""
    frame = table.column("frame").to_numpy()
    det = table.column("det").to_numpy()
    column = table.column("embedding").combine_chunks()
    dim = column.type.list_size
    values = column.values.to_numpy().reshape(-1, dim) if len(column) else np.zeros((0, dim))
    by_frame = {number: values[rows] for number, rows in rows_by_frame(frame, det)}
    out = {}
    for number, dets in detections.items():
        sd = by_frame.get(number, np.zeros((0, dim), np.float32))
        if len(sd) != len(dets):
            raise MotCliError(
                f"{STAGE} cache has {len(sd)} rows for frame {number} but detections has "
                f"{len(dets)}; re-run it with --force"
            )
        out[number] = dets.replace(sd_embedding=sd)
    return out
