"""The one output guard (issue 17): no option that writes a user-named file destroys anything.

Every option that writes a file the user names (`track -o/--render`, `render -o`, `summary
--plot`, `eval --json/--csv/--plot`, `train-encoder -o` and its `.json` record) is pointed at
each thing it must never replace: the run's source, a run folder's caches and manifest, ground
truth, a read-only folder. Each case asserts exit 1, one `error:` line naming the option and
the path, no traceback, and every file under the test folder byte-identical (and of the same
mode) afterwards. Refusals come before any work: `train-encoder` is refused even on a run
folder it could not train on, and a render leaves no temporary.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from mot_cli.guard import check_output
from tests.test_bad_inputs import (  # noqa: F401 (tmpfs is a fixture)
    assert_one_line_error,
    invoke,
    remount_read_only,
    snapshot,
    tmpfs,
    track,
)


@pytest.fixture
def scene(tmp_path: Path, small_video: Path, small_det_txt: Path) -> dict[str, Path]:
    """A tracked video, a second run folder, and a MOTChallenge sequence with ground truth."""
    runs = tmp_path / "runs"
    for name in ("walk", "other"):
        result = track(runs, small_video, small_det_txt, "--set", "min_hits=1", "--name", name)
        assert result.exit_code == 0, result.output
    sequence = tmp_path / "gt" / "walk"
    (sequence / "gt").mkdir(parents=True)
    (sequence / "gt" / "gt.txt").write_text((runs / "walk" / "walk.txt").read_text())
    (sequence / "seqinfo.ini").write_text(
        "[Sequence]\nname=walk\nimDir=img1\nframeRate=10\nseqLength=20\nimWidth=160\n"
        "imHeight=120\nimExt=.jpg\n"
    )
    return {"root": tmp_path, "video": small_video, "det": small_det_txt, "runs": runs,
            "run": runs / "walk", "other": runs / "other", "seq": sequence,
            "gt": sequence / "gt" / "gt.txt", "seqinfo": sequence / "seqinfo.ini"}  # fmt: skip


def _command(scene: dict[str, Path], option: str, target: Path) -> list[object]:
    """The command line that writes `target` through `option`."""
    run, video, det = scene["run"], scene["video"], scene["det"]
    tracked = ["track", video, "--det-txt", det, "--no-reid", "--no-cmc", "--cache-dir",
               scene["runs"], "--name", "walk", "--set", "min_hits=1"]  # fmt: skip
    return {
        "track -o": [*tracked, "-o", target],
        "track --render": [*tracked, "--render", target],
        "render -o": ["render", run, "-o", target, "--gt", scene["seq"]],
        "summary --plot": ["summary", run, "--plot", target, "--gt", scene["seq"]],
        "eval --json": ["eval", scene["seq"], run, "--json", target],
        "eval --csv": ["eval", scene["seq"], run, "--csv", target],
        "eval --plot": ["eval", scene["seq"], run, "--plot", target],
        "train-encoder -o": ["train-encoder", run, "-o", target],
    }[option]


def _option(case: str) -> str:
    option = case.split()[1]
    return "--output" if option == "-o" else option


# (command and option, target, what the error says). Video writers only take video names.
CASES = [
    ("track --render", "video", "is an input"),
    ("render -o", "video", "is an input"),
    ("summary --plot", "video", "is an input"),
    ("train-encoder -o", "video", "is an input"),
    ("track -o", "gt", "is ground truth"),
    ("summary --plot", "gt", "is ground truth"),
    ("eval --csv", "gt", "is an input"),
    ("train-encoder -o", "gt", "is ground truth"),
    ("track -o", "seqinfo", "seqinfo.ini"),
    ("summary --plot", "seqinfo", "seqinfo.ini"),
    ("eval --json", "seqinfo", "is an input"),
    ("train-encoder -o", "seqinfo", "seqinfo.ini"),
    ("summary --plot", "run/tracks.parquet", "inside the run folder"),
    ("summary --plot", "run/walk.txt", "inside the run folder"),
    ("summary --plot", "run/manifest.json", "manifest"),
    ("eval --plot", "other/tracks.parquet", "inside the run folder"),
    ("eval --json", "other/manifest.json", "manifest"),
    ("track -o", "other/walk.txt", "result it records"),
    ("track -o", "other/.lock", "inside the run folder"),
    ("train-encoder -o", "run/detections.parquet", "inside the run folder"),
    ("train-encoder -o", "other/tracks.parquet", "inside the run folder"),
    ("train-encoder -o", "run/sd_encoder.pt", "inside the run folder"),
]


def _target(scene: dict[str, Path], name: str) -> Path:
    if name in scene:
        return scene[name]
    folder, _, file = name.partition("/")
    return scene[folder] / file.replace("walk.txt", f"{scene[folder].name}.txt")


@pytest.mark.parametrize(("case", "target", "message"), CASES)
def test_output_never_replaces_what_it_must_not(
    scene: dict[str, Path], case: str, target: str, message: str
) -> None:
    path = _target(scene, target)
    before = snapshot(scene["root"])
    result = invoke(*_command(scene, case, path))
    assert_one_line_error(result, f"{_option(case)} {path}", message)
    assert snapshot(scene["root"]) == before


def test_train_encoder_record_is_guarded_too(scene: dict[str, Path]) -> None:
    """`-o RUN/manifest` would put the record (`manifest.json`) over the run's manifest."""
    before = snapshot(scene["root"])
    result = invoke("train-encoder", scene["run"], "-o", scene["run"] / "manifest")
    assert_one_line_error(result, f"--output's record {scene['run'] / 'manifest.json'}",
                          "manifest")  # fmt: skip
    assert snapshot(scene["root"]) == before


def test_train_encoder_output_is_checked_before_its_inputs(scene: dict[str, Path]) -> None:
    """The run has no masks to train on: the bad -o is what is reported, so it came first."""
    result = invoke("train-encoder", scene["run"], "-o", scene["video"])
    assert_one_line_error(result, "--output", "is an input")
    assert "masks" not in result.stderr


def test_output_through_a_link_or_a_hard_link_is_the_same_file(scene: dict[str, Path]) -> None:
    link, hard = scene["root"] / "link.avi", scene["root"] / "hard.avi"
    link.symlink_to(scene["video"])
    os.link(scene["video"], hard)
    before = snapshot(scene["root"])
    for path in (link, hard):
        result = invoke("render", scene["run"], "-o", path)
        assert_one_line_error(result, f"--output {path}", "is an input")
    assert snapshot(scene["root"]) == before


def test_image_of_the_sequence_a_run_read_is_refused(tmp_path: Path) -> None:
    from tests.test_bad_inputs import mot_sequence, write_det

    sequence = mot_sequence(tmp_path, list(range(1, 6)), 5)
    det = write_det(tmp_path / "det.txt", 5)
    result = invoke("track", sequence, "--det-txt", det, "--no-reid", "--no-cmc", "--cache-dir",
                    tmp_path / "runs", "--set", "min_hits=1")  # fmt: skip
    assert result.exit_code == 0, result.output
    before = snapshot(tmp_path)
    for target in (sequence / "img1" / "000002.png", sequence / "img1" / "000099.png"):
        result = invoke("summary", tmp_path / "runs" / "Seq", "--plot", target)
        assert_one_line_error(result, f"--plot {target}", "sequence folder")
    assert snapshot(tmp_path) == before


def test_new_files_beside_a_run_and_its_own_text_are_allowed(scene: dict[str, Path]) -> None:
    preview = scene["run"] / "preview.mp4"
    assert invoke("render", scene["run"], "-o", preview).exit_code == 0
    assert preview.stat().st_size > 0
    assert check_output(scene["run"] / "walk.txt", "--output",
                        allow=[scene["run"] / "walk.txt"]) == scene["run"] / "walk.txt"  # fmt: skip
    assert check_output(scene["root"] / "new" / "gt.txt", "--output")  # not in a gt/ folder
    assert check_output(scene["run"] / "mine.pt", "--output")  # a checkpoint, not the cache's


def test_render_and_plot_get_the_users_umask_and_clear_stale_temporaries(
    scene: dict[str, Path],
) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    out = scene["root"] / "out"
    out.mkdir()
    stale = [out / f".v.mp4.{finished.pid}-abc.tmp.mp4", out / f".p.png.{finished.pid}-x.tmp"]
    for path in stale:
        path.write_bytes(b"left by a kill -9")
    kept = out / "kept.png"
    kept.write_bytes(b"old")
    kept.chmod(0o604)
    previous = os.umask(0o027)
    try:
        for args in (["render", scene["run"], "-o", out / "v.mp4"],
                     ["summary", scene["run"], "--plot", out / "p.png"],
                     ["summary", scene["run"], "--plot", kept]):  # fmt: skip
            result = invoke(*args)
            assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"v.mp4": 0o640, "p.png": 0o640, "kept.png": 0o604}, modes


@pytest.mark.parametrize("case", ["render -o", "summary --plot", "train-encoder -o", "eval --csv"])
def test_output_in_a_read_only_folder_fails_before_the_work(
    tmpfs: Path, scene: dict[str, Path], case: str  # noqa: F811 (the imported fixture)
) -> None:
    remount_read_only(tmpfs)
    target = tmpfs / ("out.mp4" if case == "render -o" else "out.bin")
    before = snapshot(scene["root"])
    result = invoke(*_command(scene, case, target))
    assert_one_line_error(result, f"{_option(case)} {target}", "Read-only file system")
    assert "render:" not in result.stderr and "masks" not in result.stderr  # no frame, no data
    assert snapshot(scene["root"]) == before
