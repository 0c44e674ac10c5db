"""Source arguments that are URLs, kept exactly as typed.

`pathlib.Path` folds `rtsp://host/cam` into `rtsp:/host/cam`, so a URL must never pass through
a plain Path. The command line's SOURCE goes through `source_argument`; `open_source`
(mot_cli/video.py) asks `source_url` for the text. No numpy or OpenCV here: every command's
options import this module.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["SUPPORTED", "URL_SCHEMES", "UrlPath", "source_argument", "source_url"]

URL_SCHEMES = ("http", "https", "rtsp")
SUPPORTED = "a video file, an image-sequence folder, or an http, https or rtsp URL of a video"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class UrlPath(type(Path())):  # type: ignore[misc]
    """A source argument that is a URL. It is a Path only so commands can pass it on as
    they pass files; `str()` is the URL exactly as given."""

    url: str = ""

    def __str__(self) -> str:
        return self.url or super().__str__()


def source_argument(text: str) -> Path:
    """The command line's SOURCE: a Path, or a `UrlPath` keeping a URL's text intact."""
    if _SCHEME.match(text):
        path = UrlPath(text)
        path.url = text
        return path
    return Path(text)


def source_url(source: Path | str) -> str | None:
    """The URL a source argument names (a `UrlPath`, or a string with a scheme), else None."""
    if isinstance(source, UrlPath) and source.url:
        return source.url
    return source if isinstance(source, str) and _SCHEME.match(source) else None
