"""The one output guard: every file a user names for mot-cli to write is checked here first.

`-o` of every command, `track --render`, `summary --plot`, `eval --json/--csv/--plot` and
`train-encoder -o` (with its `.json` record) all call `check_outputs` before any work, so a
bad target costs nothing and nothing the user has is ever written over. A target is refused
when it is
- a folder;
- a file this command reads (also through a link or a hard link), or the source of a run
  folder it reads: that video, or an image or `seqinfo.ini` of that sequence folder;
- a run folder's manifest, lock or cache (`*.parquet`, `sd_encoder.pt`), or a file its
  manifest records (any folder holding a `manifest.json` is a run folder; `allow` lets
  `track -o` name its own text file);
- ground truth: a `seqinfo.ini`, or a `gt.txt` that exists or sits in a `gt/` folder;
- in a folder that cannot be written (checked with a probe file, now, not after the work).

Writing goes through `mot_cli.files` (`atomic_path`): a temporary beside the target, renamed
into place, with the user's umask; temporaries of the same target left by a killed writer are
removed. Only the standard library is imported (pyarrow's schema module only for a target
inside a run folder), so `eval` stays fast.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from mot_cli.errors import MotCliError
from mot_cli.files import TEMP_SUFFIX, remove_stale_temporaries, same_file

__all__ = ["check_output", "check_outputs", "check_suffix", "run_source"]

MANIFEST = "manifest.json"  # the name cache.MANIFEST gives it (cache imports pyarrow)
_RUN_FOLDER_FILES = {MANIFEST, ".lock"}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def check_outputs(
    outputs: Mapping[str, Path | None],
    *,
    reads: Iterable[Path | None] = (),
    runs: Iterable[Path] = (),
    allow: Iterable[Path] = (),
) -> None:
    """Check every named output (option -> path; None: not asked for) and that they differ.

    `reads`: files or folders this command reads. `runs`: run folders it reads (their source
    is protected too). `allow`: files a run folder holds that this command may rewrite.
    """
    reads, runs, allow = [p for p in reads if p is not None], list(runs), list(allow)
    seen: dict[str, Path] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        for other, earlier in seen.items():
            if same_file(path, earlier):
                raise MotCliError(f"{option} {path}: is also the {other} file; give each its own")
        check_output(path, option, reads=reads, runs=runs, allow=allow)
        seen[option] = Path(path)


def check_suffix(path: Path, option: str, suffixes: Iterable[str], what: str) -> None:
    """Refuse an extension that names another format than the one written (no extension is
    fine), so `-o out.json` never gets rows a JSON reader would choke on."""
    suffixes = tuple(suffixes)
    suffix = Path(path).suffix
    if suffix and suffix.lower() not in suffixes:
        raise MotCliError(
            f"{option} {path}: writes {what}, not {suffix}; name it "
            f"{Path(path).with_suffix(suffixes[0]).name} (or give no extension)"
        )


def check_output(
    path: Path,
    option: str,
    *,
    reads: Iterable[Path | None] = (),
    runs: Iterable[Path] = (),
    allow: Iterable[Path] = (),
) -> Path:
    """Refuse, before any work, a target that would destroy something (see the module notes)."""
    path = Path(path)
    where = f"{option} {path}"
    if path.is_dir():
        raise MotCliError(f"{where}: is a folder; give a file name")
    allowed = any(same_file(path, other) for other in allow)
    sources = [run_source(run) for run in runs]
    for source in [*(p for p in reads if p is not None), *(s for s in sources if s)]:
        problem = _reads(path, Path(source))
        if problem:
            raise MotCliError(f"{where}: {problem}; writing it would destroy it")
    if not allowed:
        problem = _protected(path)
        if problem:
            raise MotCliError(f"{where}: {problem}; write it elsewhere")
    _probe(path, where)
    return path


def run_source(run: Path) -> Path | None:
    """The source a run folder's manifest names (None when it names none or is unreadable)."""
    try:
        data = json.loads((Path(run) / MANIFEST).read_text(encoding="utf-8"))
        return Path(data["source"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _reads(path: Path, source: Path) -> str | None:
    """Why writing `path` would destroy the input `source` (a file, or a sequence folder)."""
    if same_file(path, source):
        return "is an input of this command"
    if source.is_dir() and _inside(path, source):
        if path.name == "seqinfo.ini" or path.suffix.lower() in _IMAGE_SUFFIXES:
            return f"is an input of this command (a file of the sequence folder {source})"
    return None


def _protected(path: Path) -> str | None:
    """Why `path` belongs to a run folder or to ground truth, whoever reads it."""
    name, parent = path.name, path.parent
    if name == "seqinfo.ini":
        return "is a sequence's seqinfo.ini (ground truth)"
    if name == "gt.txt" and (path.exists() or parent.name == "gt"):
        return "is ground truth"
    if name == MANIFEST:
        return "is the name of a run folder's manifest"
    if parent.name.endswith(".partial") and (parent.parent / MANIFEST).is_file():
        return f"is inside the cache chunks of the run folder {parent.parent}"
    if not (parent / MANIFEST).is_file():
        return None
    from mot_cli.schema import STAGE_FILES  # (pyarrow, only for a target in a run folder)

    if name in _RUN_FOLDER_FILES | set(STAGE_FILES.values()) or name.endswith(".parquet"):
        return f"is inside the run folder {parent}, where it would replace a cache"
    if name in _recorded_files(parent):
        return f"is inside the run folder {parent}, where it would replace a result it records"
    return None


def _recorded_files(run: Path) -> set[str]:
    """Every file name a run folder's manifest records for its stages."""
    try:
        stages = json.loads((run / MANIFEST).read_text(encoding="utf-8")).get("stages", {})
        names = {name for entry in stages.values() for name in (entry.get("files") or {})}
        names |= {entry[key] for entry in stages.values() for key in ("mot_txt", "mots_txt")
                  if isinstance(entry.get(key), str)}  # fmt: skip
    except (OSError, ValueError, AttributeError, TypeError):
        return set()
    return names


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def _probe(path: Path, where: str) -> None:
    """Create and remove a file beside `path`: a read-only or missing place fails now.

    Temporaries of this target that a killed writer left are removed on the way.
    """
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(parent, path.name)
        fd, probe = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=parent
        )
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise MotCliError(f"{where}: cannot write there ({reason})") from None
