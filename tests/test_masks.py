"""Mask helpers: COCO RLE round trip, clipping to boxes, overlap resolution."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mot_cli.masks import (
    box_pixels,
    clip_to_box,
    decode_mask,
    empty_rle,
    encode_mask,
    exclusive,
    mask_bbox,
)


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (480, 640), (1080, 1920)])
def test_rle_round_trip_is_exact(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    noise = rng.random(shape) < 0.3
    blob = np.zeros(shape, bool)
    blob[shape[0] // 4 : 3 * shape[0] // 4 + 1, shape[1] // 3 : shape[1] // 2 + 1] = True
    for mask in (noise, blob, np.zeros(shape, bool), np.ones(shape, bool)):
        rle = encode_mask(mask)
        assert rle["size"] == list(shape) and isinstance(rle["counts"], str)
        assert np.array_equal(decode_mask(rle), mask)
        # any COCO tool reads it: pycocotools' own area agrees
        coco = {"size": rle["size"], "counts": rle["counts"].encode()}
        assert int(mask_utils.area(coco)) == int(mask.sum())


def test_uncompressed_rle_and_bytes_counts_decode() -> None:
    mask = np.zeros((4, 3), bool)
    mask[1:3, 1] = True  # column-major runs: 5 zeros, 2 ones, 5 zeros
    assert np.array_equal(decode_mask({"size": [4, 3], "counts": [5, 2, 5]}), mask)
    rle = encode_mask(mask)
    assert np.array_equal(decode_mask({"size": [4, 3], "counts": rle["counts"].encode()}), mask)
    assert not decode_mask(empty_rle(4, 3)).any()


def test_box_pixels_cover_every_touched_pixel_and_stay_in_frame() -> None:
    assert box_pixels(np.array([1.2, 2.7, 3.1, 4.0]), 10, 10) == (1, 2, 4, 4)
    assert box_pixels(np.array([-5, -5, 3, 3]), 10, 10) == (0, 0, 3, 3)
    assert box_pixels(np.array([8, 8, 40, 40]), 10, 10) == (8, 8, 10, 10)
    x1, y1, x2, y2 = box_pixels(np.array([20, 20, 30, 30]), 10, 10)  # outside: empty
    assert x2 - x1 == 0 and y2 - y1 == 0


def test_clip_keeps_only_the_box() -> None:
    mask = np.ones((20, 30), bool)
    clipped = clip_to_box(mask, np.array([5.5, 2.0, 10.0, 8.2]))
    assert clipped.sum() == (10 - 5) * (9 - 2)
    assert mask_bbox(clipped).tolist() == [5, 2, 10, 9]
    assert not clip_to_box(mask, np.array([40, 40, 50, 50])).any()
    assert mask_bbox(np.zeros((3, 3), bool)).tolist() == [0, 0, 0, 0]


def test_exclusive_gives_contested_pixels_to_the_nearest_box() -> None:
    far, near = np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    far[0:6, 0:6] = True
    near[3:10, 3:10] = True
    boxes = np.array([[0, 0, 6, 6], [3, 3, 10, 10]], float)  # the second's bottom is lower
    out_far, out_near = exclusive([far, near], boxes)
    assert not (out_far & out_near).any()
    assert np.array_equal(out_near, near)  # the nearer person keeps all of theirs
    assert out_far.sum() == 36 - 9
    assert [m.sum() for m in exclusive([far], boxes[:1])] == [36]
