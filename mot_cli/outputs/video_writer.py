"""Writing a video file frame by frame: H.264 through PyAV, OpenCV's writer as the fallback.

Browsers and notebooks play H.264 in MP4 but not OpenCV's default MPEG-4 Part 2 ("mp4v"), and
OpenCV's pip wheels ship no H.264 encoder. PyAV's wheels carry FFmpeg with libx264, so an
.mp4/.m4v/.mov is H.264 (yuv420p, the moov atom first so playback starts before the download
ends) whenever PyAV can be imported; otherwise OpenCV writes mp4v as it always did. An .avi
is Motion-JPEG through OpenCV, which every player reads.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mot_cli.errors import MotCliError

__all__ = ["CONTAINERS", "FrameWriter", "container_of", "open_writer"]

CONTAINERS = {".mp4": "h264", ".m4v": "h264", ".mov": "h264", ".avi": "mjpg"}
"""File endings `render` writes, and the codec each gets when the encoder is there."""

_OPENCV_FOURCC = {"h264": "mp4v", "mjpg": "MJPG"}  # what OpenCV writes instead
_H264_OPTIONS = {"crf": "23", "preset": "veryfast"}


class FrameWriter(Protocol):
    """Takes BGR frames of one size in order; `close` finishes the file."""

    codec: str

    def write(self, image: np.ndarray) -> None: ...

    def close(self) -> None: ...


def container_of(path: Path) -> str:
    """The codec a file name asks for, or a one-line error for an ending we cannot write."""
    codec = CONTAINERS.get(Path(path).suffix.lower())
    if codec is None:
        raise MotCliError(f"{path}: the video must end in {', '.join(CONTAINERS)}")
    return codec


def open_writer(
    path: Path, fps: float, size: tuple[int, int], shown: Path | None = None
) -> FrameWriter:
    """A writer for `path` (its ending picks the codec) at `fps` and `size` (width, height).

    `shown` is the name errors give (the final name when `path` is a temporary file).
    """
    codec = container_of(path)
    if codec == "h264":
        try:
            return _PyAvWriter(path, fps, size)
        except ImportError:
            pass  # no PyAV: OpenCV's MPEG-4 Part 2, which desktop players still read
    return _OpenCvWriter(path, fps, size, _OPENCV_FOURCC[codec], shown or path)


class _PyAvWriter:
    """H.264 (libx264, yuv420p) in the container the file name says."""

    codec = "h264"

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        import av

        rate = Fraction(fps if fps and fps > 0 else 25.0).limit_denominator(1001)
        self._container: Any = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        try:
            stream = self._container.add_stream("libx264", rate=rate, options=_H264_OPTIONS)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
        except Exception:
            self._container.close()
            raise
        self._stream = stream
        self._frame_type = av.VideoFrame

    def write(self, image: np.ndarray) -> None:
        frame = self._frame_type.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._stream.encode():  # flush the encoder's delayed frames
                self._container.mux(packet)
        finally:
            self._container.close()


class _OpenCvWriter:
    """OpenCV's VideoWriter (mp4v or MJPG): the fallback, and .avi."""

    def __init__(
        self, path: Path, fps: float, size: tuple[int, int], fourcc: str, shown: Path
    ) -> None:
        import cv2

        self.codec = fourcc.lower()
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if not self._writer.isOpened():
            raise MotCliError(f"{shown}: OpenCV cannot write {fourcc} video here")

    def write(self, image: np.ndarray) -> None:
        self._writer.write(image)

    def close(self) -> None:
        self._writer.release()
