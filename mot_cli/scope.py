"""What one command holds until it ends (run-folder locks), released by the CLI's boundary.

`commands._common.user_errors` opens a scope around every command; `at_command_end` queues a
release for when it ends, so a command lets go of its run folder however it ends, without
each command wiring that by hand. Outside a command (library use, tests) nothing is queued
and the caller releases the resource itself (`Run.close()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar

_current: ContextVar[ExitStack | None] = ContextVar("mot_cli_command_scope", default=None)


@contextmanager
def command_scope() -> Iterator[None]:
    """Run every release queued by `at_command_end` inside the block when it ends."""
    with ExitStack() as stack:
        token = _current.set(stack)
        try:
            yield
        finally:
            _current.reset(token)


def at_command_end(release: Callable[[], object]) -> bool:
    """Queue `release` for the end of the current command; False when no command is running."""
    stack = _current.get()
    if stack is None:
        return False
    stack.callback(release)
    return True
