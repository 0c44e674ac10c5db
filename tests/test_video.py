"""Frame sources: videos, MOTChallenge folders, frame ranges and bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mot_cli.errors import MotCliError
from mot_cli.video import FrameRange, open_source
from tests.conftest import MOT15, need, write_video


def test_video_info_and_frames(small_video: Path) -> None:
    source = open_source(small_video)
    info = source.info
    assert (info.kind, info.frames, info.width, info.height, info.fps) == (
        "video",
        20,
        160,
        120,
        10,
    )
    numbers = [n for n, _ in source.frames(5, 8)]
    assert numbers == [5, 6, 7, 8]


def test_seeking_by_grab_gives_the_same_pixels(small_video: Path) -> None:
    source = open_source(small_video)
    all_frames = dict(source.frames())
    ((number, image),) = list(source.frames(12, 12))
    assert number == 12 and (image == all_frames[12]).all()


def test_fingerprint_follows_content_not_name(tmp_path: Path, small_video: Path) -> None:
    copy = tmp_path / "copy.avi"
    copy.write_bytes(small_video.read_bytes())
    other = write_video(tmp_path / "other.avi", 21)
    assert open_source(copy).info.fingerprint == open_source(small_video).info.fingerprint
    assert open_source(other).info.fingerprint != open_source(small_video).info.fingerprint


def test_mot_sequence_folder() -> None:
    source = open_source(need(MOT15 / "TUD-Campus"))
    assert (source.info.kind, source.info.name, source.info.frames) == ("images", "TUD-Campus", 71)
    assert (source.info.width, source.info.height, source.info.fps) == (640, 480, 25.0)
    ((number, image),) = list(source.frames(71, 71))
    assert number == 71 and image.shape == (480, 640, 3)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.mp4", None, "no such file"),
        ("empty.mp4", b"", "empty"),
        ("text.mp4", b"not a video\n" * 50, "not a video"),
    ],
)
def test_bad_inputs(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MotCliError, match=message):
        open_source(path)


def test_zero_frame_video(tmp_path: Path) -> None:
    path = write_video(tmp_path / "zero.avi", 0)
    with pytest.raises(MotCliError, match="no decodable frames"):
        open_source(path)


def test_folder_without_images(tmp_path: Path) -> None:
    with pytest.raises(MotCliError, match="no images"):
        open_source(tmp_path)


def test_frame_range_checks() -> None:
    assert FrameRange(3, None).clip(10) == (3, 10)
    assert FrameRange(3, 50).clip(10) == (3, 10)
    with pytest.raises(MotCliError, match="before"):
        FrameRange(5, 2)
    with pytest.raises(MotCliError, match="has 10 frames"):
        FrameRange(11).clip(10)
