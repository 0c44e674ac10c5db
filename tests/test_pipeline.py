"""The stage graph: exactly the stale stages re-run, frame-wise ones share one decode, resume.

Toy stages (a frame's mean grey level, and a reader of it with another batch size) keep these
fast; the last tests run the real stages (Must-show 4 of issue 9).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from mot_cli.cache import stage_key
from mot_cli.cli import app
from mot_cli.errors import ModelNotFoundError, MotCliError
from mot_cli.pipeline import STAGES, Cached, Run, Stage, inputs_of, open_run, produce
from mot_cli.stages._job import FramewiseJob, StageInputs, StageRun
from mot_cli.video import FrameSource
from tests.conftest import MODELS, need, write_video

LEVEL = pa.schema([("frame", pa.int32()), ("value", pa.float64())])


@dataclass(frozen=True)
class LevelConfig:
    """Mean grey level of each frame, times `scale`; fails at frame `fail_at` if given."""

    scale: float = 1.0
    batch: int = 3
    fail_at: int | None = None


@dataclass(frozen=True)
class DoubleConfig:
    """Twice each frame's level, read frame by frame from the level stage; or a missing model."""

    batch: int = 5
    model_missing: bool = False


def _table(numbers: list[int], values: list[float]) -> pa.Table:
    return pa.table({"frame": pa.array(numbers, pa.int32()), "value": values}, schema=LEVEL)


def level_plan(inputs: StageInputs, config: LevelConfig) -> FramewiseJob:
    first, last = inputs.frames
    key = stage_key("level", config=asdict(config) | {"fail_at": None}, frames=[first, last],
                    source=inputs.source.info.fingerprint)  # fmt: skip
    spec = StageRun("level", key, LEVEL, first, last, config.batch, {})

    def process(numbers: list[int], images: list[np.ndarray]) -> pa.Table:
        if config.fail_at is not None and config.fail_at in numbers:
            raise MotCliError(f"level: failed at frame {config.fail_at}")
        return _table(numbers, [float(image.mean()) * config.scale for image in images])

    return FramewiseJob(spec, lambda: process)


def double_plan(inputs: StageInputs, config: DoubleConfig) -> FramewiseJob:
    if config.model_missing:
        raise ModelNotFoundError("model 'double' not found")
    first, last = inputs.frames
    key = stage_key("double", config=asdict(config), upstream=inputs.keys["level"],
                    frames=[first, last])  # fmt: skip
    spec = StageRun("double", key, LEVEL, first, last, config.batch,
                    {"upstream": {"level": inputs.keys["level"]}})  # fmt: skip
    levels = inputs.per_frame["level"]
    return FramewiseJob(spec, lambda: lambda n, _: _table(n, [2 * levels[f] for f in n]))


def _levels(table: pa.Table) -> dict[int, float]:
    return dict(zip(table.column("frame").to_pylist(), table.column("value").to_pylist(),
                    strict=True))  # fmt: skip


TOY = (
    Stage("level", LevelConfig, (), level_plan, per_frame=_levels),
    Stage("double", DoubleConfig, ("level",), double_plan, command="double"),
)


class CountingSource(FrameSource):
    """A source that counts how often it is decoded, and from which frame."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner, self.info, self.decodes = inner, inner.info, []

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        self.decodes.append(first)
        return self.inner.frames(first, last)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    opened = open_run(write_video(tmp_path / "walk.avi", 40), tmp_path / "runs")
    yield replace(opened, source=CountingSource(opened.source))
    opened.close()


def toy(run: Run, level: LevelConfig | None = LevelConfig(), double=DoubleConfig(), **kw):
    configs = {"level": level, "double": double}
    return produce(run, "double", {k: v for k, v in configs.items() if v}, stages=TOY, **kw)


@pytest.mark.parametrize(("level_batch", "double_batch"), [(3, 5), (16, 2), (40, 40), (1, 64)])
def test_due_frame_wise_stages_share_one_decode_and_readers_see_every_frame(
    run: Run, level_batch: int, double_batch: int
) -> None:
    outcome = toy(run, LevelConfig(batch=level_batch), DoubleConfig(batch=double_batch))
    assert outcome.ran == ("level", "double") and run.source.decodes == [1]
    levels, doubles = (_levels(outcome.table(name)) for name in ("level", "double"))
    assert sorted(doubles) == list(range(1, 41))
    assert all(doubles[f] == 2 * levels[f] for f in levels)
    entry = outcome.entry("double")
    assert entry["pass"]["stages"] == ["level", "double"] and entry["frames"] == [1, 40]


def test_fresh_caches_are_not_recomputed_nor_decoded(run: Run) -> None:
    first = toy(run)
    again = toy(run)
    assert again.ran == () and again.keys == first.keys and run.source.decodes == [1]


def test_a_changed_setting_reruns_its_stage_and_what_reads_it_only(run: Run) -> None:
    first = toy(run)
    double_only = toy(run, double=DoubleConfig(batch=4))
    assert double_only.ran == ("double",)
    assert double_only.keys["level"] == first.keys["level"]
    both = toy(run, level=LevelConfig(scale=2.0))
    assert both.ran == ("level", "double")
    assert both.keys["double"] != double_only.keys["double"]  # chained from the level key
    assert _levels(both.table("double"))[7] == 2 * _levels(both.table("level"))[7]


def test_a_reader_alone_takes_its_input_from_the_cache_as_it_is(run: Run) -> None:
    with pytest.raises(MotCliError, match=r"level\.parquet: no level cache; run `mot-cli track`"):
        toy(run, level=None)
    made = toy(run)
    reader = toy(run, level=None, double=DoubleConfig(batch=2))
    assert reader.ran == ("double",) and reader.keys["level"] == made.keys["level"]


def test_force_may_name_the_stages_it_recomputes(run: Run) -> None:
    toy(run)
    assert toy(run, force={"double"}).ran == ("double",)
    assert toy(run, force=True).ran == ("level", "double")


def test_cached_uses_a_cache_made_from_these_inputs_whatever_made_it(run: Run, capsys) -> None:
    made = toy(run, double=DoubleConfig(batch=2))
    reused = toy(run, double=Cached(DoubleConfig()))
    assert reused.ran == () and reused.keys == made.keys  # its own config is not asked
    assert "double: using the existing cache" in capsys.readouterr().err
    stale = toy(run, level=LevelConfig(scale=3.0), double=Cached(DoubleConfig()))
    assert stale.ran == ("level", "double")  # made from another level: the fallback runs
    assert stale.keys["double"] != made.keys["double"]
    assert toy(run, level=LevelConfig(scale=3.0), double=Cached()).ran == ()
    assert toy(run, level=LevelConfig(), double=Cached()).keys.get("double") is None  # off
    forced = toy(run, level=LevelConfig(scale=3.0), double=Cached(DoubleConfig()), force=True)
    assert forced.ran == ("level", "double")
    with pytest.raises(TypeError, match="takes a DoubleConfig, got LevelConfig"):
        toy(run, double=Cached(LevelConfig()))


def test_an_interrupted_pass_resumes_each_stage_from_its_own_chunks(run: Run, capsys) -> None:
    with pytest.raises(MotCliError, match="failed at frame 36"):
        toy(run, level=LevelConfig(fail_at=36))
    assert run.run_dir.completed_key("level") is None
    assert (run.run_dir.path / "level.partial" / "frames-0000001-0000033.parquet").exists()
    resumed = toy(run)
    assert "level: resuming at frame 34" in capsys.readouterr().err
    assert run.source.decodes[-1] <= 34  # double may have kept fewer frames than level
    clean_run = open_run(Path(run.source.info.path), run.run_dir.path.parent, name="clean")
    clean = toy(clean_run)
    clean_run.close()
    for name in ("level", "double"):
        assert resumed.table(name).equals(clean.table(name))


def test_an_optional_cue_without_weights_is_turned_off(run: Run, capsys) -> None:
    outcome = toy(run, double=DoubleConfig(model_missing=True), optional={"double": "doubling"})
    assert "warning: doubling off: model 'double' not found" in capsys.readouterr().err
    assert "double" not in outcome.keys and outcome.ran == ("level",)
    with pytest.raises(ModelNotFoundError):
        toy(run, double=DoubleConfig(model_missing=True))


def test_several_targets_share_one_pass_and_inputs_of_names_what_a_target_reads(
    run: Run,
) -> None:
    configs = {"level": LevelConfig(), "double": DoubleConfig()}
    assert inputs_of("double", configs, TOY) == ("level",)
    assert inputs_of("level", configs, TOY) == ()
    outcome = produce(run, ("double", "level"), configs, stages=TOY)
    assert outcome.ran == ("level", "double") and run.source.decodes == [1]
    assert produce(run, ["level", "double"], configs, stages=TOY).ran == ()


def test_unknown_stage_and_wrong_config_type(run: Run) -> None:
    with pytest.raises(ValueError, match="unknown stage 'depth'; valid names: level, double"):
        produce(run, "depth", {}, stages=TOY)
    with pytest.raises(TypeError, match="takes a LevelConfig, got DoubleConfig"):
        produce(run, "level", {"level": DoubleConfig()}, stages=TOY)


def test_the_table_names_each_stage_once_after_what_it_reads() -> None:
    names = [stage.name for stage in STAGES]
    assert len(set(names)) == len(names)
    for index, stage in enumerate(STAGES):
        assert set(stage.reads + stage.cues) <= set(names[:index]), stage.name


def test_changing_camera_motion_reruns_only_it_and_the_tracks(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    """Must-show 4 (until depth exists): the manifest shows what ran, by key and by time."""
    need(MODELS / "osnet_x0_25_msmt17.pth")
    args = ["track", small_video, "--det-txt", small_det_txt, "--reid-backend", "torch",
            "--cache-dir", tmp_path]  # fmt: skip
    manifest = tmp_path / "walk" / "manifest.json"
    runner = CliRunner()
    assert runner.invoke(app, [str(a) for a in args]).exit_code == 0
    before = json.loads(manifest.read_text())["stages"]
    # the default track runs no mask, depth or encoder stage (issue 10: as fast as before)
    assert set(before) == {"detections", "embeddings", "camera_motion", "tracks"}
    result = runner.invoke(app, [str(a) for a in [*args, "--cmc-method", "ecc"]])
    assert result.exit_code == 0, result.output
    after = json.loads(manifest.read_text())["stages"]
    for unchanged in ("detections", "embeddings"):
        assert after[unchanged] == before[unchanged]  # same key, same recorded seconds
        assert f"{unchanged}: cache up to date" in result.stderr
    for rerun in ("camera_motion", "tracks"):
        assert after[rerun]["key"] != before[rerun]["key"]
    assert after["tracks"]["upstream"]["camera_motion"] == after["camera_motion"]["key"]
    assert after["tracks"]["upstream"]["embeddings"] == before["embeddings"]["key"]
    assert after["camera_motion"]["pass"]["stages"] == ["camera_motion"]


def test_changing_a_depth_setting_reruns_depth_and_its_readers_only(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    """Must-show 4 of issue 9: depth, the encoder trained on it, the sd embeddings and the
    tracks re-run; detections, embeddings, camera motion and masks keep their keys and their
    manifest entries (so their timings: they were not recomputed)."""
    need(MODELS / "osnet_x0_25_msmt17.pth")
    from mot_cli.stages import camera_motion, depth, detect, embed, sd_embed, sd_encoder, segment
    from mot_cli.tracking import TrackerConfig

    opened = open_run(small_video, tmp_path / "runs")
    configs = {
        detect.STAGE: detect.DetectConfig(det_txt=small_det_txt),
        embed.STAGE: embed.EmbedConfig(backend="torch"),
        camera_motion.STAGE: camera_motion.CameraMotionConfig(),
        segment.STAGE: segment.SegmentConfig(backend="box"),
        depth.MAPS_STAGE: depth.DepthConfig(backend="pseudo"),
        depth.STAGE: depth.DepthStatsConfig(),
        sd_encoder.STAGE: sd_encoder.SdEncoderConfig(16, 8, 8, epochs=1, min_steps=0, batch=8),
        sd_embed.STAGE: sd_embed.SdEmbedConfig(),
        "tracks": TrackerConfig(w_sd=0.5),
    }
    targets = ("tracks", depth.STAGE)
    first = produce(opened, targets, configs)
    assert set(first.ran) == set(configs)
    before = opened.run_dir.load_manifest()["stages"]
    changed = configs | {depth.MAPS_STAGE: depth.DepthConfig(backend="pseudo", map_size=64)}
    second = produce(opened, targets, changed)
    opened.close()
    after = opened.run_dir.load_manifest()["stages"]
    rerun = {depth.MAPS_STAGE, depth.STAGE, sd_encoder.STAGE, sd_embed.STAGE, "tracks"}
    assert set(second.ran) == rerun
    for name in rerun:
        assert after[name]["key"] != before[name]["key"], name
    for name in (detect.STAGE, embed.STAGE, camera_motion.STAGE, segment.STAGE):
        assert second.keys[name] == first.keys[name] and after[name] == before[name], name
    assert after[sd_embed.STAGE]["upstream"][depth.MAPS_STAGE] == after[depth.MAPS_STAGE]["key"]
    assert after["tracks"]["upstream"][sd_embed.STAGE] == after[sd_embed.STAGE]["key"]
