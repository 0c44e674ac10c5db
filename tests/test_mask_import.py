"""`--masks-txt`: MOTS masks imported onto cached detections (segment, track, batch).

The video is conftest's square walking right (detections at x = 5 + 4i, y 30-80); the masks
are rectangles inside those boxes, so which mask goes to which detection is known.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.formats.mots import MotsRows, format_mots, read_mots
from mot_cli.masks import decode, encode
from mot_cli.stages.mask_import import match_masks
from tests.conftest import DATASETS, MOT15, need

runner = CliRunner()
HEIGHT, WIDTH = 120, 160


def person(frame: int, shift: int = 0) -> np.ndarray:
    """The square's silhouette in a 1-based frame, a little inside its detection box."""
    mask = np.zeros((HEIGHT, WIDTH), bool)
    x = 5 + 4 * (frame - 1) + shift
    mask[33:78, x + 2 : x + 18] = True
    return mask


def write_masks(path: Path, frames: range, *, base: int = 1, extra: bool = False) -> Path:
    """A MOTS file of the square in `frames` (1-based), numbered from `base`; `extra` adds a
    mask far from every detection in frame 3."""
    items = [(f, 2001, person(f)) for f in frames]
    if extra:
        stray = np.zeros((HEIGHT, WIDTH), bool)
        stray[100:115, 130:150] = True
        items.append((3, 2002, stray))
    n = len(items)
    rows = MotsRows(
        [f - 1 + base for f, _, _ in items], [i for _, i, _ in items], np.full(n, 2),
        np.full(n, HEIGHT), np.full(n, WIDTH), [encode(m) for _, _, m in items], path,
    )  # fmt: skip
    path.write_text(format_mots(rows))
    return path


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def segment(tmp_path: Path, video: Path, det: Path, masks: Path, *extra: object):
    return invoke("segment", video, "--det-txt", det, "--masks-txt", masks, "--cache-dir",
                  tmp_path / "runs", *extra)  # fmt: skip


def test_match_is_one_to_one_and_needs_overlap() -> None:
    masks = np.array([[0, 0, 10, 20], [12, 0, 22, 20], [50, 50, 60, 60]], float)
    dets = np.array([[11, 0, 21, 20], [1, 0, 11, 20], [0, 0, 22, 20]], float)
    m, d = match_masks(masks, dets)
    assert dict(zip(m.tolist(), d.tolist(), strict=True)) == {0: 1, 1: 0}  # the far one: none
    m, d = match_masks(masks[:1], dets[2:])  # IoU 10/22 >= 0.3
    assert (m.tolist(), d.tolist()) == ([0], [0])
    assert len(match_masks(masks[:1], dets[2:], min_iou=0.5)[0]) == 0


def test_segment_imports_masks_aligned_with_detections(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    masks = write_masks(tmp_path / "masks.txt", range(1, 21), extra=True)
    result = segment(tmp_path, small_video, small_det_txt, masks)
    assert result.exit_code == 0, result.output
    assert "imported 20 of 21 masks" in result.output and "1 masks matched no" in result.output
    run = tmp_path / "runs" / "walk"
    table = pq.read_table(run / "masks.parquet").to_pydict()
    detections = pq.read_table(run / "detections.parquet").to_pydict()
    assert (table["frame"], table["det"]) == (detections["frame"], detections["det"])
    for frame, det, counts, area in zip(table["frame"], table["det"], table["rle"],
                                        table["area"], strict=True):  # fmt: skip
        got = decode(counts, HEIGHT, WIDTH)
        if frame == 7 and det == 1:  # the false positive at (120, 90): no mask
            assert area == 0 and not got.any()
        else:
            assert np.array_equal(got, person(frame)) and area == got.sum()
    entry = json.loads((run / "manifest.json").read_text())["stages"]["masks"]
    assert entry["import"]["sha256"] and entry["import"]["frame_base"] == 1
    assert entry["import"]["matched"] == 20 and entry["config"]["masks_txt"] == str(masks)
    again = segment(tmp_path, small_video, small_det_txt, masks)
    assert "masks: cache up to date" in again.output


@pytest.mark.parametrize(
    ("frames", "base", "option", "why"),
    [
        (range(1, 21), 0, (), "the file has a frame 0"),
        (range(1, 21), 1, (), "the file has a frame 20, the last"),
        (range(3, 15), 0, (), "mean box IoU 0.720 counted from 0, 0.578 from 1"),
        (range(3, 15), 1, (), "mean box IoU 0.578 counted from 0, 0.720 from 1"),
        (range(3, 15), 0, ("--masks-frames", "0"), "--masks-frames 0"),
    ],
)
def test_frame_numbering_is_detected_and_reported(
    tmp_path: Path, small_video: Path, small_det_txt: Path, frames, base, option, why
) -> None:
    masks = write_masks(tmp_path / "masks.txt", frames, base=base)
    result = segment(tmp_path, small_video, small_det_txt, masks, *option)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"counted from {base}: " in text and why in text, text
    table = pq.read_table(tmp_path / "runs/walk/masks.parquet").to_pydict()
    matched = [(f, d) for f, d, a in zip(table["frame"], table["det"], table["area"],
                                         strict=True) if a]  # fmt: skip
    assert matched == [(f, 0) for f in frames]


def test_track_with_masks_txt_per_name_writes_their_mots_text(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    write_masks(tmp_path / "walk.mots", range(1, 21))
    result = invoke("track", small_video, "--det-txt", small_det_txt, "--no-reid", "--no-cmc",
                    "--masks-txt", tmp_path / "{name}.mots", "--set", "min_hits=1",
                    "--set", "w_iom=0.5", "--cache-dir", tmp_path / "runs")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_mots(tmp_path / "runs/walk/walk.mots.txt")
    assert rows.frame.tolist() == list(range(1, 21)) and len(set(rows.id.tolist())) == 1
    assert all(np.array_equal(decode(c, HEIGHT, WIDTH), person(f))
               for f, c in zip(rows.frame, rows.rle, strict=True))  # fmt: skip


def test_kitti_17_ground_truth_masks_segment_track_eval(tmp_path: Path) -> None:
    """Must-show 4: GT masks imported, tracked and scored against MOTS-train from the CLI."""
    sequence = need(MOT15 / "KITTI-17")
    gt = need(DATASETS / "MOTS-train" / "KITTI-17" / "gt" / "gt.txt")
    runs = tmp_path / "runs"
    done = invoke("segment", sequence, "--det-txt", "det/det.txt", "--masks-txt", gt,
                  "--cache-dir", runs)  # fmt: skip
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "imported 478 of 778 masks" in text and "the file has a frame 145" in text
    done = invoke("track", sequence, "--det-txt", "det/det.txt", "--no-reid", "--no-cmc",
                  "--cache-dir", runs)  # fmt: skip
    assert done.exit_code == 0, done.output
    out = tmp_path / "eval.json"
    done = invoke("eval", DATASETS / "MOTS-train", runs / "KITTI-17", "--json", out)
    assert done.exit_code == 0, done.output
    assert "sMOTSA" in done.output and "MOTS rules" in done.output
    scores = json.loads(out.read_text())["KITTI-17"]["KITTI-17"]
    # ground-truth masks: every mask a tracker outputs is a true one, at IoU 1
    assert scores["CLR_FP"] == 0 and scores["MOTP"] == pytest.approx(1.0)
    assert scores["CLR_TP"] > 300 and scores["sMOTA"] == pytest.approx(scores["MOTA"])


def test_batch_imports_each_videos_masks(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    write_masks(tmp_path / "walk.mots", range(1, 21), base=0)
    result = invoke("batch", small_video, "--det-txt", small_det_txt, "--no-reid", "--no-cmc",
                    "--masks-txt", tmp_path / "{name}.mots", "--cache-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "runs/walk/manifest.json").read_text())["stages"]["masks"]
    assert entry["import"]["path"] == str(tmp_path / "walk.mots")
    assert entry["import"]["frame_base"] == 0 and entry["import"]["matched"] == 20
    assert len(read_mots(tmp_path / "runs/walk/walk.mots.txt")) > 0
