"""Frame sources: video files OpenCV decodes, and MOTChallenge image-sequence folders.

Frames are numbered from 1, as MOTChallenge numbers them, everywhere in mot-cli.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.seqinfo import read_seqinfo

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_FINGERPRINT_BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceInfo:
    """What the run's manifest records about its input."""

    path: str
    kind: str  # "video" or "images"
    name: str
    frames: int
    fps: float
    width: int
    height: int
    fingerprint: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FrameRange:
    """An inclusive 1-based range of frames; `last=None` means to the end of the source."""

    first: int = 1
    last: int | None = None

    def __post_init__(self) -> None:
        if self.first < 1:
            raise MotCliError(f"--start must be >= 1, got {self.first}")
        if self.last is not None and self.last < self.first:
            raise MotCliError(f"--end ({self.last}) is before --start ({self.first})")

    def clip(self, frames: int) -> tuple[int, int]:
        """The concrete (first, last) inside a source of `frames` frames."""
        last = frames if self.last is None else min(self.last, frames)
        if self.first > last:
            raise MotCliError(
                f"frame range starts at {self.first} but the source has {frames} frames"
            )
        return self.first, last


def _hash_file_sample(digest: hashlib._Hash, path: Path) -> None:
    """Hash size plus head, middle and tail blocks: content-based yet fast on large videos."""
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as handle:
        for offset in sorted(
            {0, max(0, size // 2 - _FINGERPRINT_BLOCK // 2), max(0, size - _FINGERPRINT_BLOCK)}
        ):
            handle.seek(offset)
            digest.update(handle.read(_FINGERPRINT_BLOCK))


class FrameSource:
    """A decodable input; `frames(first, last)` yields `(frame_number, bgr_image)`."""

    info: SourceInfo

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        raise NotImplementedError


class VideoFile(FrameSource):
    """A video file decoded by OpenCV; seeking is done by grabbing frames, which is exact."""

    def __init__(self, path: Path) -> None:
        import cv2

        self.path = path
        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise MotCliError(f"{path}: not a video OpenCV can decode")
            ok, frame = capture.read()
            if not ok or frame is None:
                raise MotCliError(f"{path}: the video has no decodable frames")
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
            height, width = frame.shape[:2]
        finally:
            capture.release()
        digest = hashlib.sha256(b"video")
        _hash_file_sample(digest, path)
        self.info = SourceInfo(
            path=str(path.resolve()),
            kind="video",
            name=path.stem,
            frames=max(count, 1),
            fps=round(fps, 4),
            width=width,
            height=height,
            fingerprint=digest.hexdigest(),
        )

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        import cv2

        capture = cv2.VideoCapture(str(self.path))
        try:
            number = 0
            while last is None or number < last:
                if number + 1 < first:
                    if not capture.grab():
                        return
                    number += 1
                    continue
                ok, frame = capture.read()
                if not ok or frame is None:
                    return
                number += 1
                yield number, frame
        finally:
            capture.release()


class ImageFolder(FrameSource):
    """A MOTChallenge sequence (`seqinfo.ini` + `img1/`) or a plain folder of images."""

    def __init__(self, path: Path) -> None:
        seqinfo_path = path / "seqinfo.ini"
        name, fps = path.name, 25.0
        image_dir = path
        if seqinfo_path.is_file():
            seqinfo = read_seqinfo(seqinfo_path)
            name, fps, image_dir = seqinfo.name, seqinfo.frame_rate, path / seqinfo.im_dir
        elif (path / "img1").is_dir():
            image_dir = path / "img1"
        if not image_dir.is_dir():
            raise MotCliError(f"{path}: sequence folder has no image folder {image_dir.name}/")
        self.images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not self.images:
            raise MotCliError(f"{image_dir}: no images ({', '.join(IMAGE_EXTENSIONS)}) found")
        first = self._read(self.images[0])
        digest = hashlib.sha256(b"images")
        for image in self.images:
            digest.update(image.name.encode())
            digest.update(str(image.stat().st_size).encode())
        _hash_file_sample(digest, self.images[0])
        _hash_file_sample(digest, self.images[-1])
        self.info = SourceInfo(
            path=str(path.resolve()),
            kind="images",
            name=name,
            frames=len(self.images),
            fps=fps,
            width=first.shape[1],
            height=first.shape[0],
            fingerprint=digest.hexdigest(),
        )

    @staticmethod
    def _read(path: Path) -> np.ndarray:
        import cv2

        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise MotCliError(f"{path}: not an image OpenCV can decode")
        return image

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        last = len(self.images) if last is None else min(last, len(self.images))
        for number in range(first, last + 1):
            yield number, self._read(self.images[number - 1])


def open_source(path: Path) -> FrameSource:
    """Open a video file or an image-sequence folder, with a one-line error for anything else."""
    path = Path(path)
    if not path.exists():
        raise MotCliError(f"{path}: no such file or folder")
    if path.is_dir():
        return ImageFolder(path)
    if path.stat().st_size == 0:
        raise MotCliError(f"{path}: the file is empty")
    return VideoFile(path)
