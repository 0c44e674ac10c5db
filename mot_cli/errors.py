"""The one exception type for problems a user can cause (bad input, stale cache, missing model)."""


class MotCliError(Exception):
    """A user-facing error; the CLI prints its message on one line and exits non-zero.

    Messages say what went wrong and where (file, line, frame), so no traceback is needed.
    """


class ModelNotFoundError(MotCliError):
    """No weights for a model name or path: the one failure that may turn an optional cue off."""
