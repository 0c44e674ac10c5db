"""The summary picture: per-id timelines, people per frame and stage timings (matplotlib, Agg).

Tracker timelines: one bar per id across its frames, solid where detected, hatched where
interpolated, blank in gaps, in the id's colour (the render's colour). With ground truth, a
second panel beside it has one bar per ground-truth person, coloured by the tracker id that
covered each frame (the CLEAR matching), grey with red crosses where nobody did (a miss), with
a black tick at each id switch: a person kept by one id is one colour, an id switch a change of
colour.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from mot_cli.cache import atomic_path
from mot_cli.errors import MotCliError
from mot_cli.outputs.drawing import id_color_rgb
from mot_cli.outputs.summary import RunSummary, runs_of, stage_windows

__all__ = ["summary_figure", "write_summary_plot"]

_MISS = (0.85, 0.1, 0.1)
_MISS_FACE = (0.9, 0.9, 0.9)
_FALSE = (1.0, 0.6, 0.0)  # false positives in people per frame
_MAX_LABELLED_IDS = 40
_LABEL_MIN_SHARE = 0.025  # a span this share of the frame axis wide gets its id written in it


def write_summary_plot(summary: RunSummary, path: Path) -> None:
    """Draw the summary into a PNG at `path` (written to a temporary file, then renamed)."""
    figure = summary_figure(summary)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
    except OSError as exc:
        raise MotCliError(f"{path}: cannot write ({exc.strerror or exc})") from None


def summary_figure(summary: RunSummary):  # -> matplotlib.figure.Figure (imported lazily)
    """The summary's matplotlib figure: timelines, people per frame, when each stage ran."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MotCliError("--plot needs matplotlib: pip install matplotlib") from None

    with_gt = summary.comparison is not None
    rows = max(len(summary.timelines), _gt_count(summary))
    timeline_height = float(np.clip(0.16 * rows + 1.2, 2.5, 11))
    stages_height = 0.9 + 0.32 * max(3, len(summary.stages))  # one readable row per stage
    figure = Figure(figsize=(14, timeline_height + 3.6 + stages_height), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(3, 2 if with_gt else 1,
                               height_ratios=[timeline_height, 2.6, stages_height])  # fmt: skip
    _tracker_timelines(figure.add_subplot(grid[0, 0]), summary)
    if with_gt:
        _gt_timelines(figure.add_subplot(grid[0, 1]), summary)
    _people_per_frame(figure.add_subplot(grid[1, :]), summary)
    _stage_times(figure.add_subplot(grid[2, :]), summary)
    first, last = summary.frames
    title = f"{summary.name}: frames {first}-{last}"
    if summary.comparison is not None:
        v = summary.comparison.result.summary()
        title += (f"  ·  {summary.comparison.benchmark} rules: HOTA {100 * v['HOTA']:.1f}, "
                  f"MOTA {100 * v['MOTA']:.1f}, IDF1 {100 * v['IDF1']:.1f}, IDSW {v['IDSW']}")
    figure.suptitle(title, fontsize=13)
    return figure


def _gt_count(summary: RunSummary) -> int:
    return 0 if summary.comparison is None else len(np.unique(summary.comparison.gt_id))


def _tracker_timelines(ax, summary: RunSummary) -> None:
    timelines = summary.timelines
    for y, timeline in enumerate(timelines):
        color = id_color_rgb(timeline.track_id)
        ax.broken_barh(_spans(timeline.detected), (y - 0.4, 0.8), color=color)
        ax.broken_barh(_spans(timeline.interpolated), (y - 0.4, 0.8), facecolor=(*color, 0.25),
                       edgecolor=color, hatch="////", linewidth=0.5)  # fmt: skip
    _id_axis(ax, [t.track_id for t in timelines], "tracker id")
    ax.set_title(f"tracker: {len(timelines)} ids (solid: detected, hatched: interpolated, "
                 "blank: gap)", fontsize=10)  # fmt: skip
    _frame_axis(ax, summary)


def _gt_timelines(ax, summary: RunSummary) -> None:
    comparison = summary.comparison
    assert comparison is not None
    people = np.unique(comparison.gt_id)
    first_frame = [comparison.gt_frame[comparison.gt_id == g].min() for g in people]
    people = people[np.argsort(first_frame, kind="stable")]
    switches_x, switches_y = [], []
    for y, person in enumerate(people.tolist()):
        rows = np.flatnonzero(comparison.gt_id == person)
        rows = rows[np.argsort(comparison.gt_frame[rows], kind="stable")]
        frames, matched = comparison.gt_frame[rows], comparison.gt_track[rows]
        for track_id in np.unique(matched).tolist():
            spans = _spans(frames[matched == track_id])
            if track_id < 0:  # not a colour: some ids are red too
                ax.broken_barh(spans, (y - 0.4, 0.8), facecolor=_MISS_FACE, edgecolor=_MISS,
                               hatch="xxxx", linewidth=0)  # fmt: skip
            else:
                ax.broken_barh(spans, (y - 0.4, 0.8), color=id_color_rgb(track_id))
                _label_spans(ax, spans, y, track_id, summary)
        hit = matched >= 0
        changed = np.flatnonzero(matched[hit][1:] != matched[hit][:-1]) + 1
        switches_x += frames[hit][changed].tolist()
        switches_y += [y] * len(changed)
    ax.scatter(switches_x, switches_y, marker="|", s=140, color="black", linewidths=1.5,
               zorder=3, label=f"id switch ({len(switches_x)})")  # fmt: skip
    _id_axis(ax, people.tolist(), "ground-truth id")
    ax.set_title(f"ground truth: {len(people)} people, by the tracker id covering them "
                 "(crossed: missed)", fontsize=10)  # fmt: skip
    if switches_x:
        ax.legend(loc="upper right", fontsize=8)
    _frame_axis(ax, summary)


def _label_spans(ax, spans: list[tuple[float, float]], y: int, track_id: int,
                 summary: RunSummary) -> None:  # fmt: skip
    """Write the tracker id inside each span wide enough to hold it (colours alone repeat)."""
    first, last = summary.frames
    red, green, blue = id_color_rgb(track_id)
    ink = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55 else "white"
    for start, width in spans:
        if width >= _LABEL_MIN_SHARE * (last - first + 1):
            ax.text(start + width / 2, y, str(track_id), ha="center", va="center", fontsize=7,
                    color=ink, clip_on=True)  # fmt: skip


def _spans(frames: np.ndarray) -> list[tuple[float, float]]:
    return [(a - 0.5, b - a + 1) for a, b in runs_of(np.sort(frames))]


def _id_axis(ax, ids: list[int], label: str) -> None:
    step = max(1, int(np.ceil(len(ids) / _MAX_LABELLED_IDS)))
    ax.set_yticks(range(0, len(ids), step), [str(i) for i in ids[::step]], fontsize=7)
    ax.set_ylim(max(len(ids), 1) - 0.5, -0.5)
    ax.set_ylabel(label)


def _frame_axis(ax, summary: RunSummary) -> None:
    first, last = summary.frames
    ax.set_xlim(first - 0.5, last + 0.5)
    ax.set_xlabel("frame")
    ax.grid(axis="x", alpha=0.3)


def _people_per_frame(ax, summary: RunSummary) -> None:
    frames = summary.frame_numbers
    ax.plot(frames, summary.per_frame, color="tab:blue", linewidth=1.2,
            label=f"tracked boxes (mean {summary.per_frame.mean():.1f})")  # fmt: skip
    comparison = summary.comparison
    if comparison is not None and summary.gt_per_frame is not None:
        first = summary.frames[0]
        found = np.bincount(comparison.gt_frame[comparison.gt_track >= 0] - first,
                            minlength=len(frames))[: len(frames)]  # fmt: skip
        ax.plot(frames, summary.gt_per_frame, color="black", linewidth=1.2,
                label=f"ground truth (mean {summary.gt_per_frame.mean():.1f})")  # fmt: skip
        ax.fill_between(frames, found, summary.gt_per_frame, step="mid", color=_MISS, alpha=0.3,
                        label="missed people (FN)")  # fmt: skip
        false = summary.per_frame - found  # tracked boxes no ground truth matched
        ax.fill_between(frames, found, summary.per_frame, where=false > 0, step="mid",
                        facecolor="none", edgecolor=_FALSE, hatch="////", linewidth=0,
                        label=f"false positives (FP, {int(false.sum())})")  # fmt: skip
    ax.set_xlim(frames[0] - 0.5, frames[-1] + 0.5)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("people per frame")
    ax.set_xlabel("frame")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=8, frameon=False)


def _stage_times(ax, summary: RunSummary) -> None:
    """When each stage ran (bars from its start to its end, so stages sharing a decode pass
    overlap as they did) and their wall time counted once; runs made before the pipeline
    recorded windows show each stage's own seconds instead."""
    windows = stage_windows(summary.stages)
    if not windows:
        _stage_seconds(ax, summary)
        return
    origin = min(start for start, _ in windows.values())
    names = sorted(windows, key=lambda stage: windows[stage])
    ends = [windows[stage][1] - origin for stage in names]
    for y, stage in enumerate(names):
        start, stop = (value - origin for value in windows[stage])
        ax.barh(y, stop - start, left=start, height=0.55, color="tab:gray")
        own = summary.stages[stage].seconds
        text = f" {stop - start:.2f} s" + (f" (own work {float(own):.2f} s)" if own else "")
        ax.text(stop, y, text, va="center", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(max(len(names), 3) - 0.5, -0.5)
    ax.set_xlim(0, max(ends) * 1.3 or 1)
    ax.set_xlabel("seconds since the first stage started")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"when each stage ran: wall time {summary.wall:.2f} s (overlapping stages "
                 "counted once)", fontsize=10)  # fmt: skip


def _stage_seconds(ax, summary: RunSummary) -> None:
    timed = [(stage, entry) for stage, entry in summary.stages.items() if entry.seconds is not None]
    ax.set_title("time per stage (from the manifest)", fontsize=10)
    if not timed:
        ax.text(0.5, 0.5, "no stage recorded its time", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return
    names = [stage for stage, _ in timed]
    seconds = [float(entry.seconds) for _, entry in timed]
    bars = ax.barh(names, seconds, height=0.5, color="tab:gray")
    for bar, (_, entry), value in zip(bars, timed, seconds, strict=True):
        frames = entry.frames
        rate = ""
        if frames and value > 0:
            rate = f"  ({(frames[1] - frames[0] + 1) / value:.0f} frames/s)"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.2f} s{rate}",
                va="center", fontsize=8)  # fmt: skip
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlim(0, max(seconds) * 1.35 or 1)
    ax.set_ylim(max(len(names), 3) - 0.5, -0.5)
    ax.set_xlabel("seconds")
