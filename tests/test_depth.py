"""Depth stages: map storage, statistics, pseudo-depth geometry, and every network's code path.

Depth Anything V2 and Depth Pro have no weights here: each is built from a small
random-initialised transformers config, saved with `save_pretrained` and loaded by folder
through the model resolver, the path a downloaded Hub snapshot takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mot_cli.depth.maps import decode_map, encode_map, map_shape, upsample
from mot_cli.depth.pseudo import GroundPlane, fit_ground_plane, pseudo_map
from mot_cli.depth.stats import region_stats
from mot_cli.errors import MotCliError
from mot_cli.pipeline import Cached, open_run, produce
from mot_cli.schema import DEPTH, DEPTH_MAPS
from mot_cli.stages import depth, detect, segment
from mot_cli.stages.depth import DepthConfig, DepthStatsConfig
from mot_cli.stages.detect import DetectConfig
from mot_cli.stages.segment import SegmentConfig
from mot_cli.video import FrameRange


def test_map_shape_and_float16_round_trip() -> None:
    assert map_shape(1080, 1920, 256) == (144, 256)
    assert map_shape(480, 640, 256) == (192, 256)
    assert map_shape(100, 50, 256) == (100, 50)  # never larger than the frame
    values = np.random.default_rng(0).random((3, 5)).astype(np.float32) * 10
    data = encode_map(values)
    assert len(data) == 3 * 5 * 2
    assert np.allclose(decode_map(data, 3, 5), values, rtol=1e-3)
    assert upsample(np.array([[1.0, 3.0]]), 1, 4).tolist() == [[1.0, 1.5, 2.5, 3.0]]


def test_region_stats_by_hand() -> None:
    nearness = np.arange(20, dtype=np.float32).reshape(4, 5)  # rows 0..3, values 0..19
    boxes = np.array([[0, 0, 2, 2], [1, 1, 4, 3], [10, 10, 12, 12]], float)
    mask = np.zeros((4, 5), bool)
    mask[2, 1:4] = True  # values 11, 12, 13
    stats = region_stats(nearness, boxes, [np.zeros((4, 5), bool), mask, mask])
    assert stats[0, :3].tolist() == [3.0, 0.75, 5.25]  # median, q1, q3 of 0, 1, 5, 6
    assert np.isnan(stats[0, 3:]).all()  # an empty mask has no statistics
    assert stats[1, 3:].tolist() == [12.0, 11.5, 12.5]
    assert np.isnan(stats[2]).all()  # outside the frame
    assert np.isnan(region_stats(nearness, boxes[:1], None)[0, 3:]).all()


def _people(horizon: float, feet: np.ndarray, k: float = 0.6) -> np.ndarray:
    """Boxes of people on flat ground: height proportional to the feet's depth below horizon."""
    heights = k * (feet - horizon)
    return np.c_[np.full_like(feet, 10), feet - heights, np.full_like(feet, 30), feet]


def test_ground_plane_fit_recovers_the_horizon_and_shrugs_off_outliers() -> None:
    feet = np.linspace(250, 470, 30)
    boxes = _people(180.0, feet)
    boxes[::7, 1] += 40  # a few people sitting or cut: shorter boxes
    plane = fit_ground_plane(boxes, 480)
    assert plane.fitted and plane.horizon == pytest.approx(180.0, abs=1.0)
    assert plane.nearness(np.array([180, 330, 480])).tolist() == pytest.approx([0, 0.5, 1])
    few = fit_ground_plane(boxes[:3], 480)
    assert not few.fitted and few.horizon == 0.0  # plain bottom-edge order
    shrinking = np.c_[boxes[:, :1], boxes[:, 3] - (500 - boxes[:, 3]), boxes[:, 2:]]
    assert not fit_ground_plane(shrinking, 480).fitted


def test_pseudo_map_paints_nearer_people_over_farther_ones() -> None:
    plane = GroundPlane(100.0, 400, fitted=True)
    boxes = np.array([[0, 150, 40, 300], [20, 200, 60, 390]], float)  # second is nearer
    out = pseudo_map(plane, boxes, 80, (40, 8))  # 10 px per map pixel
    near, far = plane.nearness(np.array([390, 300]))
    assert out[35, 4] == pytest.approx(near) and out[16, 0] == pytest.approx(far)
    assert out[25, 3] == pytest.approx(near)  # the overlap belongs to the nearer person
    assert out[5, 7] == 0  # sky above the horizon
    masks = [np.zeros((400, 80), bool), np.zeros((400, 80), bool)]
    masks[0][150:300, 0:20] = True
    masks[1][200:390, 40:60] = True
    with_masks = pseudo_map(plane, boxes, 80, (40, 8), masks)
    assert with_masks[25, 1] == pytest.approx(far)  # inside both boxes, but the far person


@pytest.fixture
def detected(tmp_path: Path, small_video: Path, small_det_txt: Path):
    run = open_run(small_video, tmp_path / "runs", frame_range=FrameRange(1, 3))
    table = produce(run, detect.STAGE, {detect.STAGE: DetectConfig(det_txt=small_det_txt)}).table(
        detect.STAGE
    )
    return run, detect.frame_detections(table), run.run_dir.completed_key(detect.STAGE)


def depth_of(run, config: DepthConfig) -> pa.Table:
    """The depth stages through the graph as `mot-cli depth` asks: masks when cached."""
    configs = {segment.STAGE: Cached(), depth.MAPS_STAGE: config, depth.STAGE: DepthStatsConfig()}
    return produce(run, depth.STAGE, configs).table(depth.STAGE)


def box_masks(run) -> None:
    produce(run, segment.STAGE, {segment.STAGE: SegmentConfig(backend="box")})


def assert_valid_depth(run, stats: pa.Table, detections: dict, metric: bool) -> None:
    maps = depth.read_depth_maps(run.run_dir)
    assert sorted(maps) == [1, 2, 3]
    for nearness, scale, is_metric in maps.values():
        assert nearness.shape == (120, 160) and scale == 1.0 and is_metric == metric
        assert np.isfinite(nearness).all()
    assert stats.schema.remove_metadata().equals(DEPTH)
    assert stats.num_rows == sum(len(d) for d in detections.values())
    assert np.isfinite(stats.column("box_median").to_numpy()).all()
    table = run.run_dir.read_completed(depth.MAPS_STAGE, DEPTH_MAPS)
    assert table is not None and table.num_rows == 3


@pytest.fixture(scope="module")
def tiny_depth_anything(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                            intermediate_size=64, image_size=56, out_indices=[1, 2, 3, 4],
                            reshape_hidden_states=False)  # fmt: skip
    config = DepthAnythingConfig(backbone_config=backbone, neck_hidden_sizes=[16, 32, 64, 64],
                                 fusion_hidden_size=32, head_hidden_size=16,
                                 reassemble_hidden_size=32)  # fmt: skip
    folder = tmp_path_factory.mktemp("hub") / "Depth-Anything-V2-Tiny-hf"
    model = DepthAnythingForDepthEstimation(config)
    model.save_pretrained(folder)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=True,
                      ensure_multiple_of=14).save_pretrained(folder)  # fmt: skip
    return folder, model.state_dict()


@pytest.fixture(scope="module")
def tiny_depth_pro(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    import torch
    from transformers import DepthProConfig, DepthProForDepthEstimation, DepthProImageProcessor

    torch.manual_seed(0)
    vit = {"model_type": "dinov2", "hidden_size": 16, "num_hidden_layers": 2,
           "num_attention_heads": 2, "patch_size": 4, "image_size": 32}  # fmt: skip
    config = DepthProConfig(patch_size=32, fusion_hidden_size=16, intermediate_hook_ids=[1, 0],
                            intermediate_feature_dims=[8, 8], scaled_images_ratios=[0.5, 1],
                            scaled_images_overlap_ratios=[0.0, 0.5],
                            scaled_images_feature_dims=[16, 16], use_fov_model=True,
                            num_fov_head_layers=1, image_model_config=dict(vit),
                            patch_model_config=dict(vit), fov_model_config=dict(vit))  # fmt: skip
    folder = tmp_path_factory.mktemp("hub") / "DepthPro-Tiny-hf"
    model = DepthProForDepthEstimation(config)
    model.save_pretrained(folder)
    DepthProImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)
    return folder, model.state_dict()


@pytest.mark.parametrize(
    ("backend", "fixture", "metric"),
    [("depth-anything", "tiny_depth_anything", False), ("depth-pro", "tiny_depth_pro", True)],
)
def test_transformers_models_through_the_stage(
    detected, request: pytest.FixtureRequest, backend: str, fixture: str, metric: bool
) -> None:
    import torch

    from mot_cli.depth.hf import TransformersDepth

    folder, original = request.getfixturevalue(fixture)
    run, detections, _key = detected
    config = DepthConfig(backend=backend, model=str(folder), batch=2)
    stats = depth_of(run, config)
    assert_valid_depth(run, stats, detections, metric)
    loaded = TransformersDepth(folder).model.state_dict()
    assert loaded.keys() == original.keys()
    assert all(torch.equal(loaded[k], v) for k, v in original.items())  # the folder's weights


def test_a_hub_id_that_is_not_here_names_where_it_was_looked_for(detected) -> None:
    run, _detections, _key = detected
    config = DepthConfig(backend="depth-anything")
    with pytest.raises(MotCliError) as error:
        depth_of(run, config)
    message = str(error.value)
    assert "depth-anything/Depth-Anything-V2-Small-hf" in message and "looked for" in message
    assert "download disabled" in message and "\n" not in message


def test_masks_fill_the_mask_columns_and_redraw_pseudo_maps(detected) -> None:
    run, _detections, _key = detected
    config = DepthConfig(backend="pseudo")
    first = depth_of(run, config)
    assert np.isnan(first.column("mask_median").to_numpy()).all()
    box_masks(run)
    stages = run.run_dir.load_manifest()["stages"]
    second = depth_of(run, config)
    after = run.run_dir.load_manifest()["stages"]
    assert after[depth.STAGE]["upstream"]["masks"] == after[segment.STAGE]["key"]
    assert after[depth.STAGE]["key"] != stages[depth.STAGE]["key"]
    assert np.isfinite(second.column("mask_median").to_numpy()).all()
    # box masks paint the same pixels as boxes: the pseudo maps are redrawn, values unchanged
    assert second.column("box_median").equals(first.column("box_median"))


def test_pydnet_maps_are_kept_when_only_the_masks_change(detected) -> None:
    from tests.conftest import MODELS, need

    need(MODELS / "mobile_pydnet_pruned35.tflite")
    run, detections, _key = detected
    stats = depth_of(run, DepthConfig())
    assert_valid_depth(run, stats, detections, metric=False)
    maps_written = run.run_dir.file(depth.MAPS_STAGE).stat().st_mtime_ns
    box_masks(run)
    again = depth_of(run, DepthConfig())
    assert run.run_dir.file(depth.MAPS_STAGE).stat().st_mtime_ns == maps_written
    assert np.isfinite(again.column("mask_median").to_numpy()).all()


def test_bad_config_is_refused() -> None:
    with pytest.raises(MotCliError, match=r"--backend must be one of pydnet, .*pseudo"):
        DepthConfig(backend="lidar")
    with pytest.raises(MotCliError, match="uses no model"):
        DepthConfig(backend="pseudo", model="x")
    with pytest.raises(MotCliError, match="--map-size"):
        DepthConfig(map_size=2)
