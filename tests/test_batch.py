"""`mot-cli batch` on one machine: inputs, run names, serial and pool runs, failures, split eval.

Generated clips (tests/conftest.py `write_video`) with generated public detections keep these
fast; camera motion stays on, so every run has a frame-wise stage that writes chunks.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from mot_cli.batch import expand_inputs
from mot_cli.cli import app
from mot_cli.errors import MotCliError
from tests.conftest import write_video

runner = CliRunner()


def invoke(*args: object, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def det_lines(frames: int) -> list[str]:
    """Public-style detections of the square `write_video` draws."""
    return [f"{i + 1},-1,{5 + 4 * i},30,20,50,{55 + i % 3},-1,-1,-1" for i in range(frames)]


def make_clips(root: Path, names: tuple[str, ...] = ("a", "b", "c"), frames: int = 40) -> Path:
    """`root/clips/<name>.avi` and their detections `root/dets/<name>.txt`; returns `root`."""
    (root / "clips").mkdir(parents=True, exist_ok=True)
    (root / "dets").mkdir(exist_ok=True)
    for index, name in enumerate(names):
        write_video(root / "clips" / f"{name}.avi", frames - 4 * index)
        (root / "dets" / f"{name}.txt").write_text("\n".join(det_lines(frames - 4 * index)))
    return root


def batch_args(root: Path, cache: Path, *inputs: object) -> list[object]:
    """`batch` over `inputs` (default: the clips folder) with each clip's own detections."""
    return ["batch", *(inputs or [root / "clips"]), "--det-txt", root / "dets" / "{name}.txt",
            "--no-reid", "--cache-dir", cache]  # fmt: skip


def outputs(run: Path) -> dict[str, bytes]:
    """Every cache and text file of a run folder (the manifest's timings aside)."""
    kept = (".parquet", ".txt")
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.suffix in kept}


def stages(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())["stages"]


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit 1, no traceback, and exactly one `error:` line, the last, holding `fragments`."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert error_lines(result) == lines[-1:], result.stderr
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


# ------------------------------------------------------------------------------ inputs


def test_inputs_from_folders_globs_and_lists_once_each_with_unique_names(tmp_path: Path) -> None:
    for path in ("videos/a.avi", "videos/b.mp4", "videos/notes.md", "other/a.avi", "more/c.mkv"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(b"")
    sequence = tmp_path / "seqs" / "S1"
    (sequence / "img1").mkdir(parents=True)
    listing = tmp_path / "list.txt"
    listing.write_text("# a comment\n\nvideos/b.mp4\nother/a.avi\n  more/*.mkv  \nseqs/S1\n")
    found = expand_inputs([tmp_path / "videos", listing, f"{tmp_path}/videos/*.avi"], tmp_path)
    sources = [item.source.relative_to(tmp_path).as_posix() for item in found.items]
    assert sources == ["videos/a.avi", "videos/b.mp4", "other/a.avi", "more/c.mkv", "seqs/S1"]
    names = [item.name for item in found.items]
    digest = hashlib.sha256(str((tmp_path / "other/a.avi").resolve()).encode()).hexdigest()[:8]
    assert names[1:] == ["b", f"a-{digest}", "c", "S1"]
    assert names[0].startswith("a-") and names[0] != names[2]  # two a's: both get their hash
    again = expand_inputs([listing, tmp_path / "videos"], tmp_path)
    assert {i.source: i.name for i in again.items} == {i.source: i.name for i in found.items}


def test_the_input_whose_run_folder_it_is_keeps_the_plain_name(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
    first, second = (write_video(tmp_path / folder / "a.avi", 4) for folder in ("x", "y"))
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"source": {"path": str(second.resolve())}}))
    names = {i.source: i.name for i in expand_inputs([first, second], tmp_path / "runs").items}
    assert names[second] == "a" and names[first].startswith("a-")
    alone = expand_inputs([first], tmp_path / "runs").items[0]  # "a" holds another video
    assert alone.name == names[first]


def test_a_split_folder_is_its_seqmap_and_knows_its_ground_truth(tmp_path: Path) -> None:
    split = tmp_path / "TOY-train"
    for name in ("S1", "S2", "S3"):
        (split / name / "img1").mkdir(parents=True)
        (split / name / "gt").mkdir()
        (split / name / "gt" / "gt.txt").write_text("1,1,1,1,5,5,1,1,1\n")
    (tmp_path / "seqmaps").mkdir()
    (tmp_path / "seqmaps" / "TOY-train.txt").write_text("name\nS3\nS1\n")
    found = expand_inputs([split], tmp_path / "runs")
    assert [i.name for i in found.items] == ["S3", "S1"]
    assert found.splits[0].sequences == ("S3", "S1") and found.splits[0].has_gt
    (tmp_path / "seqmaps" / "TOY-train.txt").write_text("name\nS9\n")
    with pytest.raises(MotCliError, match=r"lists S9, which .*TOY-train lacks"):
        expand_inputs([split], tmp_path / "runs")


# --------------------------------------------------------------------------- running


def test_serial_and_pool_agree_and_a_rerun_is_up_to_date(tmp_path: Path) -> None:
    root = make_clips(tmp_path)
    serial = invoke(*batch_args(root, tmp_path / "serial"))
    assert serial.exit_code == 0, serial.output
    pool = invoke(*batch_args(root, tmp_path / "pool"), "--workers", "2")
    assert pool.exit_code == 0, pool.output
    for name in ("a", "b", "c"):
        made = outputs(tmp_path / "serial" / name)
        assert set(made) == {"detections.parquet", "camera_motion.parquet", "tracks.parquet",
                             f"{name}.txt"}  # fmt: skip
        assert outputs(tmp_path / "pool" / name) == made
        assert f"[{name}] ok: {40 - 4 * 'abc'.index(name)} frames, 1 ids" in pool.stderr
    assert "3 videos: 3 tracked, 0 up to date, 0 failed" in serial.stdout
    before = {name: stages(tmp_path / "pool" / name) for name in "abc"}
    again = invoke(*batch_args(root, tmp_path / "pool"))
    assert again.exit_code == 0 and "0 tracked, 3 up to date" in again.stdout, again.output
    assert {name: stages(tmp_path / "pool" / name) for name in "abc"} == before


def test_a_corrupt_video_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    root = make_clips(tmp_path)
    bad = tmp_path / "broken" / "bad.avi"
    bad.parent.mkdir()
    bad.write_bytes(b"\x00not a video" * 100)
    result = invoke(*batch_args(root, tmp_path / "runs", root / "clips", bad), "-j", "2")
    assert_one_line_error(result, "bad: ", "bad.avi: not a video OpenCV can decode")
    failed = [line.split() for line in result.stdout.splitlines() if line.endswith("failed ")]
    assert len(failed) == 1 and "bad" in failed[0], result.stdout  # the run column
    assert "3 tracked, 0 up to date, 1 failed" in result.stdout
    for name in "abc":
        entries = stages(tmp_path / "runs" / name)
        assert all(entries[s]["complete"] for s in ("detections", "camera_motion", "tracks"))
    assert not (tmp_path / "runs" / "bad").exists()


def test_a_pool_worker_that_dies_fails_its_video_and_a_rerun_finishes(tmp_path: Path) -> None:
    root = make_clips(tmp_path)
    args = [*batch_args(root, tmp_path / "runs"), "--workers", "2"]
    first = invoke(*args, env={"MOT_CLI_TEST_KILL_AT": "commit:tracks:written@b"})
    assert first.exit_code == 1, first.output
    assert "error: b: its worker process was lost (BrokenProcessPool" in first.stderr
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "b" not in [line.split()[1] for line in again.stdout.splitlines()
                       if line.endswith("up to date ")]  # fmt: skip
    assert outputs(tmp_path / "runs" / "b") == outputs(_serial(root, tmp_path) / "b")


def _serial(root: Path, tmp_path: Path) -> Path:
    result = invoke(*batch_args(root, tmp_path / "serial"))
    assert result.exit_code == 0, result.output
    return tmp_path / "serial"


def _write_sequence(folder: Path, frames: int) -> None:
    """A MOTChallenge sequence of the moving square: images, seqinfo.ini, gt and det."""
    (folder / "img1").mkdir(parents=True)
    write_video(folder / "clip.avi", frames)
    capture = cv2.VideoCapture(str(folder / "clip.avi"))
    for number in range(1, frames + 1):
        cv2.imwrite(str(folder / "img1" / f"{number:06d}.jpg"), capture.read()[1])
    capture.release()
    (folder / "clip.avi").unlink()
    (folder / "seqinfo.ini").write_text(
        f"[Sequence]\nname={folder.name}\nimDir=img1\nframeRate=10\nseqLength={frames}\n"
        "imWidth=160\nimHeight=120\nimExt=.jpg\n"
    )
    (folder / "gt").mkdir()
    (folder / "det").mkdir()
    gt = [f"{i + 1},1,{5 + 4 * i},30,21,51,1,1,1" for i in range(frames)]
    (folder / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
    (folder / "det" / "det.txt").write_text("\n".join(det_lines(frames)) + "\n")


def test_a_split_with_ground_truth_is_evaluated_as_eval_would(tmp_path: Path) -> None:
    split = tmp_path / "TOY-train"
    for name, frames in (("S1", 20), ("S2", 16)):
        _write_sequence(split / name, frames)
    runs = tmp_path / "runs"
    args = ["--det-txt", "det/det.txt", "--no-reid", "--no-cmc", "--cache-dir", runs]
    result = invoke("batch", split, *args)
    assert result.exit_code == 0, result.output
    assert "eval: " in result.stderr and "(MOT15 rules), 2 of 2 sequences" in result.stderr
    for name in ("S1", "S2"):
        alone = invoke("eval", split, runs / name)
        assert alone.exit_code == 0, alone.output
        table = result.stdout.split("MOT15 rules")[1]  # after the summary of the videos
        row = [line.split()[1:] for line in table.splitlines() if line.strip().startswith(name)]
        same = [line.split()[1:] for line in alone.stdout.splitlines()
                if line.strip().startswith(name)]  # fmt: skip
        assert len(row) == 1 and row == same[-1:]  # the sequence's row: the same numbers


# ---------------------------------------------------------------------------- bad input


def _list(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "videos.txt"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "extra", "fragments"),
    [
        (lambda t: [(t / "empty").mkdir() or t / "empty"], [], ["empty", "no videos"]),
        (lambda t: [_list(t, b"# nothing yet\n\n")], [], ["the inputs name no video"]),
        (lambda t: [_list(t, b"\xff\xfe\x00clip")], [], ["videos.txt", "cannot read the list"]),
        (lambda t: [_list(t, b"# first\nnope.avi\n")], [], ["videos.txt:2:", "nope.avi",
                                                             "no such file or folder"]),
        (lambda t: [f"{t}/*.mp4"], [], ["*.mp4", "the pattern matches no file or folder"]),
        (lambda t: [t / "missing.avi"], [], ["missing.avi", "no such file or folder"]),
        (lambda t: [t / "clips"], ["--workers", "0"], ["--workers must be at least 1, got 0"]),
        (lambda t: [t / "clips"], ["--gpus-per-task", "1"], ["--gpus-per-task", "add --ray"]),
        (lambda t: [t / "clips"], ["--set", "iou_treshold=1"], ["--set", "iou_threshold"]),
    ],
)  # fmt: skip
def test_bad_inputs_are_one_line_errors_before_any_work(
    tmp_path: Path, make, extra: list[str], fragments: list[str]
) -> None:
    make_clips(tmp_path, ("a",))
    result = invoke("batch", *make(tmp_path), *extra, "--cache-dir", tmp_path / "runs")
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs ray (mot-cli[ray])")
def test_a_ray_address_where_nothing_listens(tmp_path: Path) -> None:
    root = make_clips(tmp_path, ("a",))
    result = invoke(*batch_args(root, tmp_path / "runs"), "--ray-address", "127.0.0.1:1")
    assert_one_line_error(result, "--ray-address 127.0.0.1:1", "no Ray cluster answers there")


def test_eval_of_a_batch_folder_scores_each_video_and_combines(tmp_path: Path) -> None:
    """issue 21: `batch` two dataset videos, then `eval SPLIT RUNS`: both sequences and a
    combined row, equal to the same files scored as a tracker folder (TrackEval's layout;
    tests/test_metrics_reference.py holds that path to TrackEval's own numbers)."""
    from tests.conftest import MOT15, VIDEOS, need

    videos = [need(VIDEOS / "TUD-Campus.mp4"), need(VIDEOS / "KITTI-17.mp4")]
    need(MOT15 / "KITTI-17" / "det" / "det.txt")
    runs = tmp_path / "R"
    result = invoke("batch", *videos, "--cache-dir", runs, "--det-txt",
                    MOT15 / "{name}" / "det" / "det.txt", "--no-reid", "--no-cmc")  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = invoke("eval", MOT15, runs, "--json", tmp_path / "runs.json")
    assert scored.exit_code == 0, scored.output
    table = [line.split() for line in scored.stdout.splitlines()]
    assert [row[0] for row in table if row and row[0] in ("R", "TUD-Campus", "KITTI-17")] == [
        "R", "KITTI-17", "TUD-Campus"
    ]
    data = tmp_path / "trackers" / "R" / "data"
    data.mkdir(parents=True)
    for name in ("TUD-Campus", "KITTI-17"):
        (data / f"{name}.txt").write_bytes((runs / name / f"{name}.txt").read_bytes())
    seqmap = tmp_path / "two.txt"
    seqmap.write_text("name\nKITTI-17\nTUD-Campus\n")
    folder = invoke("eval", MOT15, data.parent, "--seqmap", seqmap,
                    "--json", tmp_path / "folder.json")  # fmt: skip
    assert folder.exit_code == 0, folder.output
    ours = json.loads((tmp_path / "runs.json").read_text())["R"]
    assert ours == json.loads((tmp_path / "folder.json").read_text())["R"]
    parts = [ours[name] for name in ("TUD-Campus", "KITTI-17")]
    assert ours["COMBINED_SEQ"]["CLR_TP"] == sum(p["CLR_TP"] for p in parts)
    assert ours["COMBINED_SEQ"]["IDSW"] == sum(p["IDSW"] for p in parts)
