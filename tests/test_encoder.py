"""The depth×mask encoder: crops, links, loss, label-free training and its checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mot_cli.encoder import (
    EncoderConfig,
    TrainConfig,
    build_crops,
    build_encoder,
    build_training_set,
    embed_detections,
    load_encoder,
    normalise_crops,
    raw_crops,
    read_run,
    save_checkpoint,
    train_encoder,
)
from mot_cli.encoder.crops import frame_normalised
from mot_cli.encoder.pairs import LinkConfig, tracklet_ids, unambiguous_links
from mot_cli.encoder.train import info_nce
from mot_cli.errors import MotCliError
from mot_cli.models import file_sha256
from mot_cli.rle import rle_counts, rle_window
from tests.synthetic_depth import lanes, render, sequence, write_run

SIZE = (8, 8)


# --- crops ---------------------------------------------------------------------------------


def test_crop_is_zero_outside_the_mask_and_centred_on_the_mask_median() -> None:
    depth = np.tile(np.arange(16, dtype=np.float32), (16, 1))  # nearness grows to the right
    mask = np.zeros((16, 16), bool)
    mask[:, :8] = True  # the box's left half
    crop = build_crops(depth, 1.0, np.array([[0, 0, 16, 16]]), [mask], SIZE)[0, 0].numpy()
    assert crop.shape == SIZE
    assert np.all(crop[:, 4:] == 0)
    # inside: columns map to frame x = 1,3,5,7 (values 0.5..6.5 after area averaging);
    # median 3.5 → 1, and the ramp is symmetric about it
    inside = crop[:, :4]
    assert np.allclose(inside.mean(), 1.0, atol=1e-5)
    assert np.all(np.diff(inside[0]) > 0)
    assert np.allclose(inside[0] + inside[0][::-1], 2.0, atol=1e-5)


def test_crop_ignores_the_depth_scale_and_offset_of_the_object() -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(1, 2, (20, 20)).astype(np.float32)
    mask = rng.random((20, 20)) > 0.3
    box = np.array([[2, 3, 18, 19]])
    base = build_crops(depth, 1.0, box, [mask], SIZE)
    assert torch.allclose(build_crops(depth * 7, 1.0, box, [mask], SIZE), base, atol=1e-5)
    assert torch.allclose(build_crops(depth + 0.5, 1.0, box, [mask], SIZE), base, atol=1e-4)


def test_low_resolution_map_with_its_scale_gives_the_same_crop() -> None:
    ys, xs = np.mgrid[0:64, 0:64] + 0.5
    full = (0.02 * xs + 0.01 * ys).astype(np.float32)  # a plane: bilinear sampling is exact
    half = full.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    mask = np.zeros((64, 64), bool)
    mask[10:50, 20:44] = True
    box = np.array([[17.3, 8.6, 47.1, 52.2]])
    a = build_crops(full, 1.0, box, [mask], (16, 8))
    b = build_crops(half, 2.0, box, [mask], (16, 8))
    assert torch.allclose(a, b, atol=1e-4)


def test_rle_masks_match_bool_masks_and_an_empty_mask_falls_back_to_its_box() -> None:
    from pycocotools import mask as mask_utils

    frame = render(lanes(1)[0], [0, 1, 2, 3], np.random.default_rng(0))
    rles = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in frame.masks]
    rles = [{"size": r["size"], "counts": r["counts"].decode()} for r in rles]
    size = (32, 16)
    from_bool = build_crops(frame.depth_map, frame.scale, frame.boxes, frame.masks, size)
    from_rle = build_crops(frame.depth_map, frame.scale, frame.boxes, rles, size)
    assert torch.equal(from_bool, from_rle)
    empty = np.zeros_like(frame.masks[0])
    _, mask = raw_crops(frame.depth_map, frame.scale, frame.boxes[:1], [empty], size)
    assert mask.min() == 1.0


@pytest.mark.parametrize("kind", ["random", "blobs", "empty", "full"])
def test_rle_window_matches_pycocotools_full_decode(kind: str) -> None:
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(len(kind))
    height, width = 37, 53
    mask = {
        "random": rng.random((height, width)) > 0.5,
        "blobs": np.zeros((height, width), bool),
        "empty": np.zeros((height, width), bool),
        "full": np.ones((height, width), bool),
    }[kind]
    if kind == "blobs":  # runs that wrap from one column's bottom to the next one's top
        mask[20:, 10:30] = True
        mask[:5, 11:31] = True
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    for counts in (encoded["counts"], encoded["counts"].decode()):
        rle = {"size": encoded["size"], "counts": counts}
        for x1, y1, x2, y2 in [(0, 0, width, height), (7, 3, 31, 29), (52, 36, 53, 37)]:
            window = rle_window(rle, x1, y1, x2, y2)
            assert np.array_equal(window, mask[y1:y2, x1:x2]), (kind, x1, y1)
    assert np.array_equal(
        rle_counts(rle_counts(encoded["counts"]).tolist()), rle_counts(encoded["counts"])
    )


def test_rle_window_on_random_masks_and_windows() -> None:
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(0)
    for trial in range(100):
        height, width = rng.integers(1, 30, 2)
        mask = rng.random((height, width)) > rng.random()
        if trial % 3 == 0:  # one solid block: long runs across columns
            mask[:] = False
            mask[rng.integers(0, height) :, rng.integers(0, width) :] = True
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        x1, y1 = rng.integers(0, width), rng.integers(0, height)
        x2, y2 = rng.integers(x1 + 1, width + 1), rng.integers(y1 + 1, height + 1)
        assert np.array_equal(rle_window(rle, x1, y1, x2, y2), mask[y1:y2, x1:x2]), trial


def _two_people_at_two_levels() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A ground ramp with two flat people (pseudo-depth's picture): one near, one far."""
    depth = np.tile(np.linspace(0.1, 1.0, 32, dtype=np.float32)[:, None], (1, 32))
    boxes = np.array([[2, 4, 10, 20], [20, 4, 28, 20]], np.float64)
    depth[4:20, 2:10] = 0.9  # near
    depth[4:20, 20:28] = 0.3  # far
    masks = [np.zeros((32, 32), bool) for _ in boxes]
    for mask, (x1, y1, x2, y2) in zip(masks, boxes.astype(int), strict=True):
        mask[y1:y2, x1:x2] = True
    return depth, boxes, masks


def test_per_frame_crops_keep_a_persons_depth_level_and_per_crop_ones_do_not() -> None:
    depth, boxes, masks = _two_people_at_two_levels()
    per_crop = build_crops(depth, 1.0, boxes, masks, SIZE)
    assert torch.equal(per_crop[0], per_crop[1])  # two flat rectangles: the levels are gone
    per_frame = build_crops(depth, 1.0, boxes, masks, SIZE, depth_norm="frame")
    near, far = per_frame[0, 0], per_frame[1, 0]
    assert near.mean() > far.mean() + 0.2  # the nearer person stays nearer
    assert torch.allclose(near, near.mean()) and torch.allclose(far, far.mean())  # flat
    # the scale drift of a relative depth model between frames is still removed
    rescaled = build_crops(depth * 3 + 1, 1.0, boxes, masks, SIZE, depth_norm="frame")
    assert torch.allclose(rescaled, per_frame, atol=1e-5)
    with pytest.raises(ValueError, match="depth_norm"):
        build_crops(depth, 1.0, boxes, masks, SIZE, depth_norm="scene")


def test_the_encoder_embeds_the_way_its_checkpoint_trained(tmp_path: Path) -> None:
    depth, boxes, masks = _two_people_at_two_levels()
    frame_config = EncoderConfig(16, 8, embedding_dim=8, depth_norm="frame")
    encoder = build_encoder(frame_config, seed=0).eval()
    save_checkpoint(tmp_path / "frame.pt", encoder)
    loaded = load_encoder(tmp_path / "frame.pt")
    assert loaded.config.depth_norm == "frame"
    near_far = embed_detections(loaded, depth, 1.0, boxes, masks)
    assert not np.allclose(near_far[0], near_far[1], atol=1e-4)
    crop_encoder = build_encoder(EncoderConfig(16, 8, embedding_dim=8), seed=0).eval()
    same = embed_detections(crop_encoder, depth, 1.0, boxes, masks)
    assert np.allclose(same[0], same[1], atol=1e-6)


def test_per_frame_training_cuts_its_windows_from_the_normalised_map() -> None:
    frames = sequence(4)
    crop = build_training_set([frames], (16, 8))
    frame = build_training_set([frames], (16, 8), depth_norm="frame")
    assert len(frame) == len(crop) and frame.links == crop.links
    assert not torch.allclose(frame.depth.float(), crop.depth.float())
    first = frames[0]
    expected, _ = raw_crops(frame_normalised(first.depth_map), first.scale, first.boxes,
                            first.masks, (20, 10), 1.25)  # fmt: skip
    assert np.allclose(frame.depth[: len(first.boxes)].float().numpy(), expected, atol=1e-2)
    config = TrainConfig(encoder=EncoderConfig(16, 8, depth_norm="frame"), epochs=1,
                         min_steps=0, batch=8)  # fmt: skip
    assert train_encoder(frame, config, show_progress=False).steps >= 1


def test_the_depth_norm_changes_the_training_key_and_the_default_keeps_it() -> None:
    from dataclasses import asdict

    from mot_cli.cache import stage_key
    from mot_cli.encoder.train import training_key
    from mot_cli.stages.sd_encoder import SdEncoderConfig

    upstream = [{"detections": "d", "masks": "m", "depth_maps": "p"}]
    crop = SdEncoderConfig().train_config()
    frame = SdEncoderConfig(depth_norm="frame").train_config()
    assert frame.encoder.depth_norm == "frame"
    assert training_key(crop, upstream) != training_key(frame, upstream)
    # per crop, the key is the one from before the option existed (cached encoders stay)
    before = asdict(crop)
    del before["encoder"]["depth_norm"]
    assert training_key(crop, upstream) == stage_key(
        "sd_encoder", config=before, upstream=upstream
    )
    with pytest.raises(MotCliError, match="depth_norm"):
        EncoderConfig(depth_norm="scene")


def test_box_partly_outside_the_frame_still_gives_a_crop() -> None:
    depth = np.ones((10, 10), np.float32)
    mask = np.ones((20, 20), bool)
    depth_crop, mask_crop = raw_crops(depth, 2.0, np.array([[-10, -10, 10, 10]]), [mask], SIZE)
    assert np.all(mask_crop[0, :4, :4] == 0) and np.all(mask_crop[0, 4:, 4:] == 1)
    assert np.allclose(depth_crop, 1.0)


def test_normalisation_survives_non_finite_depth() -> None:
    depth = torch.rand(2, 8, 8)
    depth[0, 0, 0] = float("nan")
    depth[1] = float("inf")
    out = normalise_crops(depth, torch.ones(2, 8, 8))
    assert torch.isfinite(out).all()


# --- links and loss ------------------------------------------------------------------------


def test_links_need_high_overlap_and_a_clear_margin_in_both_directions() -> None:
    before = np.array([[0, 0, 10, 20], [50, 0, 60, 20], [100, 0, 110, 20]], float)
    after = np.array(
        [
            [1, 0, 11, 20],  # object 0 moved 1 px: linked
            [80, 0, 90, 20],  # object 1 vanished, this is far away: no link
            [101, 0, 111, 20],  # object 2 moved, but...
            [100, 1, 110, 21],  # ...a second candidate overlaps it as much: ambiguous
        ],
        float,
    )
    links = unambiguous_links(before, after, LinkConfig(min_iou=0.5, margin=0.2))
    assert links.tolist() == [[0, 0]]
    assert unambiguous_links(before, after[:0]).shape == (0, 2)


def test_tracklets_follow_chains_of_links() -> None:
    labels = tracklet_ids(6, np.array([[0, 2], [2, 4], [1, 3]]))
    assert labels[0] == labels[2] == labels[4]
    assert labels[1] == labels[3]
    assert len({labels[0], labels[1], labels[5]}) == 3


def test_info_nce_by_hand_and_same_tracklet_left_out() -> None:
    vectors = torch.eye(3)
    # row i's positive is i; logits are 1/t on the diagonal, 0 elsewhere
    t = 0.5
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))
    loss = info_nce(vectors, vectors, torch.tensor([0, 1, 2]), t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # rows 0 and 1 share a tracklet: each sees only itself and row 2
    loss = info_nce(vectors, vectors, torch.tensor([7, 7, 2]), t)
    two = -math.log(math.exp(2) / (math.exp(2) + 1))
    assert loss.item() == pytest.approx((2 * two + expected) / 3, rel=1e-6)


def test_training_set_links_consecutive_frames_only() -> None:
    frames = sequence(6)
    data = build_training_set([frames[:3], frames[4:]], (16, 8))  # two runs
    assert len(data) == 5 * 4
    assert data.links == 4 * (2 + 1)  # frames 1-2, 2-3 in run one; 5-6 in run two
    assert data.depth.shape == (20, 20, 10) and data.mask.dtype == torch.uint8
    assert len(set(data.tracklet.tolist())) == 8


# --- training ------------------------------------------------------------------------------


def _embed(encoder, frame) -> np.ndarray:
    return embed_detections(encoder, frame.depth_map, frame.scale, frame.boxes, frame.masks)


def _identity_margins(encoder) -> np.ndarray:
    """cos(same object, 20 frames apart) − cos(object, another object in its place)."""
    rng = np.random.default_rng(5)
    corners = lanes(24)
    first = _embed(encoder, render(corners[0], [0, 1, 2, 3], rng))
    later = _embed(encoder, render(corners[20], [0, 1, 2, 3], rng))
    same = (first * later).sum(axis=1)
    margins = []
    for shift in (1, 2, 3):
        swapped = render(corners[0], [(k + shift) % 4 for k in range(4)], rng)
        margins.append(same - (first * _embed(encoder, swapped)).sum(axis=1))
    return np.array(margins)


def test_must_show_1_training_lowers_the_loss_and_separates_objects_not_places() -> None:
    data = build_training_set([sequence(24)], EncoderConfig().input_size)
    config = TrainConfig(epochs=4, min_steps=0, batch=32, seed=0)
    result = train_encoder(data, config, show_progress=False)
    losses = result.epoch_losses
    assert losses[-1] < 0.5 * losses[0], losses
    trained = _identity_margins(result.encoder)
    untrained = _identity_margins(build_encoder(config.encoder, seed=0).eval())
    # every object, against every other object put in its place, is nearer its own self
    # 20 frames later (and nearer by far more than a random network manages)
    assert trained.min() > 0.2, trained
    assert trained.mean() > untrained.mean() + 0.3, (trained.mean(), untrained.mean())


def test_same_seed_same_weights_and_global_rng_untouched() -> None:
    data = build_training_set([sequence(6)], (16, 8))
    config = TrainConfig(encoder=EncoderConfig(16, 8), epochs=1, min_steps=0, batch=8, seed=3)
    torch.manual_seed(123)
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    first = train_encoder(data, config, show_progress=False).encoder.state_dict()
    assert torch.equal(torch.get_rng_state(), state)
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == threads
    second = train_encoder(data, config, show_progress=False).encoder.state_dict()
    other = TrainConfig(encoder=EncoderConfig(16, 8), epochs=1, min_steps=0, batch=8, seed=4)
    third = train_encoder(data, other, show_progress=False).encoder.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["head.weight"], third["head.weight"])


def test_short_videos_get_more_epochs_to_reach_min_steps() -> None:
    data = build_training_set([sequence(6)], (16, 8))  # 24 detections: 3 batches of 8
    config = TrainConfig(encoder=EncoderConfig(16, 8), epochs=1, min_steps=5, batch=8)
    result = train_encoder(data, config, show_progress=False)
    assert (result.epochs, result.steps, result.samples) == (2, 6, 48)
    assert len(result.epoch_losses) == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("epochs", 0, "--epochs"), ("batch", 1, "--batch"), ("temperature", 0.0, "--temperature")],
)
def test_bad_training_settings_name_the_option(field: str, value: float, message: str) -> None:
    with pytest.raises(MotCliError, match=message):
        TrainConfig(**{field: value})


def test_bad_encoder_shape_is_refused() -> None:
    with pytest.raises(MotCliError, match="multiple of 8"):
        EncoderConfig(input_height=60)


# --- embedding and checkpoints -------------------------------------------------------------


def test_embed_detections_gives_unit_vectors_and_handles_no_detections() -> None:
    encoder = build_encoder(EncoderConfig(), seed=0)
    frame = sequence(1)[0]
    out = _embed(encoder, frame)
    dim = EncoderConfig().embedding_dim
    assert out.shape == (4, dim) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    none = embed_detections(encoder, frame.depth_map, 2.0, np.zeros((0, 4)), [])
    assert none.shape == (0, dim)


def test_checkpoint_round_trip_through_the_model_resolver(tmp_path: Path, monkeypatch) -> None:
    encoder = build_encoder(EncoderConfig(32, 16, embedding_dim=16), seed=1).eval()
    models = tmp_path / "models"
    models.mkdir()
    sha = save_checkpoint(models / "my_sd.pt", encoder, {"note": "test"})
    assert sha == file_sha256(models / "my_sd.pt")
    assert [p.name for p in models.iterdir()] == ["my_sd.pt"]  # no temporary left behind
    monkeypatch.setenv("MOT_CLI_MODELS", str(models))
    loaded = load_encoder("my_sd")
    assert loaded.config == encoder.config
    frame = sequence(1)[0]
    assert np.array_equal(_embed(loaded, frame), _embed(encoder, frame))


def test_a_file_that_is_not_an_encoder_checkpoint_is_refused(tmp_path: Path) -> None:
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(MotCliError, match=r"other\.pt: not a mot-cli depth×mask encoder"):
        load_encoder(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(MotCliError, match=r"junk\.pt: cannot read"):
        load_encoder(tmp_path / "junk.pt")


# --- run folders ---------------------------------------------------------------------------


def test_read_run_returns_the_frames_written(tmp_path: Path) -> None:
    frames = sequence(3)
    run = read_run(write_run(tmp_path / "synthetic", frames).path)
    assert len(run) == 3
    for written, read in zip(frames, run, strict=True):
        assert read.frame == written.frame and np.allclose(read.boxes, written.boxes)
        a = build_crops(written.depth_map, 2.0, written.boxes, written.masks, (32, 16))
        b = build_crops(read.depth_map, read.scale, read.boxes, read.masks, (32, 16))
        assert torch.allclose(a, b, atol=0.02)  # the cache keeps depth as float16


@pytest.mark.parametrize(
    ("stages", "fragments"),
    [
        (
            ("detections",),
            ("no depth maps and masks cache", "`mot-cli depth`", "`mot-cli segment`"),
        ),
        (("detections", "masks"), ("no depth maps cache", "`mot-cli depth`")),
        (("detections", "depth_maps"), ("no masks cache", "`mot-cli segment`")),
        ((), ("no detections cache", "`mot-cli detect`")),
    ],
)
def test_missing_caches_name_the_stage_to_run(tmp_path: Path, stages, fragments) -> None:
    path = write_run(tmp_path / "run", sequence(2), stages).path
    with pytest.raises(MotCliError) as info:
        read_run(path)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_masks_out_of_line_with_detections_are_a_corrupt_cache(tmp_path: Path) -> None:
    frames = sequence(2)
    path = write_run(tmp_path / "run", frames).path
    short = [
        frames[0],
        type(frames[1])(2, frames[1].depth_map, 2.0, frames[1].boxes[:3], frames[1].masks[:3]),
    ]
    write_run(tmp_path / "other", short)
    (path / "masks.parquet").write_bytes((tmp_path / "other" / "masks.parquet").read_bytes())
    with pytest.raises(MotCliError, match=r"frame 2 has masks for dets \[0, 1, 2\]"):
        list(read_run(path))
