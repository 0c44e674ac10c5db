"""Every number TrackEval computed in ../shared/metrics-reference is reproduced.

Fractions within 1e-9, counts exactly and as integers, for every sequence and COMBINED_SEQ.
MOT15 trackers are scored on ../shared/datasets/MOT15-train with MOT15 rules, MOT17 ones on
../shared/datasets/MOT17-train with MOT17 preprocessing (`Lif_T_distract` has boxes on
distractor classes that must be removed before scoring).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mot_cli.metrics import COMBINED, FIELDS, EvalConfig, evaluate

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "metrics-reference"
DATASETS = SHARED / "datasets"
REFERENCE_FILES = sorted(REFERENCE.glob("*/*/trackeval.json"))

pytestmark = pytest.mark.integration


def _id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


@pytest.mark.skipif(not REFERENCE_FILES, reason=f"needs {REFERENCE} (shared data beside the repo)")
@pytest.mark.parametrize("reference", REFERENCE_FILES, ids=_id)
def test_reproduces_trackeval(reference: Path) -> None:
    split = reference.parent.parent.name  # e.g. MOT17-train
    expected = json.loads(reference.read_text())
    sequences = tuple(name for name in expected if name != COMBINED)
    config = EvalConfig(
        ground_truth=DATASETS / split,
        trackers=(reference.parent,),
        benchmark=split.split("-")[0],  # type: ignore[arg-type]
        sequences=sequences,
    )
    table = evaluate(config).trackers[0].table()

    assert set(table) == set(expected)
    mismatches = []
    for sequence, fields in expected.items():
        assert set(fields) == set(FIELDS), sequence
        for field, value in fields.items():
            got = table[sequence][field]
            if isinstance(value, int):
                ok = isinstance(got, int) and got == value
            else:
                ok = isinstance(got, float) and abs(got - value) <= 1e-9
            if not ok:
                mismatches.append(f"{sequence} {field}: got {got!r}, TrackEval {value!r}")
    assert not mismatches, "\n".join(mismatches)


def test_the_reference_set_is_all_there() -> None:
    if not REFERENCE_FILES:
        pytest.skip(f"needs {REFERENCE} (the shared data beside the repo)")
    assert {_id(p) for p in REFERENCE_FILES} >= {
        "MOT15-train/mixed_s0", "MOT17-train/Lif_T", "MOT17-train/Lif_T_distract",
    }  # fmt: skip
