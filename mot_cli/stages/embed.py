"""Embed stage: an appearance (re-ID) embedding for every cached detection."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from mot_cli.cache import stage_key
from mot_cli.detections import Detections, align_to_detections
from mot_cli.devices import check_device
from mot_cli.errors import MotCliError
from mot_cli.models import resolve_model
from mot_cli.progress import console
from mot_cli.schema import DETECTIONS_STAGE, EMBEDDINGS_STAGE, embeddings_schema
from mot_cli.stages._job import BatchFn, FramewiseJob, StageInputs, StageRun

STAGE = EMBEDDINGS_STAGE
EMBEDDING_DIM = 512
BACKENDS = ("auto", "torch", "openvino")
# The OSNet widths reid/osnet.py builds (its OSNET_CHANNELS; a test keeps the two equal),
# listed here so checking --arch does not import torch.
ARCHS = ("osnet_x0_25", "osnet_x0_5", "osnet_x0_75", "osnet_x1_0")


@dataclass(frozen=True)
class EmbedConfig:
    """Which re-ID network embeds the crops; `batch` counts frames per call."""

    model: str = "osnet_x0_25_msmt17"
    arch: str = "osnet_x0_25"
    device: str = "cpu"
    batch: int = 8
    backend: str = "auto"

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise MotCliError(f"--batch must be >= 1, got {self.batch}")
        if self.backend not in BACKENDS:
            raise MotCliError(
                f"--reid-backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.arch not in ARCHS:
            raise MotCliError(f"--arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        check_device(self.device)

    def resolved_backend(self) -> str:
        """`auto` compiles with OpenVINO on CPU (2.5-4x torch there), else runs torch."""
        if self.backend != "auto":
            return self.backend
        if self.device != "cpu":
            return "torch"
        import importlib.util

        return "openvino" if importlib.util.find_spec("openvino") else "torch"


def embeddings_table(frames: list[int], embeddings: list[np.ndarray]) -> pa.Table:
    counts = [len(e) for e in embeddings]
    frame = np.repeat(np.asarray(frames, np.int32), counts)
    det = np.concatenate([np.arange(n, dtype=np.int32) for n in counts])
    flat = np.concatenate(embeddings).astype(np.float32).reshape(-1)
    column = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), EMBEDDING_DIM)
    return pa.table(
        {
            "frame": pa.array(frame, pa.int32()),
            "det": pa.array(det, pa.int32()),
            "embedding": column,
        },
        schema=embeddings_schema(EMBEDDING_DIM),
    )


def plan(inputs: StageInputs, config: EmbedConfig) -> FramewiseJob:
    """Embeddings aligned row for row with detections.parquet (frame, det)."""
    first, last = inputs.frames
    model = resolve_model(config.model)
    sha = model.sha256
    backend = config.resolved_backend()
    detections_key = inputs.keys[DETECTIONS_STAGE]
    key = stage_key(
        STAGE,
        config=asdict(config) | {"batch": None, "device": None, "backend": backend},
        model_sha256=sha,
        upstream=detections_key,
        source=inputs.source.info.fingerprint,
        frames=[first, last],
    )
    entry = {
        "config": asdict(config) | {"backend": backend},
        "model": {"path": str(model.path), "sha256": sha},
        "upstream": {DETECTIONS_STAGE: detections_key},
    }
    schema = embeddings_schema(EMBEDDING_DIM)
    spec = StageRun(STAGE, key, schema, first, last, config.batch, entry)
    detections = inputs.detections  # filled frame by frame when detect shares the pass
    empty = np.zeros((0, 4), np.float32)

    def make_process() -> BatchFn:
        from mot_cli.reid.encoder import ReidEncoder

        console.print(f"embed: {model.name} from {model.path} ({model.source}), {backend}")
        encoder = ReidEncoder.load(
            model.path, arch=config.arch, device=config.device, backend=backend
        )

        def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
            boxes = [detections[n].xyxy if n in detections else empty for n in numbers]
            return embeddings_table(numbers, encoder.embed_many(images, boxes))

        return process

    return FramewiseJob(spec, make_process)


def attach(detections: dict[int, Detections], table: pa.Table) -> dict[int, Detections]:
    """Detections with their embeddings; a row count that disagrees is a corrupt cache."""
    rows = aligned_rows(table, detections, STAGE)
    return {number: dets.replace(embedding=rows[number]) for number, dets in detections.items()}


def aligned_rows(
    table: pa.Table, detections: dict[int, Detections], stage: str
) -> dict[int, np.ndarray]:
    """An embedding table's rows per frame, in the detections' order (row i is det i).

    A frame whose row count differs from its detections' is a cache made of other detections.
    """
    column = table.column("embedding").combine_chunks()
    dim = column.type.list_size
    values = column.values.to_numpy().reshape(-1, dim) if len(column) else np.zeros((0, dim))
    return align_to_detections(
        table.column("frame").to_numpy(), table.column("det").to_numpy(), values, detections,
        f"{stage} cache", "re-run it with --force",
    )  # fmt: skip
