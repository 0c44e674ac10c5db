"""A catalogue of bad inputs and faults, tried as a demanding new user would (issue 8).

Every case asserts the exit status, a one-line `error:` message that names what went wrong and
where, no traceback, and that nothing the user had was changed. Faults are real: two processes
on one run folder, kill -9 at each stage and between the track stage's writes (a test hook,
`MOT_CLI_TEST_STOP_AT`, stops the process at an exact step so the kill lands there without
guessing at timings), a full disk and a read-only one (small tmpfs mounts, when run as root).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.video import open_source
from tests.conftest import MODELS, REPO, need, write_video

runner = CliRunner()
PUBLIC = ("--no-reid", "--no-cmc")


# ----------------------------------------------------------------------------- helpers


def invoke(*args: object, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def assert_one_line_error(result, *fragments: str, code: int = 1) -> str:
    """Exit `code`, no traceback, and exactly one `error:` line, the last, holding `fragments`."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def snapshot(*roots: Path) -> dict[str, tuple[str, int]]:
    """Every file under `roots` (lock files aside) with its sha256 and permissions."""
    files = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if path.name != ".lock":
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                files[str(path)] = (digest, stat.S_IMODE(path.stat().st_mode))
    return files


def det_lines(frames: int, *, skip: tuple[int, ...] = ()) -> list[str]:
    """Public-style detections of the square `write_video` draws."""
    return [
        f"{i + 1},-1,{5 + 4 * i},30,20,50,{55 + i % 3},-1,-1,-1"
        for i in range(frames)
        if i + 1 not in skip
    ]


def write_det(path: Path, frames: int) -> Path:
    path.write_text("\n".join(det_lines(frames)) + "\n")
    return path


def track(cache: Path, video: Path, det_txt: Path, *extra: object, env=None):
    return invoke("track", video, "--det-txt", det_txt, *PUBLIC, "--cache-dir", cache, *extra,
                  env=env)  # fmt: skip


@pytest.fixture
def scene(tmp_path: Path, small_video: Path, small_det_txt: Path) -> dict[str, Path]:
    """A video, its det.txt, a finished run folder and a user's notes beside it."""
    runs = tmp_path / "runs"
    result = track(runs, small_video, small_det_txt, "--set", "min_hits=1")
    assert result.exit_code == 0, result.output
    notes = tmp_path / "notes.txt"
    notes.write_text("my own notes\n")
    return {"video": small_video, "det": small_det_txt, "runs": runs, "notes": notes,
            "run": runs / "walk", "root": tmp_path}  # fmt: skip


def cli_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "mot_cli", *map(str, args)]


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def start(args: list[str], log: Path, **env: str) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(args, env=cli_env(**env), stdout=subprocess.DEVNULL,
                                stderr=handle, start_new_session=True)  # fmt: skip


def stopped_at(point: str, args: list[str], log: Path) -> subprocess.Popen:
    """Start the CLI and return once it has stopped itself at `point` (see cache.stop_here)."""
    process = start(args, log, MOT_CLI_TEST_STOP_AT=point)
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"never reached {point}: {log.read_text()}"
    return process


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=cli_env(**env), capture_output=True, text=True, timeout=300)


def same_bytes(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only), so a full or read-only disk is real, not simulated."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (full / read-only disk)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte with one file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * block)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


def mot_sequence(root: Path, numbers: list[int], seq_length: int | None) -> Path:
    """A MOTChallenge folder whose image N is filled with grey level 10*N (easy to identify)."""
    folder = root / "Seq"
    (folder / "img1").mkdir(parents=True)
    for number in numbers:
        image = np.full((48, 64, 3), 10 * number % 256, np.uint8)
        cv2.imwrite(str(folder / "img1" / f"{number:06d}.png"), image)
    if seq_length is not None:
        (folder / "seqinfo.ini").write_text(
            f"[Sequence]\nname=Seq\nimDir=img1\nframeRate=10\nseqLength={seq_length}\n"
        )
    return folder


def eval_json(tmp_path: Path, gt: Path, tracker: Path, length: int) -> dict:
    out = tmp_path / f"eval-{time.perf_counter_ns()}.json"
    result = invoke("eval", gt, tracker, "--seq-length", length, "--json", out)
    assert result.exit_code == 0, result.output
    (scores,) = json.loads(out.read_text()).values()
    return scores["COMBINED_SEQ"]


# --------------------------------------------------------------- 1. two processes, one folder


def _cmc_track(video: Path, det: Path, cache: Path) -> list[str]:
    return cli_command("track", video, "--det-txt", det, "--no-reid", "--cache-dir", cache)


def test_second_process_waits_for_the_first_and_both_finish(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 80), write_det(tmp_path / "det.txt", 80)
    cache = tmp_path / "runs"
    first = stopped_at("chunk:camera_motion", _cmc_track(video, det, cache), tmp_path / "1.log")
    second = start(_cmc_track(video, det, cache), tmp_path / "2.log")
    deadline = time.time() + 60
    while "waiting for it to finish" not in (tmp_path / "2.log").read_text():
        assert second.poll() is None and time.time() < deadline, (tmp_path / "2.log").read_text()
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGCONT)
    assert first.wait(timeout=120) == 0, (tmp_path / "1.log").read_text()
    assert second.wait(timeout=120) == 0, (tmp_path / "2.log").read_text()
    assert (tmp_path / "2.log").read_text().count("cache up to date") == 2
    clean = run_cli(_cmc_track(video, det, tmp_path / "clean"))
    assert clean.returncode == 0, clean.stderr
    manifest = json.loads((cache / "walk" / "manifest.json").read_text())
    assert manifest["stages"]["detections"]["rows"] == 80
    assert same_bytes(cache / "walk" / "walk.txt", tmp_path / "clean/walk/walk.txt")


def test_second_process_refuses_when_told_not_to_wait(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 80), write_det(tmp_path / "det.txt", 80)
    cache = tmp_path / "runs"
    first = stopped_at("chunk:camera_motion", _cmc_track(video, det, cache), tmp_path / "1.log")
    try:
        before = snapshot(cache)
        result = invoke("track", video, "--det-txt", det, "--no-reid", "--cache-dir", cache,
                        env={"MOT_CLI_LOCK_TIMEOUT": "0"})  # fmt: skip
        assert_one_line_error(result, str(cache / "walk"), "another mot-cli process")
        assert snapshot(cache) == before
    finally:
        kill(first)
    again = run_cli(_cmc_track(video, det, cache))  # the killed run's lock died with it
    assert again.returncode == 0 and "resuming at frame 33" in again.stderr, again.stderr


def test_two_processes_started_together_agree_with_one(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 40), write_det(tmp_path / "det.txt", 40)
    args = _cmc_track(video, det, tmp_path / "runs")
    processes = [start(args, tmp_path / f"{i}.log") for i in range(2)]
    assert [p.wait(timeout=180) for p in processes] == [0, 0]
    assert run_cli(_cmc_track(video, det, tmp_path / "clean")).returncode == 0
    for name in ("walk.txt", "tracks.parquet", "detections.parquet", "camera_motion.parquet"):
        ours = (tmp_path / "runs" / "walk" / name).read_bytes()
        assert ours == (tmp_path / "clean" / "walk" / name).read_bytes(), name


def test_join_that_misses_frames_is_never_recorded_complete(tmp_path: Path) -> None:
    from mot_cli.cache import RunDir
    from mot_cli.errors import MotCliError
    from mot_cli.schema import CAMERA_MOTION

    run = RunDir(tmp_path)
    partial = run.partial("camera_motion", "k", CAMERA_MOTION)
    partial.resume_frame(1)
    with pytest.raises(MotCliError, match=r"chunks cover no frames, not 1-20"):
        partial.join(1, 20)  # another process removed them: an error, not 0 rows "complete"
    assert run.load_manifest() == {}


# ------------------------------------------------ 2. a damaged cache is an error, not a downgrade


def test_truncated_chunk_is_reported_before_recomputing(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 80), write_det(tmp_path / "det.txt", 80)
    cache = tmp_path / "runs"
    kill(stopped_at("chunk:camera_motion", _cmc_track(video, det, cache), tmp_path / "1.log"))
    chunk = cache / "walk" / "camera_motion.partial" / "frames-0000001-0000032.parquet"
    chunk.write_bytes(chunk.read_bytes()[:-50])
    before = snapshot(cache)
    result = invoke("track", video, "--det-txt", det, "--no-reid", "--cache-dir", cache)
    assert_one_line_error(result, str(chunk), "truncated", "--force")
    assert "camera_motion" not in result.stderr.split("error:")[0]  # no frame was recomputed
    assert snapshot(cache) == before


def test_truncated_embeddings_cache_is_an_error_not_appearance_off(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    need(MODELS / "osnet_x0_25_msmt17.pth")
    cache = tmp_path / "runs"
    args = ["track", small_video, "--det-txt", small_det_txt, "--no-cmc", "--cache-dir", cache,
            "--reid-backend", "torch"]  # fmt: skip
    assert invoke(*args).exit_code == 0
    embeddings = cache / "walk" / "embeddings.parquet"
    embeddings.write_bytes(embeddings.read_bytes()[:-100])
    before = snapshot(cache)
    result = invoke(*args)
    assert_one_line_error(result, str(embeddings), "truncated")
    assert "appearance off" not in result.stderr
    assert snapshot(cache) == before


def test_absent_reid_weights_turn_appearance_off_and_say_so(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    result = invoke("track", small_video, "--det-txt", small_det_txt, "--no-cmc", "--cache-dir",
                    tmp_path / "runs", env={"MOT_CLI_MODELS": str(empty)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: appearance off: model 'osnet_x0_25_msmt17' not found" in result.stderr


# ------------------------------------------------------------------------ 3. paths and names


@pytest.mark.parametrize("name", ["../notes", "..", "a/b", "", " x"])
def test_name_must_be_one_folder_name(scene: dict[str, Path], name: str) -> None:
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "--name", name)
    assert_one_line_error(result, "--name", "must be one folder name")
    assert snapshot(scene["root"]) == before


def test_another_source_with_the_same_name_is_refused(scene: dict[str, Path]) -> None:
    folder = scene["root"] / "other"
    folder.mkdir()
    impostor = write_video(folder / "walk.avi", 25)
    before = snapshot(scene["root"])
    result = track(scene["runs"], impostor, scene["det"])
    assert_one_line_error(result, str(scene["run"]), str(scene["video"].resolve()), "--name")
    assert snapshot(scene["root"]) == before
    assert track(scene["runs"], impostor, scene["det"], "--name", "walk2").exit_code == 0
    assert track(scene["runs"], impostor, scene["det"], "--force").exit_code == 0  # replaces


def test_cache_dir_that_is_a_file(scene: dict[str, Path]) -> None:
    before = snapshot(scene["root"])
    result = track(scene["notes"], scene["video"], scene["det"])
    assert_one_line_error(result, f"--cache-dir {scene['notes']}", "not a folder")
    assert snapshot(scene["root"]) == before


def test_cache_dir_that_is_a_symlink_loop(scene: dict[str, Path]) -> None:
    loop_a, loop_b = scene["root"] / "loop_a", scene["root"] / "loop_b"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    result = track(loop_a, scene["video"], scene["det"])
    assert_one_line_error(result, str(loop_a), "symbolic links")


def test_output_that_is_a_folder(scene: dict[str, Path]) -> None:
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "-o", scene["root"])
    assert_one_line_error(result, f"--output {scene['root']}", "is a folder")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize("which", ["det", "video"])
def test_output_never_overwrites_an_input(scene: dict[str, Path], which: str) -> None:
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "-o", scene[which])
    assert_one_line_error(result, str(scene[which]), "is an input")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize("target", ["img1/000003.png", "seqinfo.ini"])
def test_output_never_overwrites_a_file_of_the_image_folder(tmp_path: Path, target: str) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 6)), 5)
    det = write_det(tmp_path / "det.txt", 5)
    before = snapshot(sequence, det)
    result = invoke("track", sequence, "--det-txt", det, *PUBLIC, "--cache-dir", tmp_path / "runs",
                    "-o", sequence / target)  # fmt: skip
    assert_one_line_error(result, f"--output {sequence / target}", "is an input")
    assert snapshot(sequence, det) == before
    assert not (tmp_path / "runs" / "Seq" / "detections.parquet").exists()  # before any stage


def test_output_inside_the_run_folder_would_replace_a_cache(scene: dict[str, Path]) -> None:
    target = scene["run"] / "tracks.parquet"
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "-o", target)
    assert_one_line_error(result, str(target), "inside the run folder")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize("name", ["out.json", "out.parquet", "tracks.MP4"])
def test_output_whose_extension_names_another_format(scene: dict[str, Path], name: str) -> None:
    target = scene["root"] / name
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "-o", target)
    assert_one_line_error(result, f"--output {target}", "MOTChallenge text", ".txt")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize("name", ["out.txt", "OUT.TXT", "out"])
def test_output_as_text_or_without_extension(scene: dict[str, Path], name: str) -> None:
    target = scene["root"] / name
    result = track(scene["runs"], scene["video"], scene["det"], "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (scene["run"] / "walk.txt").read_bytes()


def test_output_that_is_the_runs_own_text_file_just_works(scene: dict[str, Path]) -> None:
    text = scene["run"] / "walk.txt"
    before = text.read_bytes()
    result = track(scene["runs"], scene["video"], scene["det"], "--set", "min_hits=1", "-o", text)
    assert result.exit_code == 0, result.output
    assert text.read_bytes() == before and "tracks:" in result.stdout
    assert "copied" not in result.stdout


# --------------------------------------------------------------------------------- 4. frames


def test_missing_images_are_an_error_naming_the_first(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, [n for n in range(1, 21) if n not in (10, 11, 12)], 20)
    result = invoke("detect", sequence, "--det-txt", write_det(tmp_path / "det.txt", 20),
                    "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, str(sequence / "img1" / "000010.png"), "missing",
                          "2 more", "--allow-missing-images")  # fmt: skip
    assert not (tmp_path / "runs").exists()


def test_missing_images_allowed_keep_file_numbers(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, [n for n in range(1, 21) if n not in (10, 11, 12)], 20)
    source = open_source(sequence, allow_missing=True)
    frames = dict(source.frames())
    assert sorted(frames) == [n for n in range(1, 21) if n not in (10, 11, 12)]
    assert frames[13][0, 0, 0] == 130  # frame 13 is image 000013.png, not the 13th file
    det = tmp_path / "det.txt"
    det.write_text("\n".join(det_lines(20, skip=(10, 11, 12))) + "\n")
    result = invoke("track", sequence, "--det-txt", det, "--no-reid", "--cache-dir",
                    tmp_path / "runs", "--allow-missing-images", "--set", "min_hits=1")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = np.loadtxt(tmp_path / "runs" / "Seq" / "Seq.txt", delimiter=",", ndmin=2)
    assert rows[:, 0].max() == 20 and "warning" not in result.stderr  # last rows kept


def test_seq_length_longer_than_the_images(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 21)), 25)
    result = invoke("detect", sequence, "--det-txt", write_det(tmp_path / "det.txt", 20),
                    "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, "000021.png", "seqLength=25", "000020.png")


def test_images_beyond_seq_length(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 21)), 15)
    result = invoke("track", sequence, "--det-txt", write_det(tmp_path / "det.txt", 15),
                    *PUBLIC, "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, "000016.png", "beyond seqLength=15", "seqinfo.ini")


def test_images_without_numbers_among_numbered_ones(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 6)), None)
    cv2.imwrite(str(sequence / "img1" / "cover.png"), np.zeros((48, 64, 3), np.uint8))
    result = invoke("detect", sequence, "--det-txt", write_det(tmp_path / "det.txt", 5),
                    "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, "cover.png", "no frame number")


def test_two_images_for_one_frame(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 6)), None)
    cv2.imwrite(str(sequence / "img1" / "3.jpg"), np.zeros((48, 64, 3), np.uint8))
    result = invoke("detect", sequence, "--det-txt", write_det(tmp_path / "det.txt", 5),
                    "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, "frame 3 again", "one image per frame")


def test_folder_numbered_from_zero_is_shifted_and_says_so(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(0, 5)), None)
    result = invoke("track", sequence, "--det-txt", write_det(tmp_path / "det.txt", 5), *PUBLIC,
                    "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note:" in result.stderr and "numbered from 0" in result.stderr
    ((number, image),) = list(open_source(sequence).frames(1, 1))
    assert number == 1 and image[0, 0, 0] == 0  # frame 1 is 000000.png


def test_undecodable_image_is_named(tmp_path: Path) -> None:
    sequence = mot_sequence(tmp_path, list(range(1, 11)), 10)
    (sequence / "img1" / "000006.png").write_bytes(b"not a png")
    result = invoke("track", sequence, "--det-txt", write_det(tmp_path / "det.txt", 10),
                    "--no-reid", "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(result, "000006.png", "not an image")


def test_det_txt_rows_beyond_the_last_frame_name_the_line(
    tmp_path: Path, small_video: Path
) -> None:
    det = tmp_path / "det.txt"
    det.write_text("\n".join([*det_lines(20), "21,-1,1,1,5,5,1,-1,-1,-1"]) + "\n")
    result = track(tmp_path / "runs", small_video, det)
    assert_one_line_error(result, f"{det}:21:", "frame 21", "beyond", "20")


def test_det_txt_cut_mid_line_is_refused(tmp_path: Path, small_video: Path) -> None:
    det = tmp_path / "det.txt"
    det.write_text("\n".join(det_lines(20))[:-9])  # "...,20,5" : the file was cut short
    before = snapshot(det)
    result = track(tmp_path / "runs", small_video, det)
    assert_one_line_error(result, f"{det}:20:", "cut short")
    assert snapshot(det) == before


def test_truncated_video_summary_gives_the_frames_processed(tmp_path: Path) -> None:
    need(MODELS / "yolo11n_int8_openvino_model")
    whole = write_video(tmp_path / "whole.avi", 50).read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole[: len(whole) // 2])
    decodable = len(list(open_source(cut).frames()))
    assert decodable < 50 and open_source(cut).info.frames == 50  # the header still says 50
    result = invoke("track", cut, *PUBLIC, "--batch", "8", "--cache-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    assert f"ended at frame {decodable}" in result.stderr
    assert f"in frames 1-{decodable} " in result.stdout
    assert "1-50" not in result.stdout + result.stderr


# ----------------------------------------------------------- 5. kill -9 at each stage and write


def _equal_tables(a: Path, b: Path) -> bool:
    return pq.read_table(a).equals(pq.read_table(b))


def test_kill_during_camera_motion_resumes_identically(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 80), write_det(tmp_path / "det.txt", 80)
    killed = tmp_path / "killed"
    kill(stopped_at("chunk:camera_motion", _cmc_track(video, det, killed), tmp_path / "k.log"))
    resumed = run_cli(_cmc_track(video, det, killed))
    assert resumed.returncode == 0 and "resuming at frame 33" in resumed.stderr, resumed.stderr
    assert run_cli(_cmc_track(video, det, tmp_path / "clean")).returncode == 0
    for name in ("camera_motion.parquet", "walk.txt"):
        assert same_bytes(killed / "walk" / name, tmp_path / "clean/walk" / name)
    assert leftovers(killed) == [] and not (killed / "walk" / "camera_motion.partial").exists()


def test_kill_during_a_join_leaves_nothing_behind(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 40), write_det(tmp_path / "det.txt", 40)
    killed = tmp_path / "killed"
    point = "commit:camera_motion:written"
    kill(stopped_at(point, _cmc_track(video, det, killed), tmp_path / "k.log"))
    assert leftovers(killed) == [".camera_motion.parquet." + n.split(".parquet.")[1]
                                 for n in leftovers(killed)]  # fmt: skip
    assert len(leftovers(killed)) == 1  # the joined file, written but not committed
    again = run_cli(_cmc_track(video, det, killed))
    assert again.returncode == 0, again.stderr
    assert leftovers(killed) == [] and not (killed / "walk" / "camera_motion.partial").exists()


def test_kill_during_yolo_detection_resumes_identically(tmp_path: Path) -> None:
    need(MODELS / "yolo11n_int8_openvino_model")
    video = write_video(tmp_path / "walk.avi", 36)
    args = ["detect", video, "--batch", "8", "--classes", "all", "--conf", "0.01"]
    killed = cli_command(*args, "--cache-dir", tmp_path / "killed")
    kill(stopped_at("chunk:detections", killed, tmp_path / "k.log"))
    resumed = run_cli(killed)
    assert resumed.returncode == 0 and "resuming at frame 33" in resumed.stderr, resumed.stderr
    assert invoke(*args, "--cache-dir", tmp_path / "clean").exit_code == 0
    assert pq.read_table(tmp_path / "clean/walk/detections.parquet").num_rows > 0
    assert _equal_tables(tmp_path / "killed/walk/detections.parquet",
                         tmp_path / "clean/walk/detections.parquet")  # fmt: skip


def test_kill_during_embedding_resumes_identically(tmp_path: Path) -> None:
    need(MODELS / "osnet_x0_25_msmt17.pth")
    video, det = write_video(tmp_path / "walk.avi", 36), write_det(tmp_path / "det.txt", 36)
    args = ["track", video, "--det-txt", det, "--no-cmc", "--reid-backend", "torch"]
    killed = cli_command(*args, "--cache-dir", tmp_path / "killed")
    kill(stopped_at("chunk:embeddings", killed, tmp_path / "k.log"))
    resumed = run_cli(killed)
    assert resumed.returncode == 0 and "resuming at frame 33" in resumed.stderr, resumed.stderr
    assert invoke(*args, "--cache-dir", tmp_path / "clean").exit_code == 0
    assert _equal_tables(tmp_path / "killed/walk/embeddings.parquet",
                         tmp_path / "clean/walk/embeddings.parquet")  # fmt: skip


@pytest.mark.parametrize(
    ("point", "expect"),
    [("commit:tracks:written", "old"), ("commit:tracks:recorded", "new"),
     ("commit:tracks:renamed", "new")],
)  # fmt: skip
def test_kill_between_the_track_stages_writes_leaves_old_or_new(
    tmp_path: Path, small_video: Path, small_det_txt: Path, point: str, expect: str
) -> None:
    gt = tmp_path / "walk.txt"  # ground truth: the square in every frame
    gt.write_text("".join(f"{f},1,{5 + 4 * (f - 1)},30,20,50,1,-1,-1,-1\n" for f in range(1, 21)))
    old_args = ["--set", "min_hits=1"]
    new_args = ["--set", "min_hits=1", "--end", "10"]
    results = {}
    for label, extra in (("old", old_args), ("new", new_args)):
        clean = tmp_path / f"clean-{label}"
        assert track(clean, small_video, small_det_txt, *extra).exit_code == 0
        results[label] = (clean / "walk", eval_json(tmp_path, gt, clean / "walk", 20))
    assert results["old"][1]["MOTA"] != results["new"][1]["MOTA"]
    cache = tmp_path / "runs"
    assert track(cache, small_video, small_det_txt, *old_args).exit_code == 0
    args = cli_command("track", small_video, "--det-txt", small_det_txt, *PUBLIC,
                       "--cache-dir", cache, *new_args)  # fmt: skip
    kill(stopped_at(point, args, tmp_path / "k.log"))
    assert eval_json(tmp_path, gt, cache / "walk", 20) == results[expect][1]
    # the next command on the folder finishes or drops what the kill left: old or new, whole
    assert invoke("detect", small_video, "--det-txt", small_det_txt,
                  "--cache-dir", cache).exit_code == 0  # fmt: skip
    for name in ("walk.txt", "tracks.parquet"):
        assert (cache / "walk" / name).read_bytes() == (results[expect][0] / name).read_bytes()
    assert leftovers(cache) == []
    assert eval_json(tmp_path, gt, cache / "walk", 20) == results[expect][1]


# ---------------------------------------------------------------- 6. eval trusts the manifest


def test_eval_refuses_a_text_file_the_manifest_does_not_record(scene: dict[str, Path]) -> None:
    text = scene["run"] / "walk.txt"
    gt = scene["root"] / "walk.txt"
    gt.write_text(text.read_text())
    text.write_text(text.read_text().replace(",1,", ",2,", 1))
    result = invoke("eval", gt, scene["run"], "--seq-length", 20)
    assert_one_line_error(result, str(text), "differs from what the run's manifest records")


def test_eval_of_a_run_folder_without_tracks(tmp_path: Path, small_video, small_det_txt) -> None:
    assert invoke("detect", small_video, "--det-txt", small_det_txt, "--cache-dir",
                  tmp_path / "runs").exit_code == 0  # fmt: skip
    gt = tmp_path / "walk.txt"
    gt.write_text("1,1,5,30,20,50,1,-1,-1,-1\n")
    result = invoke("eval", gt, tmp_path / "runs" / "walk", "--seq-length", 20)
    assert_one_line_error(result, str(tmp_path / "runs" / "walk"), "no finished track results")


# ---------------------------------------------------------------- 7. files the CLI writes


def test_files_get_the_users_umask_and_keep_an_existing_mode(scene: dict[str, Path]) -> None:
    out = scene["root"] / "out"
    out.mkdir()
    kept = out / "kept.json"
    kept.write_text("{}")
    kept.chmod(0o644)
    previous = os.umask(0o027)
    try:
        result = track(scene["root"] / "fresh", scene["video"], scene["det"], "-o", out / "t.txt")
        assert result.exit_code == 0, result.output
        gt = scene["run"] / "walk.txt"
        for option, name in (("--json", "kept.json"), ("--csv", "r.csv"), ("--plot", "a.png")):
            result = invoke("eval", gt, scene["run"], "--seq-length", 20, option, out / name)
            assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*out.iterdir(),
             *(scene["root"] / "fresh" / "walk").iterdir()]}  # fmt: skip
    assert modes.pop("kept.json") == 0o644  # overwriting keeps the user's mode
    assert set(modes.values()) == {0o640}, modes  # new files: 0666 & ~umask, never 0600


@pytest.mark.parametrize("option", ["--json", "--csv", "--plot"])
def test_eval_output_never_overwrites_its_inputs(scene: dict[str, Path], option: str) -> None:
    gt = scene["root"] / "walk.txt"
    gt.write_text((scene["run"] / "walk.txt").read_text())
    before = snapshot(scene["root"])
    target = {"--json": gt, "--csv": scene["run"] / "walk.txt",
              "--plot": scene["run"] / "manifest.json"}[option]  # fmt: skip
    result = invoke("eval", gt, scene["run"], "--seq-length", 20, option, target)
    assert_one_line_error(result, f"{option} {target}", "is an input")
    assert snapshot(scene["root"]) == before


def test_eval_outputs_must_differ(scene: dict[str, Path]) -> None:
    gt, out = scene["run"] / "walk.txt", scene["root"] / "r.out"
    result = invoke("eval", gt, scene["run"], "--seq-length", 20, "--json", out, "--csv", out)
    assert_one_line_error(result, "--csv", "is also the --json file")


def test_eval_plot_into_a_folder(scene: dict[str, Path]) -> None:
    result = invoke("eval", scene["run"] / "walk.txt", scene["run"], "--seq-length", 20,
                    "--plot", scene["root"])  # fmt: skip
    assert_one_line_error(result, f"--plot {scene['root']}", "is a folder")


def test_temporaries_of_killed_writers_are_cleaned(scene: dict[str, Path]) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead_pid = finished.pid  # a writer that is gone
    out = scene["root"] / "r.json"
    stale = [scene["root"] / f".r.json.{dead_pid}-abc.tmp", scene["run"] / ".walk.txt.x1.tmp",
             scene["run"] / f".tracks.parquet.{dead_pid}-q.tmp"]  # fmt: skip
    for path in stale:
        path.write_text("left by a kill")
    live = scene["root"] / f".r.json.{os.getpid()}-live.tmp"  # a writer still running
    live.write_text("in use")
    assert invoke("eval", scene["run"] / "walk.txt", scene["run"], "--seq-length", 20,
                  "--json", out).exit_code == 0  # fmt: skip
    assert track(scene["runs"], scene["video"], scene["det"]).exit_code == 0
    assert [p for p in stale if p.exists()] == [] and live.exists()


# ------------------------------------------------------------------- 8. full and read-only disks


def test_full_disk_is_one_line_and_keeps_the_old_results(
    tmpfs: Path, small_video: Path, small_det_txt: Path
) -> None:
    runs = tmpfs / "runs"
    assert track(runs, small_video, small_det_txt, "--set", "min_hits=1").exit_code == 0
    filler = fill(tmpfs)
    before = snapshot(runs)
    result = track(runs, small_video, small_det_txt, "--set", "min_hits=2", "--cmc-method", "ecc")
    assert_one_line_error(result, str(runs / "walk"), "No space left on device")
    assert snapshot(runs) == before and leftovers(runs) == []
    out = tmpfs / "r.json"
    result = invoke("eval", runs / "walk" / "walk.txt", runs / "walk", "--seq-length", 20,
                    "--json", out)  # fmt: skip
    assert_one_line_error(result, str(out), "No space left on device")
    assert not out.exists() and leftovers(tmpfs) == []
    filler.unlink()
    assert track(runs, small_video, small_det_txt, "--set", "min_hits=2").exit_code == 0


def test_read_only_disk_is_one_line(tmpfs: Path, small_video: Path, small_det_txt: Path) -> None:
    runs = tmpfs / "runs"
    assert track(runs, small_video, small_det_txt).exit_code == 0
    remount_read_only(tmpfs)
    before = snapshot(tmpfs)
    cases = [
        (track(runs, small_video, small_det_txt), str(runs / "walk")),
        (track(tmpfs / "new-runs", small_video, small_det_txt), f"--cache-dir {tmpfs}/new-runs"),
        (invoke("eval", runs / "walk" / "walk.txt", runs / "walk", "--seq-length", 20,
                "--json", tmpfs / "r.json"), f"--json {tmpfs}/r.json"),
    ]  # fmt: skip
    for result, where in cases:
        assert_one_line_error(result, where, "Read-only file system")
    assert snapshot(tmpfs) == before


def test_output_on_a_read_only_disk_fails_before_the_work(
    tmpfs: Path, tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    remount_read_only(tmpfs)
    result = track(tmp_path / "runs", small_video, small_det_txt, "-o", tmpfs / "t.txt")
    assert_one_line_error(result, f"--output {tmpfs}/t.txt", "Read-only file system")
    assert not (tmp_path / "runs").exists()  # refused before any stage ran


# ---------------------------------------------------------- 9. library errors a user can cause


@pytest.mark.parametrize(
    ("device", "message"),
    [("cuda", "no CUDA GPU is available"), ("cuda:7", "CUDA"), ("gpu7", "unknown device")],
)
def test_device_the_machine_lacks(tmp_path: Path, small_video: Path, device, message) -> None:
    import torch

    if torch.cuda.is_available() and device != "gpu7":
        pytest.skip("this machine has a GPU")
    result = invoke("detect", small_video, "--device", device, "--cache-dir", tmp_path / "runs")
    assert_one_line_error(result, f"--device {device!r}" if device == "gpu7" else device, message)
    assert not (tmp_path / "runs").exists()  # refused before anything was written


def test_detector_that_is_not_a_model(scene: dict[str, Path]) -> None:
    need(MODELS / "yolo11n_int8_openvino_model")  # ultralytics is exercised for real
    before = snapshot(scene["root"])
    result = invoke("detect", scene["video"], "--detector", scene["notes"], "--cache-dir",
                    scene["runs"])  # fmt: skip
    assert_one_line_error(result, str(scene["notes"]), "cannot load as a YOLO model")
    assert snapshot(scene["root"]) == before


def test_embed_unknown_arch(scene: dict[str, Path]) -> None:
    result = invoke("embed", scene["video"], "--arch", "osnet_x9", "--cache-dir", scene["runs"])
    assert_one_line_error(result, "--arch", "osnet_x9", "osnet_x0_25")


def test_arch_names_match_the_network() -> None:
    from mot_cli.reid.osnet import OSNET_CHANNELS
    from mot_cli.stages.embed import ARCHS

    assert set(ARCHS) == set(OSNET_CHANNELS)


def test_classes_that_name_nothing(scene: dict[str, Path]) -> None:
    result = invoke("detect", scene["video"], "--classes", ",", "--cache-dir", scene["runs"])
    assert_one_line_error(result, "--classes ','", "names no class")


def test_models_fetch_that_fails_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("models", "--fetch", env={"MOT_CLI_OFFLINE": "1"})
    assert_one_line_error(result, "--fetch", "could not be fetched", "yolo11x")


def test_tracker_setting_of_the_wrong_type(scene: dict[str, Path]) -> None:
    result = track(scene["runs"], scene["video"], scene["det"], "--set", "max_age=soon")
    assert_one_line_error(result, "--set", "max_age must be a whole number", "'soon'")


def test_id_too_large_for_32_bits(tmp_path: Path) -> None:
    gt = tmp_path / "walk.txt"
    gt.write_text("1,1,5,30,20,50,1,-1,-1,-1\n")
    tracks = tmp_path / "tracks.txt"
    tracks.write_text("1,2147483648,5,30,20,50,1,-1,-1,-1\n")
    result = invoke("eval", gt, tracks, "--seq-length", 1)
    assert_one_line_error(result, f"{tracks}:1:", "id 2147483648 is out of range", "32 bits")


@pytest.mark.parametrize(
    ("content", "problem"),
    [('{"stages": []}', '"stages" is not an object'), ("[1, 2]", "not a JSON object"),
     ('{"stages": {"detections": {"frames": "all"}}}', '"frames"'), ("{not json", "Expecting")],
)  # fmt: skip
def test_manifest_corrupt_or_of_the_wrong_shape(
    scene: dict[str, Path], content: str, problem: str
) -> None:
    manifest = scene["run"] / "manifest.json"
    manifest.write_text(content)
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"])
    assert_one_line_error(result, str(manifest), "corrupt manifest", problem, "--force")
    assert snapshot(scene["root"]) == before
    rebuilt = track(scene["runs"], scene["video"], scene["det"], "--force")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(manifest.read_text())["stages"]["tracks"]["complete"]


def test_unexpected_library_error_is_one_line_and_debug_shows_the_traceback(
    scene: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mot_cli.stages.track as track_stage

    def broken(*args, **kwargs):
        raise RuntimeError("a library failed\nwith a second line")

    monkeypatch.setattr(track_stage, "replay_by_class", broken)
    result = track(scene["runs"], scene["video"], scene["det"])
    assert_one_line_error(result, "RuntimeError: a library failed", "--debug")
    debug = track(scene["runs"], scene["video"], scene["det"], env={"MOT_CLI_DEBUG": "1"})
    assert debug.exit_code != 0 and isinstance(debug.exception, RuntimeError)


def test_debug_flag_shows_tracebacks(tmp_path: Path) -> None:
    args = cli_command("--debug", "track", tmp_path / "nope.mp4")
    done = run_cli(args)
    assert done.returncode == 1 and "Traceback" in done.stderr and "no such file" in done.stderr
    plain = run_cli(cli_command("track", tmp_path / "nope.mp4"))
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.strip() == f"error: {tmp_path / 'nope.mp4'}: no such file or folder"


# ------------------------------------------------------------------ same input, same output


def test_same_input_same_output(tmp_path: Path) -> None:
    video, det = write_video(tmp_path / "walk.avi", 40), write_det(tmp_path / "det.txt", 40)
    for name in ("a", "b"):
        result = invoke("track", video, "--det-txt", det, "--no-reid", "--cache-dir",
                        tmp_path / name)  # fmt: skip
        assert result.exit_code == 0, result.output
    for name in ("walk.txt", "tracks.parquet", "detections.parquet", "camera_motion.parquet"):
        assert same_bytes(tmp_path / "a/walk" / name, tmp_path / "b/walk" / name), name


# ------------------------------------------------- 10. issue 17: errors that named no file


@pytest.mark.parametrize(
    ("command", "device", "message"),
    [("depth", "gpu7", "unknown device"), ("segment", "gpu7", "unknown device"),
     ("depth", "cuda", "no CUDA GPU"), ("segment", "cuda", "no CUDA GPU")],
)  # fmt: skip
def test_depth_and_segment_check_the_device_first(
    scene: dict[str, Path], command: str, device: str, message: str
) -> None:
    import torch

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    before = snapshot(scene["root"])
    result = invoke(command, scene["video"], "--device", device, "--cache-dir", scene["runs"])
    assert_one_line_error(result, "--device", device, message)
    assert snapshot(scene["root"]) == before


def test_segment_model_that_is_not_a_model_names_it(scene: dict[str, Path]) -> None:
    before = snapshot(scene["root"])
    result = invoke("segment", scene["video"], "--model", scene["det"], "--cache-dir",
                    scene["runs"])  # fmt: skip
    assert_one_line_error(result, str(scene["det"]), "cannot load as a YOLO segmentation model")
    assert "unexpected" not in result.stderr
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize(("option", "value"), [("--lr", "nan"), ("--lr", "inf"),
                                               ("--temperature", "nan")])  # fmt: skip
def test_train_encoder_refuses_numbers_that_are_not(
    scene: dict[str, Path], option: str, value: str
) -> None:
    before = snapshot(scene["root"])
    result = invoke("train-encoder", scene["run"], option, value, "-o", scene["root"] / "e.pt")
    assert_one_line_error(result, option, "must be a positive number", value)
    assert snapshot(scene["root"]) == before


def test_train_encoder_refuses_an_unknown_depth_norm(scene: dict[str, Path]) -> None:
    before = snapshot(scene["root"])
    result = invoke("train-encoder", scene["run"], "--depth-norm", "scene", "-o",
                    scene["root"] / "e.pt")  # fmt: skip
    assert_one_line_error(result, "--depth-norm", "crop, frame", "scene")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [({"state_dict": None}, "has no state_dict"), ({"config": None}, "has no config"),
     ({"config": {"input_height": -5}}, "bad encoder config"),
     ({"config": {"wings": 3}}, "bad encoder config"),
     ({"config": {"embedding_dim": "x"}}, "bad encoder config")],
)  # fmt: skip
def test_encoder_checkpoint_without_weights_or_with_a_bad_config(
    scene: dict[str, Path], change: dict, message: str
) -> None:
    import torch

    from mot_cli.encoder.model import EncoderConfig, build_encoder, save_checkpoint

    path = scene["root"] / "encoder.pt"
    save_checkpoint(path, build_encoder(EncoderConfig(), seed=0))
    payload = torch.load(path, weights_only=True)
    for key, value in change.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = {**payload[key], **value}
    torch.save(payload, path)
    before = snapshot(scene["root"])
    result = track(scene["runs"], scene["video"], scene["det"], "--sd-encoder", path)
    assert_one_line_error(result, str(path), message)
    assert "masks" not in result.stderr  # refused before segmenting
    assert snapshot(scene["root"]) == before


def test_detections_cache_missing_a_column_names_it(scene: dict[str, Path]) -> None:
    cache = scene["run"] / "detections.parquet"
    table = pq.read_table(cache)
    pq.write_table(table.drop_columns(["cls"]).replace_schema_metadata(table.schema.metadata),
                   cache)  # fmt: skip
    before = snapshot(scene["root"])
    for args in (["segment", scene["video"], "--backend", "box"],
                 ["depth", scene["video"], "--backend", "pseudo"]):  # fmt: skip
        result = invoke(*args, "--cache-dir", scene["runs"])
        assert_one_line_error(result, str(cache), "missing cls", "--force")
    assert snapshot(scene["root"]) == before


def test_negative_seq_length_is_blamed_on_seqinfo(scene: dict[str, Path]) -> None:
    sequence = scene["root"] / "gt" / "walk"
    (sequence / "gt").mkdir(parents=True)
    (sequence / "gt" / "gt.txt").write_text((scene["run"] / "walk.txt").read_text())
    (sequence / "seqinfo.ini").write_text("[Sequence]\nname=walk\nseqLength=-3\n")
    before = snapshot(scene["root"])
    result = invoke("eval", sequence, scene["run"])
    assert_one_line_error(result, f"{sequence / 'seqinfo.ini'}: seqLength=-3")
    assert snapshot(scene["root"]) == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_tracker_file_is_named_at_line_1(scene: dict[str, Path], encoding: str) -> None:
    tracker = scene["root"] / "wide.txt"
    tracker.write_text((scene["run"] / "walk.txt").read_text() * 20, encoding=encoding)
    before = snapshot(scene["root"])
    result = invoke("eval", scene["run"] / "walk.txt", tracker, "--seq-length", 20)
    assert_one_line_error(result, f"{tracker}:1: ", "UTF-")
    assert snapshot(scene["root"]) == before


# ------------------------------------------------------ imported masks (--masks-txt, MOTS)


def _mots_line(frame: int, ident: int = 2001, size: tuple[int, int] = (120, 160)) -> str:
    from mot_cli.masks import encode

    mask = np.zeros(size, bool)
    x = 5 + 4 * (frame - 1)
    mask[33:78, x + 2 : x + 18] = True
    return f"{frame} {ident} 2 {size[0]} {size[1]} {encode(mask)}"


@pytest.mark.parametrize(
    ("lines", "extra", "expect"),
    [
        ([_mots_line(1), "2 2001 2 120 160"], (), "masks.txt:2: expected 6 space-separated"),
        ([_mots_line(1), "2 x 2 120 160 abc"], (), "masks.txt:2: column 2 (id) is not an integer"),
        ([_mots_line(1), _mots_line(2).rsplit(" ", 1)[0] + " not~rle"], (),
         "masks.txt:2: column 6 (rle) is not a COCO compressed RLE string"),
        ([_mots_line(1), _mots_line(2, size=(100, 160))], (),
         "masks.txt:2: mask size 100x160 (height x width) differs from the video's 120x160"),
        ([_mots_line(1), _mots_line(21)], (), "masks.txt:2: frame 21 is beyond the sequence"),
        ([_mots_line(1), _mots_line(20)], ("--masks-frames", "0"),
         "masks.txt:2: frame 20 is beyond the sequence length 20 (counted from 0"),
        ([_mots_line(1), _mots_line(1)], (), "masks.txt:2: id 2001 appears twice in frame 1"),
        ([_mots_line(1), _mots_line(1, 2002)], (), "masks.txt:2: mask of id 2002 overlaps"),
        ([_mots_line(1)], ("--masks-frames", "2"), "--masks-frames must be one of auto, 0, 1"),
        ([_mots_line(1)], ("--model", "yolo11n-seg"), "--masks-txt imports masks: it takes no"),
    ],
)
def test_bad_masks_txt_is_one_line_naming_file_and_line(
    tmp_path: Path, small_video: Path, small_det_txt: Path, lines, extra, expect
) -> None:
    masks = tmp_path / "masks.txt"
    masks.write_text("\n".join(lines) + "\n")
    runs = tmp_path / "runs"
    result = invoke("segment", small_video, "--det-txt", small_det_txt, "--masks-txt", masks,
                    "--cache-dir", runs, *extra)  # fmt: skip
    assert_one_line_error(result, expect)
    assert not (runs / "walk" / "masks.parquet").exists()


def test_missing_masks_txt_on_track_and_batch(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    result = track(tmp_path / "runs", small_video, small_det_txt, "--masks-txt",
                   tmp_path / "{name}.mots")  # fmt: skip
    assert_one_line_error(result, f"{tmp_path / 'walk.mots'}: masks file not found")
    result = invoke("batch", small_video, "--det-txt", small_det_txt, *PUBLIC, "--masks-txt",
                    tmp_path / "{name}.mots", "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert result.exit_code == 1
    assert f"{tmp_path / 'walk.mots'}: masks file not found" in " ".join(result.output.split())


def test_eval_tracker_mask_of_another_size_names_file_line_and_both_sizes(
    tmp_path: Path,
) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text(_mots_line(1) + "\n" + _mots_line(2) + "\n")
    tracker = tmp_path / "tracker.txt"
    tracker.write_text(_mots_line(1) + "\n" + _mots_line(2, size=(240, 320)) + "\n")
    result = invoke("eval", gt, tracker, "--seq-length", "2")
    assert_one_line_error(result, f"{tracker}:2: mask size 240x320 (height x width) differs "
                                  f"from the ground truth's 120x160 ({gt}:2)")  # fmt: skip
