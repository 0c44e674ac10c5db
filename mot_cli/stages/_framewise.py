"""The resumable loop shared by stages that process the source frame by frame."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir, write_parquet
from mot_cli.errors import MotCliError
from mot_cli.progress import console, progress_bar
from mot_cli.video import FrameSource

BatchFn = Callable[[list[int], list[np.ndarray]], pa.Table]


@dataclass(frozen=True)
class StageRun:
    """What a stage needs to know to run resumably; `entry` extras go into the manifest."""

    stage: str
    key: str
    schema: pa.Schema
    first: int
    last: int
    batch: int
    entry: dict
    flush_frames: int = 32


def cached(run_dir: RunDir, spec: StageRun, force: bool) -> pa.Table | None:
    """The stage's cached table when its key matches, else None (stale caches are redone)."""
    table = None if force else run_dir.read_completed(spec.stage, spec.schema, spec.key)
    if table is not None:
        console.print(f"{spec.stage}: cache up to date ({run_dir.file(spec.stage)})")
    return table


def run_framewise(
    run_dir: RunDir,
    source: FrameSource,
    spec: StageRun,
    make_process: Callable[[], BatchFn],
    force: bool,
) -> pa.Table:
    """Run the batch function over frames, flushing a chunk every `flush_frames` frames.

    `make_process` is called only when there is work to do, so a fresh cache never pays for
    loading a model.
    """
    table = cached(run_dir, spec, force)
    if table is not None:
        return table
    process = make_process()
    partial = run_dir.partial(spec.stage, spec.key, spec.schema)
    start = partial.resume_frame(spec.first, restart=force)
    if start > spec.first:
        console.print(
            f"{spec.stage}: resuming at frame {start} (frames {spec.first}-{start - 1} cached)"
        )
    started = time.perf_counter()
    total = spec.last - spec.first + 1
    frames, images, pending, chunk_first = [], [], [], start
    last_seen = start - 1
    with progress_bar(spec.stage, total, done=start - spec.first) as advance:
        for number, image in source.frames(start, spec.last):
            frames.append(number)
            images.append(image)
            last_seen = number
            if len(frames) == spec.batch:
                pending.append(process(frames, images))
                advance(len(frames))
                frames, images = [], []
            if last_seen - chunk_first + 1 >= spec.flush_frames and not frames:
                partial.write_chunk(chunk_first, last_seen, pa.concat_tables(pending))
                pending, chunk_first = [], last_seen + 1
        if frames:
            pending.append(process(frames, images))
            advance(len(frames))
        if pending:
            partial.write_chunk(chunk_first, last_seen, pa.concat_tables(pending))
    last = _last_frame(source, spec, last_seen)
    table = partial.join(spec.first, last)
    run_dir.commit(
        spec.stage,
        {
            **spec.entry,
            "key": spec.key,
            "complete": True,
            "frames": [spec.first, last],
            "rows": table.num_rows,
            "seconds": round(time.perf_counter() - started, 3),
        },
        {
            run_dir.file(spec.stage).name: lambda path: write_parquet(
                path, table, stage=spec.stage, key=spec.key
            )
        },
    )
    partial.remove()
    return table


def _last_frame(source: FrameSource, spec: StageRun, last_seen: int) -> int:
    """The last frame the stage covered: `spec.last`, or earlier when a video ended early.

    Frames a source knows to be absent (missing images allowed as empty) do not count as an
    early end.
    """
    if last_seen >= spec.last or not source.has_frame(spec.last):
        return spec.last
    if last_seen < spec.first:
        raise MotCliError(
            f"{source.info.path}: no frame could be decoded from frame {spec.first} on, although "
            f"its header announces {source.info.frames} (truncated video?)"
        )
    console.print(
        f"[yellow]warning:[/] {source.info.path}: the video ended at frame {last_seen}, before "
        f"frame {spec.last} that its header announced (truncated video?); frames "
        f"{spec.first}-{last_seen} were processed",
        highlight=False,
    )
    return last_seen
