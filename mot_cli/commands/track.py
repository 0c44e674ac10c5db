"""`mot-cli track`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mot_cli.commands import options as opt
from mot_cli.commands._common import user_errors

if TYPE_CHECKING:
    from mot_cli.pipeline import Run


def _list_settings(value: bool) -> None:
    """`--list-settings`: one line per setting, name, default and meaning, on stdout."""
    if not value:
        return
    import dataclasses

    from mot_cli.tracking import TrackerConfig
    from mot_cli.tracking.config import setting_descriptions

    described = setting_descriptions()
    rows = [
        (f.name, _yaml_value(f.default), described.get(f.name, ""))
        for f in dataclasses.fields(TrackerConfig)
    ]
    name_width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    typer.echo(f"{'setting':<{name_width}}  {'default':<{value_width}}  meaning")
    for name, value, text in rows:
        typer.echo(f"{name:<{name_width}}  {value:<{value_width}}  {text}")
    raise typer.Exit()


def _yaml_value(value: object) -> str:
    """A default as it is written in --set and in a YAML file (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


ListSettings = Annotated[
    bool,
    typer.Option(
        "--list-settings",
        is_eager=True,
        callback=_list_settings,
        help="Print every tracker setting (for --set and --config) with its default and "
        "meaning, and exit.",
    ),
]


@user_errors
@opt.with_track_options
def track_command(
    source: opt.Source,
    options: opt.TrackOptions,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o",
            help="Also copy the MOTChallenge text here (a .txt file, or a name without an "
            "extension).",
        ),
    ] = None,
    render_path: Annotated[
        Path | None,
        typer.Option("--render", help="Also write an annotated video here (mot-cli render)."),
    ] = None,
    cache_dir: opt.CacheDir = Path("runs"),
    name: opt.Name = None,
    list_settings: ListSettings = False,
) -> None:
    """Track every person (or --classes) and write MOTChallenge text plus tracks.parquet.

    Missing or stale upstream caches (detections, embeddings, camera motion; with --sd also
    masks, depth maps, the encoder and its embeddings) are computed first; fresh ones are
    replayed, so changing a tracker setting re-runs only the association.

    Examples:

    \b
      mot-cli track video.mp4

    \b
      MOT_CLI_MODELS=~/models mot-cli track video.mp4 --detector yolo11n \\
          --no-cmc

    \b
      mot-cli track MOT15/train/TUD-Campus --det-txt det/det.txt \\
          --set iou_threshold=0.25 -o TUD-Campus.txt

    \b
      mot-cli track video.mp4 --config tracker.yaml --set max_age=60

    \b
      mot-cli track video.mp4 --sd

    \b
      mot-cli track http://127.0.0.1:8000/clip.avi --classes car,person

    \b
      mot-cli track video.mp4 --sd-encoder models/sd_encoder.pt --set w_sd=1.0

    \b
      mot-cli track --list-settings

    \b
      mot-cli track video.mp4 --masks-txt sam2_masks.txt --set w_iom=0.5
    """
    from mot_cli.files import same_file, write_bytes
    from mot_cli.guard import check_outputs, check_suffix
    from mot_cli.pipeline import open_run
    from mot_cli.progress import results_console
    from mot_cli.recipes import det_txt_for, produce_tracks, track_configs
    from mot_cli.stages import track
    from mot_cli.video import FrameRange

    configs, optional = track_configs(options, source)
    det_txt = det_txt_for(options.det_txt, source)
    masks_txt = det_txt_for(options.masks_txt, source)
    if render_path is not None:
        from mot_cli.outputs.render import video_codec

        video_codec(render_path)  # a bad name fails now, not after tracking
    outputs = {"--output": output, "--render": render_path}
    check_outputs(
        outputs, reads=[source, det_txt, masks_txt], allow=_own_text_like(output, cache_dir)
    )
    run = open_run(
        source, cache_dir, name, FrameRange(options.start, options.end),
        force=options.force, allow_missing_images=options.allow_missing_images,
    )  # fmt: skip
    _check_outputs_against_run(outputs, run)
    if output is not None:  # after the checks that name an input: theirs is the worse news
        check_suffix(output, "--output", (".txt",), "MOTChallenge text")
    outcome = produce_tracks(run, options, configs, optional)
    entry = outcome.entry(track.STAGE)
    first, last = entry["frames"]  # fewer than asked when the video ended early
    text_path = run.run_dir.path / entry["mot_txt"]
    copied = output is not None and not same_file(output, text_path)
    if copied:
        write_bytes(output, text_path.read_bytes())
    out = results_console()  # where the results went: stdout, for $(…) and pipes
    out.print(
        f"tracks: {entry['ids']} ids in frames {first}-{last} → {text_path}"
        + (f" (copied to {output})" if copied else ""),
        markup=False,
    )
    out.print(
        f"caches: {run.run_dir.path}/ (manifest.json, {run.run_dir.file(track.STAGE).name}, …)",
        markup=False,
    )
    if render_path is not None:
        from mot_cli.outputs.render import RenderConfig, render_run

        video = render_run(run.run_dir.path, render_path, RenderConfig(run.first, run.last))
        out.print(f"render: {video.frames} frames, {video.codec} → {video.path}", markup=False)


def _check_outputs_against_run(outputs: dict[str, Path | None], run: Run) -> None:
    """Once the run folder is known: no output is a file the source reads or a file of any
    run folder, except that `-o` may name the run's own text file (then nothing is copied)."""
    from mot_cli.guard import check_output

    own_text = run.run_dir.path / f"{run.name}.txt"
    for option, path in outputs.items():
        if path is not None:
            allow = [own_text] if option == "--output" else []
            check_output(path, option, reads=run.source.input_files(), allow=allow)


def _own_text_like(output: Path | None, cache_dir: Path) -> list[Path]:
    """`-o` shaped like a run's own text, CACHE_DIR/NAME/NAME.txt: allowed until the run is
    open, when `_check_outputs_against_run` knows the name."""
    from mot_cli.files import same_file

    if output is None or output.name != f"{output.parent.name}.txt":
        return []
    return [output] if same_file(output.parent.parent, cache_dir) else []
