"""`mot-cli detect`."""

from __future__ import annotations

from pathlib import Path

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors
from mot_cli.progress import results_console


@user_errors
def detect_command(
    source: opt.Source,
    detector: opt.Detector = "yolo11n",
    classes: opt.Classes = "person",
    conf: opt.Confidence = 0.3,
    imgsz: opt.ImageSize = 640,
    device: opt.Device = "cpu",
    batch: opt.Batch = 8,
    det_txt: opt.DetTxt = None,
    det_score: opt.DetScore = "auto",
    slice: opt.Slice = "off",
    slice_overlap: opt.SliceOverlap = 0.2,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    start: opt.Start = 1,
    end: opt.End = None,
    force: opt.Force = False,
    allow_missing_images: opt.AllowMissingImages = False,
) -> None:
    """Detect objects in every frame and cache them in RUN/detections.parquet.

    An interrupted run resumes from its last complete frame; a changed option or model
    recomputes the cache.

    Examples:

    \b
      mot-cli detect video.mp4

    \b
      mot-cli detect video.mp4 --detector yolo11n_int8_openvino_model \\
          --conf 0.25 --end 300

    \b
      mot-cli detect MOT15/train/TUD-Campus --det-txt det/det.txt

    \b
      mot-cli detect crowd_1080p.mp4 --slice auto

    \b
      mot-cli detect crowd_1080p.mp4 --slice 960x540 --slice-overlap 0.25
    """
    from mot_cli.pipeline import open_run, produce
    from mot_cli.recipes import detect_config
    from mot_cli.stages import detect
    from mot_cli.video import FrameRange

    config = detect_config(
        detector, classes, conf, imgsz, device, batch, det_txt, det_score, slice, slice_overlap
    )
    run = open_run(
        source, cache_dir, name, FrameRange(start, end),
        force=force, allow_missing_images=allow_missing_images,
    )  # fmt: skip
    entry = produce(run, detect.STAGE, {detect.STAGE: config}, force=force).entry(detect.STAGE)
    first, last = run.covered([detect.STAGE])
    results_console().print(  # the result: stdout, for $(…) and pipes
        f"detections: {entry['rows']} boxes in frames {first}-{last} → "
        f"{run.run_dir.file(detect.STAGE)}",
        markup=False,
    )
