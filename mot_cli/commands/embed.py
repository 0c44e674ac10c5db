"""`mot-cli embed`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors
from mot_cli.progress import results_console


@user_errors
def embed_command(
    source: opt.Source,
    reid_model: Annotated[
        str,
        typer.Option(
            "--reid-model",
            help="Re-ID weights: a name resolved via $MOT_CLI_MODELS / the user cache, or a path.",
        ),
    ] = "osnet_x0_25_msmt17",
    arch: Annotated[
        str,
        typer.Option(
            "--arch", help="OSNet width: osnet_x0_25, osnet_x0_5, osnet_x0_75 or osnet_x1_0."
        ),
    ] = "osnet_x0_25",
    device: opt.Device = "cpu",
    reid_backend: opt.ReidBackend = "auto",
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Frames whose crops go to the re-ID network in "
                          "one call.")
    ] = 8,
    detector: opt.UpstreamDetector = None,
    det_txt: opt.DetTxt = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    start: opt.Start = 1,
    end: opt.End = None,
    force: opt.Force = False,
    allow_missing_images: opt.AllowMissingImages = False,
) -> None:
    """Embed every cached detection's crop with OSNet into RUN/embeddings.parquet.

    Without a detections cache the detect stage runs first (as `segment` and `depth` do);
    --detector or --det-txt pick how. Resumes like `detect`.

    Examples:

    \b
      mot-cli embed video.mp4

    \b
      mot-cli embed MOT15/train/TUD-Campus --det-txt det/det.txt

    \b
      MOT_CLI_MODELS=~/models mot-cli embed video.mp4 --device cuda --batch 32
    """
    from mot_cli.commands._upstream import open_upstream
    from mot_cli.pipeline import produce
    from mot_cli.stages import embed

    config = embed.EmbedConfig(
        model=reid_model, arch=arch, device=device, batch=batch, backend=reid_backend
    )
    run, configs = open_upstream(
        reid_model, source, cache_dir, name, (start, end), force, detector, det_txt,
        allow_missing_images=allow_missing_images,
    )  # fmt: skip
    configs[embed.STAGE] = config
    outcome = produce(run, embed.STAGE, configs, force={embed.STAGE} if force else False)
    entry = outcome.entry(embed.STAGE)
    rate = f" ({entry['rows'] / entry['seconds']:.0f} crops/s)" if entry.get("seconds") else ""
    results_console().print(  # the result: stdout, for $(…) and pipes
        f"embeddings: {entry['rows']} crops{rate} → {run.run_dir.file(embed.STAGE)}",
        markup=False,
    )
