"""`mot-cli models`."""

from __future__ import annotations

from typing import Annotated

import typer

from mot_cli.commands._common import user_errors


@user_errors
def models_command(
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch", help="Download missing models that have a public address (needs internet)."
        ),
    ] = False,
) -> None:
    """List the known models, where each was found (with sha256), and fetch missing ones.

    Models are looked for in $MOT_CLI_MODELS (folders separated by ':'), then in the user
    cache (~/.cache/mot-cli/models), in any format (.pt, .onnx, OpenVINO folder, …).

    Examples:

    \b
      MOT_CLI_MODELS=~/models mot-cli models

    \b
      mot-cli models --fetch
    """
    from rich.console import Console
    from rich.table import Table

    from mot_cli.errors import MotCliError
    from mot_cli.models import KNOWN_MODELS, resolve_model, search_dirs

    table = Table(title="models")
    for column in ("name", "task", "found at", "source", "sha256"):
        table.add_column(column, overflow="fold")
    failed = []
    for known in KNOWN_MODELS.values():
        try:
            model = resolve_model(known.name, download=fetch and known.url is not None)
            table.add_row(known.name, known.task, str(model.path), model.source, model.sha256)
        except MotCliError as exc:
            status = "missing" if not fetch or known.url is None else f"fetch failed: {exc}"
            if fetch and known.url is not None:
                failed.append(known.name)
            table.add_row(known.name, known.task, status, "", "")
    console = Console()
    console.print(table)
    console.print("searched: " + ", ".join(str(p) for _, p in search_dirs()), highlight=False)
    if failed:
        raise MotCliError(
            f"--fetch: {len(failed)} model(s) could not be fetched ({', '.join(failed)}); "
            "the table above says why"
        )
