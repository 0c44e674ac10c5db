"""What a run found, in numbers: ids and their timelines, people per frame, stage timings.

`summarize` gathers it (with ground truth, the CLEAR matching of every ground-truth box too);
`summary_lines` says it in plain text; `summary_plot.write_summary_plot` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from mot_cli.entries import StageEntry
from mot_cli.formats.mot import MotRows
from mot_cli.outputs.run import FinishedRun
from mot_cli.outputs.versus_gt import GtComparison, compare_with_gt

__all__ = [
    "IdTimeline", "RunSummary", "runs_of", "stage_windows", "summarize", "summary_lines",
    "wall_seconds",
]  # fmt: skip


@dataclass(frozen=True)
class IdTimeline:
    """One id across frames: where it was detected and where it was interpolated."""

    track_id: int
    detected: np.ndarray
    interpolated: np.ndarray

    @property
    def first(self) -> int:
        return int(min(self.detected.min(initial=10**9), self.interpolated.min(initial=10**9)))

    @property
    def last(self) -> int:
        return int(max(self.detected.max(initial=0), self.interpolated.max(initial=0)))

    @property
    def length(self) -> int:
        return len(self.detected) + len(self.interpolated)

    @property
    def gap_frames(self) -> int:
        """Frames inside the id's span with no box at all (not bridged)."""
        return self.last - self.first + 1 - self.length


@dataclass(frozen=True)
class RunSummary:
    """Everything the text summary and the plot show."""

    name: str
    source: dict
    frames: tuple[int, int]
    timelines: list[IdTimeline]
    per_frame: np.ndarray
    stages: dict[str, StageEntry]
    masks: bool
    comparison: GtComparison | None = None
    gt_per_frame: np.ndarray | None = None

    @property
    def frame_numbers(self) -> np.ndarray:
        return np.arange(self.frames[0], self.frames[1] + 1)

    @property
    def boxes(self) -> int:
        return int(self.per_frame.sum())

    @property
    def interpolated(self) -> int:
        return sum(len(t.interpolated) for t in self.timelines)

    @property
    def wall(self) -> float | None:
        """Wall time the stages took, overlaps counted once (None: no stage recorded it)."""
        return wall_seconds(stage_windows(self.stages))


def stage_windows(stages: Mapping[str, StageEntry]) -> dict[str, tuple[float, float]]:
    """Each stage's [start, end] in Unix seconds, as the pipeline recorded it (`wall`)."""
    windows = {}
    for stage, entry in stages.items():
        wall = entry.get("wall")
        if isinstance(wall, list) and len(wall) == 2 and all(
            isinstance(v, int | float) for v in wall
        ) and wall[1] >= wall[0]:
            windows[stage] = (float(wall[0]), float(wall[1]))
    return windows


def wall_seconds(windows: dict[str, tuple[float, float]]) -> float | None:
    """The length of the union of the windows: stages that overlapped (one decode pass feeds
    several) count once, so this is the time the run took, not the sum of the stages'."""
    if not windows:
        return None
    total, end = 0.0, -np.inf
    for start, stop in sorted(windows.values()):
        if start > end:
            total += stop - start
        elif stop > end:
            total += stop - end
        end = max(end, stop)
    return total


def runs_of(frames: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive stretches of sorted frame numbers as (first, last) pairs."""
    if len(frames) == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(frames) - 1]
    return [(int(frames[s]), int(frames[e])) for s, e in zip(starts, ends, strict=True)]


def summarize(run: FinishedRun, gt: MotRows | None = None, benchmark: str = "MOT15") -> RunSummary:
    """Gather a run's summary; with `gt`, match it as the CLEAR metrics do."""
    first, last = run.frames
    tracks = run.tracks
    timelines = []
    for track_id in np.unique(tracks.id).tolist():
        rows = tracks.id == track_id
        detected = rows & (tracks.det >= 0)
        interpolated = tracks.frame[rows & ~detected]
        timelines.append(IdTimeline(track_id, tracks.frame[detected], interpolated))
    timelines.sort(key=lambda t: (t.first, t.track_id))
    per_frame = np.bincount(tracks.frame - first, minlength=last - first + 1)[: last - first + 1]
    comparison = gt_per_frame = None
    if gt is not None:
        comparison = compare_with_gt(tracks, gt, (first, last), benchmark)
        gt_per_frame = np.bincount(comparison.gt_frame - first, minlength=last - first + 1)
    return RunSummary(
        name=run.name,
        source=run.source_info,
        frames=(first, last),
        timelines=timelines,
        per_frame=per_frame,
        stages=dict(run.stages),
        masks=run.masks is not None,
        comparison=comparison,
        gt_per_frame=gt_per_frame,
    )


def summary_lines(summary: RunSummary) -> list[str]:
    """The plain-text summary, one finding per line."""
    first, last = summary.frames
    count = last - first + 1
    source = summary.source
    lines = [
        f"run {summary.name}: frames {first}-{last} ({count}) of {source.get('path', '?')} "
        f"({source.get('width', '?')}x{source.get('height', '?')}, {source.get('fps', '?')} fps)"
    ]
    timelines = summary.timelines
    if not timelines:
        return [*lines, "tracks: none"]
    lengths = np.array([t.length for t in timelines])
    longest = timelines[int(np.argmax(lengths))]
    share = 100 * summary.interpolated / max(1, summary.boxes)
    lines += [
        f"tracks: {len(timelines)} ids, {summary.boxes} boxes ({summary.interpolated} "
        f"interpolated, {share:.1f}%){', with masks' if summary.masks else ''}",
        f"people per frame: mean {summary.per_frame.mean():.1f}, max {summary.per_frame.max()}"
        f" (frame {first + int(np.argmax(summary.per_frame))}), none in "
        f"{int(np.sum(summary.per_frame == 0))} frames",
        f"track length: median {np.median(lengths):.0f} frames, longest {longest.length} "
        f"(id {longest.track_id}); {int(np.sum(lengths < 10))} ids shorter than 10 frames",
        _gap_line(timelines),
    ]
    timed = [(stage, entry) for stage, entry in summary.stages.items() if entry.seconds is not None]
    if timed:
        lines.append("stage time: " + ", ".join(_stage_time(s, e) for s, e in timed))
    if summary.wall is not None:
        lines.append(f"wall time: {summary.wall:.2f} s (stages that ran together, sharing a "
                     "decode pass, counted once)")  # fmt: skip
    if summary.comparison is not None:
        lines += _gt_lines(summary)
    return lines


def _gap_line(timelines: list[IdTimeline]) -> str:
    bridged = [(b - a + 1, t.track_id) for t in timelines for a, b in runs_of(t.interpolated)]
    open_gaps = sum(1 for t in timelines for _ in pairwise(runs_of(_all_frames(t))))
    if not bridged:
        return f"gaps: none interpolated; {open_gaps} left open"
    size, track_id = max(bridged)
    return (
        f"gaps: {len(bridged)} interpolated (longest {size} frames, id {track_id}); "
        f"{open_gaps} left open"
    )


def _all_frames(timeline: IdTimeline) -> np.ndarray:
    return np.sort(np.concatenate([timeline.detected, timeline.interpolated]))


def _stage_time(stage: str, entry: StageEntry) -> str:
    seconds = float(entry.seconds or 0.0)
    frames = entry.frames
    rate = ""
    if frames and seconds > 0:
        rate = f" ({(frames[1] - frames[0] + 1) / seconds:.0f} frames/s)"
    return f"{stage} {seconds:.2f} s{rate}"


def _gt_lines(summary: RunSummary) -> list[str]:
    comparison = summary.comparison
    assert comparison is not None and summary.gt_per_frame is not None
    values = comparison.result.summary()
    gt_ids = len(np.unique(comparison.gt_id))
    covered = [
        len(np.unique(comparison.gt_track[(comparison.gt_id == g) & (comparison.gt_track >= 0)]))
        for g in np.unique(comparison.gt_id)
    ]
    return [
        f"ground truth ({comparison.benchmark} rules): {gt_ids} ids, "
        f"{len(comparison.gt_id)} boxes, {summary.gt_per_frame.mean():.1f} people per frame",
        f"versus ground truth: HOTA {100 * values['HOTA']:.1f}, MOTA {100 * values['MOTA']:.1f}, "
        f"IDF1 {100 * values['IDF1']:.1f}; FN {values['CLR_FN']}, FP {values['CLR_FP']}, "
        f"IDSW {values['IDSW']}, Frag {values['Frag']}",
        f"ids per person: {sum(c == 1 for c in covered)} of {gt_ids} people kept one id, "
        f"{sum(c > 1 for c in covered)} had several, {sum(c == 0 for c in covered)} never found",
    ]
