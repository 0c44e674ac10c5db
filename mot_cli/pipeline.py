"""Opening a run (source + run folder + frame range) and chaining the stages `track` needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mot_cli.cache import RunDir
from mot_cli.video import FrameRange, FrameSource, open_source


@dataclass(frozen=True)
class Run:
    """An opened input with its run folder and the concrete frames to process."""

    source: FrameSource
    run_dir: RunDir
    name: str
    first: int
    last: int

    @property
    def frames(self) -> tuple[int, int]:
        return self.first, self.last


def open_run(
    source_path: Path,
    cache_dir: Path = Path("runs"),
    name: str | None = None,
    frame_range: FrameRange | None = None,
) -> Run:
    """Open the source, then create or refresh `cache_dir/<name>/manifest.json`."""
    source = open_source(source_path)
    name = name or source.info.name
    first, last = (frame_range or FrameRange()).clip(source.info.frames)
    run_dir = RunDir(Path(cache_dir) / name)
    run_dir.init(name, source.info.to_dict())
    return Run(source, run_dir, name, first, last)
