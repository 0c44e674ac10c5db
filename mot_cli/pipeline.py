"""Opening a run (source + run folder + frame range) and chaining the stages `track` needs.

Opening a run is where every command meets the run folder, so its safety lives here: the run
name is one folder name, the folder is locked for this process (a second one waits), what a
killed run left is finished or cleaned, and a folder of another source is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mot_cli.cache import RunDir
from mot_cli.errors import MotCliError
from mot_cli.files import prepare_folder
from mot_cli.progress import console
from mot_cli.scope import at_command_end
from mot_cli.video import FrameRange, FrameSource, open_source


@dataclass(frozen=True)
class Run:
    """An opened input with its run folder and the concrete frames to process.

    The run folder stays locked until the command ends (or `close()`, outside a command).
    """

    source: FrameSource
    run_dir: RunDir
    name: str
    first: int
    last: int
    release: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    @property
    def frames(self) -> tuple[int, int]:
        return self.first, self.last

    def covered(self, stages: Iterable[str]) -> tuple[int, int]:
        """The frames every one of `stages` really covered: fewer when a video ended early.

        Tracking covers what the detections stage covered: imported detections (det.txt) are
        not cut short by a later stage that found the video truncated.
        """
        last = self.last
        for stage in stages:
            recorded = self.run_dir.recorded_frames(stage)
            if recorded is not None and recorded[0] == self.first:
                last = min(last, recorded[1])
        return self.first, last

    def close(self) -> None:
        """Release the run folder's lock (a command does this itself when it ends)."""
        if self.release is not None:
            self.release()


def check_run_name(name: str, what: str = "--name") -> str:
    """A run name must be one folder name, so a run never writes outside --cache-dir."""
    bad = (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or name != name.strip()
    )
    if bad:
        raise MotCliError(
            f"{what} {name!r}: must be one folder name (no '/', '\\', '..' or surrounding "
            "spaces); the run folder is CACHE_DIR/NAME"
        )
    return name


def open_run(
    source_path: Path,
    cache_dir: Path = Path("runs"),
    name: str | None = None,
    frame_range: FrameRange | None = None,
    *,
    force: bool = False,
    allow_missing_images: bool = False,
) -> Run:
    """Open the source, then lock and create or refresh `cache_dir/<name>/manifest.json`.

    `force` lets this source take over a run folder holding another source's results, and
    rebuilds a corrupt manifest.
    """
    if name is not None:
        check_run_name(name)
    source = open_source(source_path, allow_missing=allow_missing_images)
    for note in source.notes:
        console.print(f"note: {note}", highlight=False)
    if name is None:
        name = check_run_name(source.info.name, f"run name from {source_path} (pass --name)")
    first, last = (frame_range or FrameRange()).clip(source.info.frames)
    run_dir = RunDir(prepare_folder(Path(cache_dir), "--cache-dir") / name)
    release = run_dir.lock()
    try:
        run_dir.recover()
        run_dir.init(name, source.info.to_dict(), replace=force)
    except BaseException:
        release()
        raise
    if at_command_end(release):
        release = None
    return Run(source, run_dir, name, first, last, release)
