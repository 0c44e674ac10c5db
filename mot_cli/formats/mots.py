"""MOTS text (MOTS20, KITTI-MOTS): one mask per line, `frame id class_id height width rle`.

Fields are separated by single spaces; `rle` is pycocotools' compressed RLE counts string of a
`height` x `width` mask (column-major, as COCO). Frames are 1-based, as MOTSChallenge numbers
them (KITTI-MOTS files count from 0: add 1 to their first column). Ground-truth ids encode
`class_id * 1000 + instance` (2001, 2002, ...), class 2 is pedestrian, class 1 car, and class
10 marks an ignore region (id 10000): tracker masks mostly inside one are not counted as false
positives. A frame's masks must not overlap (TrackEval refuses such files; ignore regions
included).

Every problem a user can cause is a `MotCliError` starting with `path:line:` (or `path:` when
the file cannot be read), on one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.mot import settle_rows
from mot_cli.masks import rle, rle_pixel_totals

__all__ = [
    "IGNORE_CLASS", "PEDESTRIAN_CLASS", "MotsRows", "format_mots", "mots_frame_base",
    "read_mots", "write_mots",
]  # fmt: skip

Kind = Literal["gt", "tracker"]

PEDESTRIAN_CLASS = 2
IGNORE_CLASS = 10
_COLUMNS = ("frame", "id", "class_id", "height", "width")
_INT32 = np.iinfo(np.int32)


@dataclass(frozen=True)
class MotsRows:
    """The masks of one MOTS file as parallel arrays, in file order.

    Attributes:
        frame: (N,) int32, 1-based frame numbers.
        id: (N,) int32 ids as written (ground truth: class * 1000 + instance).
        cls: (N,) int32 class ids (2 pedestrian, 10 ignore region).
        height: (N,) int32 mask height in pixels.
        width: (N,) int32 mask width in pixels.
        rle: (N,) object array of COCO compressed RLE counts strings.
        path: the file the rows came from.
        line: (N,) int32 1-based line numbers in `path`.
    """

    frame: np.ndarray
    id: np.ndarray
    cls: np.ndarray
    height: np.ndarray
    width: np.ndarray
    rle: np.ndarray
    path: Path
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def __post_init__(self) -> None:
        for name in ("frame", "id", "cls", "height", "width"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), np.int32).reshape(-1))
        counts = np.empty(len(self.rle), dtype=object)
        counts[:] = [str(c) for c in self.rle]
        object.__setattr__(self, "rle", counts)
        settle_rows(self, ("id", "cls", "height", "width", "rle"))

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index: np.ndarray | slice) -> MotsRows:
        """Select rows with a boolean mask, an index array or a slice."""
        return MotsRows(
            self.frame[index], self.id[index], self.cls[index], self.height[index],
            self.width[index], self.rle[index], self.path, self.line[index],
        )  # fmt: skip

    def rles(self) -> list[dict]:
        """The masks as pycocotools RLE dicts."""
        return [rle(c, h, w) for c, h, w in zip(self.rle, self.height, self.width, strict=True)]


def read_mots(
    path: Path, *, kind: Kind = "tracker", seq_length: int | None = None, frame_base: int = 1
) -> MotsRows:
    """Read and validate a MOTS text file.

    `frame_base` is the number the file gives the first frame: 1 for MOTSChallenge, 0 for
    KITTI MOTS; the rows come back 1-based either way (`mots_frame_base` tells them apart).

    Checks, each reported with the first offending line: six space-separated columns; integer
    frame, id, class, height and width; frames in `1..seq_length` (when given); ids not
    negative; positive sizes; an RLE string whose runs cover exactly height x width pixels; one
    mask size per frame; an id at most once per frame (ground-truth ignore regions excepted);
    no two masks of a frame overlapping.

    Raises:
        MotCliError: `"{path}:{line}: {what}"`, or `"{path}: ..."` when it cannot be read.
    """
    path = Path(path)
    if kind not in ("gt", "tracker"):
        raise ValueError(f"kind must be 'gt' or 'tracker', got {kind!r}")
    if frame_base not in (0, 1):
        raise ValueError(f"frame_base must be 0 or 1, got {frame_base!r}")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise MotCliError(f"{path}: file not found") from None
    except OSError as exc:
        raise MotCliError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines, fields = _split(path, text)
    numbers = _integers(path, lines, [f[:5] for f in fields])
    counts = np.empty(len(fields), dtype=object)
    counts[:] = [f[5] for f in fields]
    if frame_base == 0 and len(numbers):
        numbers[:, 0] += 1
    rows = MotsRows(*numbers.T, counts, path, lines)  # type: ignore[call-arg]
    _validate(rows, seq_length, frame_base)
    _check_frames(rows, kind)
    return rows


def _split(path: Path, text: str) -> tuple[np.ndarray, list[list[str]]]:
    lines, fields = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise MotCliError(
                f"{path}:{number}: expected 6 space-separated columns (frame id class_id height "
                f"width rle), found {len(parts)}"
            )
        lines.append(number)
        fields.append(parts)
    return np.asarray(lines, dtype=np.int32), fields


def _integers(path: Path, lines: np.ndarray, fields: list[list[str]]) -> np.ndarray:
    """(N, 5) int64 of the numeric columns; the first non-integer is reported."""
    if not fields:
        return np.zeros((0, 5), dtype=np.int64)
    try:
        values = np.array(fields, dtype=np.int64)
    except (ValueError, OverflowError):
        for number, row in zip(lines.tolist(), fields, strict=True):
            for column, value in enumerate(row):
                try:
                    int(value)
                except ValueError:
                    raise MotCliError(
                        f"{path}:{number}: column {column + 1} ({_COLUMNS[column]}) is not an "
                        f"integer: {value[:40]!r}"
                    ) from None
        raise
    too_big = np.abs(values) > _INT32.max
    if too_big.any():
        i, j = np.argwhere(too_big)[0]
        raise MotCliError(f"{path}:{lines[i]}: column {j + 1} ({_COLUMNS[j]}) is out of range")
    return values


def _validate(rows: MotsRows, seq_length: int | None, frame_base: int = 1) -> None:
    shift = 1 - frame_base  # the file's frame numbers are rows.frame - shift
    first = (
        "MOTS frames are 1-based (KITTI-MOTS files count from 0: add 1)"
        if frame_base == 1
        else "frames counted from 0 cannot be negative"
    )
    checks = [
        (rows.frame < 1, lambda i: f"frame {rows.frame[i] - shift} is out of range: {first}"),
        (rows.frame > (seq_length if seq_length is not None else _INT32.max),
         lambda i: f"frame {rows.frame[i] - shift} is beyond the sequence length {seq_length}"
         + (f" (counted from 0, its last frame is {seq_length - 1})" if shift else "")),
        (rows.id < 0, lambda i: f"id {rows.id[i]} is negative"),
        (rows.height < 1, lambda i: f"height must be positive, got {rows.height[i]}"),
        (rows.width < 1, lambda i: f"width must be positive, got {rows.width[i]}"),
    ]  # fmt: skip
    for mask, message in checks:
        if mask.any():
            i = int(np.argmax(mask))
            raise MotCliError(f"{rows.path}:{rows.line[i]}: {message(i)}")
    totals = rle_pixel_totals(list(rows.rle))
    wrong = totals != rows.height.astype(np.int64) * rows.width
    if wrong.any():
        i = int(np.argmax(wrong))
        what = (
            "is not a COCO compressed RLE string"
            if totals[i] < 0
            else f"covers {totals[i]} pixels, not height x width = "
            f"{int(rows.height[i]) * int(rows.width[i])}"
        )
        raise MotCliError(f"{rows.path}:{rows.line[i]}: column 6 (rle) {what}")


def _check_frames(rows: MotsRows, kind: Kind) -> None:
    """One size per frame, unique ids per frame, no overlapping masks (as TrackEval checks)."""
    from pycocotools import mask as mask_utils

    order = np.argsort(rows.frame, kind="stable")
    bounds = np.flatnonzero(np.diff(rows.frame[order])) + 1
    for group in np.split(order, bounds):
        if len(group) < 2:
            continue
        size = rows.height[group] * 100_000 + rows.width[group]
        other = size != size[0]
        if other.any():
            first, odd = group[0], group[int(np.argmax(other))]
            raise MotCliError(
                f"{rows.path}:{rows.line[odd]}: mask size {rows.height[odd]}x{rows.width[odd]} "
                f"differs from {rows.height[first]}x{rows.width[first]} on line "
                f"{rows.line[first]} in the same frame {rows.frame[odd]}"
            )
        ignore = rows.cls[group] == IGNORE_CLASS if kind == "gt" else np.zeros(len(group), bool)
        _check_unique_ids(rows, group[~ignore])
        # Ignore regions may overlap one another: TrackEval merges them into one first.
        masks = [rle(rows.rle[i], rows.height[i], rows.width[i]) for i in group[~ignore]]
        if ignore.any():
            ignored = [rle(rows.rle[i], rows.height[i], rows.width[i]) for i in group[ignore]]
            masks.append(mask_utils.merge(ignored, intersect=False))
        if len(masks) < 2:
            continue
        union = mask_utils.merge(masks, intersect=False)
        if int(mask_utils.area(union)) != int(mask_utils.area(masks).astype(np.int64).sum()):
            _report_overlap(rows, np.concatenate([group[~ignore], group[ignore][:1]]), masks)


def _check_unique_ids(rows: MotsRows, group: np.ndarray) -> None:
    ids = rows.id[group]
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(same):
        first, second = group[order[same[0]]], group[order[same[0] + 1]]
        raise MotCliError(
            f"{rows.path}:{rows.line[second]}: id {rows.id[second]} appears twice in frame "
            f"{rows.frame[second]} (also on line {rows.line[first]})"
        )


def _report_overlap(rows: MotsRows, group: np.ndarray, masks: list[dict]) -> None:
    from pycocotools import mask as mask_utils

    merged = masks[0]
    for position in range(1, len(group)):
        overlap = mask_utils.merge([merged, masks[position]], intersect=True)
        if int(mask_utils.area(overlap)):
            i = group[position]
            what = "an ignore region" if rows.cls[i] == IGNORE_CLASS else f"id {rows.id[i]}"
            raise MotCliError(
                f"{rows.path}:{rows.line[i]}: mask of {what} overlaps another mask of "
                f"frame {rows.frame[i]} (MOTS masks must not overlap)"
            )
        merged = mask_utils.merge([merged, masks[position]], intersect=False)


def mots_frame_base(path: Path) -> int | None:
    """0 when a MOTS file numbers a frame 0 (KITTI MOTS), else None: it does not say.

    Only the first column is looked at; `read_mots` reports any malformed line afterwards.
    """
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                head = raw.split(maxsplit=1)
                if head and head[0].isdigit() and int(head[0]) == 0:
                    return 0
    except OSError:
        return None  # read_mots names the problem
    return None


def format_mots(rows: MotsRows) -> str:
    """MOTS text lines sorted by frame then id, as one string."""
    order = np.lexsort((rows.id, rows.frame))
    return "".join(
        f"{f} {i} {c} {h} {w} {r}\n"
        for f, i, c, h, w, r in zip(
            rows.frame[order].tolist(), rows.id[order].tolist(), rows.cls[order].tolist(),
            rows.height[order].tolist(), rows.width[order].tolist(), rows.rle[order].tolist(),
            strict=True,
        )
    )  # fmt: skip


def write_mots(path: Path, rows: MotsRows) -> None:
    """Write rows sorted by frame then id, atomically (complete or not at all; see files.py)."""
    from mot_cli.files import write_text

    write_text(Path(path), format_mots(rows))
