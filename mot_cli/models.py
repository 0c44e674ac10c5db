"""One resolver for model weights: explicit path, `$MOT_CLI_MODELS`, the user cache, download.

A model *name* (`yolo11n`, `yolo11n.pt`) resolves to whichever format of it a models folder
holds — `.pt`, `.onnx`, an OpenVINO folder (`yolo11n_openvino_model/`,
`yolo11n_int8_openvino_model/`) — so users who exported a model once keep using its name.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mot_cli.errors import ModelNotFoundError
from mot_cli.files import atomic_path

ENV_MODELS = "MOT_CLI_MODELS"
ENV_OFFLINE = "MOT_CLI_OFFLINE"

_ULTRALYTICS_ASSETS = "https://github.com/ultralytics/assets/releases/download/v8.3.0"


@dataclass(frozen=True)
class KnownModel:
    name: str
    task: str
    filename: str
    url: str | None
    description: str


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in [
        *(
            KnownModel(
                f"yolo11{s}",
                "detect",
                f"yolo11{s}.pt",
                f"{_ULTRALYTICS_ASSETS}/yolo11{s}.pt",
                f"Ultralytics YOLO11{s}, COCO 80 classes",
            )
            for s in "nsmlx"
        ),
        KnownModel(
            "osnet_x0_25_msmt17",
            "reid",
            "osnet_x0_25_msmt17.pth",
            None,
            "OSNet x0.25 person re-ID trained on MSMT17 (torchreid model zoo)",
        ),
        KnownModel(
            "selfie_segmentation",
            "segment",
            "selfie_segmentation.tflite",
            None,
            "MediaPipe selfie (person) segmentation",
        ),
    ]
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    source: str  # "path", "env", "cache" or "download"

    @property
    def sha256(self) -> str:
        return file_sha256(self.path)


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mot-cli" / "models"


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files in name order (OpenVINO exports are folders)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _candidates(name: str) -> list[str]:
    """File names that hold model `name` in any format, the exact name first."""
    stem = name
    for suffix in (".pt", ".pth", ".onnx", ".tflite", ".engine"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
    formats = [
        f"{stem}.pt",
        f"{stem}.pth",
        f"{stem}.onnx",
        f"{stem}.tflite",
        f"{stem}_openvino_model",
        f"{stem}_int8_openvino_model",
        f"{stem}_int8.onnx",
    ]
    return list(dict.fromkeys([name, *formats]))


def search_dirs() -> list[tuple[str, Path]]:
    dirs = []
    if os.environ.get(ENV_MODELS):
        dirs += [("env", Path(p)) for p in os.environ[ENV_MODELS].split(os.pathsep) if p]
    dirs.append(("cache", user_cache_dir()))
    return dirs


def _download(known: KnownModel) -> Path:
    target = user_cache_dir() / known.filename
    try:
        with urllib.request.urlopen(known.url, timeout=30) as response, atomic_path(target) as tmp:
            with tmp.open("wb") as handle:
                for block in iter(lambda: response.read(1 << 20), b""):
                    handle.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise OSError(str(getattr(exc, "reason", exc))) from None
    return target


def resolve_model(name_or_path: str | Path, *, download: bool = True) -> ResolvedModel:
    """Find a model's weights; the error names every place looked at."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        return ResolvedModel(path.name, path, "path")
    if os.sep in text or text.startswith("."):
        raise ModelNotFoundError(f"model file {text} does not exist")
    name = text
    looked = []
    for source, folder in search_dirs():
        looked.append(f"{folder} (${ENV_MODELS})" if source == "env" else str(folder))
        for candidate in _candidates(name):
            if (folder / candidate).exists():
                return ResolvedModel(name, folder / candidate, source)
    stem = _candidates(name)[1].removesuffix(".pt")
    known = KNOWN_MODELS.get(stem)
    reason = "not a known model name, so nothing to download"
    if known is not None and known.url is None:
        reason = "no public download address: place the file there yourself"
    elif known is not None and (not download or os.environ.get(ENV_OFFLINE)):
        reason = f"download disabled (${ENV_OFFLINE} set)"
    elif known is not None:
        try:
            return ResolvedModel(name, _download(known), "download")
        except OSError as exc:
            reason = f"download from {known.url} failed: {exc}"
    raise ModelNotFoundError(
        f"model {name!r} not found: looked for {known.filename if known else name} "
        f"(or another format of it) in {', '.join(looked)}; {reason}"
    )
