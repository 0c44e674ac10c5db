"""`track --sd` and the mask cues on the stage graph: what runs, what is reused, what is not.

Issue 10's switch: with `--sd` the graph segments, estimates depth, trains the encoder on the
video's own caches, embeds every detection and tracks with S_sd; masks and depth maps made by
hand (`mot-cli segment` / `mot-cli depth`, any backend) are used as they are. Without a cue
that needs them, `track` runs none of these stages (tests/test_pipeline.py checks that).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.stages import sd_embed
from tests.conftest import MODELS, need
from tests.test_cli import assert_one_line_error

runner = CliRunner()
FAST_ENCODER = ("--epochs", "1", "--min-steps", "0", "--batch", "8", "--input", "16x8",
                "--dim", "8")  # fmt: skip


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def stages(cache_dir: Path) -> dict:
    return json.loads((cache_dir / "walk" / "manifest.json").read_text())["stages"]


def public(video: Path, det_txt: Path, cache_dir: Path) -> list:
    """The options that keep these runs fast: imported boxes, no appearance, no camera motion."""
    return [video, "--det-txt", det_txt, "--no-reid", "--no-cmc", "--cache-dir", cache_dir]


def test_sd_runs_segment_depth_training_and_embedding_then_reuses_them(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    args = public(small_video, small_det_txt, tmp_path)
    result = invoke("track", *args, "--sd")
    assert result.exit_code == 0, result.output
    first = stages(tmp_path)
    assert {"masks", "depth_maps", "sd_encoder", "sd_embeddings"} <= set(first)
    # --sd's own fallbacks, at the price of a default run (issue 19): box masks, pseudo-depth
    # drawn from the boxes (no network, no decode pass of its own), one training pass
    assert first["masks"]["config"]["backend"] == sd_embed.SD_MASKS == "box"
    assert first["depth_maps"]["config"]["backend"] == sd_embed.SD_DEPTH == "pseudo"
    assert first["depth_maps"]["upstream"]["masks"] == first["masks"]["key"]
    assert first["sd_encoder"]["config"]["epochs"] == sd_embed.SD_ENCODER_EPOCHS
    assert first["sd_encoder"]["config"]["min_steps"] == 0
    checkpoint = tmp_path / "walk" / "sd_encoder.pt"
    assert first["sd_embeddings"]["model"]["path"] == str(checkpoint)
    trained_sha = first["sd_encoder"]["files"]["sd_encoder.pt"]
    assert trained_sha == first["sd_embeddings"]["model"]["sha256"]
    assert first["tracks"]["config"]["w_sd"] == sd_embed.DEFAULT_W_SD
    assert first["tracks"]["upstream"]["sd_embeddings"] == first["sd_embeddings"]["key"]
    assert "masks" not in first["tracks"]["upstream"]  # no mask cue is on
    assert "mots_txt" not in first["tracks"]  # box masks are no masks to export
    assert not list((tmp_path / "walk").glob("*.mots.txt"))
    again = invoke("track", *args, "--sd", "--set", "w_sd=1.0")
    assert again.exit_code == 0, again.output
    second = stages(tmp_path)
    for kept in ("masks", "depth_maps", "sd_encoder", "sd_embeddings"):
        assert second[kept] == first[kept], kept  # not redone: same key, same timings
    assert second["tracks"]["config"]["w_sd"] == 1.0
    assert "sd_encoder: using the existing cache" in again.stderr.replace("\n", " ")


def test_hand_made_masks_and_depth_are_used_and_only_their_readers_rerun(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    """Weight-free backends made by hand; a new depth map re-trains and re-embeds, no more."""
    common = [small_video, "--det-txt", small_det_txt, "--cache-dir", tmp_path]
    assert invoke("segment", *common, "--backend", "box").exit_code == 0
    assert invoke("depth", *common, "--backend", "pseudo").exit_code == 0
    assert invoke("train-encoder", tmp_path / "walk", *FAST_ENCODER).exit_code == 0
    trained = stages(tmp_path)["sd_encoder"]
    result = invoke("track", *public(small_video, small_det_txt, tmp_path), "--sd")
    assert result.exit_code == 0, result.output
    first = stages(tmp_path)
    assert first["masks"]["config"]["backend"] == "box"
    assert first["depth_maps"]["config"]["backend"] == "pseudo"
    assert first["sd_encoder"] == trained  # the encoder trained by hand, on these caches
    assert first["sd_embeddings"]["dim"] == 8
    assert invoke("depth", *common, "--backend", "pseudo", "--map-size", "64").exit_code == 0
    result = invoke("track", *public(small_video, small_det_txt, tmp_path), "--sd")
    assert result.exit_code == 0, result.output
    second = stages(tmp_path)
    assert second["detections"] == first["detections"] and second["masks"] == first["masks"]
    for rerun in ("depth_maps", "sd_encoder", "sd_embeddings"):
        assert second[rerun]["key"] != first[rerun]["key"], rerun
    assert second["sd_encoder"]["upstream"]["depth_maps"] == second["depth_maps"]["key"]
    assert second["sd_encoder"]["config"]["encoder"]["embedding_dim"] == 32  # the default


def test_a_given_encoder_is_used_without_training(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    common = [small_video, "--det-txt", small_det_txt, "--cache-dir", tmp_path]
    assert invoke("segment", *common, "--backend", "box").exit_code == 0
    assert invoke("depth", *common, "--backend", "pseudo").exit_code == 0
    assert invoke("train-encoder", tmp_path / "walk", *FAST_ENCODER).exit_code == 0
    given = shutil.copy(tmp_path / "walk" / "sd_encoder.pt", tmp_path / "mine.pt")
    shutil.rmtree(tmp_path / "walk")
    assert invoke("segment", *common, "--backend", "box").exit_code == 0
    assert invoke("depth", *common, "--backend", "pseudo").exit_code == 0
    result = invoke("track", *public(small_video, small_det_txt, tmp_path), "--sd-encoder", given)
    assert result.exit_code == 0, result.output
    ran = stages(tmp_path)
    assert "sd_encoder" not in ran and ran["sd_embeddings"]["model"]["path"] == str(given)
    assert ran["tracks"]["config"]["w_sd"] == sd_embed.DEFAULT_W_SD


def test_mask_cues_read_the_masks_and_segment_when_there_are_none(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    need(MODELS / "yolo11n-seg_int8_openvino_model")
    args = public(small_video, small_det_txt, tmp_path)
    result = invoke("track", *args, "--set", "w_iom=0.5", "--set", "mask_occlusion=true")
    assert result.exit_code == 0, result.output
    ran = stages(tmp_path)
    assert ran["tracks"]["upstream"]["masks"] == ran["masks"]["key"]
    assert ran["masks"]["config"]["backend"] == "yolo-seg"  # box masks would make IoM box IoM
    assert (tmp_path / "walk" / ran["tracks"]["mots_txt"]).is_file()  # real masks: MOTS text
    assert not {"depth_maps", "sd_encoder", "sd_embeddings"} & set(ran)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--sd", "--set", "w_sd=0"], ["--sd", "w_sd=0"]),
        (["--sd-encoder", "nowhere/enc.pt"], ["nowhere/enc.pt", "does not exist"]),
    ],
)
def test_bad_sd_options_are_one_line(
    tmp_path: Path, small_video: Path, small_det_txt: Path, extra: list, fragments: list
) -> None:
    result = invoke("track", *public(small_video, small_det_txt, tmp_path), *extra)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "walk").exists()  # refused before any work


def test_batch_takes_the_sd_options_too() -> None:
    result = invoke("batch", "--help")
    assert result.exit_code == 0 and "--sd" in result.output and "--sd-encoder" in result.output


def test_too_few_detections_to_train_on_is_one_line(tmp_path: Path, small_video: Path) -> None:
    need(MODELS / "yolo11n-seg_int8_openvino_model")
    need(MODELS / "mobile_pydnet_pruned35.tflite")
    empty = tmp_path / "nobody.txt"
    empty.write_text("")
    result = invoke("track", *public(small_video, empty, tmp_path), "--sd")
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0].split(": ")[-1])
    assert "walk: 0 detections, too few to train" in errors[0] and "--sd-encoder" in errors[0]
    assert "sd_encoder" not in stages(tmp_path)  # nothing half-written
