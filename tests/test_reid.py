"""OSNet builds at every width, loads torchreid's weights strictly, and tells people apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mot_cli.errors import MotCliError
from mot_cli.reid import (
    FEATURE_DIM,
    OSNET_CHANNELS,
    ReidEncoder,
    build_osnet,
    fuse_for_inference,
    load_osnet_weights,
    read_state_dict,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WEIGHTS = SHARED / "models" / "osnet_x0_25_msmt17.pth"
WEIGHTS_SHA256 = "6f57607fed9f502b9efed546108132ee715df5a5b6e6932c6269bacb47f59f99"
CAMPUS = SHARED / "datasets" / "MOT15-train" / "TUD-Campus"


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run this module single-threaded, then restore the thread count.

    Tiny batches gain nothing from threads, and on a busy shared machine OpenMP barriers
    waiting for descheduled threads make them 10-100x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def weights() -> Path:
    if not WEIGHTS.is_file():
        pytest.skip(f"shared OSNet weights not found at {WEIGHTS}")
    return WEIGHTS


@pytest.fixture(scope="module")
def encoder(weights: Path) -> ReidEncoder:
    return ReidEncoder.load(weights, arch="osnet_x0_25")


@pytest.fixture(scope="module")
def random_encoder() -> ReidEncoder:
    torch.manual_seed(0)
    return ReidEncoder(build_osnet("osnet_x0_25"), batch_size=4)


def _campus_frame(frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image, ground-truth ids and x1,y1,x2,y2 boxes of one TUD-Campus frame."""
    image_path = CAMPUS / "img1" / f"{frame:06d}.jpg"
    if not image_path.is_file():
        pytest.skip(f"shared TUD-Campus sequence not found at {CAMPUS}")
    gt = np.loadtxt(CAMPUS / "gt" / "gt.txt", delimiter=",", ndmin=2)
    rows = gt[gt[:, 0] == frame]
    boxes = rows[:, 2:6].astype(np.float32)
    boxes[:, 2:] += boxes[:, :2]
    return cv2.imread(str(image_path)), rows[:, 1].astype(int), boxes


@pytest.mark.parametrize("name", sorted(OSNET_CHANNELS))
def test_every_width_builds_and_embeds(name: str) -> None:
    model = build_osnet(name).eval()
    with torch.inference_mode():  # a small input keeps this quick; pooling makes size free
        features = model(torch.randn(2, 3, 64, 32))
    assert features.shape == (2, FEATURE_DIM)
    assert torch.isfinite(features).all()


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"osnet_x0_25.*osnet_x1_0"):
        build_osnet("osnet_x2_0")


def test_classifier_only_in_training_mode() -> None:
    model = build_osnet("osnet_x0_25", num_classes=7)
    images = torch.randn(2, 3, 64, 32)
    assert model.train()(images).shape == (2, 7)
    with torch.inference_mode():
        assert model.eval()(images).shape == (2, FEATURE_DIM)


@pytest.mark.integration
def test_real_weights_load_strictly(weights: Path) -> None:
    state = read_state_dict(weights)
    model = build_osnet("osnet_x0_25")
    load_osnet_weights(model, state, source=str(weights))  # raises on any mismatch
    # Everything but the 1041-way MSMT17 classifier is used.
    assert set(state) - set(model.state_dict()) == {"classifier.weight", "classifier.bias"}
    assert state["classifier.weight"].shape == (1041, FEATURE_DIM)


@pytest.mark.integration
def test_wrapped_and_prefixed_checkpoints_load(weights: Path, tmp_path: Path) -> None:
    """Checkpoints saved from DataParallel inside torchreid's {'state_dict': ...} also load."""
    state = read_state_dict(weights)
    wrapped = tmp_path / "wrapped.pth.tar"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, wrapped)
    reread = read_state_dict(wrapped)
    assert reread.keys() == state.keys()
    assert all(torch.equal(reread[key], state[key]) for key in state)


@pytest.mark.integration
def test_wrong_width_and_missing_file_are_user_errors(weights: Path, tmp_path: Path) -> None:
    with pytest.raises(MotCliError, match="does not fit"):
        load_osnet_weights(build_osnet("osnet_x0_5"), read_state_dict(weights), str(weights))
    with pytest.raises(MotCliError, match="not found"):
        read_state_dict(tmp_path / "absent.pth")


@pytest.mark.integration
def test_fused_network_matches_original(weights: Path) -> None:
    model = build_osnet("osnet_x0_25")
    load_osnet_weights(model, read_state_dict(weights), str(weights))
    images = torch.randn(2, 3, 64, 32)
    with torch.inference_mode():
        expected = model.eval()(images)
        actual = fuse_for_inference(model)(images)
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.integration
def test_encoder_records_weights_digest(encoder: ReidEncoder) -> None:
    assert encoder.weights_sha256 == WEIGHTS_SHA256


@pytest.mark.integration
def test_same_person_is_closer_than_different_people(encoder: ReidEncoder) -> None:
    """Real frames two apart: MODELS.md saw about 0.96 same-person against 0.54 otherwise."""
    image_a, ids_a, boxes_a = _campus_frame(1)
    image_b, ids_b, boxes_b = _campus_frame(3)
    features_a, features_b = encoder.embed_many([image_a, image_b], [boxes_a, boxes_b])
    similarity = features_a @ features_b.T
    same = ids_a[:, None] == ids_b[None, :]
    assert same.sum() >= 5
    assert similarity[same].mean() > similarity[~same].mean() + 0.2
    # Each person's best match in the later frame is themselves (allowing one miss).
    rows = np.flatnonzero(same.any(axis=1))
    best = ids_b[similarity[rows].argmax(axis=1)]
    assert (best == ids_a[rows]).sum() >= len(rows) - 1


def test_embeddings_are_unit_length_with_matching_rows(random_encoder: ReidEncoder) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    boxes = np.array(
        [[10, 10, 50, 100], [-20, -5, 30, 60], [150, 100, 400, 300], [500, 500, 600, 600]],
        np.float32,
    )  # inside, partly outside, overhanging, wholly outside: all give an embedding
    features = random_encoder.embed(frame, boxes)
    assert features.shape == (4, FEATURE_DIM)
    assert features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    # Batching (size 4 here) and box order do not change a box's embedding.
    np.testing.assert_allclose(random_encoder.embed(frame, boxes[::-1])[::-1], features, atol=1e-5)


def test_empty_input_gives_empty_array(random_encoder: ReidEncoder) -> None:
    frame = np.zeros((50, 60, 3), np.uint8)
    assert random_encoder.embed(frame, np.zeros((0, 4))).shape == (0, FEATURE_DIM)
    per_frame = random_encoder.embed_many([frame, frame], [np.zeros((0, 4)), np.zeros((0, 4))])
    assert [f.shape for f in per_frame] == [(0, FEATURE_DIM), (0, FEATURE_DIM)]


def test_embed_many_matches_per_frame_embed(random_encoder: ReidEncoder) -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (90, 70, 3), dtype=np.uint8) for _ in range(3)]
    boxes = [
        np.array([[0, 0, 30, 60], [20, 10, 60, 80]], np.float32),
        np.zeros((0, 4), np.float32),
        np.array([[5, 5, 65, 85], [1, 1, 9, 9], [30, 0, 70, 90]], np.float32),
    ]
    together = random_encoder.embed_many(frames, boxes)
    assert [len(f) for f in together] == [2, 0, 3]
    for frame, frame_boxes, features in zip(frames, boxes, together, strict=True):
        np.testing.assert_allclose(random_encoder.embed(frame, frame_boxes), features, atol=1e-5)


def test_bad_inputs_are_rejected(random_encoder: ReidEncoder) -> None:
    with pytest.raises(ValueError, match="uint8"):
        random_encoder.embed(np.zeros((10, 10), np.uint8), np.array([[0, 0, 5, 5]]))
    with pytest.raises(ValueError, match="frames"):
        random_encoder.embed_many([np.zeros((10, 10, 3), np.uint8)], [])
    with pytest.raises(ValueError, match="batch_size"):
        ReidEncoder(build_osnet("osnet_x0_25"), batch_size=0)


@pytest.mark.slow
def test_openvino_backend_matches_torch(random_encoder: ReidEncoder) -> None:
    """The compiled CPU backend keeps float32, so its embeddings agree with eager torch."""
    pytest.importorskip("openvino", reason="openvino not installed")
    compiled = ReidEncoder(random_encoder.model, batch_size=4, backend="openvino")
    frame = np.random.default_rng(2).integers(0, 256, (100, 80, 3), dtype=np.uint8)
    boxes = np.array([[0, 0, 40, 90], [30, 10, 80, 100], [10, 20, 30, 60]], np.float32)
    np.testing.assert_allclose(
        compiled.embed(frame, boxes), random_encoder.embed(frame, boxes), atol=1e-4
    )
    with pytest.raises(ValueError, match="valid names"):
        ReidEncoder(random_encoder.model, backend="tensorrt")  # type: ignore[arg-type]


def test_encoder_matches_plain_reference_pipeline(random_encoder: ReidEncoder) -> None:
    """Folded norms, BGR stem and channels-last give what the textbook recipe gives."""
    frame = np.random.default_rng(3).integers(0, 256, (120, 100, 3), dtype=np.uint8)
    boxes = np.array([[10, 5, 50, 100], [40, 20, 100, 120]], np.float32)
    crops = [
        cv2.cvtColor(cv2.resize(frame[y1:y2, x1:x2], (128, 256)), cv2.COLOR_BGR2RGB)
        for x1, y1, x2, y2 in boxes.astype(int)
    ]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    images = (torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2) / 255.0 - mean) / std
    with torch.inference_mode():
        expected = torch.nn.functional.normalize(random_encoder.model(images), dim=1).numpy()
    np.testing.assert_allclose(random_encoder.embed(frame, boxes), expected, atol=1e-5)
