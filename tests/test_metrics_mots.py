"""MOTS: mask-IoU metrics equal TrackEval's MOTSChallenge numbers, hand-made cases, the CLI.

tests/data/mots/ holds generated sequences (tests/make_mots_reference.py) with id switches,
fragmented tracks, misses, false positives, masks near IoU 0.5, false positives inside and
half inside ignore regions, cars, empty frames and an empty tracker file, plus TrackEval
1.3.0's results for them (trackeval.json), computed in a throwaway venv.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.formats.mots import MotsRows
from mot_cli.masks import encode
from mot_cli.metrics import COMBINED, FIELDS, EvalConfig, evaluate, score_sequence
from mot_cli.metrics.mots import prepare_mots_sequence

DATA = Path(__file__).resolve().parent / "data" / "mots"
runner = CliRunner()


def test_reproduces_trackeval_mots_challenge() -> None:
    expected = json.loads((DATA / "trackeval.json").read_text())
    trackers = tuple(DATA / "trackers" / name for name in expected)
    result = evaluate(EvalConfig(DATA / "MOTS20-train", trackers))
    assert result.benchmark == "MOTS"  # detected from the file format
    mismatches = []
    for tracker in result.trackers:
        table = tracker.table()
        assert set(table) == set(expected[tracker.name]), tracker.name
        for sequence, fields in expected[tracker.name].items():
            assert set(fields) == set(FIELDS)
            for field, value in fields.items():
                got = table[sequence][field]
                if isinstance(value, int):
                    ok = isinstance(got, int) and got == value
                else:
                    ok = isinstance(got, float) and abs(got - value) <= 1e-9
                if not ok:
                    mismatches.append(f"{tracker.name} {sequence} {field}: {got!r} vs {value!r}")
    assert not mismatches, "\n".join(mismatches)
    # the fixtures exercise what they claim to
    good, noisy, sparse = (expected[n][COMBINED] for n in ("good", "noisy", "sparse"))
    assert good["IDSW"] >= 3 and noisy["CLR_FN"] > 0 and noisy["CLR_FP"] > 0
    assert sparse["IDSW"] > 10 and expected["sparse"]["MOTS20-92"]["CLR_TP"] == 0


def square(y: int, x: int, size: int = 4, shape: tuple[int, int] = (12, 12)) -> str:
    mask = np.zeros(shape, dtype=bool)
    mask[y : y + size, x : x + size] = True
    return encode(mask)


def mots(*items: tuple[int, int, int, str]) -> MotsRows:
    """Rows of (frame, id, class, rle) on a 12x12 frame."""
    n = len(items)
    frame, ids, cls, counts = zip(*items, strict=True)
    return MotsRows(frame, ids, cls, np.full(n, 12), np.full(n, 12), counts, Path("t.txt"))


def test_ignore_regions_remove_unmatched_tracker_masks_mostly_inside() -> None:
    gt = mots(
        (1, 2001, 2, square(0, 0)),
        (1, 10000, 10, square(6, 6, 6)),  # ignore region: rows and columns 6..11
    )
    tracker = mots(
        (1, 1, 2, square(0, 0)),  # matches the person
        (1, 2, 2, square(7, 7)),  # fully inside the ignore region: removed
        (1, 3, 2, square(4, 8)),  # half inside (8 of 16 pixels, not > 0.5): a false positive
        (1, 4, 1, square(0, 6)),  # a car: not scored at all
    )
    data = prepare_mots_sequence(gt, tracker, seq_length=1)
    assert data.tracker_row.tolist() == [0, 2]
    assert data.num_gt_dets == 1 and data.pair_iou.tolist() == [1.0, 0.0]
    summary = score_sequence(data).summary()
    assert (summary["CLR_TP"], summary["CLR_FP"], summary["CLR_FN"]) == (1, 1, 0)


def test_mask_iou_is_the_similarity() -> None:
    gt = mots((1, 2001, 2, square(0, 0)))
    tracker = mots((1, 7, 2, square(0, 2)))  # 8 shared pixels of 24: IoU 1/3
    data = prepare_mots_sequence(gt, tracker, seq_length=1)
    assert data.pair_iou.tolist() == [pytest.approx(1 / 3)]
    assert score_sequence(data).summary()["CLR_TP"] == 0  # below 0.5


def test_eval_cli_scores_masks_and_names_bad_lines(tmp_path: Path) -> None:
    args = ["eval", str(DATA / "MOTS20-train"), str(DATA / "trackers" / "good"), "--json",
            str(tmp_path / "out.json")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "MOTS rules" in result.output
    written = json.loads((tmp_path / "out.json").read_text())
    expected = json.loads((DATA / "trackeval.json").read_text())["good"]
    assert written["good"][COMBINED]["IDSW"] == expected[COMBINED]["IDSW"]

    broken = tmp_path / "broken" / "data"
    broken.mkdir(parents=True)
    for seq in ("MOTS20-91", "MOTS20-92"):
        lines = (DATA / "trackers" / "good" / "data" / f"{seq}.txt").read_text().splitlines()
        lines[2] = lines[2].rsplit(" ", 1)[0] + " not~an~rle"
        (broken / f"{seq}.txt").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["eval", str(DATA / "MOTS20-train"), str(tmp_path / "broken")])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "MOTS20-91.txt:3: column 6 (rle) is not a COCO compressed RLE string" in lines[0]

    boxes = tmp_path / "gt.txt"
    boxes.write_text("1,1,10,10,20,40,1,-1,-1,-1\n")
    result = runner.invoke(app, ["eval", str(boxes), str(boxes), "--seq-length", "3",
                                 "--benchmark", "MOTS"])  # fmt: skip
    assert result.exit_code == 1
    assert "gt.txt:1: expected 6 space-separated columns" in result.stderr


def test_reproduces_trackeval_on_a_real_run_over_mots_train() -> None:
    """YOLO11n-seg masks tracked by the defaults on KITTI-17 against the KITTI MOTS ground
    truth: every TrackEval number (sMOTA, MOTA, MOTP = sMOTSA, MOTSA, MOTSP included)."""
    from tests.conftest import DATASETS, need

    gt = need(DATASETS / "MOTS-train")
    real = DATA / "real"
    expected = json.loads((real / "trackeval.json").read_text())
    trackers = tuple(real / "trackers" / name for name in expected)
    result = evaluate(EvalConfig(gt, trackers, sequences=("KITTI-17",)))
    mismatches = []
    for tracker in result.trackers:
        table = tracker.table()
        for sequence, fields in expected[tracker.name].items():
            for field, value in fields.items():
                got = table[sequence][field]
                ok = got == value if isinstance(value, int) else abs(got - value) <= 1e-9
                if not ok:
                    mismatches.append(f"{tracker.name} {sequence} {field}: {got!r} vs {value!r}")
    assert not mismatches, "\n".join(mismatches)
    summary = expected["yolo11n-seg-default"]["KITTI-17"]
    # a real run: misses, false positives and switches all happen
    assert summary["CLR_FN"] > 50 and summary["CLR_FP"] > 5 and summary["IDSW"] > 0
    assert summary["sMOTA"] < summary["MOTA"]
