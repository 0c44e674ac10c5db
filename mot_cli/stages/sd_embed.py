"""Depth×mask embedding stage: the `S_sd` embedding of every cached detection.

It reads only caches — detections, masks and depth maps — and an encoder: the checkpoint
`SdEmbedConfig.checkpoint` names (`track --sd-encoder`), or else the one the encoder stage
trained on this run (stages/sd_encoder.py). It writes sd_embeddings.parquet beside
embeddings.parquet, row for row with the detections. Its key hashes the checkpoint's sha256
and the keys of the three caches, so a new checkpoint or new masks re-embed, and nothing else
does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.detections import Detections
from mot_cli.errors import MotCliError
from mot_cli.schema import (
    DEPTH_MAPS,
    DEPTH_MAPS_STAGE,
    DETECTIONS,
    DETECTIONS_STAGE,
    MASKS,
    MASKS_STAGE,
    SD_EMBEDDINGS_STAGE,
    SD_ENCODER_STAGE,
    embeddings_schema,
)
from mot_cli.segment import BOX_BACKEND
from mot_cli.stages import sd_encoder
from mot_cli.stages._job import StageInputs, TableJob
from mot_cli.stages.embed import aligned_rows

STAGE = SD_EMBEDDINGS_STAGE
READS = sd_encoder.READS  # it embeds the crops the encoder learns from
DEFAULT_W_SD = 0.5
"""The `w_sd` that `track --sd` sets when `--set w_sd=...` is not given: the weight
bench/ablation.py's leave-one-sequence-out folds picked most often with mobilePydnet depth."""

SD_MASKS = BOX_BACKEND
"""The segment backend `track --sd` makes masks with when the run has none: box masks cost
nothing, and on KITTI-17 and MOTS20-11 S_sd did no worse with them than with ground-truth
masks (issue 19's oracle, bench/masks.py --cues); a YOLO11n-seg pass costs more than the
detector itself, so --sd could not stay within 1.5x a default run with it. Masks made by
hand (`mot-cli segment`, `--masks-txt`) are used instead, and the mask cues (w_iom,
mask_occlusion) make YOLO11n-seg's."""
SD_DEPTH = "pseudo"
"""The depth backend `track --sd` makes maps with when the run has none: SparseTrack's
pseudo-depth from the boxes costs nothing, while mobilePydnet took as long as the detector
(--sd 1.69x a default run on KITTI-17 with it, bench/end_to_end.py); issue 10's left-out
ablation put the two within the training spread of each other, and mobilePydnet orders people
no better than their feet rows (../shared/models/MODELS.md). Maps made by hand
(`mot-cli depth --backend pydnet`, Depth Anything, ...) are used instead."""
SD_ENCODER_EPOCHS = 1
"""`track --sd` trains its encoder one pass over the run's detections, no step minimum: a
cost in proportion to the video like the other stages (200 steps took 80 s on TUD-Campus,
4x the default run), while issue 10's left-out ablation found no measurable gain from
training over a random-init encoder. `mot-cli train-encoder RUN` still trains longer."""

__all__ = [
    "DEFAULT_W_SD", "READS", "SD_DEPTH", "SD_ENCODER_EPOCHS", "SD_MASKS", "STAGE",
    "SdEmbedConfig", "attach", "embeddings_table", "plan", "read_sd_embeddings",
]  # fmt: skip


@dataclass(frozen=True)
class SdEmbedConfig:
    """`checkpoint`: an encoder file or a name the model resolver finds; None: the encoder
    the sd_encoder stage trained on this run."""

    checkpoint: str | None = None


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


def plan(inputs: StageInputs, config: SdEmbedConfig) -> TableJob:
    """Embed every detection of the run's finished caches with the chosen encoder."""
    from mot_cli.models import resolve_model

    if config.checkpoint is not None:
        model = resolve_model(config.checkpoint, download=False)
        path, sha = model.path, model.sha256
    elif SD_ENCODER_STAGE in inputs.keys:
        path = inputs.run_dir.file(SD_ENCODER_STAGE)
        entry = inputs.run_dir.read_entry(SD_ENCODER_STAGE) or {}
        sha = (entry.get("files") or {}).get(path.name) or resolve_model(path).sha256
    else:
        raise MotCliError(
            "sd embeddings need an encoder: give --sd-encoder, or let `track --sd` train one"
        )
    upstream = {stage: inputs.keys[stage] for stage in READS}
    key = stage_key(STAGE, model_sha256=sha, upstream=upstream)
    entry = {"model": {"path": str(path), "sha256": sha}, "upstream": upstream}
    return TableJob(STAGE, key, lambda: _embed(inputs, path, key, entry))


def _embed(inputs: StageInputs, checkpoint: Path, key: str, entry: dict) -> None:
    import torch

    from mot_cli.encoder import embed_detections, read_checkpoint
    from mot_cli.encoder.data import RunFrames
    from mot_cli.progress import progress_bar

    run_dir = inputs.run_dir
    frames = RunFrames(
        run_dir,
        inputs.table(DETECTIONS_STAGE, DETECTIONS),
        inputs.table(MASKS_STAGE, MASKS),
        inputs.table(DEPTH_MAPS_STAGE, DEPTH_MAPS),
    )
    encoder = read_checkpoint(checkpoint)
    dim = encoder.config.embedding_dim
    started = time.perf_counter()
    numbers, embeddings = [], []
    # One torch thread, as in training: this network's short kernels only wait on each
    # other with more (on this shared 2-core machine, 2 threads ran 3.5x slower than 1).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with progress_bar("sd embed", len(frames)) as advance:
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
    write_table(run_dir.file(STAGE), table, stage=STAGE, key=key)
    run_dir.write_entry(
        STAGE,
        {
            **entry,
            "key": key,
            "complete": True,
            "rows": table.num_rows,
            "dim": dim,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def read_sd_embeddings(run_dir: RunDir) -> pa.Table | None:
    """The finished sd_embeddings table of a run folder, or None when there is none."""
    return run_dir.read_completed(STAGE, None)


def attach(detections: dict[int, Detections], table: pa.Table) -> dict[int, Detections]:
    """Detections with their sd embeddings; a row count that disagrees is a corrupt cache."""
    rows = aligned_rows(table, detections, STAGE)
    return {number: dets.replace(sd_embedding=rows[number]) for number, dets in detections.items()}
