"""MOTS text: round trip, one-line errors naming file and line, and the RLE helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_cli.errors import MotCliError
from mot_cli.formats.mots import MotsRows, read_mots, write_mots
from mot_cli.masks import decode, disjoint, encode, rle_pixel_totals

H, W = 20, 30


def blob(y: int, x: int, h: int = 6, w: int = 5) -> np.ndarray:
    mask = np.zeros((H, W), dtype=bool)
    mask[y : y + h, x : x + w] = True
    return mask


def rows_of(*items: tuple[int, int, int, np.ndarray], path: str = "t.txt") -> MotsRows:
    n = len(items)
    return MotsRows([i[0] for i in items], [i[1] for i in items], [i[2] for i in items],
                    np.full(n, H), np.full(n, W), [encode(i[3]) for i in items],
                    Path(path))  # fmt: skip


def test_round_trip_keeps_every_rle(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    masks = [rng.random((H, W)) < 0.3 for _ in range(4)]
    taken = np.zeros((H, W), bool)
    for mask in masks:  # make them disjoint, as MOTS requires
        mask &= ~taken
        taken |= mask
    rows = rows_of((2, 7, 2, masks[0]), (1, 2003, 2, masks[1]), (1, 2001, 2, masks[2]),
                   (1, 10000, 10, masks[3]))  # fmt: skip
    path = tmp_path / "seq.txt"
    write_mots(path, rows)
    back = read_mots(path, kind="gt", seq_length=2)
    assert back.frame.tolist() == [1, 1, 1, 2]  # sorted by frame, then id
    assert back.id.tolist() == [2001, 2003, 10000, 7]
    order = [2, 1, 3, 0]
    assert back.rle.tolist() == [rows.rle[i] for i in order]
    for got, i in zip(back.rle, order, strict=True):
        assert (decode(got, H, W) == masks[i]).all()
    assert path.read_text().splitlines()[0] == f"1 2001 2 {H} {W} {rows.rle[2]}"


GOOD = f"1 2001 2 {H} {W} {encode(blob(0, 0))}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1 2001 2 20 30", "expected 6 space-separated columns"),
        (f"1 2001 x 20 30 {encode(blob(0, 0))}", "column 3 (class_id) is not an integer"),
        (f"1.5 2001 2 20 30 {encode(blob(0, 0))}", "column 1 (frame) is not an integer"),
        (f"0 2001 2 20 30 {encode(blob(0, 0))}", "frame 0 is out of range: MOTS frames are"),
        (f"9 2001 2 20 30 {encode(blob(0, 0))}", "frame 9 is beyond the sequence length 5"),
        (f"1 -4 2 20 30 {encode(blob(0, 0))}", "id -4 is negative"),
        (f"1 2002 2 0 30 {encode(blob(0, 0))}", "height must be positive"),
        ("1 2002 2 20 30 not~rle", "column 6 (rle) is not a COCO compressed RLE string"),
        (f"1 2002 2 20 31 {encode(blob(9, 9))}", "covers 600 pixels, not height x width = 620"),
        (f"1 2001 2 20 30 {encode(blob(9, 9))}", "id 2001 appears twice in frame 1 (also on "
         "line 1)"),
        (f"1 2002 2 20 30 {encode(blob(3, 3))}", "mask of id 2002 overlaps another mask of "
         "frame 1"),
    ],
)
def test_a_malformed_line_is_a_one_line_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "gt.txt"
    path.write_text(f"{GOOD}\n\n{line}\n")
    with pytest.raises(MotCliError) as error:
        read_mots(path, kind="gt", seq_length=5)
    text = str(error.value)
    assert text.startswith(f"{path}:3: ") and message in text and "\n" not in text


def test_masks_of_one_frame_must_share_a_size(tmp_path: Path) -> None:
    other = np.zeros((10, 10), bool)
    path = tmp_path / "t.txt"
    path.write_text(f"{GOOD}\n1 2002 2 10 10 {encode(other)}\n")
    with pytest.raises(MotCliError, match=r"t\.txt:2: mask size 10x10 differs from 20x30"):
        read_mots(path)


def test_ignore_regions_may_overlap_each_other_but_not_objects(tmp_path: Path) -> None:
    a, b = encode(blob(10, 10, 5, 10)), encode(blob(12, 12, 5, 10))
    path = tmp_path / "gt.txt"
    path.write_text(f"{GOOD}\n1 10000 10 {H} {W} {a}\n1 10000 10 {H} {W} {b}\n")
    assert len(read_mots(path, kind="gt")) == 3  # ignore regions: no duplicate-id complaint
    with pytest.raises(MotCliError, match="appears twice"):
        read_mots(path, kind="tracker")  # in a tracker file, class 10 is an ordinary row
    path.write_text(f"{GOOD}\n1 10000 10 {H} {W} {encode(blob(2, 2))}\n")
    with pytest.raises(MotCliError, match=r"gt\.txt:2: mask of an ignore region overlaps"):
        read_mots(path, kind="gt")


def test_empty_file_is_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n")
    assert len(read_mots(path, kind="gt", seq_length=3)) == 0
    with pytest.raises(MotCliError, match=r"missing\.txt: file not found"):
        read_mots(tmp_path / "missing.txt")


def test_rle_pixel_totals_match_pycocotools_and_flag_damage() -> None:
    rng = np.random.default_rng(0)
    shapes = [(1, 1), (3, 7), (50, 40), (480, 640)]
    masks = [rng.random(s) < p for s in shapes for p in (0.0, 0.02, 0.5, 1.0)]
    counts = [encode(m) for m in masks]
    assert rle_pixel_totals(counts).tolist() == [m.size for m in masks]
    big = encode(blob(2, 2))
    # empty, not ASCII, cut off in the middle of a run, a character out of range
    damaged = ["", "é", big[:-1] + "h", big.replace(big[0], "~", 1)]
    assert rle_pixel_totals(damaged).tolist() == [-1, -1, -1, -1]
    assert rle_pixel_totals([big + "1"])[0] > H * W  # one more run: too many pixels


def test_disjoint_gives_overlaps_to_the_higher_priority() -> None:
    first, second = blob(0, 0, 6, 6), blob(3, 3, 6, 6)
    out = disjoint([encode(first), encode(second)], H, W, priority=[0.2, 0.9])
    a, b = decode(out[0], H, W), decode(out[1], H, W)
    assert (b == second).all() and (a == (first & ~second)).all()
    apart = [encode(blob(0, 0)), encode(blob(10, 20))]
    assert disjoint(apart, H, W, priority=[1, 2]) == apart  # untouched, not re-encoded
