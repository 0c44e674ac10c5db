"""Frame sources: video files OpenCV decodes, MOTChallenge image-sequence folders, and videos
OpenCV's FFmpeg reads from a URL (http, https, rtsp).

Frames are numbered from 1, as MOTChallenge numbers them, everywhere in mot-cli.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mot_cli.errors import MotCliError
from mot_cli.formats.seqinfo import read_seqinfo
from mot_cli.urls import SUPPORTED, URL_SCHEMES, source_url

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_FINGERPRINT_BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceInfo:
    """What the run's manifest records about its input."""

    path: str  # a URL exactly as given for kind "url"
    kind: str  # "video", "images" or "url"
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
    notes: tuple[str, ...] = ()  # facts worth telling the user when the source is opened

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        raise NotImplementedError

    def has_frame(self, number: int) -> bool:
        """False for a frame the source knows it lacks (a missing image allowed as empty)."""
        return 1 <= number <= self.info.frames

    def input_files(self) -> list[Path]:
        """Every file the source reads, so no output is ever written over one of them."""
        raise NotImplementedError


def _probe(target: str, not_open: str, no_frames: str) -> tuple[np.ndarray, int, float, int, int]:
    """First frame, frame count, fps (25 when unknown), width and height of what OpenCV opens
    as `target`; the two messages say what went wrong where."""
    import cv2

    capture = cv2.VideoCapture(target)
    try:
        if not capture.isOpened():
            raise MotCliError(not_open)
        ok, frame = capture.read()
        if not ok or frame is None:
            raise MotCliError(no_frames)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
    finally:
        capture.release()
    height, width = frame.shape[:2]
    return frame, count, fps, width, height


class VideoFile(FrameSource):
    """A video file decoded by OpenCV; seeking is done by grabbing frames, which is exact."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _, count, fps, width, height = _probe(
            str(path), f"{path}: not a video OpenCV can decode",
            f"{path}: the video has no decodable frames",
        )  # fmt: skip
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

    def input_files(self) -> list[Path]:
        return [self.path]

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
    """A MOTChallenge sequence (`seqinfo.ini` + `img1/`) or a plain folder of images.

    Frames are numbered by the number in each file name (`000013.jpg` is frame 13), so a
    missing image cannot shift the frames after it; a folder numbered from 0 is shifted to
    start at 1. Names without numbers are numbered in name order. A missing image is an error
    naming it unless `allow_missing`, which makes it a frame with nothing in it; `seqLength`
    in seqinfo.ini must match the images there.
    """

    def __init__(self, path: Path, *, allow_missing: bool = False) -> None:
        seqinfo_path = path / "seqinfo.ini"
        name, fps, seq_length = path.name, 25.0, None
        image_dir = path
        self.seqinfo = [seqinfo_path] if seqinfo_path.is_file() else []
        if seqinfo_path.is_file():
            seqinfo = read_seqinfo(seqinfo_path)
            name, fps, image_dir = seqinfo.name, seqinfo.frame_rate, path / seqinfo.im_dir
            seq_length = seqinfo.seq_length
        elif (path / "img1").is_dir():
            image_dir = path / "img1"
        if not image_dir.is_dir():
            raise MotCliError(f"{path}: sequence folder has no image folder {image_dir.name}/")
        files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise MotCliError(f"{image_dir}: no images ({', '.join(IMAGE_EXTENSIONS)}) found")
        self.images, from_zero = _number_images(files)
        if from_zero:
            self.notes = (f"{image_dir}: images are numbered from 0; frame N is image N-1",)
        frames = max(self.images)
        if seq_length is not None:
            if frames > seq_length:
                extra = min(n for n in self.images if n > seq_length)
                raise MotCliError(
                    f"{self.images[extra]}: frame {extra} is beyond seqLength={seq_length} "
                    f"of {seqinfo_path}"
                )
            frames = seq_length
        missing = [n for n in range(1, frames + 1) if n not in self.images]
        if missing and not allow_missing:
            raise MotCliError(
                _missing_message(files[0], self.images, missing, int(from_zero), seq_length)
            )
        first = self._read(self.images[min(self.images)])
        digest = hashlib.sha256(b"images")
        for _, image in sorted(self.images.items()):
            digest.update(image.name.encode())
            digest.update(str(image.stat().st_size).encode())
        _hash_file_sample(digest, self.images[min(self.images)])
        _hash_file_sample(digest, self.images[max(self.images)])
        self.info = SourceInfo(
            path=str(path.resolve()),
            kind="images",
            name=name,
            frames=frames,
            fps=fps,
            width=first.shape[1],
            height=first.shape[0],
            fingerprint=digest.hexdigest(),
        )

    @staticmethod
    def _read(path: Path) -> np.ndarray:
        import cv2

        if not path.is_file():
            raise MotCliError(f"{path}: image is missing (removed while running?)")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise MotCliError(f"{path}: not an image OpenCV can decode")
        return image

    def has_frame(self, number: int) -> bool:
        return number in self.images

    def input_files(self) -> list[Path]:
        return [*self.seqinfo, *self.images.values()]

    def frames(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        last = self.info.frames if last is None else min(last, self.info.frames)
        for number in range(first, last + 1):
            if number in self.images:
                yield number, self._read(self.images[number])


_TRAILING_NUMBER = re.compile(r"(\d+)(?=\D*$)")


def _number_images(files: list[Path]) -> tuple[dict[int, Path], bool]:
    """Frame number -> image, from the last number in each file name (see ImageFolder).

    Also says whether the names count from 0 (and were shifted by one).
    """
    numbers = [_TRAILING_NUMBER.search(f.stem) for f in files]
    if not any(numbers):
        return dict(enumerate(files, start=1)), False
    unnumbered = [f for f, n in zip(files, numbers, strict=True) if n is None]
    if unnumbered:
        raise MotCliError(
            f"{unnumbered[0]}: has no frame number in its name, unlike the other images there"
        )
    values = [int(n.group(1)) for n in numbers if n is not None]
    shift = 1 if min(values) == 0 else 0  # 000000.jpg first: numbered from 0
    images: dict[int, Path] = {}
    for value, image in zip(values, files, strict=True):
        number = value + shift
        if number in images:
            raise MotCliError(
                f"{image}: frame {number} again (also {images[number].name}); one image per frame"
            )
        images[number] = image
    return images, shift == 1


def _missing_message(
    example: Path, images: dict[int, Path], missing: list[int], shift: int, seq_length: int | None
) -> str:
    """Name the first missing image as the folder would (same prefix, padding and extension)."""
    match = _TRAILING_NUMBER.search(example.name)
    if match:
        digits = str(missing[0] - shift).zfill(len(match.group(1)))
        name = f"{example.name[: match.start()]}{digits}{example.name[match.end() :]}"
        expected = example.parent / name
    else:
        expected = example.parent / f"<image {missing[0]}>"
    more = f" (and {len(missing) - 1} more, up to frame {missing[-1]})" if len(missing) > 1 else ""
    why = ""
    if seq_length is not None and missing[0] > max(images):
        last = images[max(images)].name
        why = f"; seqinfo.ini says seqLength={seq_length}, the last image is {last}"
    return (
        f"{expected}: image for frame {missing[0]} is missing{more}{why}; pass "
        "--allow-missing-images to treat missing images as empty frames"
    )


class VideoStream(VideoFile):
    """A video OpenCV's FFmpeg reads from a URL, with the URL as its identity: the manifest
    records it as given, and its fingerprint hashes it with the stream's length, size and
    first frame. A live stream (no frame count) is refused: runs are resumable and cached
    by frame number, which a live stream cannot replay."""

    def __init__(self, url: str) -> None:
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's own lines: quiet
        self.path = url  # type: ignore[assignment]  (frames() opens str(self.path))
        frame, count, fps, width, height = _probe(
            url, f"{url}: OpenCV's FFmpeg cannot open it (unreachable, not video)",
            f"{url}: no decodable frames came from this URL",
        )  # fmt: skip
        if count <= 0:
            raise MotCliError(
                f"{url}: a live stream (no frame count), which mot-cli cannot replay; record a "
                "clip and track that (ffmpeg -i URL -t 60 clip.mp4)"
            )
        digest = hashlib.sha256(b"url")
        for part in (url, f"{count},{fps},{width}x{height}"):
            digest.update(part.encode() + b"\0")
        digest.update(np.ascontiguousarray(frame).tobytes())
        self.info = SourceInfo(
            path=url,
            kind="url",
            name=_url_name(url),
            frames=count,
            fps=round(fps, 4),
            width=width,
            height=height,
            fingerprint=digest.hexdigest(),
        )

    def input_files(self) -> list[Path]:
        return []


def _url_name(url: str) -> str:
    """A run name from a URL: its last path segment without extension (`cam`, `clip`)."""
    from urllib.parse import unquote, urlsplit

    stem = Path(unquote(urlsplit(url).path)).stem
    return stem if stem not in ("", ".", "..") else "stream"


def open_url(url: str) -> FrameSource:
    """A URL source, or a one-line error naming what is supported."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in URL_SCHEMES:
        raise MotCliError(f"{url}: {scheme} URLs are not supported; SOURCE is {SUPPORTED}")
    return VideoStream(url)


def open_source(path: Path | str, *, allow_missing: bool = False) -> FrameSource:
    """Open a video file, an image-sequence folder or a URL (`source_url`), with a one-line
    error for anything else.

    `allow_missing`: an image folder's missing images become empty frames instead of an error.
    """
    url = source_url(path)
    if url is not None:
        return open_url(url)
    path = Path(path)
    if not path.exists():
        if str(path).isdigit():
            raise MotCliError(
                f"{path}: no such file, and camera indices are not supported; SOURCE is "
                f"{SUPPORTED}"
            )
        raise MotCliError(f"{path}: no such file or folder")
    if path.is_dir():
        return ImageFolder(path, allow_missing=allow_missing)
    if path.stat().st_size == 0:
        raise MotCliError(f"{path}: the file is empty")
    return VideoFile(path)
