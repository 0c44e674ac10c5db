"""TrackerConfig validation and CLI-style overrides."""

from __future__ import annotations

import pytest

from mot_cli.tracking import TrackerConfig


def test_defaults_are_valid_and_frozen() -> None:
    cfg = TrackerConfig()
    with pytest.raises(AttributeError):
        cfg.iou_threshold = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("iou_threshold", 1.5),
        ("det_threshold", -0.1),
        ("min_hits", 0),
        ("max_age", 2.5),
        ("w_emb", -1.0),
        ("use_byte", 1),
        ("score_scale", "zscore"),
        ("std_velocity", float("nan")),
    ],
)
def test_bad_values_name_the_argument(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        TrackerConfig(**{name: value})  # type: ignore[arg-type]


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="low_threshold"):
        TrackerConfig(det_threshold=0.2, low_threshold=0.3)


def test_overrides_parse_strings() -> None:
    cfg = TrackerConfig().with_overrides(
        ["iou_threshold=0.25", "min_hits = 5", "use_byte=false", "score_scale=rank"]
    )
    assert cfg.iou_threshold == 0.25 and cfg.min_hits == 5
    assert cfg.use_byte is False and cfg.score_scale == "rank"
    assert TrackerConfig.from_dict({"max_age": "7"}).max_age == 7
    assert TrackerConfig.from_dict(cfg.to_dict()) == cfg


def test_unknown_or_malformed_overrides() -> None:
    with pytest.raises(ValueError, match=r"valid settings: .*iou_threshold"):
        TrackerConfig().with_overrides(["iou_treshold=0.2"])
    with pytest.raises(ValueError, match="name=value"):
        TrackerConfig().with_overrides(["iou_threshold"])
    with pytest.raises(ValueError, match="min_hits must be a whole number"):
        TrackerConfig().with_overrides(["min_hits=two"])


def test_frame_counts_scale_down_on_slower_video_only() -> None:
    cfg = TrackerConfig(reference_fps=10.0, max_age=30, min_hits=2, delta_t=3,
                        interpolate_max_gap=30, relink_max_gap=60, min_track_length=10,
                        smooth_sigma=5.0)
    for fps in (10.0, 25.0, 30.0, None, 0.0):  # at or above the reference, or unknown
        assert cfg.at_frame_rate(fps) == cfg
    half = cfg.at_frame_rate(5.0)  # half the reference rate: the same time spans
    assert (half.max_age, half.min_hits, half.delta_t) == (15, 1, 2)
    assert (half.interpolate_max_gap, half.relink_max_gap, half.min_track_length) == (15, 30, 5)
    assert half.smooth_sigma == 2.5 and half.reference_fps == 0.0
    slow = cfg.at_frame_rate(0.1)  # never below one frame; a setting switched off stays off
    assert (slow.max_age, slow.min_hits, slow.delta_t, slow.min_track_length) == (1, 1, 1, 1)
    off = TrackerConfig(reference_fps=10.0, interpolate_max_gap=0, smooth_sigma=0.0)
    assert off.at_frame_rate(5.0).interpolate_max_gap == 0
    assert off.at_frame_rate(5.0).smooth_sigma == 0.0
    assert TrackerConfig(reference_fps=0.0).at_frame_rate(5.0) == TrackerConfig(
        reference_fps=0.0
    )
