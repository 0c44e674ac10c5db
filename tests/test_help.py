"""Every command's --help at 80 columns: examples whole, plain metavars, no markup eaten, no
paths only this repository's neighbours have."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from mot_cli.cli import app

runner = CliRunner()
COMMANDS = ["detect", "segment", "depth", "embed", "track", "batch", "eval", "render",
            "summary", "models", "train-encoder"]  # fmt: skip


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def examples_of(command: str) -> list[str]:
    """The example lines the command's docstring gives, as written."""
    from typer.main import get_command

    callback = get_command(app).commands[command].callback
    doc = inspect.getdoc(callback) or ""
    lines = doc.partition("Examples:")[2].splitlines()
    return [line.strip() for line in lines if line.strip() and line.strip() != "\b"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_80_columns_with_whole_examples(command: str) -> None:
    text = help_text(command)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    shown = {line.strip() for line in text.splitlines()}
    examples = examples_of(command)
    assert examples and examples[0].startswith(("mot-cli", "MOT_CLI"))
    for example in examples:
        assert example in shown, f"{example!r} was wrapped:\n{text}"
    assert "../shared" not in text  # users have no ../shared
    for typer_spelling in ("{", "<bool>", "<list[", "[OPTIONS] {"):
        assert typer_spelling not in text.replace("{name}", ""), typer_spelling


def test_help_texts_say_what_each_option_does() -> None:
    usage = help_text("track").splitlines()[0]
    assert usage.endswith("track [OPTIONS] SOURCE")
    assert "--set NAME=VALUE" in help_text("track")
    assert help_text("eval").splitlines()[0].endswith("eval [OPTIONS] GROUND_TRUTH TRACKERS...")
    batch = " ".join(help_text("batch").split())
    assert "pip install 'mot- cli[ray]'" in batch or "pip install 'mot-cli[ray]'" in batch
    embed = " ".join(help_text("embed").split())
    batch_help = embed.partition("Options:")[2].partition("--batch")[2].partition(" --")[0]
    assert "re-ID network" in batch_help and "detector" not in batch_help
    summary = " ".join(help_text("summary").split())
    gt_help = summary.partition("Options:")[2].partition("--gt")[2]
    assert "dashed" not in summary and "HOTA, MOTA, IDF1" in gt_help
