"""What people look at: the annotated video, MOTS export from a run, the summary and its plot.

Runs are made with `mot-cli track --det-txt` on the committed sample clip, with generated
detections of three walkers (and a short-lived false positive), so they take about a second.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from mot_cli.cache import RunDir, stage_key, write_table
from mot_cli.cli import app
from mot_cli.formats.mot import read_mot
from mot_cli.formats.mots import MotsRows, read_mots, write_mots
from mot_cli.masks import decode, encode
from mot_cli.metrics import evaluate_sequence
from mot_cli.outputs.drawing import TextStyle, id_color
from mot_cli.outputs.run import load_run
from mot_cli.schema import MASKS
from tests.conftest import REPO

SAMPLE = REPO / "sample_videos" / "vtest_first80.mp4"
FRAMES, WIDTH, HEIGHT = 80, 768, 576
runner = CliRunner()

# (x at frame 0, x step per frame, y, width, height)
WALKERS = [(50, 4, 200, 40, 100), (600, -3, 250, 45, 110), (300, 1, 100, 30, 80)]
FALSE_POSITIVE = (10, 30, (680, 480, 30, 60))  # frames 10-30, a box no one is in


def walker_box(k: int, frame: int) -> tuple[int, int, int, int]:
    x0, step, y, w, h = WALKERS[k]
    return x0 + step * frame, y, w, h


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def track_sample(root: Path, *extra: object) -> Path:
    det = root / "det.txt"
    if not det.exists():
        lines = [f"{f},-1,{','.join(map(str, walker_box(k, f)))},{55 + (f + k) % 3},-1,-1,-1"
                 for f in range(1, FRAMES + 1) for k in range(len(WALKERS))]  # fmt: skip
        first, last, box = FALSE_POSITIVE
        lines += [f"{f},-1,{','.join(map(str, box))},56,-1,-1,-1" for f in range(first, last + 1)]
        det.write_text("\n".join(lines) + "\n")
    result = invoke("track", SAMPLE, "--det-txt", det, "--no-reid", "--no-cmc", "--cache-dir",
                    root / "runs", "--set", "min_hits=1", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return root / "runs" / "vtest_first80"


def read_frames(path: Path) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == len(frames)
    return frames


def label_color(image: np.ndarray, box: np.ndarray, track_id: int) -> np.ndarray:
    """Median BGR of the id tag drawn inside the box's top-left corner (its text is thin)."""
    style = TextStyle(image.shape[0])
    width, height, baseline = style.size(str(track_id))
    x1, y1 = round(float(box[0])), round(float(box[1]))
    patch = image[y1 + 1 : y1 + height + baseline + 2 * style.pad - 1,
                  x1 + 1 : x1 + width + 2 * style.pad - 1]  # fmt: skip
    return np.median(patch.reshape(-1, 3), axis=0)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`track --render` on the whole sample clip: (run folder, video)."""
    root = tmp_path_factory.mktemp("render")
    video = root / "out" / "tracks.mp4"
    return track_sample(root, "--render", video), video


def test_render_has_the_source_frames_and_each_id_its_own_colour(
    rendered: tuple[Path, Path],
) -> None:
    run, video = rendered
    frames = read_frames(video)
    assert len(frames) == FRAMES and frames[0].shape == (HEIGHT, WIDTH, 3)
    assert not list(video.parent.glob(".*"))  # the temporary file was renamed away
    tracks = load_run(run).tracks
    ids = np.unique(tracks.id)
    assert len(ids) >= 3
    seen = {}
    for track_id in ids.tolist():
        rows = np.flatnonzero((tracks.id == track_id) & (tracks.det >= 0))
        for row in (rows[len(rows) // 4], rows[3 * len(rows) // 4]):  # two frames apart
            got = label_color(frames[tracks.frame[row] - 1], tracks.xyxy[row], track_id)
            assert np.abs(got - np.array(id_color(track_id))).max() <= 40, (track_id, got)
            seen.setdefault(track_id, []).append(got)
        first, second = seen[track_id]
        assert np.abs(first - second).max() <= 25  # the same id, the same colour
    colors = np.array([id_color(i) for i in ids.tolist()], dtype=float)
    distance = np.abs(colors[:, None] - colors[None]).max(axis=2)
    assert distance[~np.eye(len(ids), dtype=bool)].min() > 60  # ids are told apart


def test_render_scaled_range(rendered: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = rendered
    out = tmp_path / "small.avi"
    result = invoke("render", run, "-o", out, "--scale", "0.5", "--start", "11", "--end", "20")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    assert len(frames) == 10 and frames[0].shape == (HEIGHT // 2, WIDTH // 2, 3)
    assert "10 frames, 384x288" in result.stdout


def test_render_marks_errors_as_clear_counts_them(
    rendered: tuple[Path, Path], tmp_path: Path
) -> None:
    """Ground truth where person 1 becomes another walker at frame 41 (an id switch), one person
    nobody detected (misses) and no one where the false positive is."""
    run, _ = rendered
    rows = []
    for f in range(1, FRAMES + 1):
        a, b, c = (walker_box(k, f) for k in range(3))
        rows += [(f, 1, a if f <= 40 else c), (f, 2, b), (f, 5, (20, 480, 40, 80))]
        rows.append((f, 3, c) if f <= 40 else (f, 4, a))
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{f},{i},{','.join(map(str, box))},1,-1,-1,-1\n"
                          for f, i, box in rows))  # fmt: skip
    out = tmp_path / "errors.mp4"
    from mot_cli.outputs.render import RenderConfig, render_run

    result = render_run(run, out, RenderConfig(gt=gt))
    assert result.comparison is not None
    clear = result.comparison.result.summary()
    expected = evaluate_sequence(
        read_mot(gt, kind="gt", seq_length=FRAMES),
        read_mot(run / "vtest_first80.txt", kind="tracker", seq_length=FRAMES),
        seq_length=FRAMES,
    ).summary()
    assert {k: clear[k] for k in ("CLR_FN", "CLR_FP", "IDSW")} == {
        k: expected[k] for k in ("CLR_FN", "CLR_FP", "IDSW")
    }
    assert expected["IDSW"] >= 1 and expected["CLR_FN"] >= FRAMES and expected["CLR_FP"] >= 15
    assert int(result.comparison.false_positive.sum()) == expected["CLR_FP"]
    assert int((result.comparison.switched_from >= 0).sum()) == expected["IDSW"]
    frame = read_frames(out)[59]
    edge = frame[485:555, 19:22].reshape(-1, 3).astype(int)  # left side of the missed person
    blue, green, red = np.median(edge, axis=0)
    assert red > 170 and blue < 90 and green < 90  # drawn red


def test_render_bad_input_is_one_line(rendered: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = rendered
    one_line_error(invoke("render", tmp_path, "-o", tmp_path / "a.mp4"), "not a run folder")
    one_line_error(invoke("render", run, "-o", tmp_path / "a.mkv"), "must end in .mp4")
    one_line_error(invoke("render", run, "-o", tmp_path / "a.mp4", "--scale", "0"),
                   "--scale must be between")  # fmt: skip
    one_line_error(invoke("render", run, "-o", tmp_path / "a.mp4", "--start", "200"),
                   "hold no tracks")  # fmt: skip
    moved = tmp_path / "moved"
    shutil.copytree(run, moved)
    manifest = json.loads((moved / "manifest.json").read_text())
    manifest["source"]["path"] = str(tmp_path / "gone.mp4")
    (moved / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(invoke("render", moved, "-o", tmp_path / "a.mp4"), "gone.mp4", "no longer")


def ellipse_in(box: np.ndarray) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    return ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1


def add_masks(run: Path) -> dict[tuple[int, int], np.ndarray]:
    """A masks.parquet (an ellipse in every detection's box), recorded as the segment stage's."""
    run_dir = RunDir(run)
    detections = run_dir.read_completed("detections", None)
    columns = {c: detections.column(c).to_numpy() for c in detections.column_names}
    masks, table = {}, {name: [] for name in MASKS.names}
    for i in range(detections.num_rows):
        box = np.array([columns[c][i] for c in ("x1", "y1", "x2", "y2")])
        mask = ellipse_in(box)
        key = (int(columns["frame"][i]), int(columns["det"][i]))
        masks[key] = mask
        values = (*key, HEIGHT, WIDTH, encode(mask), int(mask.sum()), *box, np.nan)
        for name, value in zip(MASKS.names, values, strict=True):
            table[name].append(value)
    detections_key = run_dir.completed_key("detections")
    key = stage_key("masks", upstream={"detections": detections_key})
    write_table(run_dir.file("masks"), pa.table(table).cast(MASKS), stage="masks", key=key)
    run_dir.record("masks", {"key": key, "complete": True, "rows": detections.num_rows,
                             "upstream": {"detections": detections_key}})  # fmt: skip
    return masks


def test_track_writes_mots_beside_mot_text_when_masks_exist(tmp_path: Path) -> None:
    run = track_sample(tmp_path)
    assert not (run / "vtest_first80.mots.txt").exists()  # no masks yet
    masks = add_masks(run)
    run = track_sample(tmp_path)
    mots = read_mots(run / "vtest_first80.mots.txt", seq_length=FRAMES)  # valid: no overlaps
    tracks = load_run(run).tracks
    tracked = tracks[tracks.det >= 0]
    assert len(mots) == len(tracked) and set(mots.cls.tolist()) == {2}
    for row in np.flatnonzero(tracked.frame == 50):  # walkers 1 and 2 overlap around here
        frame, track_id, det = int(tracked.frame[row]), int(tracked.id[row]), tracked.det[row]
        written = np.flatnonzero((mots.frame == frame) & (mots.id == track_id))
        assert len(written) == 1
        mask = decode(mots.rle[written[0]], HEIGHT, WIDTH)
        original = masks[(frame, int(det))]
        assert (mask <= original).all() and mask.sum() >= 0.5 * original.sum()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["tracks"]["mots_txt"] == "vtest_first80.mots.txt"

    # the run's MOTS scores perfectly against ground truth made of the same masks
    gt_path = tmp_path / "vtest_first80.txt"  # the sequence is named after the file
    gt = MotsRows(mots.frame, 2000 + mots.id, mots.cls, mots.height, mots.width, mots.rle,
                  gt_path)  # fmt: skip
    write_mots(gt_path, gt)
    result = invoke("eval", gt_path, run, "--seq-length", FRAMES, "--json",
                    tmp_path / "scores.json")  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())["vtest_first80"]["COMBINED_SEQ"]
    assert scores["MOTA"] == 1.0 and scores["HOTA"] == pytest.approx(1.0)

    # the render tints each tracked mask with its id's colour
    plain, tinted = tmp_path / "plain.mp4", tmp_path / "tinted.mp4"
    assert invoke("render", run, "-o", plain, "--no-masks", "--end", "5").exit_code == 0
    assert invoke("render", run, "-o", tinted, "--end", "5").exit_code == 0
    row = np.flatnonzero(tracked.frame == 5)[0]
    box = tracked.xyxy[row]
    cx, cy = int((box[0] + box[2]) / 2), int(box[1] + 0.7 * (box[3] - box[1]))
    before = read_frames(plain)[4][cy - 3 : cy + 3, cx - 3 : cx + 3].reshape(-1, 3).mean(0)
    after = read_frames(tinted)[4][cy - 3 : cy + 3, cx - 3 : cx + 3].reshape(-1, 3).mean(0)
    expected = 0.55 * before + 0.45 * np.array(id_color(int(tracked.id[row])))
    assert np.abs(after - expected).max() <= 20


def test_masks_of_other_detections_are_not_used(tmp_path: Path) -> None:
    run = track_sample(tmp_path)
    add_masks(run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stages"]["masks"]["upstream"]["detections"] = "something-else"
    (run / "manifest.json").write_text(json.dumps(manifest))
    loaded = load_run(run)
    assert loaded.masks is None and "other detections" in loaded.warnings[0]


def test_summary_text_and_plot_with_ground_truth(
    rendered: tuple[Path, Path], tmp_path: Path
) -> None:
    run, _ = rendered
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{f},{k + 1},{','.join(map(str, walker_box(k, f)))},1,-1,-1,-1\n"
                          for f in range(1, FRAMES + 1) for k in range(3)))  # fmt: skip
    plot = tmp_path / "plots" / "summary.png"
    result = invoke("summary", run, "--gt", gt, "--plot", plot)
    assert result.exit_code == 0, result.output
    tracks = load_run(run).tracks
    text = result.stdout
    assert f"tracks: {len(np.unique(tracks.id))} ids, {len(tracks)} boxes" in text
    assert f"({int(np.sum(tracks.det < 0))} interpolated" in text
    assert "ground truth (MOT15 rules): 3 ids, 240 boxes" in text
    expected = evaluate_sequence(
        read_mot(gt, kind="gt", seq_length=FRAMES),
        read_mot(run / "vtest_first80.txt", kind="tracker", seq_length=FRAMES),
        seq_length=FRAMES,
    ).summary()
    assert f"MOTA {100 * expected['MOTA']:.1f}" in text and f"FP {expected['CLR_FP']}" in text

    import matplotlib.image

    image = matplotlib.image.imread(plot)
    assert image.shape[1] == 1400 and image.shape[0] > 600
    alone = tmp_path / "alone.png"
    assert invoke("summary", run, "--plot", alone).exit_code == 0
    assert matplotlib.image.imread(alone).shape[1] == 1400


def test_summary_bad_input_is_one_line(rendered: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = rendered
    one_line_error(invoke("summary", tmp_path), "not a run folder")
    bad = tmp_path / "gt.txt"
    bad.write_text("1,1,10,10,5\n")
    one_line_error(invoke("summary", run, "--gt", bad), "gt.txt:1:")
