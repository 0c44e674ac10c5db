"""What a batch works on: its inputs expanded into videos, each with a run folder of its own.

An input is a video file, a folder (a MOTChallenge sequence folder, a split folder of sequence
folders, or a folder of videos), a glob, or a text list of inputs (one a line, `#` comments,
paths relative to the list). Anything that names nothing is a one-line error before any work.

Run folder names: a video's file name without extension, a sequence's name. Where two inputs
share a name, or CACHE_DIR/<name> already holds another source's results, the name gets the
first 8 hex digits of the sha256 of the input's absolute path (`clip-3f2a9c1e`): the same
input always gets the same folder, so a re-run finds its caches, and an input whose folder it
is keeps the plain name.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mot_cli.errors import MotCliError
from mot_cli.urls import source_url

__all__ = ["LIST_EXTENSIONS", "VIDEO_EXTENSIONS", "BatchInput", "BatchInputs", "Split",
           "expand_inputs"]  # fmt: skip

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv",
                    ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv")  # fmt: skip
"""Files a folder or a glob contributes; a file named on the command line is tried whatever
its extension."""
LIST_EXTENSIONS = (".txt", ".list", ".lst")
_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Split:
    """A MOTChallenge split folder given as an input (`MOT17-train/`): its sequences, and
    whether they have ground truth to be evaluated together once they are tracked."""

    path: Path
    sequences: tuple[str, ...]
    has_gt: bool


@dataclass(frozen=True)
class BatchInput:
    """One video or sequence: its path as found, its run folder name, its split if any."""

    source: Path
    name: str
    split: Split | None = None

    @property
    def sequence(self) -> str:
        """Its sequence name in its split (the folder name, as the ground truth names it)."""
        return self.source.name


@dataclass(frozen=True)
class BatchInputs:
    """The videos of a batch, in the order given, and the splits they came from."""

    items: tuple[BatchInput, ...]
    splits: tuple[Split, ...]


def expand_inputs(inputs: Iterable[str | Path], cache_dir: Path) -> BatchInputs:
    """Every video the inputs name, once each (first mention first), with unique run names."""
    found: dict[Path, tuple[Path, Split | None]] = {}
    for text in inputs:
        for path, split in _expand(str(text), lists=()):
            key = path.resolve()
            if key not in found or (found[key][1] is None and split is not None):
                found[key] = (found.get(key, (path, None))[0], split)
    if not found:
        raise MotCliError(
            "the inputs name no video: give video files, folders of videos or sequences, "
            "globs or a list file"
        )
    sources = [path for path, _ in found.values()]
    names = _run_names(sources, Path(cache_dir))
    items = tuple(
        BatchInput(path, name, split)
        for (path, split), name in zip(found.values(), names, strict=True)
    )
    splits = tuple(dict.fromkeys(item.split for item in items if item.split is not None))
    return BatchInputs(items, splits)


def _expand(
    text: str, lists: tuple[Path, ...], where: str = ""
) -> Iterator[tuple[Path, Split | None]]:
    """The videos one input names. `lists`: the list files being read (a list may not include
    itself); `where`: `list.txt:3: ` for an input read from a list."""
    if source_url(text) is not None:
        raise MotCliError(
            f"{where}{text}: batch takes video files, folders, globs and lists; track a URL "
            "on its own with `mot-cli track URL`"
        )
    path = Path(text)
    if _GLOB_CHARACTERS & set(text) and not path.exists():
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise MotCliError(f"{where}{text}: the pattern matches no file or folder")
        videos = [
            item
            for match in matches
            if _wanted(Path(match))
            for item in _expand(match, lists, where)
        ]
        if not videos:
            raise MotCliError(
                f"{where}{text}: the pattern matches no video, sequence folder or list "
                f"({len(matches)} other files)"
            )
        yield from videos
    elif path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
        yield from _read_list(path, lists)
    elif path.is_file():
        yield path, None
    elif path.is_dir():
        yield from _folder(path, where)
    else:
        raise MotCliError(f"{where}{text}: no such file or folder")


def _wanted(path: Path) -> bool:
    """Whether a glob match is an input: a video, a list or a folder (other files are skipped)."""
    return path.is_dir() or path.suffix.lower() in (*VIDEO_EXTENSIONS, *LIST_EXTENSIONS)


def _read_list(path: Path, lists: tuple[Path, ...]) -> Iterator[tuple[Path, Split | None]]:
    resolved = path.resolve()
    if resolved in lists:
        raise MotCliError(f"{path}: the list includes itself")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MotCliError(f"{path}: cannot read the list ({reason})") from None
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        entry_path = Path(entry).expanduser()
        if not entry_path.is_absolute():
            entry_path = path.parent / entry_path
        yield from _expand(str(entry_path), (*lists, resolved), f"{path}:{number}: ")


def _is_sequence(folder: Path) -> bool:
    return (folder / "seqinfo.ini").is_file() or (folder / "img1").is_dir()


def _folder(folder: Path, where: str) -> Iterator[tuple[Path, Split | None]]:
    """A sequence folder is one input; a split folder, its sequences (its seqmap's, when it has
    one, as `eval` reads it); any other folder, the sequence folders and videos in it."""
    if _is_sequence(folder):
        yield folder, None
        return
    seqmap = _seqmap(folder)
    if seqmap is not None:
        from mot_cli.metrics.dataset import read_seqmap

        sequences = [folder / name for name in read_seqmap(seqmap)]
        for sequence in sequences:
            if not sequence.is_dir():
                raise MotCliError(f"{seqmap}: lists {sequence.name}, which {folder} lacks")
    else:
        sequences = sorted(p for p in folder.iterdir() if p.is_dir() and _is_sequence(p))
    videos = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
    )
    if not sequences and not videos:
        raise MotCliError(
            f"{where}{folder}: no videos ({', '.join(VIDEO_EXTENSIONS[:4])}, …) or sequence "
            "folders (seqinfo.ini or img1/) in this folder"
        )
    split = None
    if sequences:
        has_gt = any((s / "gt" / "gt.txt").is_file() for s in sequences)
        split = Split(folder, tuple(s.name for s in sequences), has_gt)
    for sequence in sequences:
        yield sequence, split
    for video in videos:
        yield video, None


def _seqmap(folder: Path) -> Path | None:
    """`seqmaps/<folder name>.txt` inside or beside the folder (TrackEval's layout)."""
    for candidate in (folder / "seqmaps", folder.parent / "seqmaps"):
        path = candidate / f"{folder.name}.txt"
        if path.is_file():
            return path
    return None


def _base_name(source: Path) -> str:
    """The name `track` would give the run: a video's stem, a sequence's seqinfo name."""
    if source.is_dir() and (source / "seqinfo.ini").is_file():
        from mot_cli.formats.seqinfo import read_seqinfo

        try:
            return read_seqinfo(source / "seqinfo.ini").name
        except MotCliError:
            return source.name  # the video's own failure says what is wrong
    return source.stem if source.is_file() else source.name


def _owner(run_folder: Path) -> str | None:
    """The source path a run folder's manifest records, if it has a readable one."""
    try:
        data = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
        path = data["source"]["path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if isinstance(path, str) else None


def _run_names(sources: list[Path], cache_dir: Path) -> list[str]:
    """Unique run folder names (see the module notes)."""
    bases = [_base_name(source) for source in sources]
    counts = Counter(bases)
    names = []
    for source, base in zip(sources, bases, strict=True):
        owner = _owner(cache_dir / base)
        resolved = str(source.resolve())
        if owner == resolved or (counts[base] == 1 and owner is None):
            names.append(base)
        else:
            digest = hashlib.sha256(resolved.encode()).hexdigest()[:8]
            names.append(f"{base}-{digest}")
    return names
