"""Tiny hand-computed cases for HOTA, CLEAR and Identity, with the expected values worked out here.

Boxes are 10x10 squares unless said otherwise; a tracker box equal to its ground truth has
IoU 1, a box far away IoU 0.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mot_cli.errors import MotCliError
from mot_cli.formats.mot import MotRows
from mot_cli.metrics import (
    ALPHAS,
    FIELDS,
    SequenceData,
    box_iou_xywh,
    combine_results,
    evaluate_sequence,
    score_sequence,
)


def rows(*items: tuple) -> MotRows:
    """MotRows from (frame, id, x, y[, w, h[, conf[, cls]]]) tuples; w = h = 10 by default."""
    defaults = (10, 10, 1, -1)
    full = [(*item, *defaults[len(item) - 4 :]) for item in items]
    array = np.array(full, dtype=np.float64).reshape(-1, 8)
    n = len(array)
    return MotRows(array[:, 0], array[:, 1], array[:, 2:6], array[:, 6], array[:, 7],
                   np.ones(n), Path("test.txt"))  # fmt: skip


def score(gt: MotRows, tracker: MotRows, frames: int, benchmark: str = "MOT15") -> dict:
    return evaluate_sequence(gt, tracker, seq_length=frames, benchmark=benchmark).summary()


def assert_fields(summary: dict, **expected: float) -> None:
    for name, value in expected.items():
        name = {"HOTA0": "HOTA(0)", "LocA0": "LocA(0)"}.get(name, name)
        assert summary[name] == pytest.approx(value, abs=1e-12), name


def test_perfect_tracker() -> None:
    # Two people over 3 frames; the tracker has them exactly, under other id numbers.
    gt = rows(*[(f, i, 20 * i, f) for f in (1, 2, 3) for i in (1, 2)])
    tracker = rows(*[(f, 10 + i, 20 * i, f) for f in (1, 2, 3) for i in (1, 2)])
    s = score(gt, tracker, frames=3)
    assert_fields(s, HOTA=1, DetA=1, AssA=1, DetRe=1, DetPr=1, AssRe=1, AssPr=1, LocA=1, OWTA=1,
                  HOTA0=1, LocA0=1, MOTA=1, MOTP=1, MODA=1, CLR_Re=1, CLR_Pr=1, MTR=1, PTR=0,
                  MLR=0, sMOTA=1, IDF1=1, IDR=1, IDP=1)  # fmt: skip
    assert (s["CLR_TP"], s["CLR_FN"], s["CLR_FP"], s["IDSW"], s["Frag"]) == (6, 0, 0, 0, 0)
    assert (s["MT"], s["PT"], s["ML"]) == (2, 0, 0)
    assert (s["IDTP"], s["IDFN"], s["IDFP"]) == (6, 0, 0)
    assert list(s) == list(FIELDS)
    assert all(isinstance(s[k], int) for k in ("CLR_TP", "MT", "Frag", "IDTP", "IDFP"))


def test_empty_tracker() -> None:
    gt = rows((1, 1, 0, 0), (2, 1, 0, 0), (2, 2, 50, 0))
    s = score(gt, rows(), frames=2)
    # Everything missed; TrackEval's conventions: LocA 1 when nothing matched, MLR 1.
    assert_fields(s, HOTA=0, DetA=0, AssA=0, DetRe=0, DetPr=0, LocA=1, LocA0=1, OWTA=0,
                  MOTA=0, MOTP=0, MODA=0, sMOTA=0, MTR=0, MLR=1, IDF1=0, IDR=0, IDP=0)  # fmt: skip
    assert (s["CLR_TP"], s["CLR_FN"], s["CLR_FP"], s["ML"]) == (0, 3, 0, 2)
    assert (s["IDTP"], s["IDFN"], s["IDFP"]) == (0, 3, 0)


def test_empty_ground_truth() -> None:
    s = score(rows(), rows((1, 5, 0, 0), (2, 5, 0, 0)), frames=2)
    # TrackEval reports 0 (not -FP / 1) for MOTA and friends of a sequence without ground truth.
    assert_fields(s, HOTA=0, DetA=0, MOTA=0, MODA=0, sMOTA=0, MLR=1, IDF1=0)
    assert (s["CLR_FP"], s["IDFP"], s["ML"]) == (2, 2, 0)


def test_one_id_switch() -> None:
    # One person over 4 frames, tracked perfectly but as id 1 then id 2.
    gt = rows(*[(f, 1, 0, 0) for f in (1, 2, 3, 4)])
    tracker = rows((1, 1, 0, 0), (2, 1, 0, 0), (3, 2, 0, 0), (4, 2, 0, 0))
    s = score(gt, tracker, frames=4)
    # CLEAR: 4 TP, one switch: MOTA = (4 - 0 - 1) / 4.
    assert (s["CLR_TP"], s["IDSW"], s["Frag"], s["MT"]) == (4, 1, 0, 1)
    assert_fields(s, MOTA=0.75, MODA=1, MOTP=1, sMOTA=0.75)
    # Identity: the person pairs with one tracker id for 2 of 4 frames.
    assert (s["IDTP"], s["IDFN"], s["IDFP"]) == (2, 2, 2)
    assert_fields(s, IDF1=0.5, IDR=0.5, IDP=0.5)
    # HOTA: every detection is a TP at every alpha (DetA 1); each TP's association IoU is
    # TPA / (TPA + FNA + FPA) = 2 / (2 + 2 + 0) = 0.5, so AssA 0.5, AssRe 0.5, AssPr 1.
    assert_fields(s, DetA=1, AssA=0.5, AssRe=0.5, AssPr=1, HOTA=math.sqrt(0.5),
                  OWTA=math.sqrt(0.5), HOTA0=math.sqrt(0.5), LocA=1)  # fmt: skip


def test_one_fragmentation() -> None:
    # One person over 5 frames; the tracker loses them in frame 3 (a false box elsewhere).
    gt = rows(*[(f, 1, 0, 0) for f in (1, 2, 3, 4, 5)])
    tracker = rows((1, 1, 0, 0), (2, 1, 0, 0), (3, 2, 100, 100), (4, 1, 0, 0), (5, 1, 0, 0))
    s = score(gt, tracker, frames=5)
    assert (s["CLR_TP"], s["CLR_FN"], s["CLR_FP"], s["IDSW"], s["Frag"]) == (4, 1, 1, 0, 1)
    # Tracked in 4/5 = 80% of frames: MT needs more than 80%, so it is PT.
    assert (s["MT"], s["PT"], s["ML"]) == (0, 1, 0)
    assert_fields(s, MOTA=(4 - 1) / 5, MOTP=1, MTR=0, PTR=1, MLR=0)
    # HOTA: TP 4, FN 1, FP 1 -> DetA 4/6; the pair's TPA 4, |gt| 5, |id 1| 4 -> AssA 4/5.
    assert_fields(s, DetA=4 / 6, DetRe=0.8, DetPr=0.8, AssA=0.8, AssRe=0.8, AssPr=1,
                  HOTA=math.sqrt(4 / 6 * 0.8), OWTA=0.8)  # fmt: skip
    # Identity: 4 IDTP, the missed frame an IDFN, the false box an IDFP.
    assert (s["IDTP"], s["IDFN"], s["IDFP"]) == (4, 1, 1)
    assert_fields(s, IDF1=0.8)


def test_frames_without_tracker_boxes_do_not_fragment() -> None:
    # TrackEval only updates "previous frame" state in frames with both ground truth and
    # tracker boxes, so a gap where the tracker output nothing at all is not a fragmentation.
    gt = rows(*[(f, 1, 0, 0) for f in (1, 2, 3, 4, 5)])
    tracker = rows((1, 1, 0, 0), (2, 1, 0, 0), (4, 1, 0, 0), (5, 1, 0, 0))
    s = score(gt, tracker, frames=5)
    assert (s["CLR_TP"], s["CLR_FN"], s["Frag"], s["IDSW"]) == (4, 1, 0, 0)


def test_iou_exactly_one_half() -> None:
    # Ground truth 10x10, tracker 10x5 on its top half: IoU 50 / 100 = 0.5.
    s = score(rows((1, 1, 0, 0)), rows((1, 1, 0, 0, 10, 5)), frames=1)
    # CLEAR and Identity match at IoU >= 0.5.
    assert (s["CLR_TP"], s["IDTP"]) == (1, 1)
    assert_fields(s, MOTP=0.5, MOTA=1, sMOTA=0.5)
    # HOTA: a TP for the 10 alphas 0.05..0.50, a miss (FN + FP) for the 9 above.
    assert_fields(s, DetA=10 / 19, AssA=10 / 19, HOTA=10 / 19, DetRe=10 / 19, HOTA0=1,
                  LocA=(10 * 0.5 + 9 * 1.0) / 19, LocA0=0.5)  # fmt: skip


def test_clear_prefers_continuing_the_previous_match() -> None:
    # Frame 2: the person's box overlaps id 1 (IoU 0.6) less than id 2 (IoU 0.9), but CLEAR
    # keeps the id it matched in frame 1, so there is no switch and id 2 is a false positive.
    gt = rows((1, 1, 0, 0), (2, 1, 0, 0))
    tracker = rows((1, 1, 0, 0), (2, 1, 0, 0, 10, 6), (2, 2, 0, 0, 10, 9))
    s = score(gt, tracker, frames=2)
    assert (s["CLR_TP"], s["CLR_FP"], s["IDSW"]) == (2, 1, 0)
    assert_fields(s, MOTP=(1 + 0.6) / 2)


def test_combined_sums_counts_instead_of_averaging() -> None:
    perfect = evaluate_sequence(rows(*[(f, 1, 0, 0) for f in range(1, 11)]),
                                rows(*[(f, 1, 0, 0) for f in range(1, 11)]), seq_length=10)
    missed = evaluate_sequence(rows((1, 1, 0, 0)), rows(), seq_length=1)
    s = combine_results([perfect, missed]).summary()
    assert_fields(s, DetA=10 / 11, MOTA=10 / 11, IDF1=10 / 10.5, LocA=1, AssA=1, MLR=0.5)
    assert (s["CLR_TP"], s["CLR_FN"], s["MT"], s["ML"]) == (10, 1, 1, 1)


def test_mot17_removes_tracker_boxes_on_distractors() -> None:
    # Frame 1: a pedestrian (class 1), a static person (class 7, a distractor) and a
    # zero-marked pedestrian (conf 0); the tracker has a box on each.
    gt = rows((1, 1, 0, 0, 10, 10, 1, 1), (1, 2, 50, 0, 10, 10, 1, 7),
              (1, 3, 100, 0, 10, 10, 0, 1))  # fmt: skip
    tracker = rows((1, 1, 0, 0), (1, 2, 50, 0), (1, 3, 100, 0))
    mot17 = score(gt, tracker, frames=1, benchmark="MOT17")
    # The box on the distractor is dropped; the one on the ignored pedestrian stays an FP.
    assert (mot17["CLR_TP"], mot17["CLR_FN"], mot17["CLR_FP"]) == (1, 0, 1)
    # MOT15 has no classes: only the conf-0 row is ignored.
    mot15 = score(gt, tracker, frames=1, benchmark="MOT15")
    assert (mot15["CLR_TP"], mot15["CLR_FN"], mot15["CLR_FP"]) == (2, 0, 1)


def test_mot20_also_treats_non_mot_vehicles_as_distractors() -> None:
    gt = rows((1, 1, 0, 0, 10, 10, 1, 6))
    tracker = rows((1, 1, 0, 0))
    assert score(gt, tracker, frames=1, benchmark="MOT17")["CLR_FP"] == 1
    assert score(gt, tracker, frames=1, benchmark="MOT20")["CLR_FP"] == 0


def test_mot17_rejects_non_pedestrian_tracker_rows_and_classless_ground_truth() -> None:
    gt = rows((1, 1, 0, 0, 10, 10, 1, 1))
    with pytest.raises(MotCliError, match=r"test.txt:2: class 3 in column 8"):
        score(gt, rows((1, 1, 0, 0), (1, 2, 0, 0, 10, 10, 1, 3)), frames=1, benchmark="MOT17")
    with pytest.raises(MotCliError, match=r"test.txt:1: class -1 .* --benchmark MOT15"):
        score(rows((1, 1, 0, 0)), rows((1, 1, 0, 0)), frames=1, benchmark="MOT17")


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 5]], dtype=float)
    b = np.array([[5, 0, 10, 10], [0, 0, 10, 10], [20, 20, 1, 1]], dtype=float)
    expected = [[50 / 150, 1, 0], [0, 0, 0]]  # a zero-width box scores 0
    np.testing.assert_allclose(box_iou_xywh(a, b), expected, atol=1e-15)
    assert box_iou_xywh(np.zeros((0, 4)), b).shape == (0, 3)


def test_alphas_are_trackevals() -> None:
    assert len(ALPHAS) == 19 and ALPHAS[0] == 0.05 and ALPHAS[-1] == pytest.approx(0.95)


def test_sequence_from_frames_matches_rows() -> None:
    # The same one-id-switch case given as ids and IoU matrices per frame.
    data = SequenceData.from_frames(
        gt_ids=[[7], [7], [7], [7]],
        tracker_ids=[[1], [1], [2], [2]],
        similarity=[np.ones((1, 1))] * 4,
    )
    s = score_sequence(data).summary()
    assert (s["IDSW"], s["IDTP"]) == (1, 2) and s["AssA"] == pytest.approx(0.5)
