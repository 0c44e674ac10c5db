"""What every command shares: turning a library error into one line and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mot_cli.errors import MotCliError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(stderr=True)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a MotCliError as `error: <message>` on stderr and exit 1; let bugs show tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MotCliError as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            console.print("[bold red]interrupted[/]: completed frames are kept; re-run to resume")
            raise typer.Exit(code=130) from None

    return wrapper
