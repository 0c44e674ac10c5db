"""`mot-cli batch`: many videos through the stage graph `track` uses, here or on Ray."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import console, print_error, user_errors
from mot_cli.urls import source_argument

if TYPE_CHECKING:
    from mot_cli.batch import BatchInputs, Split, VideoJob, VideoResult


@user_errors
@opt.with_track_options
def batch_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Videos; folders of videos, MOTChallenge sequence folders or split folders "
            "(every sequence, or its seqmap's); globs (quote them: 'clips/**/*.mp4'); text "
            "lists of any of these (one a line, # comments, paths relative to the list).",
            show_default=False,
            parser=source_argument,  # a URL is refused as typed, not with `//` folded
        ),
    ],
    options: opt.TrackOptions,
    cache_dir: opt.CacheDir = Path("runs"),
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-j",
            help="Videos worked on at once: N > 1 starts N worker processes on this machine. "
            "With --ray (no address): the CPUs the local Ray may use (default: all).",
        ),
    ] = 1,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Run the videos as Ray tasks (pip install 'mot-cli[ray]'); without "
            "--ray-address, on a Ray started here on loopback.",
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="A running Ray cluster (auto, HOST:PORT, ray://HOST:PORT); implies --ray. "
            "--cache-dir must then be a folder every node sees at the same path.",
            show_default=False,
        ),
    ] = None,
    gpus_per_task: Annotated[
        float,
        typer.Option(
            "--gpus-per-task",
            help="With --ray: GPUs each perception task asks for (0.5: two share one); use "
            "with --device cuda.",
        ),
    ] = 0.0,
    max_retries: Annotated[
        int,
        typer.Option(
            "--max-retries",
            help="With --ray: how often Ray retries a task whose worker died; a retry resumes "
            "from the caches already written.",
        ),
    ] = 3,
) -> None:
    """Track many videos, each in its own run folder, through the stages `track` runs.

    Every option of `track` applies to every video ({name} in --det-txt and --masks-txt
    stands for each video's name). A run whose caches are complete and fresh is skipped ("up
    to date"). A video that fails is reported in the summary with its one-line error while
    the others go on; the exit status is then 1. A MOTChallenge split folder whose sequences have
    ground truth is evaluated as a whole at the end. Run folders are named after the videos;
    two inputs of one name get the first 8 hex digits of their path's sha256 appended.

    Examples:

    \b
      mot-cli batch videos/ --cache-dir runs

    \b
      mot-cli batch 'clips/**/*.mp4' more.txt --workers 4 --no-cmc

    \b
      mot-cli batch MOT15/train --det-txt det/det.txt --no-reid

    \b
      mot-cli batch videos/ --ray --device cuda --gpus-per-task 1

    \b
      mot-cli batch videos.txt --ray-address ray://head:10001 \\
          --cache-dir /mnt/runs
    """
    import time
    from contextlib import ExitStack
    from dataclasses import replace

    from mot_cli.batch import (
        FAILED,
        RayOptions,
        VideoJob,
        connect,
        expand_inputs,
        run_pool,
        run_ray,
        run_serial,
    )
    from mot_cli.files import prepare_folder
    from mot_cli.progress import count_bar
    from mot_cli.recipes import track_configs
    from mot_cli.video import FrameRange

    use_ray = ray or ray_address is not None
    _check_modes(workers, use_ray, ray_address, gpus_per_task, max_retries)
    ray_options = RayOptions(
        ray_address, workers if workers > 1 and ray_address is None else None,
        gpus_per_task, max_retries,
    ) if use_ray else None  # fmt: skip
    FrameRange(options.start, options.end)  # a bad range fails here, once
    found = expand_inputs(inputs, cache_dir)
    # Bad options fail here once, not once per video; a device is checked where it is used.
    track_configs(replace(options, device="cpu") if use_ray else options, found.items[0].source)
    prepare_folder(cache_dir, "--cache-dir")
    jobs = [VideoJob(item.source, item.name, cache_dir, options) for item in found.items]
    how = "Ray" if use_ray else f"{workers} worker processes" if workers > 1 else "one by one"
    started = time.perf_counter()
    with ExitStack() as stack:
        if ray_options is not None or workers > 1:  # workers and a local Ray die with us
            from mot_cli.batch.lifeline import lifeline

            stack.callback(lifeline())
        if ray_options is not None:  # a bad address fails before anything is drawn
            stack.callback(connect(ray_options.address, cpus=ray_options.cpus))
        console.print(f"batch: {len(jobs)} videos → {cache_dir}/ ({how})", highlight=False)
        advance = stack.enter_context(count_bar("videos", len(jobs), "videos"))

        def on_done(result: VideoResult) -> None:
            _report(result)
            advance(1)

        if ray_options is not None:
            results = run_ray(jobs, ray_options, on_done)
        elif workers > 1:
            results = run_pool(jobs, workers, on_done)
        else:
            results = run_serial(jobs, on_done, _announcer(len(jobs)))
    _print_summary(results, time.perf_counter() - started)
    failed = [result for result in results if result.status == FAILED]
    eval_failed = not _evaluate_splits(found, results, cache_dir)
    for result in failed:
        if result.detail:
            console.print(result.detail, highlight=False, markup=False)
        print_error(f"{result.name}: {result.error}")
    if failed or eval_failed:
        raise typer.Exit(code=1)


def _check_modes(
    workers: int, use_ray: bool, address: str | None, gpus_per_task: float, max_retries: int
) -> None:
    from mot_cli.errors import MotCliError

    if workers < 1:
        raise MotCliError(f"--workers must be at least 1, got {workers}")
    if address is not None and workers != 1:
        raise MotCliError("--workers applies on this machine; a Ray cluster has its own CPUs")
    if not use_ray and gpus_per_task != 0.0:
        raise MotCliError("--gpus-per-task applies to Ray tasks: add --ray")
    if not use_ray and max_retries != 3:
        raise MotCliError("--max-retries applies to Ray tasks: add --ray")


def _announcer(total: int) -> Callable[[VideoJob], None]:
    """Serial mode: a line naming each video before its stages' own lines and bars."""
    from mot_cli.progress import console as progress_console

    count = iter(range(1, total + 1))

    def announce(job: VideoJob) -> None:
        progress_console.print(
            f"[bold]{job.name}[/] ({next(count)}/{total}): {job.source}", highlight=False
        )

    return announce


def _report(result: VideoResult) -> None:
    """One line per finished video (above the bar), after what its worker printed."""
    from rich.text import Text

    from mot_cli.batch import FAILED, OK
    from mot_cli.progress import console as progress_console

    prefix = f"[{result.name}] "
    lines = [Text.from_ansi(line) for line in dict.fromkeys(result.log.splitlines())]
    # (dict.fromkeys: with Ray, both tasks of a video say which caches were up to date)
    if result.status == FAILED:
        lines.append(Text("failed: ", style="bold red") + Text(result.error or ""))
    else:
        style = "green" if result.status == OK else "dim"
        lines.append(
            Text(result.status, style=style)
            + Text(f": {result.frames} frames, {result.ids} ids in {result.seconds:.1f} s")
        )
    for line in lines:
        progress_console.print(Text(prefix) + line, highlight=False, soft_wrap=True)


def _print_summary(results: list[VideoResult], seconds: float) -> None:
    """The table of every video on stdout, and the totals."""
    from rich import box
    from rich.table import Table

    from mot_cli.batch import FAILED, OK, UP_TO_DATE
    from mot_cli.progress import results_console

    styles = {OK: "green", UP_TO_DATE: "dim", FAILED: "bold red"}
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("video", overflow="fold")
    table.add_column("run", overflow="fold")
    for column in ("frames", "ids", "seconds"):
        table.add_column(column, justify="right")
    table.add_column("status")
    for result in results:
        table.add_row(
            str(result.source),
            result.name,
            "-" if result.frames is None else str(result.frames),
            "-" if result.ids is None else str(result.ids),
            f"{result.seconds:.1f}",
            result.status,
            style=styles.get(result.status),
        )
    counts = {status: sum(r.status == status for r in results) for status in styles}
    rate = 60 * len(results) / seconds if seconds > 0 else 0.0
    out = results_console()
    out.print(table)
    out.print(
        f"{len(results)} videos: {counts[OK]} tracked, {counts[UP_TO_DATE]} up to date, "
        f"{counts[FAILED]} failed, in {seconds:.1f} s ({rate:.1f} videos/min)",
        highlight=False,
    )


def _evaluate_splits(found: BatchInputs, results: list[VideoResult], cache_dir: Path) -> bool:
    """Score each split with ground truth on the sequences tracked (mot_cli.metrics, the
    split's benchmark rules, as `mot-cli eval` would); False when one could not be scored."""
    from mot_cli.errors import MotCliError, error_message

    scored = True
    for split in found.splits:
        if not split.has_gt:
            continue
        try:
            _evaluate_split(split, found, results, cache_dir)
        except MotCliError as exc:
            print_error(f"eval of {split.path}: {error_message(exc)}")
            scored = False
    return scored


def _evaluate_split(
    split: Split, found: BatchInputs, results: list[VideoResult], cache_dir: Path
) -> None:
    from mot_cli.commands.eval import print_result
    from mot_cli.metrics import MOTS, score_trackers
    from mot_cli.metrics.dataset import TrackerInput, detect_benchmark, find_ground_truth

    gt = find_ground_truth(split.path)
    benchmark = detect_benchmark(split.path, gt)
    files: dict[str, Path] = {}
    for item, result in zip(found.items, results, strict=True):
        if item.split != split or result.text is None:
            continue
        text = result.text
        if benchmark == MOTS:
            text = text.with_name(f"{result.name}.mots.txt")
        if text.is_file():
            files[item.sequence] = text
    missing = [seq.name for seq in gt if seq.name not in files]
    console.print(
        f"eval: {split.path} ({benchmark} rules), {len(files)} of {len(gt)} sequences"
        + (f"; not scored: {', '.join(missing)}" if missing else ""),
        highlight=False,
    )
    if files:
        tracker = TrackerInput(Path(cache_dir).resolve().name, files)
        print_result(score_trackers(gt, [tracker], benchmark))
