"""MOTChallenge text files (`gt.txt`, tracker results, `det.txt`): read, validate, write.

One row per box: `frame, id, x, y, w, h, conf, class, visibility, z` with 1-based frames and
top-left/size boxes in pixels. Files in the wild drop trailing columns, so 6 to 10 columns are
accepted; what is missing takes its neutral value (conf 1, class -1, visibility 1).

Every problem a user can cause is a `MotCliError` whose message starts with `path:line:` so an
editor can jump to it, and stays on one line.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.files import write_text

__all__ = ["MotRows", "format_mot", "read_mot", "write_mot"]

Kind = Literal["gt", "tracker", "det"]

_MIN_COLUMNS = 6
_MAX_COLUMNS = 10
_COLUMN_NAMES = ("frame", "id", "x", "y", "width", "height", "conf", "class", "visibility", "z")
_INT32 = np.iinfo(np.int32)


@dataclass(frozen=True)
class MotRows:
    """The rows of one MOTChallenge file as parallel arrays, in file order.

    Attributes:
        frame: (N,) int32, 1-based frame numbers.
        id: (N,) int32 track ids (-1 in detection files).
        xywh: (N, 4) float64 top-left x, y, width and height in pixels.
        conf: (N,) float64 column 7 (ground truth: 0 marks rows the benchmark ignores).
        cls: (N,) int32 column 8; -1 where the file has -1, a non-integer, or no such column.
        vis: (N,) float64 column 9 (visibility), 1 where absent.
        path: the file the rows came from.
        line: (N,) int32 1-based line numbers in `path`, so later checks can point at a row.
    """

    frame: np.ndarray
    id: np.ndarray
    xywh: np.ndarray
    conf: np.ndarray
    cls: np.ndarray
    vis: np.ndarray
    path: Path
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", np.asarray(self.frame, np.int32).reshape(-1))
        object.__setattr__(self, "id", np.asarray(self.id, np.int32).reshape(-1))
        object.__setattr__(self, "xywh", np.asarray(self.xywh, np.float64).reshape(-1, 4))
        object.__setattr__(self, "conf", np.asarray(self.conf, np.float64).reshape(-1))
        object.__setattr__(self, "cls", np.asarray(self.cls, np.int32).reshape(-1))
        object.__setattr__(self, "vis", np.asarray(self.vis, np.float64).reshape(-1))
        settle_rows(self, ("id", "xywh", "conf", "cls", "vis"))

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index: np.ndarray | slice) -> MotRows:
        """Select rows with a boolean mask, an index array or a slice."""
        return MotRows(
            self.frame[index], self.id[index], self.xywh[index], self.conf[index],
            self.cls[index], self.vis[index], self.path, self.line[index],
        )


def settle_rows(rows: Any, columns: tuple[str, ...]) -> None:
    """Finish a frozen rows table: `path` a Path, `line` numbered 1..n when not given, and
    every column as long as `frame` (a ValueError names the one that is not)."""
    n = len(rows.frame)
    object.__setattr__(rows, "path", Path(rows.path))
    line = np.asarray(rows.line, np.int32).reshape(-1)
    if len(line) == 0 and n:
        line = np.arange(1, n + 1, dtype=np.int32)
    object.__setattr__(rows, "line", line)
    for name in (*columns, "line"):
        if len(getattr(rows, name)) != n:
            raise ValueError(f"{name} has {len(getattr(rows, name))} rows, frame has {n}")


def read_mot(path: Path, *, kind: Kind, seq_length: int | None = None) -> MotRows:
    """Read and validate a MOTChallenge text file.

    Rows may be comma- or whitespace-separated, with 6 to 10 columns; blank lines are skipped and
    an empty file is zero rows. Frames and ids must be integers, frames in `1..seq_length` (when
    given), widths and heights positive. In `gt` and `tracker` files an id may appear only once
    per frame; `det` files carry no ids.

    Raises:
        MotCliError: `"{path}:{line}: {what}"` for the first offending row, or `"{path}: ..."`
            when the file cannot be read at all.
    """
    path = Path(path)
    if kind not in ("gt", "tracker", "det"):
        raise ValueError(f"kind must be one of 'gt', 'tracker', 'det', got {kind!r}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MotCliError(f"{path}: file not found") from None
    except OSError as exc:
        raise MotCliError(f"{path}: cannot read ({exc.strerror or exc})") from None
    _check_not_wide_text(path, data)
    text = data.decode("utf-8", errors="replace")

    fast = _parse_fast(text)
    if fast is not None:
        values, line_numbers = fast
    else:
        line_numbers, rows = _split_rows(text)
        _check_not_cut(path, text, line_numbers, rows)
        values = _to_floats(path, line_numbers, rows)
    return _validate(path, kind, seq_length, line_numbers, values)


def _check_not_wide_text(path: Path, data: bytes) -> None:
    """UTF-16 or UTF-32 text (a byte-order mark, or NUL bytes) is named at its first line,
    not at whichever later line first fails to parse."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "UTF-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "UTF-16"
    elif b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise MotCliError(f"{path}:{line}: NUL bytes (UTF-16 text?); save the file as UTF-8")
    else:
        return
    raise MotCliError(f"{path}:1: the file is {encoding} text; save it as UTF-8")


def _parse_fast(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """numpy's C parser for the common case: one delimiter, one width, no blank lines.

    Returns None whenever anything is unusual, and the careful row-by-row parser takes over and
    reports the exact line.
    """
    if not text.strip():
        return np.zeros((0, _MAX_COLUMNS)), np.zeros(0, np.int32)
    delimiter = "," if "," in text else None
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=delimiter, comments=None, ndmin=2)
    except ValueError:
        return None
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    width = table.shape[1]
    if len(table) != n_lines or not _MIN_COLUMNS <= width <= _MAX_COLUMNS:
        return None
    if not np.isfinite(table).all():
        return None
    values = np.full((len(table), _MAX_COLUMNS), np.nan)
    values[:, :width] = table
    return values, np.arange(1, len(table) + 1, dtype=np.int32)


def _split_rows(text: str) -> tuple[list[int], list[list[str]]]:
    """Split into non-blank rows of fields, remembering each row's 1-based line number."""
    line_numbers: list[int] = []
    rows: list[list[str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if "," in line:
            fields = [f.strip() for f in line.split(",")]
            if fields[-1] == "":  # a trailing comma, as some writers leave
                fields.pop()
        else:
            fields = line.split()
        line_numbers.append(number)
        rows.append(fields)
    return line_numbers, rows


def _check_not_cut(path: Path, text: str, line_numbers: list[int], rows: list[list[str]]) -> None:
    """A last line with no line end and fewer columns than the one before is a cut-off file."""
    if len(rows) < 2 or text.endswith(("\n", "\r")) or len(rows[-1]) >= len(rows[-2]):
        return
    raise MotCliError(
        f"{path}:{line_numbers[-1]}: the last line is cut short ({len(rows[-1])} columns where "
        f"the line before has {len(rows[-2])}, and no line end): is the file truncated?"
    )


def _to_floats(path: Path, line_numbers: list[int], rows: list[list[str]]) -> np.ndarray:
    """(N, 10) float64, NaN where a row has fewer columns; errors name the first bad row."""
    if not rows:
        return np.zeros((0, _MAX_COLUMNS))
    out = np.full((len(rows), _MAX_COLUMNS), np.nan)
    for i, (number, fields) in enumerate(zip(line_numbers, rows, strict=True)):
        if not _MIN_COLUMNS <= len(fields) <= _MAX_COLUMNS:
            raise MotCliError(
                f"{path}:{number}: expected 6 to 10 columns (frame, id, x, y, w, h, then "
                f"optionally conf, class, visibility, z), found {len(fields)}"
            )
        for j, text in enumerate(fields):
            try:
                value = float(text)
            except ValueError:
                value = None
            if value is None or not np.isfinite(value):
                raise MotCliError(
                    f"{path}:{number}: column {j + 1} ({_COLUMN_NAMES[j]}) is not a finite "
                    f"number: {text[:40]!r}"
                )
            out[i, j] = value
    return out


def _validate(
    path: Path,
    kind: Kind,
    seq_length: int | None,
    line_numbers: list[int] | np.ndarray,
    values: np.ndarray,
) -> MotRows:
    lines = np.asarray(line_numbers, dtype=np.int32)
    frame_f, id_f, width, height = values[:, 0], values[:, 1], values[:, 4], values[:, 5]
    not_int = lambda v: v != np.round(v)  # noqa: E731
    too_big = lambda v: (v > _INT32.max) | (v < _INT32.min)  # noqa: E731
    bounds = f"they must fit in 32 bits, {_INT32.min}..{_INT32.max}"
    checks = [
        (not_int(frame_f), lambda i: f"frame {_fmt(frame_f[i])} is not an integer"),
        (too_big(frame_f), lambda i: f"frame {_fmt(frame_f[i])} is out of range: {bounds}"),
        (frame_f < 1, lambda i: f"frame {_fmt(frame_f[i])} is out of range: frames are 1-based"),
        (
            frame_f > (seq_length if seq_length is not None else np.inf),
            lambda i: f"frame {_fmt(frame_f[i])} is beyond the sequence length {seq_length}",
        ),
        (not_int(id_f), lambda i: f"id {_fmt(id_f[i])} is not an integer"),
        (too_big(id_f), lambda i: f"id {_fmt(id_f[i])} is out of range: {bounds}"),
        (width <= 0, lambda i: f"width must be positive, got {_fmt(width[i])}"),
        (height <= 0, lambda i: f"height must be positive, got {_fmt(height[i])}"),
    ]
    for mask, message in checks:
        if mask.any():
            i = int(np.argmax(mask))
            raise MotCliError(f"{path}:{lines[i]}: {message(i)}")

    frame = frame_f.astype(np.int32)
    ids = id_f.astype(np.int32)
    if kind != "det" and len(frame) > 1:
        _check_unique_ids(path, lines, frame, ids)

    conf = np.where(np.isnan(values[:, 6]), 1.0, values[:, 6])
    cls_f = values[:, 7]
    cls_ok = np.isfinite(cls_f) & (cls_f == np.round(cls_f)) & (np.abs(cls_f) <= _INT32.max)
    cls = np.where(cls_ok, np.nan_to_num(cls_f), -1).astype(np.int32)
    vis = np.where(np.isnan(values[:, 8]), 1.0, values[:, 8])
    return MotRows(frame, ids, values[:, 2:6].copy(), conf, cls, vis, path, lines)


def _check_unique_ids(path: Path, lines: np.ndarray, frame: np.ndarray, ids: np.ndarray) -> None:
    order = np.lexsort((np.arange(len(frame)), ids, frame))
    same = (frame[order][1:] == frame[order][:-1]) & (ids[order][1:] == ids[order][:-1])
    if same.any():
        dup_positions = np.flatnonzero(same)
        # report the duplicate that appears earliest in the file
        second = order[dup_positions + 1]
        k = int(np.argmin(second))
        first_line, second_line = lines[order[dup_positions[k]]], lines[second[k]]
        raise MotCliError(
            f"{path}:{second_line}: id {ids[second[k]]} appears twice in frame "
            f"{frame[second[k]]} (also on line {first_line})"
        )


def _fmt(value: float) -> str:
    return str(int(value)) if np.isfinite(value) and value == int(value) else repr(float(value))


MOT_CLASS_IDS = {"person": 1, "pedestrian": 1, "car": 3, "bicycle": 4, "motorcycle": 5,
                 "motorbike": 5}  # fmt: skip
"""MOTChallenge's class ids (column 8 of MOT16/17/20 files) of detector class names that have
one; benchmarks score class 1 (pedestrian) only."""


def mot_class_ids(cls: np.ndarray, names: dict[int, str]) -> np.ndarray:
    """Column 8 for detector class ids: MOTChallenge's id of the class's name, -1 for a class
    MOTChallenge has no id for or one without a name (imported detections)."""
    known = {i: MOT_CLASS_IDS.get(name.lower(), -1) for i, name in names.items()}
    return np.array([known.get(int(c), -1) for c in np.asarray(cls).reshape(-1)], np.int64)


def format_mot(
    frame: np.ndarray,
    ids: np.ndarray,
    xywh: np.ndarray,
    conf: np.ndarray,
    cls: np.ndarray | None = None,
) -> str:
    """`frame,id,x,y,w,h,conf,class,-1,-1` rows sorted by frame then id, as one string.

    `cls` is column 8, MOTChallenge's class ids (`mot_class_ids`); -1 when not given. Boxes
    keep 3 decimals and scores 5 (trailing zeros dropped), enough for IoU to be unchanged at
    the precision any benchmark reports.
    """
    frame = np.asarray(frame, dtype=np.int64).reshape(-1)
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    conf = np.asarray(conf, dtype=np.float64).reshape(-1)
    n = len(frame)
    cls = np.full(n, -1, np.int64) if cls is None else np.asarray(cls, np.int64).reshape(-1)
    if not (len(ids) == len(xywh) == len(conf) == len(cls) == n):
        raise ValueError(
            f"frame, ids, xywh, conf and cls must have equal lengths, got "
            f"{n}, {len(ids)}, {len(xywh)}, {len(conf)}, {len(cls)}"
        )
    order = np.lexsort((ids, frame))
    return "".join(
        f"{f},{i},{_num(b[0], 3)},{_num(b[1], 3)},{_num(b[2], 3)},{_num(b[3], 3)},"
        f"{_num(c, 5)},{k},-1,-1\n"
        for f, i, b, c, k in zip(
            frame[order].tolist(), ids[order].tolist(), xywh[order].tolist(),
            conf[order].tolist(), cls[order].tolist(), strict=True,
        )
    )


def write_mot(
    path: Path,
    frame: np.ndarray,
    ids: np.ndarray,
    xywh: np.ndarray,
    conf: np.ndarray,
    cls: np.ndarray | None = None,
) -> None:
    """Write `format_mot` rows to `path`, atomically (complete or not at all; see files.py)."""
    write_text(Path(path), format_mot(frame, ids, xywh, conf, cls))


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
