"""`mot-cli eval`: TrackEval-exact HOTA, CLEAR and Identity metrics in a table and files.

Imports only numpy (and scipy's small assignment module) beyond Typer and Rich, so the whole
process takes a fraction of a second.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands._common import console, user_errors

if TYPE_CHECKING:
    from rich.table import Table

    from mot_cli.metrics import EvalConfig, EvalResult


class BenchmarkName(str, Enum):
    """Preprocessing rules, as TrackEval's BENCHMARK setting."""

    MOT15 = "MOT15"
    MOT16 = "MOT16"
    MOT17 = "MOT17"
    MOT20 = "MOT20"
    MOTS = "MOTS"


# Columns of the default table; more when the terminal is wide, every field with --all.
_MAIN_FIELDS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN")
_WIDE_FIELDS = ("HOTA", "DetA", "AssA", "LocA", "MOTA", "MOTP", "IDF1", "IDSW", "Frag",
                "CLR_FP", "CLR_FN", "MT", "ML")  # fmt: skip
_HEADERS = {"CLR_FP": "FP", "CLR_FN": "FN", "CLR_TP": "TP", "CLR_Re": "Re", "CLR_Pr": "Pr"}
# On masks the MOTS literature's headline figures lead: TrackEval's CLEAR sMOTA, MOTA and MOTP
# computed with mask IoU are sMOTSA, MOTSA and MOTSP (Voigtlaender et al., CVPR 2019).
_MOTS_MAIN_FIELDS = ("HOTA", "sMOTA", "MOTA", "MOTP", "AssA", "IDF1", "IDSW", "CLR_FP", "CLR_FN")
_MOTS_WIDE_FIELDS = ("HOTA", "DetA", "AssA", "LocA", "sMOTA", "MOTA", "MOTP", "IDF1", "IDSW",
                     "Frag", "CLR_FP", "CLR_FN", "MT", "ML")  # fmt: skip
_MOTS_HEADERS = {**_HEADERS, "sMOTA": "sMOTSA", "MOTA": "MOTSA", "MOTP": "MOTSP"}
_DECIMALS = 2  # table percentages; --json and --csv keep every digit


@user_errors
def eval_command(
    ground_truth: Annotated[Path, typer.Argument(
        help="Ground truth: a MOTChallenge split folder (<BENCHMARK>-<split>/<seq>/gt/gt.txt "
        "with seqinfo.ini), one sequence folder, or a gt.txt.", show_default=False)],
    trackers: Annotated[list[Path], typer.Argument(
        help="Tracker results, one or more: tracker folders (<tracker>/data/<seq>.txt), run "
        "folders written by `mot-cli track`, folders of run folders (a `batch` --cache-dir: "
        "one tracker, scored on the sequences it has runs for), or <seq>.txt files.",
        show_default=False)],
    benchmark: Annotated[BenchmarkName | None, typer.Option(
        "--benchmark", "-b", case_sensitive=False,
        help="Preprocessing: MOT15 scores every ground-truth row with conf != 0; MOT16/MOT17/"
        "MOT20 remove tracker boxes on distractors and score class-1 rows only; MOTS scores "
        "masks (MOTS text: frame id class_id height width rle) by mask IoU with TrackEval's "
        "MOTSChallenge rules (class 2 scored, class 10 ignore regions). Default: MOTS when the "
        "ground truth is MOTS text, else from its folder name, else MOT15.",
        show_default=False)] = None,
    seqmap: Annotated[Path | None, typer.Option(
        "--seqmap", help="Sequence list (TrackEval seqmap) for a split folder. Default: "
        "seqmaps/<folder>.txt inside or beside it, else every sequence folder.")] = None,
    sequences: Annotated[list[str] | None, typer.Option(
        "--seq", help="Evaluate only this sequence (repeatable).", show_default=False)] = None,
    seq_length: Annotated[int | None, typer.Option(
        "--seq-length", min=1, help="Frames in the sequence, for a gt.txt without a "
        "seqinfo.ini beside it.")] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write results as JSON: TrackEval's keys, fractions and integer counts, "
        "per sequence and COMBINED_SEQ, under each tracker's name.")] = None,
    csv_path: Annotated[Path | None, typer.Option(
        "--csv", help="Write one CSV row per tracker and sequence (fractions), with the HOTA "
        "family per alpha.")] = None,
    plot_path: Annotated[Path | None, typer.Option(
        "--plot", help="Write a PNG of HOTA, DetA and AssA against alpha per tracker.")] = None,
    all_metrics: Annotated[bool, typer.Option(
        "--all", help="Show every metric (HOTA, CLEAR and Identity tables), not just the main "
        "ones.")] = False,
) -> None:
    """Score trackers against ground truth with TrackEval's exact HOTA, CLEAR and Identity rules.

    Each tracker gets a row of its sequences combined (counts summed over the
    sequences, not a mean, as TrackEval does) and a row per sequence. The table
    shows percentages; --json and --csv keep fractions and every digit.

    Masks (MOTS) are scored when the ground truth is MOTS text (MOTS20,
    KITTI-MOTS layout) or with --benchmark MOTS; a run folder then contributes
    its <name>.mots.txt, and the table shows sMOTSA, MOTSA and MOTSP (TrackEval's
    CLEAR sMOTA, MOTA and MOTP on mask IoU) beside HOTA.

    Examples:

    \b
      mot-cli eval MOT15/train my_tracker --benchmark MOT15

    \b
      mot-cli eval MOT17/train my_tracker other_tracker \\
          --json results.json --csv results.csv --plot alpha.png

    \b
      mot-cli eval MOT15/train runs/TUD-Campus --all

    \b
      mot-cli eval MOT15/train runs

    \b
      mot-cli eval gt.txt tracks.txt --seq-length 795

    \b
      mot-cli eval MOTS20-train/MOTS20-09 runs/MOTS20-09
    """
    from mot_cli.metrics import EvalConfig, evaluate
    from mot_cli.metrics.report import write_csv, write_json, write_plot

    config = EvalConfig(
        ground_truth=ground_truth,
        trackers=tuple(trackers),
        benchmark=benchmark.value if benchmark is not None else None,
        seqmap=seqmap,
        sequences=tuple(sequences or ()),
        seq_length=seq_length,
    )
    outputs = {"--json": json_path, "--csv": csv_path, "--plot": plot_path}
    _check_outputs(config, {option: path for option, path in outputs.items() if path})
    result = evaluate(config)
    for tracker in result.trackers:
        if missing := result.unscored(tracker):
            console.print(
                f"note: {tracker.name}: {len(tracker.sequences)} of {len(result.sequences)} "
                f"sequences scored; no results for {', '.join(missing)}",
                style="dim", highlight=False,
            )  # fmt: skip
    print_result(result, all_metrics=all_metrics)
    for path, write in ((json_path, write_json), (csv_path, write_csv), (plot_path, write_plot)):
        if path is not None:
            write(result, path)
            console.print(f"wrote {path}", style="dim", highlight=False)


def print_result(result: EvalResult, *, all_metrics: bool = False) -> None:
    """The results table on stdout: the main metrics (more when the terminal is wide), or
    every metric family with `all_metrics`. `batch` prints a split's results with it too."""
    from mot_cli.progress import results_console

    out = results_console()
    if all_metrics:
        from mot_cli.metrics.clear import CLEAR_FIELDS
        from mot_cli.metrics.hota import HOTA_FIELDS
        from mot_cli.metrics.identity import IDENTITY_FIELDS

        families = [("HOTA", HOTA_FIELDS), ("CLEAR", CLEAR_FIELDS), ("Identity", IDENTITY_FIELDS)]
    else:
        mots = result.benchmark == "MOTS"
        main, wide_fields = (
            (_MOTS_MAIN_FIELDS, _MOTS_WIDE_FIELDS) if mots else (_MAIN_FIELDS, _WIDE_FIELDS)
        )
        width = sum(_column_width(f, result.benchmark) for f in wide_fields)
        wide = out.width >= _name_width(result) + width
        families = [("", wide_fields if wide else main)]
    for family, fields in families:
        for table in _tables(result, family, fields, out.width):
            out.print(table)


def _check_outputs(config: EvalConfig, outputs: dict[str, Path]) -> None:
    """Before scoring: every output is writable, distinct, and none is a file being read."""
    from mot_cli.guard import check_outputs
    from mot_cli.metrics.dataset import find_trackers
    from mot_cli.metrics.evaluate import ground_truth_for

    if not outputs:
        return
    gt = ground_truth_for(config)
    inputs = [s.path for s in gt] + [s.path.parent.parent / "seqinfo.ini" for s in gt]
    inputs += [f for t in find_trackers(config.trackers, gt) for f in t.files.values()]
    inputs += [p / "manifest.json" for p in config.trackers] + [config.seqmap]
    runs = [p for p in config.trackers if (p / "manifest.json").is_file()]
    check_outputs(outputs, reads=inputs, runs=runs)


def _name_width(result: EvalResult) -> int:
    names = ["Tracker", *(t.name for t in result.trackers)]
    names += ["  " + seq for t in result.trackers for seq in t.sequences]
    return max(map(len, names)) + 3  # padding and the table's edges


def _header(field: str, benchmark: str) -> str:
    return (_MOTS_HEADERS if benchmark == "MOTS" else _HEADERS).get(field, field)


def _column_width(field: str, benchmark: str = "") -> int:
    return max(len(_header(field, benchmark)), 4 + _DECIMALS) + 1  # "100.00" + a space


def _tables(
    result: EvalResult, family: str, fields: tuple[str, ...], width: int
) -> list[Table]:
    """One table, or several when the fields do not fit the terminal's width."""
    chunks: list[list[str]] = [[]]
    used = _name_width(result)
    for field in fields:
        if chunks[-1] and used + _column_width(field, result.benchmark) > width:
            chunks.append([])
            used = _name_width(result)
        chunks[-1].append(field)
        used += _column_width(field, result.benchmark)
    title = f"{family + ' · ' if family else ''}{result.benchmark} rules · % except counts"
    return [
        _table(result, tuple(chunk), title if i == 0 else None) for i, chunk in enumerate(chunks)
    ]


def _table(result: EvalResult, fields: tuple[str, ...], title: str | None) -> Table:
    """Trackers down the side: a bold row of all sequences combined, then each sequence."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
        pad_edge=False, collapse_padding=True, caption_justify="left",
        caption="bold: sequences combined (counts summed, as TrackEval)" if title else None,
    )  # fmt: skip
    table.add_column("Tracker", overflow="fold")
    for field in fields:
        table.add_column(_header(field, result.benchmark), justify="right")
    for index, tracker in enumerate(result.trackers):
        combined = tracker.combined.summary()
        table.add_row(tracker.name, *_cells(combined, fields), style="bold")
        for name, seq_result in tracker.sequences.items():
            table.add_row(f"  {name}", *_cells(seq_result.summary(), fields))
        if index < len(result.trackers) - 1:
            table.add_section()
    return table


def _cells(values: dict[str, float | int], fields: tuple[str, ...]) -> list[str]:
    cells = []
    for field in fields:
        value = values[field]
        cells.append(str(value) if isinstance(value, int) else f"{100 * value:.{_DECIMALS}f}")
    return cells
