"""Nothing outlives a killed mot-cli (issue 17): real processes, real kill -9.

`batch --workers 2` and `batch --ray` whose parent is killed leave no worker, raylet or agent
running; a render killed mid-video leaves no temporary beside its output, and the user's file
there keeps its bytes. Each kill lands at an exact step: the process stops itself there
(`MOT_CLI_TEST_STOP_AT`, see cache.stop_here) and the test kills it while it is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, write_video

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def _start(args: list[object], log: Path, **env: str) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen([sys.executable, "-m", "mot_cli", *map(str, args)],
                                env=_env(**env), stdout=subprocess.DEVNULL, stderr=handle,
                                start_new_session=True)  # fmt: skip


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = found[1]
    below, todo = set(), [root]
    while todo:
        parent = todo.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in below:
                below.add(pid)
                todo.append(pid)
    return below


def _running(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (found := _stat(pid)) is not None and found[0] != "Z"}


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.1)


def _all_gone(helpers: set[int], seconds: float) -> None:
    """The helpers end within `seconds`; any left are killed so a failure leaves none."""
    try:
        _wait_until(lambda: not _running(helpers), seconds, f"left running: {_running(helpers)}")
    finally:
        for pid in _running(helpers):
            os.kill(pid, signal.SIGKILL)


def _videos(root: Path, count: int, frames: int) -> tuple[list[Path], Path]:
    videos = [write_video(root / f"v{i}.avi", frames) for i in range(count)]
    det = root / "det.txt"
    det.write_text("".join(f"{i + 1},-1,{5 + 4 * (i % 30)},30,20,50,40,-1,-1,-1\n"
                           for i in range(frames)))  # fmt: skip
    return videos, det


def _kill_parent_of_stopped_workers(batch: subprocess.Popen, workers: int, log: Path) -> set[int]:
    """Wait until `workers` descendants have stopped themselves, kill -9 the batch alone."""

    def stopped() -> set[int]:
        return {pid for pid in _descendants(batch.pid) if (_stat(pid) or ("",))[0] == "T"}

    _wait_until(lambda: len(stopped()) >= workers or batch.poll() is not None, 240,
                f"workers never reached their first chunk: {log.read_text()[-2000:]}")  # fmt: skip
    assert batch.poll() is None, log.read_text()
    helpers = _descendants(batch.pid)
    time.sleep(1.0)  # the lifeline notes the batch's processes every half second
    os.kill(batch.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
    batch.wait()
    return helpers


def test_killed_batch_leaves_no_worker_processes(tmp_path: Path) -> None:
    videos, det = _videos(tmp_path, 2, 80)
    log = tmp_path / "batch.log"
    batch = _start(["batch", *videos, "--det-txt", det, "--no-reid", "--workers", 2,
                    "--cache-dir", tmp_path / "runs"], log,
                   MOT_CLI_TEST_STOP_AT="chunk:camera_motion")  # fmt: skip
    helpers = _kill_parent_of_stopped_workers(batch, 2, log)
    assert len(helpers) >= 2
    _all_gone(helpers, 10)


def test_killed_ray_batch_leaves_no_ray_processes(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    videos, det = _videos(tmp_path, 2, 80)
    log = tmp_path / "batch.log"
    batch = _start(["batch", *videos, "--det-txt", det, "--no-reid", "--ray", "--workers", 2,
                    "--cache-dir", tmp_path / "runs"], log,
                   MOT_CLI_TEST_STOP_AT="chunk:camera_motion")  # fmt: skip
    helpers = _kill_parent_of_stopped_workers(batch, 1, log)
    assert len(helpers) >= 3  # raylet, GCS, agents, workers
    _all_gone(helpers, 20)


@pytest.mark.parametrize("group", [False, True], ids=["process", "process-group"])
def test_killed_render_leaves_nothing_and_keeps_the_old_file(tmp_path: Path, group: bool) -> None:
    video = write_video(tmp_path / "walk.avi", 20)
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{i + 1},-1,{5 + 4 * i},30,20,50,40,-1,-1,-1\n" for i in range(20)))
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "mot_cli", "track", str(video), "--det-txt",
                           str(det), "--no-reid", "--no-cmc", "--cache-dir", str(runs)],
                          env=_env(), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "preview.mp4"
    out.parent.mkdir()
    out.write_bytes(b"the user's previous preview")
    log = tmp_path / "render.log"
    render = _start(["render", runs / "walk", "-o", out], log, MOT_CLI_TEST_STOP_AT="render:frame")
    _, status = os.waitpid(render.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), log.read_text()
    assert len(list(out.parent.iterdir())) == 2  # the old file and the render's temporary
    if group:
        os.killpg(render.pid, signal.SIGKILL)
    else:
        os.kill(render.pid, signal.SIGKILL)
    render.wait()
    _wait_until(lambda: len(list(out.parent.iterdir())) == 1, 5,
                f"left behind: {sorted(p.name for p in out.parent.iterdir())}")  # fmt: skip
    assert out.read_bytes() == b"the user's previous preview"
