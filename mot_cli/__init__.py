"""mot-cli: cached, replayable multi-object tracking for videos.

As a library: `track` a video (what `mot-cli track` does) and get its `Run`, `open_run` any
run folder, `evaluate` results as `mot-cli eval --json` does, or feed a `Tracker` frame by
frame. Heavy modules load on first use, so `import mot_cli` stays quick.
"""

from typing import TYPE_CHECKING, Any

from mot_cli.api import Run, evaluate, open_run, track
from mot_cli.detections import Detections
from mot_cli.errors import MotCliError

if TYPE_CHECKING:
    from mot_cli.tracking import Tracker, TrackerConfig

__version__ = "0.1.0"
__all__ = [
    "Detections",
    "MotCliError",
    "Run",
    "Tracker",
    "TrackerConfig",
    "__version__",
    "evaluate",
    "open_run",
    "track",
]


def __getattr__(name: str) -> Any:
    """`Tracker` and `TrackerConfig` on first use (the tracker imports scipy)."""
    if name in ("Tracker", "TrackerConfig"):
        from mot_cli import tracking

        return getattr(tracking, name)
    raise AttributeError(f"module 'mot_cli' has no attribute {name!r}")
