"""issue 21: SOURCE as a URL (http, https, rtsp) keeps its text exactly; a video OpenCV's FFmpeg
reads from a URL is tracked and rendered like a file; anything else is one line saying what
is supported (a camera index, another scheme, a live stream, batch inputs)."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mot_cli.cli import app
from mot_cli.urls import UrlPath, source_argument, source_url

runner = CliRunner()
PUBLIC = ("--no-reid", "--no-cmc", "--set", "min_hits=1")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def served(small_video: Path) -> Iterator[str]:
    """The small video over HTTP on 127.0.0.1 (a free port), as a URL."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(small_video.parent)
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{small_video.name}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_argument_keeps_its_text() -> None:
    for text in ("rtsp://127.0.0.1:8554/cam", "http://host//a/./b.mp4?x=1"):
        path = source_argument(text)
        assert isinstance(path, UrlPath) and str(path) == text and source_url(path) == text
    assert source_url(source_argument("clips/walk.mp4")) is None
    assert str(source_argument("clips//walk.mp4")) == "clips/walk.mp4"  # files: plain Paths


def test_track_a_video_served_over_http(tmp_path: Path, served: str, small_det_txt: Path) -> None:
    runs = tmp_path / "runs"
    result = invoke("track", served, "--det-txt", small_det_txt, *PUBLIC, "--cache-dir", runs)
    assert result.exit_code == 0, result.output
    manifest = json.loads((runs / "walk" / "manifest.json").read_text())
    assert manifest["source"]["path"] == served and manifest["source"]["kind"] == "url"
    assert manifest["source"]["frames"] == 20
    assert (runs / "walk" / "walk.txt").read_text().count("\n") == 20
    again = invoke("track", served, "--det-txt", small_det_txt, *PUBLIC, "--cache-dir", runs)
    assert again.exit_code == 0 and "cache up to date" in again.stderr  # same URL, same run
    render = invoke("render", runs / "walk", "-o", tmp_path / "walk.avi")
    assert render.exit_code == 0, render.output  # frames read from the URL again


@pytest.mark.parametrize("command", ["track", "detect", "embed"])
def test_an_unreachable_rtsp_url_is_named_intact(tmp_path: Path, command: str) -> None:
    url = "rtsp://127.0.0.1:9/cam"  # discard port: nothing listens
    result = invoke(command, url, "--cache-dir", tmp_path / "runs")
    assert_one_line_error(result, f"error: {url}: ", "cannot open")
    assert not (tmp_path / "runs").exists()


def test_another_scheme_says_what_is_supported(tmp_path: Path) -> None:
    result = invoke("track", "s3://bucket//clip.mp4", "--cache-dir", tmp_path)
    assert_one_line_error(result, "s3://bucket//clip.mp4: s3 URLs are not supported",
                          "http, https or rtsp URL")  # fmt: skip


def test_a_camera_index_says_what_is_supported(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("track", "0", "--cache-dir", tmp_path / "runs")
    assert_one_line_error(result, "error: 0: no such file", "camera indices are not supported",
                          "video file")  # fmt: skip


def test_batch_refuses_a_url_intact(tmp_path: Path) -> None:
    url = "rtsp://127.0.0.1:8554/cam"
    result = invoke("batch", url, "--cache-dir", tmp_path / "runs")
    assert_one_line_error(result, f"error: {url}: batch takes", "mot-cli track URL")


def test_a_live_stream_is_refused_with_the_way_out(monkeypatch) -> None:
    """A stream without a frame count (a live camera) cannot be replayed frame by frame."""
    import cv2
    import numpy as np

    from mot_cli.errors import MotCliError
    from mot_cli.video import open_source

    class Live:
        def __init__(self, url: str) -> None:
            self.url = url

        def isOpened(self) -> bool:  # OpenCV's name
            return True

        def read(self) -> tuple[bool, np.ndarray]:
            return True, np.zeros((4, 4, 3), np.uint8)

        def get(self, prop: int) -> float:
            return -1.0 if prop == cv2.CAP_PROP_FRAME_COUNT else 25.0

        def release(self) -> None:
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Live)
    with pytest.raises(MotCliError, match=r"^rtsp://cam\.local/live: a live stream .*\(ffmpeg"):
        open_source(source_argument("rtsp://cam.local/live"))
