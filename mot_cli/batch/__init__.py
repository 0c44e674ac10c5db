"""Many videos through the stage graph: serially, on a local process pool, or as Ray tasks.

    from mot_cli.batch import expand_inputs, run_serial
    inputs = expand_inputs(["videos/"], Path("runs"))

`mot-cli batch` builds one `VideoJob` per input (its configs built as `track` builds them) and
hands them to `run_serial`, `run_pool` or `run_ray`; each returns one `VideoResult` per video.
Ray is imported only by `run_ray` and `connect`.
"""

from mot_cli.batch.cluster import RayOptions, connect, run_ray
from mot_cli.batch.inputs import BatchInput, BatchInputs, Split, expand_inputs
from mot_cli.batch.local import run_pool, run_serial
from mot_cli.batch.work import FAILED, OK, UP_TO_DATE, VideoJob, VideoResult

__all__ = [
    "FAILED",
    "OK",
    "UP_TO_DATE",
    "BatchInput",
    "BatchInputs",
    "RayOptions",
    "Split",
    "VideoJob",
    "VideoResult",
    "connect",
    "expand_inputs",
    "run_pool",
    "run_ray",
    "run_serial",
]
