"""mot-cli: cached, replayable multi-object tracking for videos."""

from mot_cli.detections import Detections
from mot_cli.errors import MotCliError

__version__ = "0.1.0"
__all__ = ["Detections", "MotCliError", "__version__"]
