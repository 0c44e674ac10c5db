"""A finished run read back from its folder: tracks, masks when there are any, the manifest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from mot_cli.cache import RunDir
from mot_cli.entries import StageEntry
from mot_cli.errors import MotCliError
from mot_cli.formats.mot import MotRows
from mot_cli.schema import (
    DETECTIONS_STAGE,
    MASKS,
    MASKS_STAGE,
    TRACKS,
    TRACKS_STAGE,
    TRACKS_WITHOUT_CLASS,
)
from mot_cli.urls import source_argument
from mot_cli.video import FrameSource, open_source

__all__ = ["FinishedRun", "MaskTable", "TrackRows", "load_run"]



@dataclass(frozen=True)
class TrackRows:
    """tracks.parquet as parallel arrays sorted by frame then id.

    Attributes:
        frame: (N,) int32, 1-based.
        id: (N,) int32 track ids.
        xyxy: (N, 4) float32 boxes in pixels.
        score: (N,) float32.
        det: (N,) int32 detection index in its frame, -1 for interpolated rows.
        cls: (N,) int32 the track's detector class id; None when unknown (older caches).
        names: detector class id -> name, as the run recorded them.
    """

    frame: np.ndarray
    id: np.ndarray
    xyxy: np.ndarray
    score: np.ndarray
    det: np.ndarray
    cls: np.ndarray | None = None
    names: dict[int, str] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index: np.ndarray | slice) -> TrackRows:
        return TrackRows(
            self.frame[index], self.id[index], self.xyxy[index], self.score[index],
            self.det[index], None if self.cls is None else self.cls[index], self.names,
        )  # fmt: skip

    def class_name(self, row: int) -> str | None:
        """The class of a row's track by name (its id when unnamed); None when unknown."""
        if self.cls is None or self.cls[row] < 0:
            return None
        cls = int(self.cls[row])
        return (self.names or {}).get(cls, str(cls))

    @cached_property
    def _frame_starts(self) -> tuple[int, np.ndarray]:
        first = int(self.frame.min()) if len(self) else 1
        last = int(self.frame.max()) if len(self) else 0
        return first, np.searchsorted(self.frame, np.arange(first, last + 2))

    def rows_in(self, frame: int) -> np.ndarray:
        """Row indices of one frame (a slice of the sorted arrays)."""
        first, starts = self._frame_starts
        index = frame - first
        if index < 0 or index >= len(starts) - 1:
            return np.zeros(0, np.intp)
        return np.arange(starts[index], starts[index + 1])

    def as_mot_rows(self, path: Path) -> MotRows:
        """The rows as MOTChallenge tracker rows (what `<name>.txt` holds), for the metrics."""
        xywh = self.xyxy.astype(np.float64)
        xywh[:, 2:] -= xywh[:, :2]
        n = len(self)
        return MotRows(self.frame, self.id, xywh, self.score.astype(np.float64),
                       np.full(n, -1), np.ones(n), path)  # fmt: skip


@dataclass(frozen=True)
class MaskTable:
    """masks.parquet: the mask of each detection, found by (frame, det)."""

    frame: np.ndarray
    det: np.ndarray
    height: np.ndarray
    width: np.ndarray
    rle: np.ndarray
    area: np.ndarray

    @cached_property
    def _index(self) -> dict[tuple[int, int], int]:
        return {(f, d): i for i, (f, d) in enumerate(zip(self.frame.tolist(), self.det.tolist(),
                                                          strict=True))}  # fmt: skip

    def find(self, frame: int, det: int) -> int | None:
        """Row of the mask of detection `det` in `frame`, None when it has none."""
        return self._index.get((frame, det))


@dataclass(frozen=True)
class FinishedRun:
    """A run folder whose track stage finished."""

    path: Path
    name: str
    manifest: dict
    tracks: TrackRows
    masks: MaskTable | None
    warnings: tuple[str, ...] = ()
    stages: Mapping[str, StageEntry] = field(default_factory=dict)  # typed manifest entries

    @property
    def frames(self) -> tuple[int, int]:
        """The frame range the tracks cover (as the track stage recorded it)."""
        entry = self.stages.get(TRACKS_STAGE)
        return (1, 0) if entry is None or entry.frames is None else entry.frames

    @property
    def source_info(self) -> dict:
        return self.manifest.get("source", {})

    def open_source(self) -> FrameSource:
        """The source video, checked to be the one the run was made from."""
        recorded = self.source_info
        path = Path(recorded.get("path", ""))
        if recorded.get("kind") == "url":  # read from its URL again, as recorded
            path = source_argument(str(recorded.get("path", "")))
        elif not recorded.get("path") or not path.exists():
            raise MotCliError(
                f"{self.path / 'manifest.json'}: the source {recorded.get('path') or '?'} "
                "recorded there no longer exists; rendering needs the original video"
            )
        source = open_source(path)
        if source.info.fingerprint != recorded.get("fingerprint"):
            raise MotCliError(
                f"{path}: the video changed since run {self.path} was made (fingerprint "
                "differs); re-run `mot-cli track` on it"
            )
        return source


def load_run(path: Path) -> FinishedRun:
    """Read a run folder's manifest, tracks and (fresh) masks.

    Masks are used when the masks stage finished on the same detections as the tracks (when
    both record which detections they read); otherwise the run is treated as mask-less.

    Raises:
        MotCliError: no run folder there, or its track stage never finished.
    """
    run_dir = RunDir(Path(path))
    if not run_dir.manifest_path.is_file():
        raise MotCliError(f"{path}: not a run folder (no manifest.json); run `mot-cli track`")
    manifest = run_dir.load_manifest()
    entries = run_dir.read_entries()
    table = run_dir.read_completed(TRACKS_STAGE, None)
    if table is None:
        raise MotCliError(f"{path}: the track stage has not finished here; run `mot-cli track`")
    found = table.schema.remove_metadata()
    if not (found.equals(TRACKS) or found.equals(TRACKS_WITHOUT_CLASS)):
        raise MotCliError(
            f"{run_dir.file(TRACKS_STAGE)}: cache columns do not match mot-cli's tracks schema"
        )
    columns = {name: table.column(name).to_numpy() for name in table.column_names}
    order = np.lexsort((columns["id"], columns["frame"]))
    xyxy = np.stack([columns[c] for c in ("x1", "y1", "x2", "y2")], axis=1)
    tracks = TrackRows(
        columns["frame"][order], columns["id"][order], xyxy[order], columns["score"][order],
        columns["det"][order], columns["class"][order] if "class" in columns else None,
        _class_names(entries[TRACKS_STAGE]),
    )  # fmt: skip
    masks, warnings = _masks(run_dir, entries)
    name = str(manifest.get("name", Path(path).name))
    return FinishedRun(Path(path), name, manifest, tracks, masks, warnings, entries)


def _class_names(entry: StageEntry) -> dict[int, str]:
    """The classes the track stage recorded (`"classes"`: id -> name)."""
    names = entry.get("classes")
    if not isinstance(names, dict):
        return {}
    return {int(i): str(n) for i, n in names.items() if str(i).lstrip("-").isdigit()}


def _masks(
    run_dir: RunDir, stages: Mapping[str, StageEntry]
) -> tuple[MaskTable | None, tuple[str, ...]]:
    table = run_dir.read_completed(MASKS_STAGE, MASKS)
    if table is None:
        return None, ()
    read_by_masks = (stages[MASKS_STAGE].upstream or {}).get(DETECTIONS_STAGE)
    read_by_tracks = (stages[TRACKS_STAGE].upstream or {}).get(DETECTIONS_STAGE)
    if read_by_masks and read_by_tracks and read_by_masks != read_by_tracks:
        # (frame, det) would point at other detections' masks
        return None, (
            f"{run_dir.file(MASKS_STAGE)} was made from other detections than the tracks; "
            "masks left out (re-run the segment stage)",
        )
    column = {name: table.column(name).to_numpy(zero_copy_only=False) for name in
              ("frame", "det", "height", "width", "rle", "area")}  # fmt: skip
    return MaskTable(**column), ()
