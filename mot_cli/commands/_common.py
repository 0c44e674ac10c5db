"""What every command shares: the one boundary turning any failure into one line and an exit code.

Every command is wrapped in `user_errors`. A `MotCliError` (bad input, stale cache, missing
model), an `OSError` (a full or read-only disk, a folder where a file belongs) or any other
library error becomes `error: <message>` on stderr and exit status 1; tracebacks are shown
only with `mot-cli --debug` or `MOT_CLI_DEBUG=1`. Click's own usage errors (exit 2) pass
through. The command's run-folder locks are released however it ends.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from mot_cli.errors import debugging, error_message, one_line
from mot_cli.scope import command_scope

P = ParamSpec("P")
R = TypeVar("R")

console = Console(stderr=True, soft_wrap=True)  # progress and notes; results: results_console


def print_error(message: str) -> None:
    """`error: <message>` on stderr, on one line."""
    console.print(
        f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True
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
        except Exception as exc:  # MotCliError, OSError or one we did not foresee: one line
            if debugging():
                raise
            print_error(error_message(exc))
        raise typer.Exit(code=1)

    return wrapper


def close_options(given: str, known: Iterable[str]) -> list[str]:
    """The long options spelled like `given`, best first (at most three).

    Compared without the leading dashes, which every option shares (with them, `--tracker`
    came out "close" to `--force`, `--reid-backend` and `--start`).
    """
    names = {name.lstrip("-"): name for name in known if name.startswith("--")}
    word = given.lstrip("-").partition("=")[0]
    return [names[n] for n in difflib.get_close_matches(word, list(names), n=3, cutoff=0.75)]


class MotCommand(TyperCommand):
    """A command whose help reads as a Unix manual and whose "No such option" suggests only
    options spelled like the typo.

    Typer's own help writes a required argument `{source}` in the usage line and a repeatable
    option's type as `<list[str]>`; here they are `SOURCE` and `<str>...`.
    """

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [
            _argument_name(param) for param in self.get_params(ctx)
            if param.param_type_name == "argument"
        ]  # fmt: skip

    def format_options(self, ctx: typer.Context, formatter) -> None:  # type: ignore[override]
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if param.param_type_name == "argument":
                sections["Arguments"].append((_argument_name(param), text))
            elif param.param_type_name == "option":
                sections["Options"].append((_LIST_TYPE.sub(r"<\1>...", name), text))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:  # click's NoSuchOption, vendored privately by typer
            if hasattr(exc, "option_name") and hasattr(exc, "possibilities"):
                known = [name for param in self.get_params(ctx) for name in param.opts]
                exc.possibilities = close_options(exc.option_name, known) or None
            raise


_LIST_TYPE = re.compile(r"<list\[(\w+)\]>")


def _argument_name(param) -> str:
    """SOURCE, [NAME] when optional, RUNS... when repeated: the usage line's spelling."""
    name = (param.metavar or param.name or "").upper()
    if not param.required:
        name = f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")
