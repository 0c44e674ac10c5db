"""`mot-cli segment`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors
from mot_cli.progress import results_console


@user_errors
def segment_command(
    source: opt.Source,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="yolo-seg (YOLO11n-seg instance masks matched by box IoU; the default), "
            "blazepose (box-prompted person mask), selfie (MediaPipe person mask cut by each "
            "box), sam (segment-anything SamPredictor), ultralytics-sam (SAM / SAM 2 / "
            "MobileSAM), grabcut or box (no weights).",
        ),
    ] = "yolo-seg",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Weights: a name resolved via $MOT_CLI_MODELS / the user cache / a download "
            "(yolo11n-seg, pose_landmark_full, selfie_segmentation, sam_vit_b_01ec64, "
            "mobile_sam, sam2.1_b, ...) or a path. Default: the backend's own.",
        ),
    ] = None,
    device: opt.Device = "cpu",
    imgsz: Annotated[
        int | None,
        typer.Option(
            "--imgsz", help="Network input size (yolo-seg 640, ultralytics-sam 1024 by default)."
        ),
    ] = None,
    exclusive: Annotated[
        bool,
        typer.Option(
            "--exclusive/--overlapping",
            help="Give a pixel several masks claim to the nearest person (lowest box bottom).",
        ),
    ] = True,
    pair: Annotated[
        bool,
        typer.Option(
            "--pair",
            help="SAM 2 two-frame mode (SelfTrEncMOT): also carry each mask into the next "
            "frame with SAM 2's memory, into RUN/mask_pairs.parquet (ultralytics-sam only).",
        ),
    ] = False,
    detector: opt.UpstreamDetector = None,
    det_txt: opt.DetTxt = None,
    masks_txt: opt.MasksTxt = None,
    masks_frames: opt.MasksFrames = "auto",
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    start: opt.Start = 1,
    end: opt.End = None,
    force: opt.Force = False,
) -> None:
    """Segment every cached detection into RUN/masks.parquet (COCO RLE, one mask per box).

    Each mask is clipped to its frame and its detection's box (imported masks, --masks-txt,
    only to the frame). Without a detections cache
    the detect stage runs first. Resumes like `detect`; a changed option recomputes.

    With --masks-txt the masks come from a MOTS file (SAM 2 masks made elsewhere, or ground
    truth as an oracle) instead of a segmenter, each matched to one detection by box overlap.

    Examples:

    \b
      mot-cli segment video.mp4

    \b
      mot-cli segment video.mp4 --backend sam --model sam_vit_h_4b8939 \\
          --device cuda

    \b
      mot-cli segment video.mp4 --backend ultralytics-sam \\
          --model sam2.1_b.pt --imgsz 1024

    \b
      mot-cli segment video.mp4 --backend ultralytics-sam \\
          --model sam2.1_b.pt --pair

    \b
      mot-cli segment MOT15/train/TUD-Campus --det-txt det/det.txt \\
          --backend blazepose

    \b
      mot-cli segment KITTI-17.mp4 \\
          --masks-txt MOTS/train/KITTI-17/gt/gt.txt
    """
    from mot_cli.commands._upstream import open_upstream
    from mot_cli.pipeline import produce
    from mot_cli.recipes import det_txt_for
    from mot_cli.stages import segment

    config = segment.SegmentConfig(
        backend=backend,
        model=model,
        device=device,
        image_size=imgsz,
        exclusive=exclusive,
        pair=pair,
        masks_txt=det_txt_for(masks_txt, source),
        masks_frames=masks_frames,
    )
    run, configs = open_upstream(
        config.model_name, source, cache_dir, name, (start, end), force, detector, det_txt
    )
    configs[segment.STAGE] = config
    outcome = produce(run, segment.STAGE, configs, force={segment.STAGE} if force else False)
    entry = outcome.entry(segment.STAGE)
    table = outcome.table(segment.STAGE)
    frames = run.last - run.first + 1
    rate = f", {frames / entry['seconds']:.1f} frames/s" if entry.get("seconds") else ""
    empty = sum(1 for area in table.column("area").to_pylist() if area == 0)
    results_console().print(  # the result: stdout, for $(…) and pipes
        f"masks: {table.num_rows} masks ({empty} empty) in frames {run.first}-{run.last}{rate} "
        f"→ {run.run_dir.file(segment.STAGE)}",
        markup=False,
    )
