"""`mot-cli train-encoder`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands._common import user_errors
from mot_cli.progress import results_console

if TYPE_CHECKING:
    from mot_cli.encoder.train import TrainConfig


def _input_size(text: str) -> tuple[int, int]:
    from mot_cli.errors import MotCliError

    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise MotCliError(f"--input must be HEIGHTxWIDTH (e.g. 64x32), got {text!r}") from None
    return height, width


@user_errors
def train_encoder_command(
    runs: Annotated[
        list[Path],
        typer.Argument(
            help="Run folders (e.g. runs/video) holding detections, masks and depth maps.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Checkpoint to write (default: RUN/sd_encoder.pt for a single run). Put it in "
            "$MOT_CLI_MODELS to use it by name.",
        ),
    ] = None,
    epochs: Annotated[
        int,
        typer.Option("--epochs", help="Passes over every detection (more if under --min-steps)."),
    ] = 3,
    min_steps: Annotated[
        int,
        typer.Option(
            "--min-steps", help="Optimiser steps at least: short videos need more passes."
        ),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same weights.")] = 0,
    temperature: Annotated[float, typer.Option("--temperature", help="InfoNCE temperature.")] = 0.1,
    batch: Annotated[int, typer.Option("--batch", help="Detections per step (whole frames).")] = 64,
    learning_rate: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 2e-3,
    input_size: Annotated[
        str, typer.Option("--input", help="Crop size HEIGHTxWIDTH, multiples of 8.")
    ] = "64x32",
    dim: Annotated[int, typer.Option("--dim", help="Embedding size.")] = 32,
    threads: Annotated[
        int,
        typer.Option("--threads", help="CPU threads (1 is fastest on a shared or small CPU)."),
    ] = 1,
    depth_norm: Annotated[
        str,
        typer.Option(
            "--depth-norm",
            help="Normalise the depth channel per crop (each crop to its own median: shape "
            "and relief only) or per frame (the whole map's median and spread: a person's "
            "depth level stays in the input). Kept in the checkpoint, so embedding uses the "
            "same.",
        ),
    ] = "crop",
) -> None:
    """Train the depth×mask encoder on run folders' caches, without any labels.

    Needs each run's detections, masks and depth maps (`mot-cli detect`, `mot-cli segment`,
    `mot-cli depth`). Positives are augmented views of a detection and detections linked
    across consecutive frames by unambiguous box overlap; negatives are the other detections
    of the same frames. Writes the checkpoint and, beside it, CHECKPOINT.json with its sha256.
    For one run folder and no -o, the checkpoint is that run's encoder cache: `mot-cli track
    --sd` uses it while the caches it learnt from are unchanged.

    Examples:

    \b
      mot-cli train-encoder runs/TUD-Campus

    \b
      mot-cli train-encoder runs/* -o models/sd_encoder.pt --epochs 10 --seed 1

    \b
      mot-cli train-encoder runs/KITTI-17 --depth-norm frame
    """
    from mot_cli.encoder.crops import DEPTH_NORMS
    from mot_cli.encoder.train import checkpoint_record_path, train_on_runs
    from mot_cli.errors import MotCliError
    from mot_cli.stages.sd_encoder import SdEncoderConfig

    if depth_norm not in DEPTH_NORMS:
        raise MotCliError(
            f"--depth-norm must be one of {', '.join(DEPTH_NORMS)}, got {depth_norm!r}"
        )
    height, width = _input_size(input_size)
    config = SdEncoderConfig(
        input_height=height,
        input_width=width,
        dim=dim,
        epochs=epochs,
        min_steps=min_steps,
        batch=batch,
        temperature=temperature,
        learning_rate=learning_rate,
        seed=seed,
        threads=threads,
        depth_norm=depth_norm,
    ).train_config()
    if output is None:
        if len(runs) != 1:
            raise MotCliError(f"{len(runs)} run folders given: name the checkpoint with -o")
        output, record = _train_into_run(runs[0], config)
    else:
        from mot_cli.guard import check_outputs

        record_path = checkpoint_record_path(output)
        check_outputs({"--output": output, "--output's record": record_path}, runs=runs)
        record = train_on_runs(runs, output, config)
    losses = record["epoch_losses"]
    results_console().print(  # the result: stdout, for $(…) and pipes
        f"encoder: {record['detections']} detections, {record['links']} links from "
        f"{len(runs)} run(s); loss {losses[0]:.3f} → {losses[-1]:.3f}; "
        f"{record['samples_per_second']:.0f} samples/s → {output} "
        f"(sha256 {record['sha256'][:16]}…, record {checkpoint_record_path(output).name})",
        markup=False,
    )


def _train_into_run(run: Path, config: TrainConfig) -> tuple[Path, dict]:
    """Train on one run folder and commit the checkpoint as its encoder cache (locked)."""
    from mot_cli.encoder.data import read_run
    from mot_cli.encoder.train import fit_runs, training_key
    from mot_cli.stages import sd_encoder

    frames = read_run(run)
    release = frames.run_dir.lock()
    try:
        trained = fit_runs([frames], config)
        key = training_key(config, [frames.keys])
        record = sd_encoder.store(frames.run_dir, trained, key, dict(frames.keys))
    finally:
        release()
    return frames.run_dir.file(sd_encoder.STAGE), record
