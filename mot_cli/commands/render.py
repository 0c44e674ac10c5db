"""`mot-cli render`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import console, user_errors

RunFolder = Annotated[
    Path,
    typer.Argument(
        help="Run folder written by `mot-cli track` (runs/<name>/).", show_default=False
    ),
]
GroundTruth = Annotated[
    Path | None,
    typer.Option(
        "--gt",
        help="MOTChallenge ground truth (gt.txt or sequence folder): mark misses (red), false "
        "positives (dashed) and id switches, matched as the CLEAR metrics match.",
    ),
]


@user_errors
def render_command(
    run: RunFolder,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Video to write: .mp4, .m4v or .mov (H.264, which "
            "browsers play) or .avi (Motion-JPEG).",
            show_default=False,
        ),
    ],
    start: opt.Start = 1,
    end: opt.End = None,
    scale: Annotated[
        float, typer.Option("--scale", help="Output size over source size, e.g. 0.5 for 1080p.")
    ] = 1.0,
    trail: Annotated[
        int, typer.Option("--trail", min=0, help="Frames of motion trail behind each box.")
    ] = 20,
    masks: Annotated[
        bool, typer.Option("--masks/--no-masks", help="Tint each track's mask, when the run "
                           "has masks.parquet.")
    ] = True,
    gt: GroundTruth = None,
) -> None:
    """Draw a run's tracks over its source video: boxes, ids, trails, masks, frame numbers.

    Uses only the run folder's caches and the source its manifest names; no model runs. Each
    id keeps one colour (chosen from the id alone). The video is written to a temporary
    file and renamed into place.

    Examples:

    \b
      mot-cli render runs/vtest_first80 -o vtest.mp4

    \b
      mot-cli render runs/MOT16-11 -o preview.mp4 --scale 0.5 \\
          --start 100 --end 300

    \b
      mot-cli render runs/PETS09-S2L1 -o errors.mp4 \\
          --gt MOT15/train/PETS09-S2L1
    """
    from mot_cli.guard import check_output
    from mot_cli.outputs.render import RenderConfig, render, video_codec
    from mot_cli.outputs.run import load_run
    from mot_cli.progress import results_console

    config = RenderConfig(start=start, end=end, scale=scale, trail=trail, masks=masks, gt=gt)
    video_codec(output)
    check_output(output, "--output", reads=[gt], runs=[run])
    finished = load_run(run)
    for warning in finished.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    result = render(finished, output, config)
    note = ", masks" if result.masks else ""
    out = results_console()  # the results on stdout, progress and warnings on stderr
    out.print(
        f"render: {result.frames} frames, {result.width}x{result.height}, {result.codec}{note} "
        f"→ {result.path}",
        markup=False,
    )
    if result.comparison is not None:
        clear = result.comparison.result.summary()
        out.print(
            f"versus ground truth ({result.comparison.benchmark} rules): FN {clear['CLR_FN']}, "
            f"FP {clear['CLR_FP']}, IDSW {clear['IDSW']}, MOTA {100 * clear['MOTA']:.1f}"
        )
