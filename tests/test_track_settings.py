"""`track --list-settings`, `track --config FILE.yaml` and close-match option suggestions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.commands._common import close_options
from mot_cli.tracking import TrackerConfig
from tests.test_cli import assert_one_line_error, track_public

runner = CliRunner()


def test_list_settings_names_every_setting_with_default_and_meaning() -> None:
    result = runner.invoke(app, ["track", "--list-settings"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["setting", "default", "meaning"]
    rows = {line.split()[0]: line.split(maxsplit=2)[1:] for line in lines[1:]}
    fields = dataclasses.fields(TrackerConfig)
    assert set(rows) == {f.name for f in fields} and len(rows) == len(fields)
    assert rows["iou_threshold"][0] == "0.3"
    assert rows["use_byte"][0] == "true"
    assert rows["iou_threshold"][1].startswith("smallest IoU between a track's prediction")
    assert all(len(row) == 2 and row[1] for row in rows.values())


def test_config_file_sets_settings_and_set_wins(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    config = tmp_path / "tracker.yaml"
    config.write_text("# tracker settings\nmin_hits: 1\nscore_scale: minmax\nmax_age: 7\n")
    result = track_public(
        tmp_path / "runs", small_video, small_det_txt, "--config", config, "--set", "max_age=9"
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "runs" / "walk" / "manifest.json").read_text())
    entry = manifest["stages"]["tracks"]
    assert entry["config"]["min_hits"] == 1 and entry["config"]["score_scale"] == "minmax"
    assert entry["config"]["max_age"] == 9  # --set wins over the file
    assert entry["config_file"] == {
        "path": str(config.resolve()),
        "sha256": hashlib.sha256(config.read_bytes()).hexdigest(),
    }


def test_bad_config_files_are_one_line_errors(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    cases = {
        "typo.yaml": ("min_hitz: 1\n", "unknown tracker setting 'min_hitz'; did you mean min_hits"),
        "syntax.yaml": ("min_hits: [1\n", "line 2: not valid YAML"),
        "list.yaml": ("- min_hits\n", "must be a mapping of tracker settings"),
        "range.yaml": ("iou_threshold: 2\n", "iou_threshold must lie in [0.0, 1.0]"),
        "kind.yaml": ("min_hits: many\n", "min_hits must be a whole number"),
    }
    for name, (text, fragment) in cases.items():
        (tmp_path / name).write_text(text)
        result = track_public(tmp_path / "runs", small_video, small_det_txt,
                              "--config", tmp_path / name)  # fmt: skip
        assert_one_line_error(result, f"--config {tmp_path / name}", fragment)
    result = track_public(tmp_path / "runs", small_video, small_det_txt,
                          "--config", tmp_path / "missing.yaml")  # fmt: skip
    assert_one_line_error(result, "missing.yaml: no such file")
    assert not (tmp_path / "runs").exists()  # refused before any work


def test_unknown_option_suggests_only_close_matches() -> None:
    result = runner.invoke(app, ["track", "video.mp4", "--tracker", "bytetrack"])
    assert result.exit_code == 2
    assert "No such option: --tracker" in result.output
    assert "--force" not in result.output and "--start" not in result.output
    result = runner.invoke(app, ["track", "video.mp4", "--detecter", "yolo11n"])
    assert "(Possible options: --detector)" in result.output
    assert close_options("--reid-modle", ["--reid-model", "--reid", "--force"]) == ["--reid-model"]


def test_batch_takes_the_config_file_for_every_video(tmp_path: Path) -> None:
    from tests.conftest import write_video

    (tmp_path / "dets").mkdir()
    videos = []
    for name in ("a", "b"):
        videos.append(write_video(tmp_path / f"{name}.avi", 12))
        (tmp_path / "dets" / f"{name}.txt").write_text("".join(
            f"{i + 1},-1,{5 + 4 * i},30,20,50,{40 + i % 3},-1,-1,-1\n" for i in range(12)))
    config = tmp_path / "tracker.yaml"
    config.write_text("min_hits: 1\nmax_age: 5\n")
    result = runner.invoke(app, [
        "batch", *map(str, videos), "--det-txt", str(tmp_path / "dets" / "{name}.txt"),
        "--no-reid", "--no-cmc", "--cache-dir", str(tmp_path / "runs"), "--config", str(config),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(config.read_bytes()).hexdigest()
    for name in ("a", "b"):
        manifest = json.loads((tmp_path / "runs" / name / "manifest.json").read_text())
        entry = manifest["stages"]["tracks"]
        assert entry["config"]["min_hits"] == 1 and entry["config"]["max_age"] == 5
        assert entry["config_file"]["sha256"] == digest
