"""Encoder stage: the depth×mask encoder trained on the run's own caches, without labels.

`track --sd` asks for it when no `--sd-encoder` is given. The checkpoint is the stage's cache
(RUN/sd_encoder.pt, its sha256 in the manifest, its record in RUN/sd_encoder.pt.json) and its
key is the training key (`mot_cli.encoder.train.training_key`): the training config and the
keys of the detections, masks and depth maps it learnt from. So it is reused while those are
unchanged, and retrained when any of them changes. `mot-cli train-encoder RUN` (one run
folder, no `-o`) commits the same cache, so an encoder trained by hand with other options is
the one `track --sd` then uses, as long as the caches it learnt from stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mot_cli.cache import RunDir, write_json
from mot_cli.errors import MotCliError
from mot_cli.progress import console
from mot_cli.schema import (
    DEPTH_MAPS,
    DEPTH_MAPS_STAGE,
    DETECTIONS,
    DETECTIONS_STAGE,
    MASKS,
    MASKS_STAGE,
    SD_ENCODER_READS,
    SD_ENCODER_STAGE,
)
from mot_cli.stages._job import StageInputs, TableJob

if TYPE_CHECKING:
    from mot_cli.encoder.train import TrainConfig, Trained

STAGE = SD_ENCODER_STAGE
READS = SD_ENCODER_READS
"""The caches the encoder learns from and embeds (a run folder's detections, masks, maps)."""

__all__ = ["READS", "STAGE", "SdEncoderConfig", "plan", "store"]


@dataclass(frozen=True)
class SdEncoderConfig:
    """How the encoder learns: `mot-cli train-encoder`'s options, with its defaults.

    A light stand-in for `mot_cli.encoder.train.TrainConfig` (which needs torch), so the stage
    graph can name the stage without importing torch; `train_config()` builds the real one,
    which checks the values.
    """

    input_height: int = 64
    input_width: int = 32
    dim: int = 32
    epochs: int = 3
    min_steps: int = 200
    batch: int = 64
    temperature: float = 0.1
    learning_rate: float = 2e-3
    seed: int = 0
    threads: int = 1
    depth_norm: str = "crop"

    def train_config(self) -> TrainConfig:
        from mot_cli.encoder.model import EncoderConfig
        from mot_cli.encoder.train import TrainConfig

        return TrainConfig(
            encoder=EncoderConfig(
                input_height=self.input_height,
                input_width=self.input_width,
                embedding_dim=self.dim,
                depth_norm=self.depth_norm,
            ),
            epochs=self.epochs,
            min_steps=self.min_steps,
            batch=self.batch,
            temperature=self.temperature,
            learning_rate=self.learning_rate,
            seed=self.seed,
            threads=self.threads,
        )


def plan(inputs: StageInputs, config: SdEncoderConfig) -> TableJob:
    """Train on the run's finished detections, masks and depth maps (no labels)."""
    from mot_cli.encoder.train import training_key

    train = config.train_config()
    upstream = {stage: inputs.keys[stage] for stage in READS}
    key = training_key(train, [upstream])

    def work() -> None:
        from mot_cli.encoder.data import RunFrames
        from mot_cli.encoder.train import fit_runs

        frames = RunFrames(
            inputs.run_dir,
            inputs.table(DETECTIONS_STAGE, DETECTIONS),
            inputs.table(MASKS_STAGE, MASKS),
            inputs.table(DEPTH_MAPS_STAGE, DEPTH_MAPS),
            upstream,
        )
        if frames.detections.num_rows < 2:  # a video with (almost) nobody in it
            raise MotCliError(
                f"{inputs.run_dir.path}: {frames.detections.num_rows} detections, too few to "
                "train the depth×mask encoder on; give one with --sd-encoder, or track "
                "without --sd"
            )
        trained = fit_runs([frames], train)
        record = store(inputs.run_dir, trained, key, upstream)
        losses = record["epoch_losses"]
        console.print(
            f"{STAGE}: trained on {record['detections']} detections of this run (loss "
            f"{losses[0]:.3f} to {losses[-1]:.3f}) → {inputs.run_dir.file(STAGE)}",
            highlight=False,
        )

    return TableJob(STAGE, key, work)


def store(run_dir: RunDir, trained: Trained, key: str, upstream: dict[str, str]) -> dict:
    """Commit a trained encoder as the run folder's encoder cache; returns its record.

    The checkpoint, its record and the manifest entry are committed together (the entry's
    `files` holds the checkpoint's sha256).
    """
    from mot_cli.encoder.model import save_checkpoint
    from mot_cli.encoder.train import checkpoint_record_path

    path = run_dir.file(STAGE)
    record: dict = {}

    def write_checkpoint(target) -> None:
        sha = save_checkpoint(target, trained.result.encoder, trained.provenance)
        record.update(trained.record(sha))

    def write_record(target) -> None:
        write_json(target, record)

    run_dir.write_entry(
        STAGE,
        {
            "key": key,
            "complete": True,
            "upstream": upstream,
            "config": trained.provenance["config"],
            "detections": trained.provenance["detections"],
            "epoch_losses": trained.provenance["epoch_losses"],
            "seconds": round(sum(trained.timings[k] for k in ("prepare_seconds",
                                                              "train_seconds")), 3),
        },
        {path.name: write_checkpoint, checkpoint_record_path(path).name: write_record},
    )
    return record
