"""`mot-cli eval` as a user meets it: inputs in every accepted shape, outputs, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.metrics import FIELDS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

GT_ROWS = [f"{f},{i},{40 * i},10,20,40,1,-1,-1,-1" for f in range(1, 6) for i in (1, 2)]


def invoke(*args: object):
    return runner.invoke(app, ["eval", *map(str, args)])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def make_sequence(root: Path, name: str, gt_rows: list[str], length: int = 5) -> Path:
    folder = root / name
    (folder / "gt").mkdir(parents=True)
    (folder / "gt" / "gt.txt").write_text("\n".join(gt_rows) + "\n")
    (folder / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nseqLength={length}\n")
    return folder


def make_tracker(root: Path, name: str, files: dict[str, list[str]]) -> Path:
    data = root / name / "data"
    data.mkdir(parents=True)
    for seq, lines in files.items():
        (data / f"{seq}.txt").write_text("\n".join(lines) + "\n")
    return root / name


@pytest.fixture
def split(tmp_path: Path) -> Path:
    """A MOTChallenge split folder with two 5-frame sequences of two people each."""
    root = tmp_path / "MOT15-train"
    make_sequence(root, "SeqA", GT_ROWS)
    make_sequence(root, "SeqB", GT_ROWS)
    return root


@pytest.fixture
def perfect(tmp_path: Path) -> Path:
    return make_tracker(tmp_path / "trackers", "perfect", {"SeqA": GT_ROWS, "SeqB": GT_ROWS})


def test_help_has_examples() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Examples" in result.output
    assert "mot-cli eval MOT15/train my_tracker" in result.output


def test_table_json_csv_and_plot(tmp_path: Path, split: Path, perfect: Path) -> None:
    out = tmp_path / "out"
    result = invoke(split, perfect, "--json", out / "r.json", "--csv", out / "r.csv",
                    "--plot", out / "alpha.png")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "MOT15 rules" in result.stdout  # detected from the folder name
    assert "perfect" in result.stdout and "SeqA" in result.stdout and "100.00" in result.stdout

    results = json.loads((out / "r.json").read_text())
    assert list(results) == ["perfect"]
    assert list(results["perfect"]) == ["COMBINED_SEQ", "SeqA", "SeqB"]
    combined = results["perfect"]["COMBINED_SEQ"]
    assert sorted(combined) == sorted(FIELDS)
    assert combined["HOTA"] == 1.0 and combined["CLR_TP"] == 20 and combined["IDTP"] == 20

    lines = (out / "r.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["tracker", "sequence", "HOTA"] and "HOTA___50" in header
    assert [line.split(",")[1] for line in lines[1:]] == ["SeqA", "SeqB", "COMBINED_SEQ"]

    assert (out / "alpha.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_trackers_side_by_side(tmp_path: Path, split: Path, perfect: Path) -> None:
    shifted = [line.replace(",10,20,", ",40,20,") for line in GT_ROWS]  # IoU 1/7: all missed
    other = make_tracker(tmp_path / "trackers", "shifted", {"SeqA": shifted, "SeqB": shifted})
    result = invoke(split, perfect, other, "--json", tmp_path / "r.json", "--all")
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "r.json").read_text())
    assert list(results) == ["perfect", "shifted"]
    assert results["shifted"]["COMBINED_SEQ"]["CLR_TP"] == 0
    assert "shifted" in result.stdout and "IDFP" in result.stdout  # --all shows every field


def test_run_folder_and_single_files(tmp_path: Path, split: Path) -> None:
    run = tmp_path / "runs" / "my-run"
    run.mkdir(parents=True)
    tracks = {"complete": True, "mot_txt": "SeqB.txt"}
    (run / "manifest.json").write_text(json.dumps({"name": "SeqB", "stages": {"tracks": tracks}}))
    (run / "SeqB.txt").write_text("\n".join(GT_ROWS) + "\n")
    single = tmp_path / "SeqA.txt"
    single.write_text("\n".join(GT_ROWS[:4]) + "\n")
    result = invoke(split, run, single, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "r.json").read_text())
    assert list(results["my-run"]) == ["COMBINED_SEQ", "SeqB"]
    assert list(results[tmp_path.name]) == ["COMBINED_SEQ", "SeqA"]  # named after its folder
    assert results[tmp_path.name]["SeqA"]["CLR_TP"] == 4


def make_run(runs: Path, folder: str, sequence: str, rows: list[str]) -> Path:
    """A finished run folder as `track` leaves it (manifest and text), in `runs`."""
    run = runs / folder
    run.mkdir(parents=True)
    tracks = {"complete": True, "mot_txt": f"{sequence}.txt"}
    (run / "manifest.json").write_text(json.dumps({"name": sequence, "stages": {"tracks": tracks}}))
    (run / f"{sequence}.txt").write_text("\n".join(rows) + "\n")
    return run


def test_a_folder_of_runs_is_one_tracker_per_sequence_and_combined(
    tmp_path: Path, split: Path
) -> None:
    """What `batch` writes scores as one tracker: each run's sequence, and the sequences
    combined exactly as the same files in a tracker folder (TrackEval's layout) combine."""
    make_sequence(split, "SeqC", GT_ROWS)  # in the split, no run: not scored, noted
    runs = tmp_path / "runs"
    some = GT_ROWS[:6]
    make_run(runs, "SeqA", "SeqA", GT_ROWS)
    make_run(runs, "clip-b", "SeqB", some)  # a run is found by its manifest's name
    make_run(runs, "walk", "walk", GT_ROWS)  # a video with no ground truth: left alone
    as_folder = make_tracker(tmp_path / "trackers", "runs", {"SeqA": GT_ROWS, "SeqB": some})
    result = invoke(split, runs, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert "SeqA" in result.stdout and "SeqB" in result.stdout and "SeqC" not in result.stdout
    ours = json.loads((tmp_path / "r.json").read_text())["runs"]
    assert list(ours) == ["COMBINED_SEQ", "SeqA", "SeqB"]
    reference = invoke(split, as_folder, "--seq", "SeqA", "--seq", "SeqB",
                       "--json", tmp_path / "f.json")  # fmt: skip
    assert reference.exit_code == 0, reference.output
    assert ours == json.loads((tmp_path / "f.json").read_text())["runs"]
    assert ours["COMBINED_SEQ"]["CLR_TP"] == 10 + 6  # counts summed, not a mean
    # an explicit --seq still rules, and a sequence without a run is said so
    one = invoke(split, runs, "--seq", "SeqA", "--seq", "SeqC")
    assert one.exit_code == 0, one.output
    assert "1 of 2 sequences scored; no results for SeqC" in one.stderr


def test_a_folder_of_runs_with_two_runs_of_one_sequence(tmp_path: Path, split: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "SeqA", "SeqA", GT_ROWS)
    make_run(runs, "SeqA-1a2b3c4d", "SeqA", GT_ROWS)
    assert_one_line_error(invoke(split, runs), str(runs), "two runs of sequence SeqA")


def test_a_folder_of_runs_for_other_sequences(tmp_path: Path, split: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "walk", "walk", GT_ROWS)
    assert_one_line_error(invoke(split, runs), str(runs), "no run folder", "walk")


def test_single_gt_file_needs_its_length(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("\n".join(GT_ROWS) + "\n")
    tracks = tmp_path / "tracks.txt"
    tracks.write_text("\n".join(GT_ROWS) + "\n")
    assert_one_line_error(invoke(gt, tracks), str(gt), "--seq-length")
    result = invoke(gt, tracks, "--seq-length", 5, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["tracks"]["COMBINED_SEQ"]["MOTA"] == 1


def test_seq_option_picks_sequences(tmp_path: Path, split: Path) -> None:
    only_a = make_tracker(tmp_path / "trackers", "only_a", {"SeqA": GT_ROWS})
    assert_one_line_error(invoke(split, only_a), str(only_a / "data" / "SeqB.txt"), "not found")
    result = invoke(split, only_a, "--seq", "SeqA", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert list(json.loads((tmp_path / "r.json").read_text())["only_a"]) == ["COMBINED_SEQ", "SeqA"]
    assert_one_line_error(invoke(split, only_a, "--seq", "SeqC"), "no sequence 'SeqC'", "SeqA")


ROW = "1,1,40,10,20,40,1,-1,-1,-1\n"  # a valid first row
BAD_TRACKER_ROWS = [
    ("1,1,40,10,20\n", 1, "expected 6 to 10 columns"),
    (ROW + "2,1,40,ten,20,40,1,-1,-1,-1\n", 2, "column 4 (y) is not a finite number"),
    ("0,1,40,10,20,40,1,-1,-1,-1\n", 1, "frame 0"),
    (ROW + "6,1,40,10,20,40,1,-1,-1,-1\n", 2, "frame 6 is beyond the sequence length 5"),
    (ROW + "1,1,80,10,20,40,1,-1,-1,-1\n", 2, "id 1 appears twice in frame 1"),
    ("1,1,40,10,0,40,1,-1,-1,-1\n", 1, "width must be positive"),
    ("1,1,40,10,20,-3,1,-1,-1,-1\n", 1, "height must be positive"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "what"), BAD_TRACKER_ROWS)
def test_malformed_tracker_file(
    tmp_path: Path, split: Path, text: str, line: int, what: str
) -> None:
    tracker = make_tracker(tmp_path / "trackers", "bad", {"SeqA": GT_ROWS, "SeqB": GT_ROWS})
    bad_file = tracker / "data" / "SeqB.txt"
    bad_file.write_text(text)
    assert_one_line_error(invoke(split, tracker), f"{bad_file}:{line}: {what}")


def test_malformed_ground_truth(tmp_path: Path, perfect: Path) -> None:
    root = tmp_path / "MOT15-train"
    make_sequence(root, "SeqA", GT_ROWS)
    make_sequence(root, "SeqB", [*GT_ROWS[:3], "2,1,40,10,20,40,1,-1,-1,-1"])
    gt_file = root / "SeqB" / "gt" / "gt.txt"
    assert_one_line_error(invoke(root, perfect), f"{gt_file}:4: id 1 appears twice in frame 2")


def test_missing_files(tmp_path: Path, split: Path, perfect: Path) -> None:
    assert_one_line_error(invoke(tmp_path / "nowhere", perfect), "ground truth not found")
    assert_one_line_error(invoke(split, tmp_path / "nothing"), "tracker results not found")
    (split / "SeqB" / "seqinfo.ini").unlink()
    assert_one_line_error(invoke(split, perfect), str(split / "SeqB" / "seqinfo.ini"))


def test_mot17_needs_classes(tmp_path: Path, perfect: Path) -> None:
    root = tmp_path / "MOT17-train"  # the name selects MOT17 preprocessing
    make_sequence(root, "SeqA", GT_ROWS)
    make_sequence(root, "SeqB", GT_ROWS)
    gt_file = root / "SeqA" / "gt" / "gt.txt"
    assert_one_line_error(invoke(root, perfect), f"{gt_file}:1: class -1", "--benchmark MOT15")
    assert invoke(root, perfect, "--benchmark", "mot15").exit_code == 0


@pytest.mark.integration
def test_reproduces_a_reference_through_the_cli(tmp_path: Path) -> None:
    reference = SHARED / "metrics-reference" / "MOT17-train" / "Lif_T_distract"
    if not (reference / "trackeval.json").is_file():
        pytest.skip(f"needs {reference} (the shared data beside the repo)")
    result = invoke(SHARED / "datasets" / "MOT17-train", reference, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert "MOT17 rules" in result.stdout
    got = json.loads((tmp_path / "r.json").read_text())["Lif_T_distract"]
    expected = json.loads((reference / "trackeval.json").read_text())
    for sequence, fields in expected.items():
        for field, value in fields.items():
            assert got[sequence][field] == pytest.approx(value, abs=1e-9), (sequence, field)
            assert type(got[sequence][field]) is type(value), (sequence, field)


def test_eval_imports_no_heavy_modules(tmp_path: Path, split: Path, perfect: Path) -> None:
    code = (
        "import sys\n"
        "from mot_cli.cli import app\n"
        f"sys.argv = ['mot-cli', 'eval', {str(split)!r}, {str(perfect)!r}]\n"
        "try:\n    app()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "heavy = ['torch', 'cv2', 'pyarrow', 'ultralytics', 'matplotlib', 'scipy.optimize']\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          check=True)  # fmt: skip
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
