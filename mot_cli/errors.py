"""The one exception type for problems a user can cause (bad input, stale cache, missing model)."""

from __future__ import annotations

import os

ENV_DEBUG = "MOT_CLI_DEBUG"


class MotCliError(Exception):
    """A user-facing error; the CLI prints its message on one line and exits non-zero.

    Messages say what went wrong and where (file, line, frame), so no traceback is needed.
    """


class ModelNotFoundError(MotCliError):
    """No weights for a model name or path: the one failure that may turn an optional cue off."""


def debugging() -> bool:
    """`mot-cli --debug` was given (it sets the variable), or `$MOT_CLI_DEBUG` is set and not 0:
    tracebacks instead of one-line errors."""
    return os.environ.get(ENV_DEBUG, "").strip() not in ("", "0")


def one_line(text: str) -> str:
    """Line breaks (a library's multi-line message) become spaces; other spacing is kept."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def error_message(exc: BaseException) -> str:
    """What the CLI prints after `error:` for any failure, on one line.

    Shared by the command boundary and by batch workers, which report each video's failure
    the same way without stopping the others.
    """
    if isinstance(exc, MotCliError):
        return one_line(str(exc))
    if isinstance(exc, OSError):
        return one_line(describe_os_error(exc))
    text = str(exc).strip().splitlines()
    return (
        f"{type(exc).__name__}: {text[0].strip() if text else 'no message'} "
        "(unexpected; re-run with --debug for the traceback)"
    )


def describe_os_error(exc: OSError) -> str:
    """`reason` or `path: reason` for an OSError, on one line (pyarrow's have no filename)."""
    reason = os_error_reason(exc)
    if exc.filename is None:
        return reason
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" → {os.fsdecode(exc.filename2)}"
    return f"{where}: {reason}"


def os_error_reason(exc: OSError) -> str:
    """The reason of an OSError, on one line, without its paths."""
    text = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc))
    return (text or type(exc).__name__).splitlines()[0]
