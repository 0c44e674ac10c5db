"""Ground-truth identities for the encoder (the bench's upper bound), combining training
sets, and the sd_embeddings stage that puts S_sd embeddings in a run folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.encoder import (
    EncoderConfig,
    TrainConfig,
    build_encoder,
    build_training_set,
    concat_training_sets,
    embed_detections,
    match_identities,
    save_checkpoint,
    train_encoder,
    with_identities,
)
from mot_cli.errors import MotCliError
from mot_cli.pipeline import Run, open_run, produce
from mot_cli.stages import sd_embed
from tests.conftest import write_video
from tests.synthetic_depth import sequence, write_run

SMALL = EncoderConfig(16, 8, embedding_dim=8)


def test_identities_are_matched_one_to_one_above_the_iou_bar() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [100, 0, 110, 10.0]])
    gt = np.array([[0, 0, 10, 10], [52, 52, 62, 62], [103, 0, 113, 10.0]])
    ids = match_identities(boxes, gt, np.array([7, 8, 9]))
    # two detections of person 7: the better one takes the id; 8 overlaps 0.47 < 0.5
    assert ids.tolist() == [7, -1, -1, 9]
    assert match_identities(boxes, np.zeros((0, 4)), np.zeros(0)).tolist() == [-1] * 4


def _labelled(frames):
    truth = {f.frame: (f.boxes, np.arange(len(f.boxes)) + 1) for f in frames}
    return list(with_identities(frames, truth))


def test_concat_keeps_links_tracklets_and_identities_apart() -> None:
    a = build_training_set([_labelled(sequence(3))], (16, 8))
    b = build_training_set([_labelled(sequence(2, seed=1))], (16, 8))
    both = concat_training_sets([a, b])
    assert len(both) == len(a) + len(b) == 20
    assert both.groups[3].tolist() == (b.groups[0] + len(a)).tolist()
    assert both.links == a.links + b.links
    assert both.next[len(a) :].max() == b.next.max() + len(a)
    assert len(set(both.tracklet.tolist())) == len(set(a.tracklet)) + len(set(b.tracklet))
    # the same ground-truth id in two videos is two people
    assert len(set(both.identity.tolist())) == 8
    unlabelled = build_training_set([sequence(2)], (16, 8))
    assert unlabelled.identity is None
    assert concat_training_sets([a, unlabelled]).identity is None


def test_supervised_training_needs_identities() -> None:
    data = build_training_set([sequence(4)], (16, 8))
    config = TrainConfig(encoder=SMALL, epochs=1, min_steps=0, batch=8, positives="identities")
    with pytest.raises(MotCliError, match="ground-truth ids"):
        train_encoder(data, config, show_progress=False)
    with pytest.raises(MotCliError, match="positives"):
        TrainConfig(positives="labels")


def test_supervised_training_lowers_the_loss_and_pulls_one_identity_together() -> None:
    frames = _labelled(sequence(16))
    data = build_training_set([frames], (16, 8))
    config = TrainConfig(encoder=SMALL, epochs=6, min_steps=0, batch=16,
                         positives="identities")
    result = train_encoder(data, config, show_progress=False)
    assert result.epoch_losses[-1] < 0.6 * result.epoch_losses[0], result.epoch_losses
    first = embed_detections(result.encoder, frames[0].depth_map, frames[0].scale,
                             frames[0].boxes, frames[0].masks)
    last = embed_detections(result.encoder, frames[-1].depth_map, frames[-1].scale,
                            frames[-1].boxes, frames[-1].masks)
    similarity = first @ last.T
    assert (similarity.argmax(axis=1) == np.arange(4)).all(), similarity


def _checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "enc.pt"
    save_checkpoint(path, build_encoder(SMALL, seed=1).eval())
    return path


def synthetic_run(tmp_path: Path, frames: list, stages: tuple[str, ...] | None = None) -> Run:
    """An opened run (of a small video) whose caches are the synthetic `frames`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    run = open_run(write_video(tmp_path / "video.avi", len(frames)), tmp_path, "run")
    write_run(run.run_dir.path, frames, *([stages] if stages else []))
    return run


def sd_embeddings(run: Run, checkpoint: Path):
    """The sd-embedding stage through the graph, on the caches already in the run folder."""
    config = sd_embed.SdEmbedConfig(str(checkpoint))
    return produce(run, sd_embed.STAGE, {sd_embed.STAGE: config}).table(sd_embed.STAGE)


def test_sd_stage_embeds_every_detection_and_is_reused(tmp_path: Path) -> None:
    frames = sequence(5)
    run = synthetic_run(tmp_path, frames)
    run_dir = run.run_dir
    checkpoint = _checkpoint(tmp_path)
    table = sd_embeddings(run, checkpoint)
    assert table.num_rows == 20
    assert table.column("frame").to_pylist()[:5] == [1, 1, 1, 1, 2]
    values = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    assert np.allclose(np.linalg.norm(values, axis=1), 1.0, atol=1e-5)
    key = run_dir.completed_key(sd_embed.STAGE)
    stamp = run_dir.file(sd_embed.STAGE).stat().st_mtime_ns
    sd_embeddings(run, checkpoint)
    assert run_dir.file(sd_embed.STAGE).stat().st_mtime_ns == stamp  # up to date: not redone
    other = tmp_path / "other.pt"
    save_checkpoint(other, build_encoder(SMALL, seed=2).eval())
    sd_embeddings(run, other)
    assert run_dir.completed_key(sd_embed.STAGE) != key  # another encoder: re-embedded
    detections = {f.frame: Detections(f.boxes, np.ones(4), np.zeros(4)) for f in frames}
    attached = sd_embed.attach(detections, sd_embed.read_sd_embeddings(run_dir))
    assert attached[3].sd_embedding.shape == (4, 8)
    with pytest.raises(MotCliError, match="rows for frame 2"):
        sd_embed.attach({2: detections[2][:3]}, sd_embed.read_sd_embeddings(run_dir))


def test_sd_stage_names_what_is_missing(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path / "a", sequence(2), ("detections", "masks"))
    with pytest.raises(MotCliError, match="no depth_maps cache; run `mot-cli depth` first"):
        sd_embeddings(run, _checkpoint(tmp_path))
    run = synthetic_run(tmp_path / "b", sequence(2))
    with pytest.raises(MotCliError, match="does not exist"):
        sd_embeddings(run, tmp_path / "nope" / "x.pt")
    with pytest.raises(MotCliError, match="need an encoder"):
        produce(run, sd_embed.STAGE, {sd_embed.STAGE: sd_embed.SdEmbedConfig()})


def test_frames_keep_their_identity_through_replace() -> None:
    frame = sequence(1)[0]
    assert frame.identity is None
    assert replace(frame, identity=np.array([1, 2, 3, 4])).identity.tolist() == [1, 2, 3, 4]


def test_cached_inputs_attach_sd_embeddings_and_masks(tmp_path: Path) -> None:
    from mot_cli.stages.track import cached_inputs, replay
    from mot_cli.tracking import TrackerConfig

    frames = sequence(6)
    run_dir = write_run(tmp_path / "run", frames)
    with pytest.raises(MotCliError, match="no sd embeddings cache"):
        cached_inputs(run_dir, sd_embeddings=True)
    with pytest.raises(MotCliError, match="height is not recorded"):
        cached_inputs(run_dir, masks=True)
    run = synthetic_run(tmp_path / "video", frames)  # a run with a source of 120 rows
    run_dir = run.run_dir
    sd_embeddings(run, _checkpoint(tmp_path))
    detections, _ = cached_inputs(run_dir, sd_embeddings=True, masks=True)
    assert detections[2].sd_embedding.shape == (4, 8)
    assert detections[2].masks.cell == 1 and len(detections[2].masks) == 4
    config = TrackerConfig(w_sd=1.0, w_iom=0.5, mask_occlusion=True, min_track_length=1)
    table = replay((1, 6), detections, config)
    assert sorted(set(table.id.tolist())) == [1, 2, 3, 4]
