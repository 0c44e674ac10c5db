"""`mot-cli summary`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mot_cli.commands._common import console, user_errors
from mot_cli.commands.render import RunFolder

SummaryGroundTruth = Annotated[
    Path | None,
    typer.Option(
        "--gt",
        help="MOTChallenge ground truth (gt.txt or sequence folder): add HOTA, MOTA, IDF1 and "
        "how many people kept one id, and with --plot the ground truth's people beside the "
        "tracker's ids, matched as the CLEAR metrics match.",
    ),
]


@user_errors
def summary_command(
    run: RunFolder,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw a PNG: per-id timelines, people per frame, "
                     "stage timings (and the ground truth's beside them with --gt)."),
    ] = None,
    gt: SummaryGroundTruth = None,
) -> None:
    """Summarise a run: ids, track lengths, gaps, people per frame, stage timings.

    Prints a plain-text summary. --plot draws one bar per id across its frames (solid:
    detected, hatched: interpolated, blank: gaps). With --gt, also the ground truth's
    people coloured by the tracker id that covered them (red: missed, ticks: id
    switches) and HOTA, MOTA and IDF1 over the run's frames.

    Examples:

    \b
      mot-cli summary runs/vtest_first80

    \b
      mot-cli summary runs/PETS09-S2L1 --plot pets.png \\
          --gt MOT15/train/PETS09-S2L1
    """
    from rich.console import Console

    from mot_cli.outputs.run import load_run
    from mot_cli.outputs.summary import summarize, summary_lines

    if plot is not None:
        from mot_cli.guard import check_output

        check_output(plot, "--plot", reads=[gt], runs=[run])
    finished = load_run(run)
    for warning in finished.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    gt_rows, benchmark = None, "MOT15"
    if gt is not None:
        from mot_cli.outputs.versus_gt import read_gt

        gt_rows, benchmark = read_gt(gt, int(finished.source_info.get("frames") or 0) or 1)
    summary = summarize(finished, gt_rows, benchmark)
    out = Console(highlight=False, soft_wrap=True)
    for line in summary_lines(summary):
        out.print(line, markup=False)
    if plot is not None:
        from mot_cli.outputs.summary_plot import write_summary_plot

        write_summary_plot(summary, plot)
        console.print(f"wrote {plot}", style="dim", highlight=False)
