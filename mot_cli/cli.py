"""The `mot-cli` Typer app; commands live in `mot_cli.commands` and import heavy modules lazily."""

from __future__ import annotations

import os

import typer

from mot_cli import __version__
from mot_cli.commands._common import MotCommand
from mot_cli.commands.batch import batch_command
from mot_cli.commands.depth import depth_command
from mot_cli.commands.detect import detect_command
from mot_cli.commands.embed import embed_command
from mot_cli.commands.eval import eval_command
from mot_cli.commands.models import models_command
from mot_cli.commands.render import render_command
from mot_cli.commands.segment import segment_command
from mot_cli.commands.summary import summary_command
from mot_cli.commands.track import track_command
from mot_cli.commands.train_encoder import train_encoder_command
from mot_cli.errors import ENV_DEBUG

app = typer.Typer(
    name="mot-cli",
    help="Multi-object tracking for videos, with every stage cached and replayable.\n\n"
    "Example: mot-cli track video.mp4",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
app.command("detect", cls=MotCommand)(detect_command)
app.command("segment", cls=MotCommand)(segment_command)
app.command("depth", cls=MotCommand)(depth_command)
app.command("embed", cls=MotCommand)(embed_command)
app.command("track", cls=MotCommand)(track_command)
app.command("batch", cls=MotCommand)(batch_command)
app.command("models", cls=MotCommand)(models_command)
app.command("eval", cls=MotCommand)(eval_command)
app.command("render", cls=MotCommand)(render_command)
app.command("summary", cls=MotCommand)(summary_command)
app.command("train-encoder", cls=MotCommand)(train_encoder_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mot-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help=f"Show Python tracebacks instead of one-line errors (also: {ENV_DEBUG}=1).",
    ),
) -> None:
    """Multi-object tracking for videos, with every stage cached and replayable."""
    if debug:  # the flag and the variable are one switch, read by the commands' boundary
        os.environ[ENV_DEBUG] = "1"


def main() -> None:
    app()
