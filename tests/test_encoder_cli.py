"""`mot-cli train-encoder` as a user meets it: a checkpoint and its record, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.encoder import embed_detections, load_encoder
from mot_cli.models import file_sha256
from tests.synthetic_depth import sequence, write_run
from tests.test_cli import assert_one_line_error

runner = CliRunner()
FAST = ("--epochs", "1", "--min-steps", "0", "--batch", "8", "--input", "16x8", "--dim", "8")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_help_has_examples() -> None:
    result = invoke("train-encoder", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.output and "mot-cli train-encoder" in result.output


def test_trains_from_run_caches_and_writes_a_checkpoint_with_its_sha256(tmp_path: Path) -> None:
    run_a = write_run(tmp_path / "a", sequence(5)).path
    run_b = write_run(tmp_path / "b", sequence(4, seed=1)).path
    out = tmp_path / "models" / "sd.pt"
    result = invoke("train-encoder", run_a, run_b, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "models" / "sd.pt.json").read_text())
    assert record["sha256"] == file_sha256(out)
    assert record["detections"] == 9 * 4 and record["links"] == (4 + 3) * 4
    assert set(record["runs"]) == {str(run_a), str(run_b)}
    assert record["runs"][str(run_a)]["masks"] is not None
    assert "sd.pt" in result.stdout and "loss" in result.stdout
    encoder = load_encoder(out)
    frame = sequence(1)[0]
    embedded = embed_detections(encoder, frame.depth_map, frame.scale, frame.boxes, frame.masks)
    assert embedded.shape == (4, 8) and np.isfinite(embedded).all()


def test_single_run_default_checkpoint_sits_in_the_run_and_seed_repeats(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", sequence(4)).path
    assert invoke("train-encoder", run, *FAST).exit_code == 0
    first = file_sha256(run / "sd_encoder.pt")
    assert invoke("train-encoder", run, *FAST).exit_code == 0
    assert file_sha256(run / "sd_encoder.pt") == first
    assert invoke("train-encoder", run, *FAST, "--seed", "9").exit_code == 0
    assert file_sha256(run / "sd_encoder.pt") != first


def test_per_frame_depth_norm_is_a_new_encoder_kept_in_its_checkpoint(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", sequence(4)).path
    assert invoke("train-encoder", run, *FAST).exit_code == 0
    crop = json.loads((run / "sd_encoder.pt.json").read_text())
    result = invoke("train-encoder", run, *FAST, "--depth-norm", "frame")
    assert result.exit_code == 0, result.output
    frame = json.loads((run / "sd_encoder.pt.json").read_text())
    assert frame["key"] != crop["key"]  # the run's encoder cache is retrained, not reused
    assert frame["config"]["encoder"]["depth_norm"] == "frame"
    assert load_encoder(run / "sd_encoder.pt").config.depth_norm == "frame"


def test_run_without_depth_or_masks_names_the_stages(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", sequence(2), ("detections",)).path
    result = invoke("train-encoder", run, *FAST)
    assert_one_line_error(result, str(run), "mot-cli depth", "mot-cli segment")


def test_not_a_run_folder(tmp_path: Path) -> None:
    result = invoke("train-encoder", tmp_path / "nowhere", *FAST)
    assert_one_line_error(result, "nowhere", "not a run folder")


def test_several_runs_need_an_output(tmp_path: Path) -> None:
    run_a = write_run(tmp_path / "a", sequence(2)).path
    run_b = write_run(tmp_path / "b", sequence(2)).path
    assert_one_line_error(invoke("train-encoder", run_a, run_b), "-o")


def test_bad_options(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a", sequence(2)).path
    assert_one_line_error(invoke("train-encoder", run, "--input", "64by32"), "--input", "64by32")
    assert_one_line_error(invoke("train-encoder", run, "--input", "60x30"), "multiple of 8")
    assert_one_line_error(invoke("train-encoder", run, "--temperature", "0"), "--temperature")


def test_command_defaults_are_the_library_defaults() -> None:
    import inspect

    from mot_cli.commands.train_encoder import train_encoder_command
    from mot_cli.encoder import EncoderConfig, TrainConfig

    defaults = {
        name: p.default for name, p in inspect.signature(train_encoder_command).parameters.items()
    }
    train, encoder = TrainConfig(), EncoderConfig()
    assert defaults["epochs"] == train.epochs and defaults["seed"] == train.seed
    assert defaults["min_steps"] == train.min_steps and defaults["threads"] == train.threads
    assert defaults["batch"] == train.batch and defaults["temperature"] == train.temperature
    assert defaults["learning_rate"] == train.learning_rate
    assert defaults["input_size"] == f"{encoder.input_height}x{encoder.input_width}"
    assert defaults["dim"] == encoder.embedding_dim
    assert defaults["depth_norm"] == encoder.depth_norm
