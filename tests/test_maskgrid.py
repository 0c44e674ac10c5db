"""Masks on a coarse grid: construction, overlaps by hand and against full-frame masks."""

from __future__ import annotations

import numpy as np
import pytest

from mot_cli.maskgrid import MaskGrid, covered_by_others, default_cell, mask_iom, mask_overlap
from mot_cli.masks import encode_mask


def _rect(shape: tuple[int, int], x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[y1:y2, x1:x2] = True
    return mask


def test_one_pixel_cells_keep_the_mask_exactly() -> None:
    mask = _rect((20, 30), 5, 4, 9, 10)
    grid = MaskGrid.from_masks([mask], np.array([[3.5, 2.0, 12.0, 11.2]]), cell=1)
    assert grid.origin.tolist() == [[3, 2]]
    assert grid.bits[0].shape == (10, 9)  # rows 2..11, columns 3..11
    assert grid.area.tolist() == [24]
    c1, r1 = grid.origin[0]
    rebuilt = np.zeros_like(mask)
    rebuilt[r1 : r1 + 10, c1 : c1 + 9] = grid.bits[0]
    assert np.array_equal(rebuilt, mask)


def test_rle_and_array_masks_give_the_same_grid() -> None:
    rng = np.random.default_rng(3)
    masks = [rng.random((48, 64)) < 0.4 for _ in range(3)]
    boxes = np.array([[0, 0, 20, 30], [10.5, 5.5, 60, 47.9], [30, 10, 64, 48]], float)
    for cell in (1, 2, 4):
        a = MaskGrid.from_masks(masks, boxes, cell)
        b = MaskGrid.from_rle([encode_mask(m) for m in masks], boxes, cell)
        assert np.array_equal(a.origin, b.origin)
        assert all(np.array_equal(x, y) for x, y in zip(a.bits, b.bits, strict=True))


def test_a_cell_is_set_when_at_least_half_its_pixels_are() -> None:
    mask = np.zeros((4, 8), bool)
    mask[0:2, 0:2] = True  # 4 of 4 pixels of cell (0, 0)
    mask[0:2, 2] = True  # 2 of 4 pixels of cell (1, 0)
    mask[0, 4] = True  # 1 of 4 pixels of cell (2, 0)
    grid = MaskGrid.from_masks([mask], np.array([[0, 0, 8, 4]]), cell=2)
    assert grid.bits[0].tolist() == [[True, True, False, False], [False] * 4]


def test_an_empty_mask_stands_in_with_its_box_and_boxes_outside_the_frame_work() -> None:
    grid = MaskGrid.from_masks(
        [np.zeros((10, 10), bool), _rect((10, 10), 0, 0, 3, 3)],
        np.array([[2, 2, 6, 8], [-4, -2, 3, 3]]),
        cell=1,
    )
    assert grid.bits[0].all() and grid.area[0] == 24
    assert grid.origin[1].tolist() == [-4, -2] and grid.area[1] == 9


def test_overlap_iom_and_moving_by_hand() -> None:
    shape = (40, 40)
    a = MaskGrid.from_masks([_rect(shape, 0, 0, 10, 10)], np.array([[0, 0, 10, 10]]), 1)
    b = MaskGrid.from_masks(
        [_rect(shape, 5, 5, 15, 15), _rect(shape, 2, 2, 6, 6), _rect(shape, 20, 20, 30, 30)],
        np.array([[5, 5, 15, 15], [2, 2, 6, 6], [20, 20, 30, 30]]),
        1,
    )
    assert mask_overlap(a, b).tolist() == [[25, 16, 0]]
    assert np.allclose(mask_iom(a, b), [[0.25, 1.0, 0.0]])
    moved = a.moved(np.array([[20.4, 19.6]]))  # whole cells: (20, 20)
    assert moved.origin.tolist() == [[20, 20]]
    assert mask_overlap(moved, b).tolist() == [[0, 0, 100]]


@pytest.mark.parametrize("cell", [1, 3])
def test_overlap_equals_the_full_frame_count_on_random_masks(cell: int) -> None:
    rng = np.random.default_rng(cell)
    shape = (60, 90)
    boxes = []
    masks = []
    for _ in range(6):
        x1, y1 = rng.integers(0, 60), rng.integers(0, 35)
        x2, y2 = x1 + rng.integers(5, 30), y1 + rng.integers(5, 25)
        boxes.append([x1, y1, x2, y2])
        m = np.zeros(shape, bool)
        m[y1:y2, x1:x2] = rng.random((y2 - y1, x2 - x1)) < 0.6
        masks.append(m)
    boxes = np.array(boxes, float)
    grid = MaskGrid.from_masks(masks, boxes, cell)
    # the same cells painted on a full grid, compared pair by pair
    rows, cols = -(-shape[0] // cell) + 20, -(-shape[1] // cell) + 20
    full = []
    for (c, r), bits in zip(grid.origin, grid.bits, strict=True):
        canvas = np.zeros((rows, cols), bool)
        canvas[r : r + bits.shape[0], c : c + bits.shape[1]] = bits
        full.append(canvas)
    expected = np.array([[np.count_nonzero(x & y) for y in full] for x in full])
    assert np.array_equal(mask_overlap(grid, grid), expected)


def test_covered_by_others_counts_masks_not_boxes() -> None:
    shape = (50, 50)
    # a thin person standing in the corner of another's box covers little of it
    front = _rect(shape, 0, 0, 4, 20)
    back = _rect(shape, 10, 0, 20, 20)
    grid = MaskGrid.from_masks([front, back], np.array([[0, 0, 12, 20], [0, 0, 20, 20]]), 1)
    cover = covered_by_others(grid)
    assert cover[1] == pytest.approx(80 / 400)  # front's 80 pixels inside back's box
    assert cover[0] == pytest.approx(40 / 240)  # back's columns 10, 11 inside front's box
    assert covered_by_others(grid[[0]]).tolist() == [0.0]


def test_selection_cell_checks_and_default_cell() -> None:
    grid = MaskGrid.from_boxes(np.array([[0, 0, 4, 4], [10, 10, 12, 16]]), cell=2)
    assert grid.area.tolist() == [4, 3]
    assert len(grid[np.array([False, True])]) == 1 and grid[1:].area.tolist() == [3]
    with pytest.raises(ValueError, match="cell"):
        mask_overlap(grid, MaskGrid.from_boxes(np.array([[0, 0, 4, 4]]), cell=1))
    with pytest.raises(ValueError, match="2 boxes but 1 masks"):
        MaskGrid.from_masks([np.ones((4, 4))], np.zeros((2, 4)), 1)
    assert (default_cell(480), default_cell(1080), default_cell(100)) == (2, 4, 1)
    assert mask_overlap(MaskGrid.empty(2), grid).shape == (0, 2)
