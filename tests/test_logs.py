"""Where messages go off a terminal: progress and notes on stderr, results on stdout, and no
line wrapped at 80 columns (so paths survive pipes, logs and `$(mot-cli …)`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, write_video

LONG = "a-folder-name-long-enough-that-every-path-passes-eighty-columns/and-one-more-level"


def mot_cli(*args: object) -> subprocess.CompletedProcess:
    """The CLI in a child process whose stdout and stderr are pipes, not a terminal."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "mot_cli", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_track_results_on_stdout_notes_on_stderr_unwrapped(tmp_path: Path) -> None:
    folder = tmp_path / LONG
    folder.mkdir(parents=True)
    video = write_video(folder / "walk.avi", 20)
    det = folder / "det.txt"
    det.write_text("".join(f"{i + 1},-1,{5 + 4 * i},30,20,50,{55 + i % 3},-1,-1,-1\n"
                           for i in range(20)))  # fmt: skip
    done = mot_cli("track", video, "--det-txt", det, "--no-reid", "--no-cmc",
                   "--cache-dir", folder / "runs", "--set", "min_hits=1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = folder / "runs" / "walk" / "walk.txt"
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    assert lines[0] == f"tracks: 1 ids in frames 1-20 → {text}"
    assert lines[1].startswith(f"caches: {text.parent}/ ")
    # $(mot-cli track …) | cut: the path is the last word of the first line
    assert Path(lines[0].split()[-1]).read_text() == text.read_text()
    notes = done.stderr.splitlines()
    assert notes and all(not line.startswith(("tracks:", "caches:")) for line in notes)
    assert any(f"from {det};" in line for line in notes), done.stderr  # the path on one line


def test_eval_table_on_stdout_unwrapped(tmp_path: Path) -> None:
    gt = tmp_path / LONG / "MOT15-train" / "SeqA"
    (gt / "gt").mkdir(parents=True)
    rows = "".join(f"{f},{i},{40 * i},10,20,40,1,-1,-1,-1\n" for f in range(1, 6) for i in (1, 2))
    (gt / "gt" / "gt.txt").write_text(rows)
    (gt / "seqinfo.ini").write_text("[Sequence]\nname=SeqA\nseqLength=5\n")
    tracker = tmp_path / "a-tracker-with-a-name-as-long-as-a-sentence-that-never-ends" / "data"
    tracker.mkdir(parents=True)
    (tracker / "SeqA.txt").write_text(rows)
    done = mot_cli("eval", gt.parent, tracker.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    table = done.stdout.splitlines()
    header = next(line for line in table if "HOTA" in line)
    assert "MOTA" in header and "IDF1" in header  # one table, not split at 80 columns
    row = next(line for line in table if "a-tracker-with-a-name" in line)
    assert tracker.parent.name in row and "100" in row  # the name whole, with its figures


def test_stage_commands_print_their_result_on_stdout(tmp_path: Path) -> None:
    """`detect` (as `segment`, `depth`, `embed` and `train-encoder`) ends with one result line
    on stdout naming the cache it wrote; its progress stays on stderr."""
    video = write_video(tmp_path / "walk.avi", 12)
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{i + 1},-1,{5 + 4 * i},30,20,50,55,-1,-1,-1\n" for i in range(12)))
    done = mot_cli("detect", video, "--det-txt", det, "--cache-dir", tmp_path / "runs")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("detections: 12 boxes in frames 1-12 → ")
    assert Path(lines[0].split()[-1]) == tmp_path / "runs" / "walk" / "detections.parquet"
    assert "detections:" not in done.stderr
