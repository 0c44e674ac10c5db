"""Association: an OC-SORT / Deep OC-SORT tracker built from pure similarity cues.

`Tracker` is the online object (one per video); `track_sequence` runs a whole sequence
offline, normalising scores and applying the offline improvements of `postprocess`.
"""

from mot_cli.tracking.assign import Matches, assign
from mot_cli.tracking.config import TrackerConfig
from mot_cli.tracking.cues import CUE_TABLE, CUES, CueRow, DetView, TrackView, get_cue
from mot_cli.tracking.postprocess import TrackTable, postprocess_table
from mot_cli.tracking.tracker import Tracker, TrackOutput, score_normaliser, track_sequence

__all__ = [
    "CUES",
    "CUE_TABLE",
    "CueRow",
    "DetView",
    "Matches",
    "TrackOutput",
    "TrackTable",
    "TrackView",
    "Tracker",
    "TrackerConfig",
    "assign",
    "get_cue",
    "postprocess_table",
    "score_normaliser",
    "track_sequence",
]
