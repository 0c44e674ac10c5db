"""Camera-motion estimation recovers known warps of a real frame and fails safe to identity."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mot_cli.camera_motion import (
    apply_to_points,
    compose,
    estimate_affine,
    identity,
    invert,
    warp_boxes,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FRAME = SHARED / "datasets" / "MOT15-train" / "TUD-Campus" / "img1" / "000001.jpg"


@pytest.fixture(scope="module")
def frame_gray() -> np.ndarray:
    if not FRAME.is_file():
        pytest.skip(f"shared dataset frame not found at {FRAME}")
    return cv2.imread(str(FRAME), cv2.IMREAD_GRAYSCALE)


def _known_warp(shape: tuple[int, int]) -> np.ndarray:
    """Rotate 1 degree about the centre, then shift 6 px right and 4 px up."""
    height, width = shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 1.0, 1.0)
    matrix[:, 2] += (6.0, -4.0)
    return matrix


def _max_error(estimate: np.ndarray, truth: np.ndarray, shape: tuple[int, int]) -> float:
    """Largest displacement difference over a grid spanning the whole frame."""
    height, width = shape
    xs, ys = np.meshgrid(np.linspace(0, width, 9), np.linspace(0, height, 7))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    return float(np.abs(apply_to_points(estimate, grid) - apply_to_points(truth, grid)).max())


@pytest.mark.integration
@pytest.mark.parametrize(("method", "downscale"), [("sparse", 1), ("sparse", 2), ("ecc", 2)])
def test_recovers_known_rotation_and_shift(
    frame_gray: np.ndarray, method: str, downscale: int
) -> None:
    truth = _known_warp(frame_gray.shape)
    warped = cv2.warpAffine(frame_gray, truth, frame_gray.shape[::-1])
    estimate = estimate_affine(frame_gray, warped, method=method, downscale=downscale)
    assert estimate.shape == (2, 3)
    assert estimate.dtype == np.float32
    assert _max_error(estimate, truth, frame_gray.shape) < 1.0


@pytest.mark.integration
def test_accepts_bgr_frames(frame_gray: np.ndarray) -> None:
    truth = _known_warp(frame_gray.shape)
    bgr = cv2.cvtColor(frame_gray, cv2.COLOR_GRAY2BGR)
    warped = cv2.warpAffine(bgr, truth, frame_gray.shape[::-1])
    assert _max_error(estimate_affine(bgr, warped), truth, frame_gray.shape) < 1.0


@pytest.mark.integration
@pytest.mark.parametrize("method", ["sparse", "ecc"])
def test_identical_frames_give_identity(frame_gray: np.ndarray, method: str) -> None:
    estimate = estimate_affine(frame_gray, frame_gray, method=method)
    np.testing.assert_allclose(estimate, identity(), atol=1e-2)


@pytest.mark.parametrize("method", ["sparse", "ecc"])
def test_blank_frames_give_identity(method: str) -> None:
    blank = np.zeros((120, 160), np.uint8)
    np.testing.assert_array_equal(estimate_affine(blank, blank, method=method), identity())


@pytest.mark.integration
def test_masking_everything_leaves_no_features(frame_gray: np.ndarray) -> None:
    """Boxes are honoured: covering the whole frame leaves nothing to track, so identity."""
    truth = _known_warp(frame_gray.shape)
    warped = cv2.warpAffine(frame_gray, truth, frame_gray.shape[::-1])
    height, width = frame_gray.shape
    everything = np.array([[-5, -5, width + 5, height + 5]], np.float32)
    np.testing.assert_array_equal(
        estimate_affine(frame_gray, warped, mask_boxes=everything), identity()
    )


@pytest.mark.integration
def test_masked_mover_does_not_pull_estimate(frame_gray: np.ndarray) -> None:
    """A large patch moving its own way, masked out, leaves the camera motion intact."""
    truth = _known_warp(frame_gray.shape)
    warped = cv2.warpAffine(frame_gray, truth, frame_gray.shape[::-1])
    box = np.array([200, 100, 440, 400])
    x1, y1, x2, y2 = box
    warped[y1:y2, x1:x2] = np.roll(frame_gray[y1:y2, x1:x2], (15, -20), axis=(0, 1))
    estimate = estimate_affine(frame_gray, warped, mask_boxes=box[None].astype(np.float32))
    assert _max_error(estimate, truth, frame_gray.shape) < 1.0


def test_rejects_mismatched_frames_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        estimate_affine(np.zeros((10, 10), np.uint8), np.zeros((10, 12), np.uint8))
    with pytest.raises(ValueError, match="valid names"):
        estimate_affine(np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8), method="x")
    with pytest.raises(ValueError, match="downscale"):
        estimate_affine(np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8), downscale=0)


def test_compose_and_invert_are_consistent() -> None:
    shift = np.array([[1, 0, 3], [0, 1, -2]], np.float32)
    rotate = cv2.getRotationMatrix2D((5.0, 5.0), 30.0, 1.0).astype(np.float32)
    points = np.array([[0.0, 0.0], [10.0, 4.0]])
    chained = apply_to_points(rotate, apply_to_points(shift, points))
    np.testing.assert_allclose(apply_to_points(compose(shift, rotate), points), chained, atol=1e-4)
    np.testing.assert_allclose(compose(rotate, invert(rotate)), identity(), atol=1e-6)


def test_warp_boxes_moves_centres_and_scales_sizes() -> None:
    zoom_and_shift = np.array([[2, 0, 10], [0, 2, 0]], np.float32)
    boxes = np.array([[0, 0, 10, 20]], np.float32)
    np.testing.assert_allclose(warp_boxes(zoom_and_shift, boxes), [[10, 0, 30, 40]])
    assert warp_boxes(identity(), np.zeros((0, 4))).shape == (0, 4)
