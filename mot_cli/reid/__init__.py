"""Person re-identification networks written here, loading published (torchreid) weights."""

from mot_cli.reid.encoder import INPUT_SIZE, ReidEncoder, file_sha256
from mot_cli.reid.osnet import (
    FEATURE_DIM,
    OSNET_CHANNELS,
    OSNet,
    build_osnet,
    fuse_for_inference,
    load_osnet_weights,
    read_state_dict,
)

__all__ = [
    "FEATURE_DIM",
    "INPUT_SIZE",
    "OSNET_CHANNELS",
    "OSNet",
    "ReidEncoder",
    "build_osnet",
    "file_sha256",
    "fuse_for_inference",
    "load_osnet_weights",
    "read_state_dict",
]
