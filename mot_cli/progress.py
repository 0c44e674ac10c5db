"""Rich progress bars on stderr for long stages, shared so every stage looks the same.

Also where every message goes. Progress and notes go to stderr and results to stdout
(`results_console`), so `$(mot-cli …)` and pipes get the results alone. Neither console wraps
lines: a wrapped path cannot be copied, and a log file is not a terminal of 80 columns.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

console = Console(stderr=True, soft_wrap=True)

_UNWRAPPED_WIDTH = 10_000  # a table's width when it goes to a file or a pipe: never folded


def results_console() -> Console:
    """A console on stdout for results (the tracks' path, tables); lines are never wrapped,
    and off a terminal (unless $COLUMNS says a width) tables are not folded to 80 columns."""
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(soft_wrap=True, highlight=False, width=_UNWRAPPED_WIDTH if wide else None)

_bars = {"shown": True}


def show_bars(shown: bool) -> None:
    """Draw this process's progress bars, or not: batch workers draw none (several processes
    drawing on one terminal garble it); what they print is kept and shown by the batch."""
    _bars["shown"] = shown


class RateColumn(ProgressColumn):
    """Frames per second of this run's own frames (a resumed run's cached ones not counted;
    blank until two updates have arrived)."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text("" if speed is None else f"{speed:.1f} frames/s", style="progress.data.speed")


@contextmanager
def progress_bar(description: str, total: int, done: int = 0) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; frames already done (a resumed run) start the bar part-filled."""
    with progress_bars([(description, total, done)]) as (advance,):
        yield advance


@contextmanager
def progress_bars(
    tasks: list[tuple[str, int, int]],
) -> Iterator[list[Callable[[int], None]]]:
    """One bar per `(description, total, done)`, drawn together (stages sharing a decode)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not _bars["shown"],
    ) as progress:
        ids = [progress.add_task(name, total=total, completed=done) for name, total, done in tasks]
        yield [lambda n, task=task: progress.advance(task, n) for task in ids]


@contextmanager
def count_bar(description: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)` for a bar over `total` items (a batch's videos); stage bars drawn
    meanwhile appear beneath it."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def loss_bar(description: str, total: int) -> Iterator[Callable[[int, float], None]]:
    """Yield `advance(steps, loss)`: a training loop's bar, showing its latest loss."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total, loss="-")
        yield lambda n, loss: progress.update(task, advance=n, loss=f"{loss:.3f}")
