"""`mot-cli depth`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors
from mot_cli.progress import results_console


@user_errors
def depth_command(
    source: opt.Source,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="pydnet (mobilePydnet TFLite; the default), depth-anything (Depth Anything "
            "V2), depth-pro (Apple Depth Pro, metric) or pseudo (no weights: feet lower in "
            "the image are nearer, on a ground plane fitted to the sequence).",
        ),
    ] = "pydnet",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Weights: a Hugging Face id (depth-anything/Depth-Anything-V2-Large-hf, "
            "apple/DepthPro-hf), a local folder or file, or a name resolved via "
            "$MOT_CLI_MODELS / the user cache. Default: the backend's own.",
        ),
    ] = None,
    device: opt.Device = "cpu",
    batch: Annotated[int, typer.Option("--batch", min=1, help="Frames per network call.")] = 4,
    fp16: Annotated[
        bool, typer.Option("--fp16/--fp32", help="Half precision on CUDA (CPUs use float32).")
    ] = True,
    map_size: Annotated[
        int,
        typer.Option(
            "--map-size",
            min=8,
            help="Longest side of the stored maps in pixels (256: ~70 MB per 1000 1080p frames).",
        ),
    ] = 256,
    imgsz: Annotated[
        int | None,
        typer.Option(
            "--imgsz", help="Network input side for transformers models (default: theirs)."
        ),
    ] = None,
    detector: opt.UpstreamDetector = None,
    det_txt: opt.DetTxt = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    start: opt.Start = 1,
    end: opt.End = None,
    force: opt.Force = False,
) -> None:
    """Estimate depth: nearness maps per frame and statistics per cached detection.

    Writes RUN/depth_maps.parquet (downsampled float16 nearness, larger = nearer) and
    RUN/depth.parquet (median and quartiles inside each box, and inside its mask once
    `mot-cli segment` has run). Without a detections cache the detect stage runs first.
    Resumes like `detect`.

    Examples:

    \b
      mot-cli depth video.mp4

    \b
      mot-cli depth video.mp4 --backend depth-anything --device cuda --batch 16

    \b
      mot-cli depth video.mp4 --backend depth-pro --model apple/DepthPro-hf \\
          --device cuda

    \b
      mot-cli depth video.mp4 --backend pseudo
    """
    from mot_cli.commands._upstream import open_upstream
    from mot_cli.pipeline import Cached, produce
    from mot_cli.stages import depth, segment

    config = depth.DepthConfig(
        backend=backend,
        model=model,
        device=device,
        batch=batch,
        fp16=fp16,
        map_size=map_size,
        image_size=imgsz,
    )
    run, configs = open_upstream(
        config.model_name, source, cache_dir, name, (start, end), force, detector, det_txt
    )
    configs |= {
        segment.STAGE: Cached(),  # the masks `mot-cli segment` made of these detections, if any
        depth.MAPS_STAGE: config,
        depth.STAGE: depth.DepthStatsConfig(),
    }
    outcome = produce(
        run, depth.STAGE, configs, force={depth.MAPS_STAGE, depth.STAGE} if force else False
    )
    maps = outcome.entry(depth.MAPS_STAGE)
    frames = run.last - run.first + 1
    rate = f", {frames / maps['seconds']:.1f} frames/s" if maps.get("seconds") else ""
    masks = "with" if segment.STAGE in outcome.entry(depth.STAGE).get("upstream", {}) else "without"
    height, width = maps.get("map_shape", ["?", "?"])
    results_console().print(  # the result: stdout, for $(…) and pipes
        f"depth: maps {width}x{height} in frames {run.first}-{run.last}{rate} → "
        f"{run.run_dir.file(depth.MAPS_STAGE)}; statistics of {outcome.entry(depth.STAGE)['rows']} "
        f"detections ({masks} masks) → {run.run_dir.file(depth.STAGE)}",
        markup=False,
    )
