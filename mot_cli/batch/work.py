"""One video's work, as a process-pool worker or a Ray task runs it, and what it reports.

Each function here opens the video's run folder (locking it for the duration), asks the stage
graph for what is due, and returns a `VideoResult` whatever happens: a failure becomes the
one-line message the CLI would print (`error_message`), so one bad video never stops the
others. Only a lost worker process (killed, out of memory) escapes, and the batch reports it.

`run_video` runs the whole graph (serial and `--workers`). With Ray the same graph is cut in
two: `perceive` makes every cache the tracks read (detections, embeddings, camera motion: the
model stages, in one decode pass, on a GPU when the task has one), then `associate` runs the
tracker on those caches. A run whose every cache is fresh and complete is left as it is and
reported "up to date".
"""

from __future__ import annotations

import io
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mot_cli.errors import debugging, error_message
from mot_cli.recipes import Configs, Cues, TrackRequest
from mot_cli.schema import TRACKS_STAGE
from mot_cli.video import FrameRange

if TYPE_CHECKING:
    from mot_cli.pipeline import Run

__all__ = ["FAILED", "OK", "UP_TO_DATE", "VideoJob", "VideoResult", "associate", "lost",
           "perceive", "run_video"]  # fmt: skip

OK, UP_TO_DATE, FAILED = "ok", "up to date", "failed"


@dataclass(frozen=True)
class VideoJob:
    """One video's work: its source, its run folder, and the request its configs come from.

    The stage configs are built from `request` (`mot_cli.recipes.track_configs`) where the
    work runs, so a device is checked on the machine using it; the request pickles, for pool
    workers and Ray tasks.
    """

    source: Path
    name: str
    cache_dir: Path
    request: TrackRequest = field(default_factory=TrackRequest)

    @property
    def frames(self) -> FrameRange:
        return FrameRange(self.request.start, self.request.end)

    @property
    def force(self) -> bool:
        return self.request.force


@dataclass(frozen=True)
class VideoResult:
    """What became of one video: its status (OK, UP_TO_DATE or FAILED) and its figures.

    `seconds`: time spent on it (not waiting for a worker). `text`: its MOTChallenge text.
    `error`: the one-line message of a failure (`detail`: the traceback, with --debug).
    `log`: what the work printed, when a worker ran it. `ran`: the stages computed; `keys`:
    the caches used, by stage (a Ray perception task hands them to association).
    """

    source: Path
    name: str
    status: str
    seconds: float = 0.0
    frames: int | None = None
    ids: int | None = None
    text: Path | None = None
    error: str | None = None
    detail: str | None = None
    log: str = ""
    ran: tuple[str, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)


def run_video(job: VideoJob, *, capture: bool = False) -> VideoResult:
    """The whole stage graph for one video, up to its tracks.

    `capture`: keep what the work prints in the result instead of printing it, and draw no
    progress bars (a worker process sharing the terminal with others).
    """
    from mot_cli.recipes import produce_tracks

    def work(run: Run, configs: Configs, optional: Cues) -> VideoResult:
        outcome = produce_tracks(run, job.request, configs, optional, trust_keys=not job.force)
        return _tracked(job, run, outcome.ran, outcome.keys)

    return _attempt(job, work, capture)


def perceive(job: VideoJob) -> VideoResult:
    """Every cache the tracks read (model stages), in one decode pass: a Ray task's work."""
    from mot_cli.pipeline import inputs_of, produce

    def work(run: Run, configs: Configs, optional: Cues) -> VideoResult:
        stages = inputs_of(TRACKS_STAGE, configs)
        wanted = {name: config for name, config in configs.items() if name in stages}
        outcome = produce(run, stages, wanted, force=job.force, optional=optional)
        return VideoResult(job.source, job.name, OK, ran=outcome.ran, keys=outcome.keys)

    return _attempt(job, work, capture=True)


def associate(job: VideoJob, perceived: VideoResult) -> VideoResult:
    """The tracker over the caches `perceive` made: a Ray task's work, one per video.

    Only the cues perception kept are used (an optional cue it turned off stays off), and
    only the tracks are recomputed with --force (perception already was).
    """
    from mot_cli.recipes import produce_tracks

    if perceived.status == FAILED:
        return perceived

    def work(run: Run, configs: Configs, optional: Cues) -> VideoResult:
        kept = {
            name: config
            for name, config in configs.items()
            if name == TRACKS_STAGE or name in perceived.keys
        }
        request = replace(job.request, force=False)  # perception was forced already
        outcome = produce_tracks(run, request, kept, {}, trust_keys=not job.force)
        return _tracked(job, run, perceived.ran + outcome.ran, outcome.keys)

    result = _attempt(job, work, capture=True)
    return replace(
        result, seconds=perceived.seconds + result.seconds, log=perceived.log + result.log
    )


def lost(job: VideoJob, exc: BaseException, worker: str) -> VideoResult:
    """A video whose worker died under it (killed, out of memory, its machine gone)."""
    lines = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {lines[0].strip()}" if lines else type(exc).__name__
    return VideoResult(
        job.source,
        job.name,
        FAILED,
        error=f"{worker} was lost ({reason}); re-run to resume from its caches",
    )


def _tracked(job: VideoJob, run: Run, ran: tuple[str, ...], keys: dict[str, str]) -> VideoResult:
    """The result of a run whose tracks are finished, from their manifest entry."""
    entry = run.run_dir.read_entry(TRACKS_STAGE) or {}
    first, last = entry["frames"]
    return VideoResult(
        job.source,
        job.name,
        OK if ran else UP_TO_DATE,
        frames=last - first + 1,
        ids=entry["ids"],
        text=run.run_dir.path / entry["mot_txt"],
        ran=ran,
        keys=keys,
    )


def _attempt(job: VideoJob, work: Callable[..., VideoResult], capture: bool) -> VideoResult:
    """Open the run folder (locked until the work ends) and do `work`; any failure becomes a
    FAILED result carrying its one-line message."""
    from mot_cli.pipeline import open_run
    from mot_cli.recipes import track_configs
    from mot_cli.scope import command_scope

    started = time.perf_counter()
    with _captured(capture) as printed:
        try:
            configs, optional = track_configs(job.request, job.source)
            with command_scope():  # the run folder's lock is released when this video ends
                run = open_run(
                    job.source, job.cache_dir, job.name, job.frames,
                    force=job.force, allow_missing_images=job.request.allow_missing_images,
                )  # fmt: skip
                result = work(run, configs, optional)
        except Exception as exc:  # one video's failure, reported; the batch goes on
            result = VideoResult(
                job.source,
                job.name,
                FAILED,
                error=error_message(exc),
                detail=traceback.format_exc() if debugging() else None,
            )
    return replace(result, seconds=round(time.perf_counter() - started, 3), log=printed())


@contextmanager
def _captured(capture: bool) -> Iterator[Callable[[], str]]:
    """With `capture`, what mot-cli prints goes to a buffer (read by the yielded function) and
    no progress bar is drawn; the console prints to stderr again afterwards."""
    if not capture:
        yield lambda: ""
        return
    from mot_cli.progress import console, show_bars

    buffer = io.StringIO()
    soft_wrap = console.soft_wrap
    console.file, console.soft_wrap = buffer, True  # whole lines: they are printed again
    show_bars(False)
    try:
        yield buffer.getvalue
    finally:
        console.file, console.soft_wrap = None, soft_wrap  # type: ignore[assignment]
