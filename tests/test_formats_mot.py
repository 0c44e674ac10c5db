"""MOTChallenge text: reading every accepted layout, one-line errors with file and line, writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_cli.errors import MotCliError
from mot_cli.formats.mot import MotRows, read_mot, write_mot


def write(tmp_path: Path, text: str, name: str = "file.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_a_ten_column_file(tmp_path: Path) -> None:
    text = "1,1,10,20,30,40,1,-1,-1,-1\n1,2,5.5,6,7,8,0,1,0.25,-1\n2,1,1,2,3,4,1,-1,-1,-1\n"
    path = write(tmp_path, text)
    rows = read_mot(path, kind="gt", seq_length=2)
    assert rows.frame.tolist() == [1, 1, 2] and rows.frame.dtype == np.int32
    assert rows.id.tolist() == [1, 2, 1] and rows.id.dtype == np.int32
    assert rows.xywh.dtype == np.float64 and rows.xywh[1].tolist() == [5.5, 6, 7, 8]
    assert rows.conf.tolist() == [1, 0, 1]
    assert rows.cls.tolist() == [-1, 1, -1] and rows.cls.dtype == np.int32
    assert rows.vis.tolist() == [-1, 0.25, -1]
    assert rows.line.tolist() == [1, 2, 3]
    assert rows.path == path and len(rows) == 3


def test_missing_trailing_columns_take_neutral_values(tmp_path: Path) -> None:
    rows = read_mot(write(tmp_path, "3,7,1,2,3,4\n"), kind="tracker")
    assert rows.conf.tolist() == [1.0] and rows.cls.tolist() == [-1] and rows.vis.tolist() == [1.0]
    rows = read_mot(write(tmp_path, "3,7,1,2,3,4,0.5\n"), kind="tracker")
    assert rows.conf.tolist() == [0.5] and rows.cls.tolist() == [-1]


def test_whitespace_separated_and_ragged_rows_and_blank_lines(tmp_path: Path) -> None:
    text = "\n1 1 10 20 30 40 1 -1 -1 -1\n\n2\t1\t10\t20\t30\t40\n  \n3,1,1,2,3,4,1,1,1,\n"
    rows = read_mot(write(tmp_path, text), kind="tracker", seq_length=3)
    assert rows.frame.tolist() == [1, 2, 3]
    assert rows.line.tolist() == [2, 4, 6]  # line numbers survive blank lines
    assert rows.cls.tolist() == [-1, -1, 1]


def test_fast_and_careful_parsers_agree(tmp_path: Path) -> None:
    body = "".join(f"{f},{i},{f * 1.25},{i * 0.5},10.125,20,0.875,-1,-1,-1\n"
                   for f in range(1, 30) for i in range(1, 4))  # fmt: skip
    fast = read_mot(write(tmp_path, body, "a.txt"), kind="tracker")
    careful = read_mot(write(tmp_path, body + "\n\n", "b.txt"), kind="tracker")  # blank lines
    for field in ("frame", "id", "xywh", "conf", "cls", "vis", "line"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(careful, field))


def test_empty_files_are_zero_rows(tmp_path: Path) -> None:
    for text in ("", "\n\n  \n"):
        rows = read_mot(write(tmp_path, text), kind="gt", seq_length=5)
        assert len(rows) == 0 and rows.xywh.shape == (0, 4)


def test_det_files_may_repeat_ids(tmp_path: Path) -> None:
    rows = read_mot(write(tmp_path, "1,-1,1,2,3,4,0.9\n1,-1,5,6,7,8,0.8\n"), kind="det")
    assert rows.id.tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("1,1,1,2,3,4\n1,1,1,2,3\n", 2, "expected 6 to 10 columns"),
        ("1,1,1,2,3,4,1,1,1,1,1\n", 1, "found 11"),
        ("1,1,1,2,3,4\n2,1,x,2,3,4\n", 2, "column 3 (x) is not a finite number: 'x'"),
        ("1,1,1,2,3,nan\n", 1, "column 6 (height) is not a finite number"),
        ("0,1,1,2,3,4\n", 1, "frame 0 is out of range: frames are 1-based"),
        ("1,1,1,2,3,4\n11,1,1,2,3,4\n", 2, "frame 11 is beyond the sequence length 10"),
        ("1.5,1,1,2,3,4\n", 1, "frame 1.5 is not an integer"),
        ("1,2.5,1,2,3,4\n", 1, "id 2.5 is not an integer"),
        ("1,1,1,2,0,4\n", 1, "width must be positive, got 0"),
        ("1,1,1,2,3,4\n1,2,1,2,3,-4\n", 2, "height must be positive, got -4"),
        ("1,1,1,2,3,4\n2,1,1,2,3,4\n1,1,5,6,7,8\n", 3,
         "id 1 appears twice in frame 1 (also on line 1)"),
    ],
)  # fmt: skip
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MotCliError) as error:
        read_mot(path, kind="tracker", seq_length=10)
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message and "\n" not in message


def test_ground_truth_duplicates_are_errors_too(tmp_path: Path) -> None:
    path = write(tmp_path, "4,9,1,2,3,4,1,1,1\n4,9,1,2,3,4,0,7,1\n")
    with pytest.raises(MotCliError, match=r":2: id 9 appears twice in frame 4"):
        read_mot(path, kind="gt")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MotCliError, match="file not found"):
        read_mot(tmp_path / "nope.txt", kind="gt")


def test_write_sorts_rounds_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "out" / "seq.txt"
    xywh = np.array([[1.23456, 2, 3, 4], [5, 6, 7.5, 8], [9, 10, 11, 12]])
    write_mot(path, [2, 1, 1], [1, 3, 2], xywh, [0.123456, 1.0, 0.5])
    assert path.read_text().splitlines() == [
        "1,2,9,10,11,12,0.5,-1,-1,-1",
        "1,3,5,6,7.5,8,1,-1,-1,-1",
        "2,1,1.235,2,3,4,0.12346,-1,-1,-1",
    ]
    rows = read_mot(path, kind="tracker", seq_length=2)
    assert rows.id.tolist() == [2, 3, 1]
    assert [p.name for p in path.parent.iterdir()] == ["seq.txt"]  # no temporary file left


def test_write_replaces_and_checks_lengths(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("old\n")
    write_mot(path, np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros(0))
    assert path.read_text() == ""
    with pytest.raises(ValueError, match="equal lengths"):
        write_mot(path, [1], [1, 2], np.zeros((1, 4)), [1.0])


def test_rows_select_with_a_mask() -> None:
    rows = MotRows([1, 2, 3], [1, 1, 1], np.ones((3, 4)), [1, 1, 1], [-1, -1, -1], [1, 1, 1],
                   Path("x.txt"))  # fmt: skip
    picked = rows[rows.frame > 1]
    assert picked.frame.tolist() == [2, 3] and picked.line.tolist() == [2, 3]
    with pytest.raises(ValueError, match="id has 2 rows"):
        MotRows([1, 2, 3], [1, 1], np.ones((3, 4)), [1] * 3, [1] * 3, [1] * 3, Path("x"))
