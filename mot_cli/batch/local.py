"""Many videos on this machine: one after another, or a pool of worker processes.

Each worker runs the whole stage graph for one video at a time (`work.run_video`), so what a
video's run folder holds does not depend on how it was run. Workers are started with `spawn`
(a fresh interpreter: no model, thread or lock inherited half-made from the parent) and draw no
progress bars; what each video printed comes back with its result.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from mot_cli.batch.work import VideoJob, VideoResult, lost, run_video

__all__ = ["run_pool", "run_serial"]

Report = Callable[[VideoResult], None]


def run_serial(
    jobs: Sequence[VideoJob], on_done: Report, on_start: Callable[[VideoJob], None] | None = None
) -> list[VideoResult]:
    """Each video in turn, in this process (its stage bars drawn as `track` draws them)."""
    results = []
    for job in jobs:
        if on_start is not None:
            on_start(job)
        result = run_video(job)
        on_done(result)
        results.append(result)
    return results


def run_pool(jobs: Sequence[VideoJob], workers: int, on_done: Report) -> list[VideoResult]:
    """The videos over `workers` processes, each reported as it finishes; results in job order.

    A worker process that dies (killed, out of memory) fails the videos it leaves unfinished,
    each with one line; their completed chunks and stages stay for a re-run.
    """
    results: list[VideoResult | None] = [None] * len(jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future, int] = {
            pool.submit(run_video, job, capture=True): index for index, job in enumerate(jobs)
        }
        try:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker process died (BrokenProcessPool)
                    result = lost(jobs[index], exc, "its worker process")
                results[index] = result
                on_done(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [result for result in results if result is not None]
