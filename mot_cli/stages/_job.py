"""What a stage hands the stage graph: its inputs going in, a job (key + work) coming out.

A stage module exposes `plan(inputs, config) -> Job`. Planning does no heavy work: it
computes the stage's key from its config, its model's sha256 and the keys of the caches it
reads, and says how the work would be done. The graph (mot_cli/pipeline.py) then decides
whether the work is due (the cache is missing or its key is stale) and, for frame-wise jobs,
runs every due one in one shared decode pass of the video.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from mot_cli.cache import RunDir
from mot_cli.detections import Detections
from mot_cli.schema import DETECTIONS_STAGE
from mot_cli.video import FrameSource

BatchFn = Callable[[list[int], list[np.ndarray]], pa.Table]
"""A frame-wise stage's work: frame numbers and their BGR images in, its rows for them out."""


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


@dataclass(frozen=True)
class FramewiseJob:
    """A stage that works frame by frame: it can share one decode pass with other stages.

    `make_process` is called only when the work is due, so a fresh cache never pays for
    loading a model. `finish`, when given, receives the committed table after the pass (a
    stage that made a second output on the way stores it then).
    """

    spec: StageRun
    make_process: Callable[[], BatchFn]
    finish: Callable[[pa.Table], None] | None = None

    @property
    def stage(self) -> str:
        return self.spec.stage

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass(frozen=True)
class TableJob:
    """A stage that makes its whole output at once (from finished caches, or a file).

    `run` computes and commits the output. `always` re-runs it even when its key matches:
    for a stage cheap enough that re-running is safer than trusting a key that cannot see
    its code change (the tracker).
    """

    stage: str
    key: str
    run: Callable[[], None]
    always: bool = False


Job = FramewiseJob | TableJob


@dataclass(frozen=True)
class StageInputs:
    """Everything a stage's `plan` may use: the run, and the caches it reads.

    `keys` holds the key of every cache the stage reads (only those switched on).
    `per_frame` holds, for caches a frame-wise stage reads, their rows by frame number
    (`detections` is `per_frame["detections"]`): when the stage producing them runs in the
    same decode pass, the mapping fills as it goes, and always holds a frame before that
    frame reaches the reader's batch function. `force`: the work will run even if its cache
    is fresh (a job that runs its own pass drops its resumable chunks then).
    """

    source: FrameSource
    run_dir: RunDir
    name: str
    frames: tuple[int, int]
    keys: Mapping[str, str] = field(default_factory=dict)
    per_frame: Mapping[str, Mapping[int, Any]] = field(default_factory=dict)
    force: bool = False

    @property
    def detections(self) -> Mapping[int, Detections]:
        return self.per_frame.get(DETECTIONS_STAGE, {})

    def table(self, stage: str, schema: pa.Schema | None = None) -> pa.Table:
        """A finished cache this stage reads, checked against the key it was planned with."""
        from mot_cli.errors import MotCliError

        table = self.run_dir.read_completed(stage, schema, self.keys[stage])
        if table is None:
            raise MotCliError(f"{self.run_dir.file(stage)}: no finished {stage} cache")
        return table
