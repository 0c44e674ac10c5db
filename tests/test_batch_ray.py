"""`mot-cli batch --ray` on a Ray started here on loopback (issue 12, Must-show 1-3).

One Ray instance (2 CPUs, 127.0.0.1 only) serves the module; `batch --ray` uses the
connection this process already has. A worker is killed through Ray's own machinery: the test
hook `MOT_CLI_TEST_KILL_AT` (mot_cli/cache.py `stop_here`), which the batch passes to its tasks
with the other `MOT_CLI_*` variables, makes a task SIGKILL its own worker process at an exact
step of one video's run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_batch import batch_args, error_lines, invoke, make_clips, outputs, stages

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="needs ray (pip install 'mot-cli[ray]')"
)

NAMES = ("a", "b", "c")


@pytest.fixture(scope="module")
def ray_on_loopback() -> Iterator[None]:
    """A local Ray with 2 CPUs listening on 127.0.0.1 only, shut down after the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "disabled")
        from mot_cli.batch import connect

        disconnect = connect(cpus=2)
        import ray

        try:
            assert ray.util.get_node_ip_address() == "127.0.0.1"
            assert ray.cluster_resources()["CPU"] == 2
            yield
        finally:
            disconnect()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short clips, their detections and the serial run of them (`serial/`)."""
    root = make_clips(tmp_path_factory.mktemp("clips"), NAMES)
    serial = invoke(*batch_args(root, root / "serial"))
    assert serial.exit_code == 0, serial.output
    return root


def test_ray_tracks_equal_the_serial_runs_byte_for_byte(
    ray_on_loopback: None, clips: Path, tmp_path: Path
) -> None:
    result = invoke(*batch_args(clips, tmp_path), "--ray")
    assert result.exit_code == 0, result.output
    assert "3 videos: 3 tracked, 0 up to date, 0 failed" in result.stdout
    for name in NAMES:
        made = outputs(tmp_path / name)
        assert f"{name}.txt" in made and "tracks.parquet" in made
        assert made == outputs(clips / "serial" / name)


def test_a_corrupt_video_among_them_fails_alone(
    ray_on_loopback: None, clips: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000)  # a header, then nothing
    result = invoke(*batch_args(clips, tmp_path / "runs", clips / "clips", bad), "--ray")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert error_lines(result) == [f"error: bad: {bad}: not a video OpenCV can decode"]
    assert "3 tracked, 0 up to date, 1 failed" in result.stdout
    for name in NAMES:
        entries = stages(tmp_path / "runs" / name)
        assert all(entries[s]["complete"] for s in ("detections", "camera_motion", "tracks"))
        assert outputs(tmp_path / "runs" / name) == outputs(clips / "serial" / name)


def test_killed_workers_are_retried_and_a_rerun_reuses_every_complete_stage(
    ray_on_loopback: None, clips: Path, tmp_path: Path
) -> None:
    """b's perception task kills its worker after each camera-motion chunk it writes: Ray's
    retries resume from the chunks and finish it. c's association task kills its worker on
    every try: c fails, and the re-run tracks it from the perception caches, untouched."""
    kill = "chunk:camera_motion@b,commit:tracks:written@c"
    args = [*batch_args(clips, tmp_path), "--ray", "--max-retries", "2"]
    first = invoke(*args, env={"MOT_CLI_TEST_KILL_AT": kill})
    assert first.exit_code == 1, first.output
    assert "[b] camera_motion: resuming at frame 37 (frames 1-36 cached)" in first.stderr
    assert "[b] ok: 36 frames" in first.stderr  # killed twice, finished by its third try
    [error] = error_lines(first)
    assert error.startswith("error: c: its Ray worker was lost (WorkerCrashedError")
    assert "re-run to resume from its caches" in error
    assert "2 tracked, 0 up to date, 1 failed" in first.stdout
    before = {name: stages(tmp_path / name) for name in NAMES}
    assert "tracks" not in before["c"]
    shutil.copy(tmp_path / "c" / "manifest.json", tmp_path / "c-before.json")

    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "1 tracked, 2 up to date, 0 failed" in again.stdout
    after = {name: stages(tmp_path / name) for name in NAMES}
    assert after["a"] == before["a"] and after["b"] == before["b"]
    for stage in ("detections", "camera_motion"):  # same key, same recorded time: not rerun
        assert after["c"][stage] == before["c"][stage]
    assert after["c"]["tracks"]["complete"]
    assert after["c"]["tracks"]["upstream"]["camera_motion"] == before["c"]["camera_motion"]["key"]
    for name in NAMES:
        assert outputs(tmp_path / name) == outputs(clips / "serial" / name)
    assert sorted(p.name for p in (tmp_path / "c").iterdir() if p.name.startswith(".")) == [
        ".lock"
    ]  # the killed commit's temporaries were cleaned by the re-run
    assert json.loads((tmp_path / "c-before.json").read_text())["stages"] == before["c"]
