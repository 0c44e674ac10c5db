"""What every command shares: the one boundary turning any failure into one line and an exit code.

Every command is wrapped in `user_errors`. A `MotCliError` (bad input, stale cache, missing
model), an `OSError` (a full or read-only disk, a folder where a file belongs) or any other
library error becomes `error: <message>` on stderr and exit status 1; tracebacks are shown
only with `mot-cli --debug` or `MOT_CLI_DEBUG=1`. Click's own usage errors (exit 2) pass
through. The command's run-folder locks are released however it ends.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mot_cli.errors import MotCliError
from mot_cli.files import describe_os_error
from mot_cli.scope import command_scope

P = ParamSpec("P")
R = TypeVar("R")

ENV_DEBUG = "MOT_CLI_DEBUG"

console = Console(stderr=True)


def debugging() -> bool:
    """`--debug` was given (it sets the variable), or `$MOT_CLI_DEBUG` is set and not 0."""
    return os.environ.get(ENV_DEBUG, "").strip() not in ("", "0")


def _one_line(text: str) -> str:
    """Line breaks (a library's multi-line message) become spaces; other spacing is kept."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def _print_error(message: str) -> None:
    console.print(
        f"[bold red]error:[/] {escape(_one_line(message))}", highlight=False, soft_wrap=True
    )


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print any failure as `error: <message>` on stderr and exit 1 (see the module notes)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with command_scope():
                return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            console.print("[bold red]interrupted[/]: completed frames are kept; re-run to resume")
            raise typer.Exit(code=130) from None
        except MotCliError as exc:
            if debugging():
                raise
            _print_error(str(exc))
        except OSError as exc:
            if debugging():
                raise
            _print_error(describe_os_error(exc))
        except Exception as exc:  # a library error we did not foresee: still one line
            if debugging():
                raise
            text = str(exc).strip().splitlines()
            _print_error(
                f"{type(exc).__name__}: {text[0] if text else 'no message'} "
                "(unexpected; re-run with --debug for the traceback)"
            )
        raise typer.Exit(code=1)

    return wrapper
