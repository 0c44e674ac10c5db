"""Whatever `mot-cli batch` started ends with it, however it ends (kill -9 included).

A killed process cannot clean up after itself, and its children do not notice: pool workers
wait on a queue they hold both ends of, and a local Ray's agents outlive its raylet. So the
batch starts a small watchdog process (`_lifeline_watch.py`, standard library only, in a
session of its own so a kill of the batch's process group spares it). It notes the batch's
descendant processes every half second and waits for its standard input to close: after
`release()` it just exits; when the batch died, it kills every descendant it noted (checked by
start time, so a reused pid is never hit) and whatever they started. Linux only (it reads
/proc); elsewhere it does nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["lifeline"]

_WATCH = Path(__file__).with_name("_lifeline_watch.py")


def lifeline() -> Callable[[], None]:
    """Start the watchdog for this process; returns `release`, to call at a normal end."""
    if not Path("/proc/self/stat").exists():
        return lambda: None
    try:
        watch = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_WATCH), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError:
        return lambda: None
    assert watch.stdin is not None

    def release() -> None:
        try:
            watch.stdin.write(b"done\n")
            watch.stdin.close()
        except OSError:
            pass
        watch.wait()

    return release
