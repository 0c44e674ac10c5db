"""One resolver for model weights: explicit path, `$MOT_CLI_MODELS`, the user cache, download.

A model *name* (`yolo11n`, `yolo11n.pt`) resolves to whichever format of it a models folder
holds — `.pt`, `.onnx`, an OpenVINO folder (`yolo11n_openvino_model/`,
`yolo11n_int8_openvino_model/`) — so users who exported a model once keep using its name.
A Hugging Face id (`depth-anything/Depth-Anything-V2-Small-hf`) resolves to a folder of that
id (or of its last part) in the same places, and is downloaded with `huggingface_hub`.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mot_cli.errors import ModelNotFoundError
from mot_cli.files import atomic_path

ENV_MODELS = "MOT_CLI_MODELS"
ENV_OFFLINE = "MOT_CLI_OFFLINE"

_ULTRALYTICS_ASSETS = "https://github.com/ultralytics/assets/releases/download/v8.3.0"
_SAM_CHECKPOINTS = "https://dl.fbaipublicfiles.com/segment_anything"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_WEIGHT_SUFFIXES = (".pt", ".pth", ".onnx", ".tflite", ".engine", ".xml", ".bin", ".safetensors")


@dataclass(frozen=True)
class KnownModel:
    """A model users may ask for by name; `url` downloads a file, `hf_repo` a Hub snapshot."""

    name: str
    task: str
    filename: str
    url: str | None
    description: str
    hf_repo: str | None = None


def _hf(repo: str, task: str, description: str) -> KnownModel:
    return KnownModel(repo, task, repo.split("/")[-1], None, description, hf_repo=repo)


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
        KnownModel(
            "yolo11n-seg",
            "segment",
            "yolo11n-seg.pt",
            f"{_ULTRALYTICS_ASSETS}/yolo11n-seg.pt",
            "Ultralytics YOLO11n-seg, COCO instance masks",
        ),
        KnownModel(
            "pose_landmark_full",
            "segment",
            "pose_landmark_full.tflite",
            None,
            "MediaPipe BlazePose GHUM full: a box-prompted person mask",
        ),
        *(
            KnownModel(
                f"sam_vit_{size}_{tag}",
                "segment",
                f"sam_vit_{size}_{tag}.pth",
                f"{_SAM_CHECKPOINTS}/sam_vit_{size}_{tag}.pth",
                f"Segment Anything ViT-{size.upper()} (segment-anything checkpoint)",
            )
            for size, tag in (("b", "01ec64"), ("l", "0b3195"), ("h", "4b8939"))
        ),
        *(
            KnownModel(
                name,
                "segment",
                f"{name}.pt",
                f"{_ULTRALYTICS_ASSETS}/{name}.pt",
                f"{label} (ultralytics checkpoint)",
            )
            for name, label in (
                ("mobile_sam", "MobileSAM"),
                ("sam_b", "SAM ViT-B"),
                ("sam_l", "SAM ViT-L"),
                *((f"sam2_{s}", f"SAM 2 Hiera-{s.upper()}") for s in "tsbl"),
                *((f"sam2.1_{s}", f"SAM 2.1 Hiera-{s.upper()}") for s in "tsbl"),
            )
        ),
        *(
            _hf(
                f"depth-anything/Depth-Anything-V2-{size}-hf",
                "depth",
                f"Depth Anything V2 {size} (relative inverse depth)",
            )
            for size in ("Small", "Base", "Large")
        ),
        _hf("apple/DepthPro-hf", "depth", "Apple Depth Pro (metric depth and field of view)"),
        KnownModel(
            "mobile_pydnet_pruned35",
            "depth",
            "mobile_pydnet_pruned35.tflite",
            None,
            "mobilePydnet monocular depth, self-supervised on KITTI (TFLite)",
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


def is_hub_id(text: str) -> bool:
    """`org/name` without a weights suffix: a Hugging Face id rather than a relative path."""
    return bool(_HF_ID.match(text)) and not text.lower().endswith(_WEIGHT_SUFFIXES)


def _stem(name: str) -> str:
    for suffix in (".pt", ".pth", ".onnx", ".tflite", ".engine"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _candidates(name: str) -> list[str]:
    """File names that hold model `name` in any format, the exact name first."""
    if is_hub_id(name):
        org, repo = name.split("/")
        return [name, repo, f"models--{org}--{repo}"]
    stem = _stem(name)
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
    if known.hf_repo is not None:
        return _download_hub(known.hf_repo)
    target = user_cache_dir() / known.filename
    try:
        with urllib.request.urlopen(known.url, timeout=30) as response, atomic_path(target) as tmp:
            with tmp.open("wb") as handle:
                for block in iter(lambda: response.read(1 << 20), b""):
                    handle.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise OSError(str(getattr(exc, "reason", exc))) from None
    return target


def _download_hub(repo: str) -> Path:
    """A Hub snapshot (config, weights, processor) into the user cache, as a plain folder."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError

        target = user_cache_dir() / repo.split("/")[-1]
        snapshot_download(repo, local_dir=target)
    except ImportError as exc:
        raise OSError(f"huggingface_hub is not installed ({exc})") from None
    except (HfHubHTTPError, ValueError) as exc:
        raise OSError(str(exc).splitlines()[0]) from None
    return target


def _known(name: str) -> KnownModel | None:
    if is_hub_id(name):
        return KNOWN_MODELS.get(name) or _hf(name, "?", "Hugging Face Hub model")
    return KNOWN_MODELS.get(_stem(name))


def resolve_model(name_or_path: str | Path, *, download: bool = True) -> ResolvedModel:
    """Find a model's weights; the error names every place looked at."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        return ResolvedModel(path.name, path, "path")
    if (os.sep in text or text.startswith(".")) and not is_hub_id(text):
        raise ModelNotFoundError(f"model file {text} does not exist")
    name = text
    looked = []
    for source, folder in search_dirs():
        looked.append(f"{folder} (${ENV_MODELS})" if source == "env" else str(folder))
        for candidate in _candidates(name):
            if (folder / candidate).exists():
                return ResolvedModel(name, folder / candidate, source)
    known = _known(name)
    reason = "not a known model name, so nothing to download"
    if known is not None and known.url is None and known.hf_repo is None:
        reason = "no public download address: place the file there yourself"
    elif known is not None and (not download or os.environ.get(ENV_OFFLINE)):
        reason = f"download disabled (${ENV_OFFLINE} set)"
    elif known is not None:
        try:
            return ResolvedModel(name, _download(known), "download")
        except OSError as exc:
            reason = f"download from {known.url or 'the Hugging Face Hub'} failed: {exc}"
    wanted = (
        f"a folder {name} or {name.split('/')[-1]}"
        if is_hub_id(name)
        else f"{known.filename if known else name} (or another format of it)"
    )
    raise ModelNotFoundError(
        f"model {name!r} not found: looked for {wanted} in {', '.join(looked)}; {reason}"
    )
