"""Write evaluation results: JSON (TrackEval's keys and conventions), CSV and an alpha plot.

JSON: `{tracker: {"COMBINED_SEQ": {...}, "<seq>": {...}}}`, each sequence holding exactly the
keys of TrackEval's summary (`HOTA`, `DetA`, ..., `IDFP`) with ratios as fractions and counts
as integers, so a file TrackEval wrote and ours compare key for key.

CSV: one row per tracker and sequence (combined last), the same fields, then the HOTA family
per alpha in TrackEval's detailed-output naming (`HOTA___5` ... `HOTA___95`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.files import write_bytes
from mot_cli.metrics.evaluate import COMBINED, FIELDS, EvalResult
from mot_cli.metrics.hota import ALPHAS, CURVE_FIELDS

__all__ = ["curve_columns", "results_json", "write_csv", "write_json", "write_plot"]

_PLOTTED = ("HOTA", "DetA", "AssA")


def results_json(result: EvalResult) -> dict[str, dict[str, dict[str, float | int]]]:
    """`{tracker: {sequence or COMBINED_SEQ: {field: value}}}` (see module docstring)."""
    return {tracker.name: tracker.table() for tracker in result.trackers}


def write_json(result: EvalResult, path: Path) -> None:
    """Write `results_json(result)` with sorted keys, like TrackEval's saved results."""
    text = json.dumps(results_json(result), indent=1, sort_keys=True) + "\n"
    _write_atomically(Path(path), text)


def curve_columns() -> list[str]:
    """Per-alpha CSV column names, e.g. `HOTA___5`, in CURVE_FIELDS then alpha order."""
    return [f"{field}___{round(alpha * 100)}" for field in CURVE_FIELDS for alpha in ALPHAS]


def write_csv(result: EvalResult, path: Path) -> None:
    """One row per tracker and sequence, COMBINED_SEQ last; fractions and integer counts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tracker", "sequence", *FIELDS, *curve_columns()])
    for tracker in result.trackers:
        rows = [*tracker.sequences.items(), (COMBINED, tracker.combined)]
        for name, seq_result in rows:
            summary = seq_result.summary()
            curves = seq_result.curves()
            per_alpha = [repr(float(v)) for field in CURVE_FIELDS for v in curves[field]]
            writer.writerow(
                [tracker.name, name, *(_cell(summary[field]) for field in FIELDS), *per_alpha]
            )
    _write_atomically(Path(path), buffer.getvalue())


def write_plot(result: EvalResult, path: Path) -> None:
    """PNG of the combined HOTA, DetA and AssA against alpha, one line per tracker."""
    figure = alpha_figure(result)
    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    _write_atomically(path, buffer.getvalue())


def alpha_figure(result: EvalResult):  # -> matplotlib.figure.Figure (imported lazily)
    """HOTA, DetA and AssA in percent against alpha, as the table and the legend give them."""
    try:  # matplotlib is only needed here, so `eval` without --plot never pays for it
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MotCliError("--plot needs matplotlib: pip install matplotlib") from None

    figure = Figure(figsize=(12, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(_PLOTTED), sharey=True)
    for ax, field in zip(axes, _PLOTTED, strict=True):
        for tracker in result.trackers:
            values = 100 * np.asarray(tracker.combined.curves()[field], dtype=float)
            ax.plot(ALPHAS, values, marker=".", label=f"{tracker.name} ({values.mean():.1f})")
        ax.set_title(field)
        ax.set_xlabel("α (IoU threshold)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
    axes[0].set_ylabel("score in % (combined sequences)")
    figure.suptitle(f"{result.benchmark} rules")
    return figure


def _cell(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def _write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place (see files.py)."""
    write_bytes(path, content.encode("utf-8") if isinstance(content, str) else content)
