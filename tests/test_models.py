"""The model resolver: explicit path, $MOT_CLI_MODELS, user cache, formats, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mot_cli.errors import MotCliError
from mot_cli.models import file_sha256, resolve_model
from tests.conftest import MODELS, need


def test_explicit_path_wins(tmp_path: Path) -> None:
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"weights")
    model = resolve_model(str(weights))
    assert (model.path, model.source) == (weights, "path")


def test_missing_explicit_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(MotCliError, match=r"model file .*nope\.pt does not exist"):
        resolve_model(str(tmp_path / "nope.pt"))


def test_name_resolves_to_any_format_in_env_folder(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "models"
    (folder / "yolo11n_int8_openvino_model").mkdir(parents=True)
    (folder / "yolo11n_int8_openvino_model" / "yolo11n.xml").write_text("<xml/>")
    monkeypatch.setenv("MOT_CLI_MODELS", str(folder))
    for name in ("yolo11n", "yolo11n.pt"):
        model = resolve_model(name)
        assert model.path == folder / "yolo11n_int8_openvino_model"
        assert model.source == "env"


def test_exact_file_preferred_then_user_cache(tmp_path, monkeypatch) -> None:
    env = tmp_path / "env"
    env.mkdir()
    monkeypatch.setenv("MOT_CLI_MODELS", str(env))
    cache = Path(tmp_path / "xdg" / "mot-cli" / "models")
    cache.mkdir(parents=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (cache / "yolo11s.pt").write_bytes(b"x")
    assert resolve_model("yolo11s").source == "cache"
    (env / "yolo11s.onnx").write_bytes(b"y")
    assert resolve_model("yolo11s").path == env / "yolo11s.onnx"
    (env / "yolo11s.pt").write_bytes(b"z")
    assert resolve_model("yolo11s.pt").path == env / "yolo11s.pt"


def test_unknown_name_error_names_file_and_places(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MOT_CLI_MODELS", str(tmp_path))
    with pytest.raises(MotCliError) as info:
        resolve_model("yolo99z")
    message = str(info.value)
    assert "'yolo99z' not found" in message and str(tmp_path) in message
    assert "not a known model name" in message and "\n" not in message


def test_known_model_offline_says_download_disabled(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MOT_CLI_MODELS", str(tmp_path))
    with pytest.raises(MotCliError, match=r"yolo11m\.pt .*download disabled"):
        resolve_model("yolo11m")


def test_shared_weights_sha256_matches_models_md() -> None:
    weights = need(MODELS / "osnet_x0_25_msmt17.pth")
    assert file_sha256(weights) == (
        "6f57607fed9f502b9efed546108132ee715df5a5b6e6932c6269bacb47f59f99"
    )
