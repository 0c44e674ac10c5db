"""Parquet column names, dtypes and the schema version of every stage cache, in one place.

Every cache is a plain table so pandas, polars or DuckDB can read it:

detections.parquet   frame int32 (1-based), det int32 (index within frame),
                     x1, y1, x2, y2 float32 (pixels), score float32 (detector's own scale),
                     cls int32 (detector class id; -1 for imported public detections)
embeddings.parquet   frame int32, det int32, embedding fixed_size_list<float32>[D]
                     (L2-normalised; rows align with detections.parquet)
camera_motion.parquet frame int32, m00..m12 float32: the 2x3 affine that maps pixel
                     coordinates of frame-1 onto frame (identity for frame 1)
tracks.parquet       frame int32, id int32 (1-based, unique within a frame),
                     x1, y1, x2, y2 float32, score float32, det int32 (-1 when interpolated),
                     class int32 (the detector class id of the track, as detections' cls; one
                     per track: each class is tracked on its own; older caches lack it)
masks.parquet        frame int32, det int32 (rows align with detections.parquet),
                     height, width int32 (the frame's size), rle string (COCO compressed RLE
                     `counts`, as pycocotools writes it), area int32 (pixels), x1, y1, x2, y2
                     float32 (the mask's own bounding box; zeros when empty), quality float32
                     (the model's own mask score; NaN when it gives none). Each mask lies
                     inside its frame and its detection's box (an imported one, segment
                     --masks-txt, inside its frame only); by default masks are disjoint
mask_pairs.parquet   (segment --pair, SAM 2 only) the masks.parquet columns, then next_rle,
                     next_area int32, next_x1..next_y2 float32, next_quality float32: the same
                     object carried by SAM 2's memory into frame+1 (clipped to the frame only:
                     the object moved; empty for the last frame), as SelfTrEncMOT pairs frames
depth.parquet        frame int32, det int32 (rows align with detections.parquet), box_median,
                     box_q1, box_q3 float32 (depth inside the box), mask_median, mask_q1,
                     mask_q3 float32 (inside the mask; NaN without masks). Depth is always
                     *nearness* (inverse depth: larger = nearer), metric or relative.
depth_maps.parquet   frame int32, height, width int32 (the map's size), scale float32 (frame
                     pixels per map pixel), metric bool (true: values are 1/metres),
                     map binary (float16 little-endian, row-major, height*width values)
sd_embeddings.parquet frame int32, det int32, embedding fixed_size_list<float32>[D]: the
                     depth×mask encoder's L2-normalised embedding of each detection (rows align
                     with detections.parquet)
sd_encoder.pt        (not a table) the depth×mask encoder trained on the run's own caches, as
                     `mot_cli.encoder.save_checkpoint` writes it; its sha256 is in the manifest
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

# Stage names: each is a cache's manifest entry and, with `.parquet`, its file name in the run
# folder (STAGE_FILES names the others). Stage modules, outputs and the encoder all use these.
DETECTIONS_STAGE = "detections"
EMBEDDINGS_STAGE = "embeddings"
CAMERA_MOTION_STAGE = "camera_motion"
MASKS_STAGE = "masks"
MASK_PAIRS_STAGE = "mask_pairs"
DEPTH_MAPS_STAGE = "depth_maps"
DEPTH_STAGE = "depth"
SD_ENCODER_STAGE = "sd_encoder"
SD_EMBEDDINGS_STAGE = "sd_embeddings"
TRACKS_STAGE = "tracks"
SD_ENCODER_READS = (DETECTIONS_STAGE, MASKS_STAGE, DEPTH_MAPS_STAGE)
"""The caches the depth×mask encoder learns from and embeds (detections, masks, maps)."""

STAGE_FILES = {SD_ENCODER_STAGE: "sd_encoder.pt"}
"""Stages whose cache is not a Parquet table: the trained encoder is a torch checkpoint."""

DETECTIONS = pa.schema(
    [
        ("frame", pa.int32()),
        ("det", pa.int32()),
        ("x1", pa.float32()),
        ("y1", pa.float32()),
        ("x2", pa.float32()),
        ("y2", pa.float32()),
        ("score", pa.float32()),
        ("cls", pa.int32()),
    ]
)

CAMERA_MOTION = pa.schema(
    [("frame", pa.int32())] + [(f"m{r}{c}", pa.float32()) for r in range(2) for c in range(3)]
)

TRACKS = pa.schema(
    [
        ("frame", pa.int32()),
        ("id", pa.int32()),
        ("x1", pa.float32()),
        ("y1", pa.float32()),
        ("x2", pa.float32()),
        ("y2", pa.float32()),
        ("score", pa.float32()),
        ("det", pa.int32()),
        ("class", pa.int32()),
    ]
)

TRACKS_WITHOUT_CLASS = pa.schema([f for f in TRACKS if f.name != "class"])
"""tracks.parquet as mot-cli wrote it before tracks had a class: still read (class -1)."""


MASKS = pa.schema(
    [
        ("frame", pa.int32()),
        ("det", pa.int32()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("rle", pa.string()),
        ("area", pa.int32()),
        ("x1", pa.float32()),
        ("y1", pa.float32()),
        ("x2", pa.float32()),
        ("y2", pa.float32()),
        ("quality", pa.float32()),
    ]
)


MASK_PAIRS = pa.schema(
    [
        *MASKS,
        ("next_rle", pa.string()),
        ("next_area", pa.int32()),
        ("next_x1", pa.float32()),
        ("next_y1", pa.float32()),
        ("next_x2", pa.float32()),
        ("next_y2", pa.float32()),
        ("next_quality", pa.float32()),
    ]
)


DEPTH = pa.schema(
    [("frame", pa.int32()), ("det", pa.int32())]
    + [(f"{where}_{stat}", pa.float32()) for where in ("box", "mask")
       for stat in ("median", "q1", "q3")]
)

DEPTH_MAPS = pa.schema(
    [
        ("frame", pa.int32()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("scale", pa.float32()),
        ("metric", pa.bool_()),
        ("map", pa.binary()),
    ]
)


def embeddings_schema(dim: int) -> pa.Schema:
    """Embeddings carry their width in the type, so a reader can check it without decoding."""
    return pa.schema(
        [
            ("frame", pa.int32()),
            ("det", pa.int32()),
            ("embedding", pa.list_(pa.float32(), dim)),
        ]
    )


FIXED_SCHEMAS = {
    DETECTIONS_STAGE: DETECTIONS,
    CAMERA_MOTION_STAGE: CAMERA_MOTION,
    TRACKS_STAGE: TRACKS,
    MASKS_STAGE: MASKS,
    MASK_PAIRS_STAGE: MASK_PAIRS,
    DEPTH_STAGE: DEPTH,
    DEPTH_MAPS_STAGE: DEPTH_MAPS,
}
"""The stages whose tables always have these columns, so any reader can check them."""
