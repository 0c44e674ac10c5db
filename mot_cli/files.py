"""Writing files safely: a temporary file renamed into place, with the user's umask.

Every file mot-cli writes goes through here, so that
- a reader never sees a half-written file (the temporary sits beside the target, in the same
  file system, and `os.replace` swaps it in at once);
- a new file gets the permissions the user's umask gives (`tempfile.mkstemp` creates 0600),
  and overwriting keeps the existing file's permissions;
- a temporary left by a killed process is removed the next time the same target is written:
  its name carries the writer's pid (`.<name>.<pid>-<random>.tmp`, then the target's suffix
  when a writer picks its format from it), and a pid that is no longer running cannot be
  writing it; a long write (a video) also has a watchdog process that removes its temporary
  the moment the writer dies, even by kill -9, so nothing is left even until then;
- a failed write is a one-line `MotCliError` naming the target, not the temporary.

Only the standard library is imported, so `eval` stays fast.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from mot_cli.errors import MotCliError, describe_os_error
from mot_cli.errors import os_error_reason as _reason

__all__ = [
    "atomic_path",
    "describe_os_error",
    "file_sha256",
    "is_stale_temporary",
    "new_temporary",
    "prepare_folder",
    "remove_stale_temporaries",
    "same_file",
    "write_bytes",
    "write_text",
    "writing",
]

TEMP_SUFFIX = ".tmp"
_TAGGED = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[^.]+\.tmp(?:\.[^.]+)?$")
# A watchdog for one temporary: it waits for its standard input to close (the writer finished,
# or died however it died), then removes the temporary if it is still there.
_WATCHDOG = (
    "import os, sys\nsys.stdin.buffer.read()\ntry:\n    os.unlink(sys.argv[1])\n"
    "except OSError:\n    pass\n"
)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """An existing file's permissions, else what `open()` would give a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def is_stale_temporary(path: Path, *, untagged: bool = False) -> bool:
    """A temporary whose writer has died; `untagged` also counts ones without a pid in the name."""
    if not path.name.startswith("."):
        return False
    match = _TAGGED.match(path.name)
    if match is None:
        return untagged and path.name.endswith(TEMP_SUFFIX)
    return not _pid_running(int(match["pid"]))


def remove_stale_temporaries(
    folder: Path, name: str | None = None, *, untagged: bool = False, keep: Iterable[str] = ()
) -> list[Path]:
    """Remove temporaries left by killed writers in `folder` (only those of `name` if given)."""
    pattern = f".{glob.escape(name)}.*{TEMP_SUFFIX}*" if name else f".*{TEMP_SUFFIX}*"
    keep = set(keep)
    removed = []
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return removed
    for path in candidates:
        if path.name in keep or not is_stale_temporary(path, untagged=untagged):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def new_temporary(path: Path, *, keep_suffix: bool = False) -> Path:
    """Create an empty temporary beside `path` with the mode the final file should have.

    `keep_suffix`: the temporary ends in `path`'s suffix too, for writers (OpenCV, FFmpeg)
    that choose the file format from the name.
    """
    path = Path(path)
    suffix = TEMP_SUFFIX + (path.suffix if keep_suffix else "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}-", suffix=suffix, dir=path.parent
        )
        try:
            os.fchmod(fd, _mode_for(path))
        finally:
            os.close(fd)
    except OSError as exc:
        raise MotCliError(f"{path}: cannot write ({_reason(exc)})") from None
    return Path(tmp)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing `path` (a full disk, say) into a one-line error."""
    try:
        yield
    except OSError as exc:
        raise MotCliError(f"{path}: cannot write ({_reason(exc)})") from None


@contextmanager
def atomic_path(
    path: Path, *, keep_suffix: bool = False, watchdog: bool = False
) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only when the body succeeds.

    The temporary is removed either way. Errors of the body pass through as they are; wrap
    the writing in `writing(path)` to name the target in them. `keep_suffix`: see
    `new_temporary`. `watchdog`: for long writes, a process that removes the temporary if
    this one is killed before it is renamed (see the module notes).
    """
    path = Path(path)
    mode = _mode_for(path)
    tmp = new_temporary(path, keep_suffix=keep_suffix)
    with _watched(tmp) if watchdog else nullcontext():
        try:
            yield tmp
            with writing(path):
                os.chmod(tmp, mode)  # a writer may have made the file anew, with its own mode
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def _watched(tmp: Path) -> Iterator[None]:
    """Keep a watchdog process for `tmp` while the body runs (see `_WATCHDOG`).

    It runs in a session of its own, so killing this process's group spares it. Should it
    fail to start, the next write of the same target removes the temporary instead.
    """
    import subprocess
    import sys

    try:
        guard = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, os.path.abspath(tmp)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError:
        yield
        return
    try:
        yield
    finally:
        assert guard.stdin is not None
        guard.stdin.close()
        guard.wait()


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_path`)."""
    with atomic_path(path) as tmp, writing(path):
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links, `..`, hard links), or would once written."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).absolute() == Path(b).absolute()


def prepare_folder(path: Path, what: str) -> Path:
    """Create folder `path` (and parents), or say in one line why it cannot be one."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if isinstance(exc, FileExistsError | NotADirectoryError):
            try:
                os.stat(path)  # tells a looping or broken link from a plain file
            except OSError as inner:
                exc = inner
            else:
                raise MotCliError(f"{what} {path}: exists and is not a folder") from None
        raise MotCliError(f"{what} {path}: cannot use as a folder ({_reason(exc)})") from None
    return path
