"""Many videos as Ray tasks, on this machine or a cluster (the optional extra `mot-cli[ray]`).

Ray schedules; nothing here does. Each video is two tasks: `perceive` (the model stages in one
decode pass; it may ask for GPUs) and `associate` (the tracker), which Ray starts once the
first has finished. Both read and write the video's run folder under the cache folder, which
must therefore be the same folder on every node (a shared file system). A task that fails
returns its one-line error; a worker process or node that dies is retried by Ray
(`max_retries`), and each retry resumes from the chunks and stages already written, so a lost
worker costs at most its last unfinished chunk. A video still failing after its retries is
reported like any other failure.

The driver's `MOT_CLI_*` variables (`MOT_CLI_MODELS`, `MOT_CLI_OFFLINE`, `MOT_CLI_DEBUG`, …)
are set in every task; unset ones come from each node's environment.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from mot_cli.batch.work import VideoJob, VideoResult, associate, lost, perceive
from mot_cli.errors import MotCliError

__all__ = ["LOOPBACK", "RayOptions", "connect", "run_ray"]

LOOPBACK = "127.0.0.1"
ENV_PREFIX = "MOT_CLI_"


@dataclass(frozen=True)
class RayOptions:
    """Where the tasks run and what each asks for.

    `address`: a running cluster (`auto`, `HOST:PORT`, `ray://HOST:PORT`); None starts a
    local Ray on loopback with `cpus` CPUs (default: all). `gpus_per_task`: GPUs each
    perception task asks for (fractions share a GPU). `max_retries`: Ray's retries of a task
    whose worker died.
    """

    address: str | None = None
    cpus: int | None = None
    gpus_per_task: float = 0.0
    max_retries: int = 3

    def __post_init__(self) -> None:
        if self.gpus_per_task < 0:
            raise MotCliError(f"--gpus-per-task must be >= 0, got {self.gpus_per_task:g}")
        if self.max_retries < 0:
            raise MotCliError(f"--max-retries must be >= 0, got {self.max_retries}")
        if self.cpus is not None and self.cpus < 1:
            raise MotCliError(f"--workers must be at least 1, got {self.cpus}")


def connect(address: str | None = None, *, cpus: int | None = None) -> Callable[[], None]:
    """Connect this process to Ray; returns the call that lets go of it.

    Without `address`, a new Ray instance is started on this machine, listening on loopback
    only. A process already connected (a notebook, a test) keeps its connection: nothing is
    started, and letting go does nothing.
    """
    if address is None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local run reports nothing
    try:
        import ray
    except ImportError:
        raise MotCliError(
            "--ray needs Ray, which is not installed: pip install 'mot-cli[ray]'"
        ) from None
    if ray.is_initialized():
        return lambda: None
    if address is not None:
        _check_reachable(address)
    common = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address is None:
            with _cluster_mode_off():
                ray.init(
                    address="local", num_cpus=cpus, include_dashboard=False,
                    _node_ip_address=LOOPBACK, **common,
                )  # fmt: skip
        else:
            ray.init(address=address, **common)
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError: Ray's own words
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = f"--ray-address {address}" if address else "--ray"
        raise MotCliError(f"{where}: cannot start or reach Ray ({reason})") from None
    return ray.shutdown


@contextmanager
def _cluster_mode_off() -> Iterator[None]:
    """Ray binds a single-machine instance to loopback only when its "cluster mode" is off.

    On Linux it is on (the instance listens on the machine's address, and `127.0.0.1` given as
    the node's address is replaced by it). The switch is `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`,
    read once when Ray is imported; it is turned off here for the start only, so a process
    that connects to a cluster later still gives it a reachable address.
    """
    try:
        from ray._private import ray_constants
    except ImportError:  # another Ray layout: it starts as that version does
        yield
        return
    before = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if before is not None:
            ray_constants.ENABLE_RAY_CLUSTER = before


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse at once an address where nothing listens: Ray itself retries for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MotCliError(
            f"--ray-address {address}: no Ray cluster answers there ({reason})"
        ) from None


def run_ray(
    jobs: Sequence[VideoJob], options: RayOptions, on_done: Callable[[VideoResult], None]
) -> list[VideoResult]:
    """Every video as a perception task and an association task; results in job order, each
    reported as it finishes. Connects first unless this process already is (`connect`)."""
    disconnect = connect(options.address, cpus=options.cpus)
    try:
        return _submit_and_wait(jobs, options, on_done)
    finally:
        disconnect()


def _submit_and_wait(
    jobs: Sequence[VideoJob], options: RayOptions, on_done: Callable[[VideoResult], None]
) -> list[VideoResult]:
    import ray
    from ray.exceptions import RayError

    env = {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}
    runtime_env = {"env_vars": env} if env else None
    perceive_task = ray.remote(perceive).options(
        num_cpus=1, num_gpus=options.gpus_per_task, max_retries=options.max_retries,
        runtime_env=runtime_env,
    )  # fmt: skip
    associate_task = ray.remote(associate).options(
        num_cpus=1, max_retries=options.max_retries, runtime_env=runtime_env
    )
    pending = {
        associate_task.remote(job, perceive_task.remote(job)): index
        for index, job in enumerate(jobs)
    }
    results: list[VideoResult | None] = [None] * len(jobs)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            index = pending.pop(ref)
            try:
                result = ray.get(ref)
            except RayError as exc:  # its worker died, and so did every retry
                result = lost(jobs[index], exc, "its Ray worker")
            results[index] = result
            on_done(result)
    return [result for result in results if result is not None]
