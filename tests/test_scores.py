"""Score semantics: fixed calibrations, and weak clutter that must never become tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_cli.detections import Detections
from mot_cli.errors import MotCliError
from mot_cli.scores import NAMED, PROBABILITY, infer_score_map, parse_score_map
from mot_cli.tracking import TrackerConfig, track_sequence


def _clutter_sequence(frames: int = 60, seed: int = 0) -> tuple[list, np.ndarray]:
    """Three people walking at score 0.8 and eight weak, persistent false boxes (a pole, a
    poster...) at 0.1-0.3 in most frames, jittering in place, away from the people."""
    rng = np.random.default_rng(seed)
    clutter = np.array([[40 + 70 * k, 420, 60 + 70 * k, 470] for k in range(8)], np.float32)
    out = []
    for f in range(1, frames + 1):
        people = np.array(
            [[100 + 3 * f, 100, 140 + 3 * f, 200], [300, 80 + 2 * f, 340, 180 + 2 * f],
             [500 - 2 * f, 120, 540 - 2 * f, 220]], np.float32,
        )  # fmt: skip
        seen = rng.random(len(clutter)) < 0.85
        weak = clutter[seen] + rng.normal(0, 1.0, (int(seen.sum()), 4)).astype(np.float32)
        boxes = np.concatenate([people, weak])
        score = np.concatenate([np.full(3, 0.8), rng.uniform(0.1, 0.3, len(weak))])
        out.append((f, Detections(boxes, score, np.zeros(len(boxes))), None))
    return out, clutter


def _tracks_on_clutter(config: TrackerConfig) -> int:
    frames, clutter = _clutter_sequence()
    table = track_sequence(frames, config)
    centres = (table.xyxy[:, :2] + table.xyxy[:, 2:]) / 2
    clutter_centres = (clutter[:, :2] + clutter[:, 2:]) / 2
    near = np.linalg.norm(centres[:, None] - clutter_centres[None], axis=2).min(axis=1) < 15
    people_ids = set(np.unique(table.id[~near]).tolist())
    assert len(people_ids) == 3, "each person keeps one track"
    return int(near.sum())


def test_weak_clutter_never_becomes_tracks_with_the_defaults() -> None:
    assert _tracks_on_clutter(TrackerConfig()) == 0


def test_rank_scaling_lets_a_sequence_promote_its_own_weak_boxes() -> None:
    # the same scene under the old per-sequence rank scale: most boxes are clutter, so the
    # clutter's own rank lifts it over the threshold and it is tracked
    assert _tracks_on_clutter(TrackerConfig(score_scale="rank")) > 100


def test_named_calibrations_are_fixed_monotone_logistics() -> None:
    for family in (NAMED["acf"], NAMED["dpm"]):
        assert family.apply(np.array([family.centre]))[0] == pytest.approx(0.5)
        probe = np.linspace(family.centre - 3 * family.width, family.centre + 3 * family.width)
        assert np.all(np.diff(family.apply(probe)) > 0)
    # on the YOLO scale: half the ACF boxes at a margin of 17 are people, like YOLO at ~0.33
    assert NAMED["acf"].apply(np.array([17.0]))[0] == pytest.approx(0.33, abs=0.02)
    # fixed: a box's probability does not depend on the other boxes of the sequence
    few = NAMED["acf"].apply(np.array([5.0, 80.0]))
    many = NAMED["acf"].apply(np.array([5.0, 80.0, *np.full(100, 1.0)]))
    assert np.array_equal(few, many[:2])
    assert PROBABILITY.apply(np.array([-0.2, 0.4, 1.3])).tolist() == pytest.approx([0, 0.4, 1])


def test_a_lower_scoring_scene_keeps_its_people_within_one_step_of_log_odds() -> None:
    acf = NAMED["acf"]
    # a scene scoring like the files the constants were fitted on keeps the fixed map
    tud = np.array([10.6, 19.7, 37.2, 55.5, 72.4, 40.0, 90.0])
    same = acf.fitted_to(tud)
    assert (same.centre, same.width, same.shift) == (acf.centre, acf.width, 0.0)
    # ETH-Sunnyday-like margins (median 20.6): the median box is no longer cut to ~0.36
    rng = np.random.default_rng(0)
    eth = rng.normal(20.6, 12.0, 1001)
    eth[0] = 20.6
    fitted = acf.fitted_to(eth)
    assert acf.apply(np.array([20.6]))[0] < 0.4 < 0.5 < fitted.apply(np.array([20.6]))[0]
    # however weak the file, a box's log-odds rise by at most one over the fixed map
    junk = rng.uniform(-1.0, 3.0, 500)
    probe = np.linspace(-20.0, 120.0, 50)

    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1 - p))

    gain = logit(acf.fitted_to(junk).apply(probe).astype(np.float64)) - logit(
        acf.apply(probe).astype(np.float64)
    )
    assert np.all(gain <= 1.0 + 1e-3) and gain.max() > 0.99
    # fitting is done once: a fitted map is fixed
    assert fitted.fitted_to(junk) == fitted
    assert PROBABILITY.fitted_to(junk) is PROBABILITY


def test_auto_reads_the_family_from_the_score_range() -> None:
    assert infer_score_map(np.array([0.5, 0.99])) is PROBABILITY
    assert infer_score_map(np.array([-0.7, 3.0, 122.0])).name == "acf"
    assert infer_score_map(np.array([-0.5, 0.6, 4.2])).name == "dpm"


def test_parse_score_map() -> None:
    assert parse_score_map("auto") is None
    assert parse_score_map("DPM").name == "dpm"
    custom = parse_score_map("logistic:2:0.5")
    assert (custom.centre, custom.width) == (2.0, 0.5)
    for bad in ("sigmoid", "logistic:2", "logistic:a:b", "logistic:1:0"):
        with pytest.raises(MotCliError, match=r"--det-score|width"):
            parse_score_map(bad)


def test_det_txt_import_records_its_calibration(tmp_path: Path, small_video: Path) -> None:
    from typer.testing import CliRunner

    from mot_cli.cache import RunDir
    from mot_cli.cli import app

    lines = [f"{i + 1},-1,{5 + 4 * i},30,20,50,{-0.4 + 0.1 * (i % 5)},-1,-1,-1" for i in range(20)]
    det = tmp_path / "det.txt"
    det.write_text("\n".join(lines) + "\n")
    args = ["detect", str(small_video), "--det-txt", str(det), "--cache-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "read as dpm" in result.stderr
    entry = RunDir(tmp_path / "walk").load_manifest()["stages"]["detections"]
    scores = np.array([-0.4 + 0.1 * (i % 5) for i in range(20)])
    assert entry["score_map"] == NAMED["dpm"].fitted_to(scores).to_dict()
    assert entry["score_map"]["shift"] == pytest.approx(0.48)  # capped at one width
    key = entry["key"]
    result = CliRunner().invoke(app, [*args, "--det-score", "acf"])
    assert result.exit_code == 0, result.output
    entry = RunDir(tmp_path / "walk").load_manifest()["stages"]["detections"]
    assert entry["score_map"]["name"] == "acf"
    assert entry["key"] == key  # the rows are the file's own: nothing upstream re-runs
    result = CliRunner().invoke(app, [*args, "--det-score", "nope"])
    assert result.exit_code == 1 and "--det-score must be one of" in result.stderr


def test_another_calibration_reruns_the_tracker_only(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    from typer.testing import CliRunner

    from mot_cli.cache import RunDir
    from mot_cli.cli import app

    base = ["track", str(small_video), "--det-txt", str(small_det_txt), "--no-reid", "--no-cmc",
            "--cache-dir", str(tmp_path)]  # fmt: skip
    keys = []
    for scale in ("acf", "logistic:40:5"):
        result = CliRunner().invoke(app, [*base, "--det-score", scale])
        assert result.exit_code == 0, result.output
        stages = RunDir(tmp_path / "walk").load_manifest()["stages"]
        keys.append((stages["detections"]["key"], stages["tracks"]["key"]))
    assert keys[0][0] == keys[1][0] and keys[0][1] != keys[1][1]
