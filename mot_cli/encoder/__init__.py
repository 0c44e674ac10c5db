"""The depth×mask encoder: crops of a detection's mask times its depth, embedded by a small
CNN trained without labels on the user's own caches (the `S_sd` cue)."""

from mot_cli.encoder.augment import AugmentConfig
from mot_cli.encoder.crops import build_crops, normalise_crops, raw_crops
from mot_cli.encoder.data import (
    FrameArrays,
    TrainingSet,
    build_training_set,
    concat_training_sets,
    read_run,
)
from mot_cli.encoder.embed import embed_detections
from mot_cli.encoder.labels import match_identities, with_identities
from mot_cli.encoder.model import (
    DepthMaskEncoder,
    EncoderConfig,
    build_encoder,
    load_encoder,
    read_checkpoint,
    save_checkpoint,
)
from mot_cli.encoder.pairs import LinkConfig, unambiguous_links
from mot_cli.encoder.train import TrainConfig, TrainResult, train_encoder

__all__ = [
    "AugmentConfig",
    "DepthMaskEncoder",
    "EncoderConfig",
    "FrameArrays",
    "LinkConfig",
    "TrainConfig",
    "TrainResult",
    "TrainingSet",
    "build_crops",
    "build_encoder",
    "build_training_set",
    "concat_training_sets",
    "embed_detections",
    "load_encoder",
    "match_identities",
    "normalise_crops",
    "raw_crops",
    "read_checkpoint",
    "read_run",
    "save_checkpoint",
    "train_encoder",
    "unambiguous_links",
    "with_identities",
]
