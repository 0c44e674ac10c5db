"""Find what to evaluate: ground-truth sequences and the tracker result file for each.

Ground truth comes as
- a MOTChallenge split folder, `<BENCHMARK>-<split>/<seq>/{gt/gt.txt, seqinfo.ini}`, with its
  sequence list from `--seqmap`, else `seqmaps/<folder name>.txt` inside or beside the folder
  (TrackEval's layout), else every `<seq>/gt/gt.txt` below it;
- one sequence folder `<seq>/{gt/gt.txt, seqinfo.ini}`;
- a single `gt.txt` with its length from `--seq-length` or a `seqinfo.ini` one folder up.

Tracker results come as
- a tracker folder, `<tracker>/data/<seq>.txt` (or `<tracker>/<seq>.txt`): every sequence;
- a run folder written by `mot-cli track`: `manifest.json` (`"name"`: the sequence) and the
  text file its finished `tracks` entry records (`<name>.txt`, or `<name>.mots.txt` for MOTS;
  checked against the sha256 recorded there); the tracker is named after the folder;
- a folder of run folders (what `mot-cli batch` writes into its --cache-dir): one tracker,
  named after the folder, with each run's results as its sequence's; with a split folder as
  ground truth and no --seq or --seqmap, the sequences scored are those it has runs for;
- a single `<seq>.txt`, or any file when the ground truth has one sequence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mot_cli.errors import MotCliError
from mot_cli.formats.seqinfo import read_seqinfo

__all__ = [
    "GtSequence",
    "TrackerInput",
    "detect_benchmark",
    "find_ground_truth",
    "find_trackers",
    "is_mots_text",
    "runs_in",
]


@dataclass(frozen=True)
class GtSequence:
    """One ground-truth sequence: its name, `gt.txt` and number of frames."""

    name: str
    path: Path
    seq_length: int


@dataclass(frozen=True)
class TrackerInput:
    """One tracker to evaluate: a display name and its result file per sequence."""

    name: str
    files: dict[str, Path]


def find_ground_truth(
    path: Path,
    *,
    seqmap: Path | None = None,
    sequences: Sequence[str] = (),
    seq_length: int | None = None,
    runs: Sequence[str] = (),
) -> list[GtSequence]:
    """Resolve a ground-truth argument into sequences, in seqmap (or name) order.

    `runs`: the sequences folders of runs cover. A split folder, when neither `seqmap` nor
    `sequences` is given, is then scored on those of them it has rather than its seqmap's
    list (a batch of two videos is scored on those two, even outside the seqmap).
    """
    path = Path(path)
    if seq_length is not None and seq_length < 1:
        raise MotCliError(f"--seq-length must be at least 1, got {seq_length}")
    if path.is_file():
        found = [_single_file(path, seq_length)]
    elif (path / "gt" / "gt.txt").is_file():
        found = [_sequence_folder(path, seq_length)]
    elif path.is_dir():
        if seq_length is not None:
            raise MotCliError(
                f"{path}: --seq-length applies to a single sequence; this folder's sequences "
                f"take theirs from seqinfo.ini"
            )
        names = [n for n in runs if (path / n / "gt" / "gt.txt").is_file()]
        if not names or seqmap is not None or sequences:
            names = _sequence_names(path, seqmap)
        found = [_sequence_folder(path / name, None) for name in names]
    else:
        raise MotCliError(f"{path}: ground truth not found")

    if sequences:
        by_name = {s.name: s for s in found}
        unknown = [name for name in sequences if name not in by_name]
        if unknown:
            raise MotCliError(
                f"{path}: no sequence {unknown[0]!r} in the ground truth "
                f"(available: {', '.join(by_name)})"
            )
        found = [by_name[name] for name in dict.fromkeys(sequences)]
    return found


def _single_file(path: Path, seq_length: int | None) -> GtSequence:
    if path.parent.name == "gt":
        name, seqinfo = path.parent.parent.name, path.parent.parent / "seqinfo.ini"
    else:
        name = path.parent.name if path.stem == "gt" else path.stem
        seqinfo = path.parent / "seqinfo.ini"
    if seq_length is None:
        if not seqinfo.is_file():
            raise MotCliError(
                f"{path}: sequence length unknown: pass --seq-length N (no {seqinfo} found)"
            )
        seq_length = read_seqinfo(seqinfo).seq_length
    return GtSequence(name, path, seq_length)


def _sequence_folder(folder: Path, seq_length: int | None) -> GtSequence:
    gt_file = folder / "gt" / "gt.txt"
    if not gt_file.is_file():
        raise MotCliError(f"{gt_file}: ground-truth file for sequence {folder.name} not found")
    if seq_length is None:
        seq_length = read_seqinfo(folder / "seqinfo.ini").seq_length
    return GtSequence(folder.name, gt_file, seq_length)


def _sequence_names(folder: Path, seqmap: Path | None) -> list[str]:
    if seqmap is None:
        candidates = [
            folder / "seqmaps" / f"{folder.name}.txt",
            folder.parent / "seqmaps" / f"{folder.name}.txt",
        ]
        seqmap = next((c for c in candidates if c.is_file()), None)
    if seqmap is not None:
        return read_seqmap(seqmap)
    names = sorted(p.parent.parent.name for p in folder.glob("*/gt/gt.txt"))
    if not names:
        raise MotCliError(
            f"{folder}: no sequences found: expected <seq>/gt/gt.txt folders, a seqmap, "
            f"or a gt.txt file"
        )
    return names


def read_seqmap(path: Path) -> list[str]:
    """Sequence names from a seqmap: first column, optional `name` header, blank lines skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MotCliError(f"{path}: cannot read seqmap ({exc.strerror or exc})") from None
    names = [line.split(",")[0].strip() for line in lines]
    if names and names[0].lower() == "name":
        names = names[1:]
    names = [n for n in names if n]
    if not names:
        raise MotCliError(f"{path}: seqmap lists no sequences")
    return names


def find_trackers(
    paths: Sequence[Path], gt: Sequence[GtSequence], *, mots: bool = False
) -> list[TrackerInput]:
    """Resolve tracker arguments, giving each a unique display name.

    With `mots`, a run folder's results are its `<name>.mots.txt` rather than `<name>.txt`.
    """
    trackers = [_tracker(Path(p), gt, mots) for p in paths]
    names = [t.name for t in trackers]
    for i, (path, tracker) in enumerate(zip(paths, trackers, strict=True)):
        if names.count(tracker.name) > 1:
            parent = Path(path).resolve().parent.name
            names[i] = f"{parent}/{tracker.name}" if parent else tracker.name
    for i, name in enumerate(names):  # still equal (same path twice): number them
        if names.count(name) > 1:
            names[i] = f"{name}#{names[: i + 1].count(name)}"
    return [TrackerInput(n, t.files) for n, t in zip(names, trackers, strict=True)]


def runs_in(path: Path) -> dict[str, Path]:
    """A folder of run folders: each run's sequence name (its manifest's "name") and folder.

    Empty when `path` is not such a folder (a run folder itself, a tracker folder with
    `data/`, a file). Two runs of one sequence are refused: which to score is ambiguous.
    """
    path = Path(path)
    if not path.is_dir() or (path / "manifest.json").is_file() or (path / "data").is_dir():
        return {}
    runs: dict[str, Path] = {}
    for manifest in sorted(path.glob("*/manifest.json")):
        name = _sequence_name(manifest.parent)
        if name in runs:
            raise MotCliError(
                f"{path}: two runs of sequence {name} ({runs[name].name}, "
                f"{manifest.parent.name}); move one out to score the other"
            )
        runs[name] = manifest.parent
    return runs


def _sequence_name(run: Path) -> str:
    """A run folder's sequence name, as its manifest records it (`RunDir.load_manifest`:
    a corrupt manifest is an error)."""
    from mot_cli.cache import RunDir

    run_dir = RunDir(run)
    name = run_dir.load_manifest().get("name")
    if not isinstance(name, str) or not name:
        raise MotCliError(
            f"{run_dir.manifest_path}: not a run manifest with a \"name\" (the sequence name)"
        )
    return name


def _tracker(path: Path, gt: Sequence[GtSequence], mots: bool) -> TrackerInput:
    gt_names = [s.name for s in gt]
    if path.is_dir() and (path / "manifest.json").is_file():
        return _run_folder(path, gt_names, mots)
    runs = runs_in(path)
    if runs:
        return _runs_folder(path, runs, gt_names, mots)
    if path.is_dir():
        data = path / "data" if (path / "data").is_dir() else path
        files = {name: data / f"{name}.txt" for name in gt_names}
        for name, file in files.items():
            if not file.is_file():
                raise MotCliError(f"{file}: tracker results for sequence {name} not found")
        return TrackerInput(path.resolve().name, files)
    if path.is_file():
        if path.stem in gt_names:
            owner = path.parent.parent if path.parent.name == "data" else path.parent
            return TrackerInput(owner.resolve().name, {path.stem: path})
        if len(gt_names) == 1:
            return TrackerInput(path.stem, {gt_names[0]: path})
        raise MotCliError(
            f"{path}: cannot tell which sequence this file is for: name it <seq>.txt with one "
            f"of {', '.join(gt_names)}, or pick one sequence with --seq"
        )
    raise MotCliError(f"{path}: tracker results not found")


def _runs_folder(
    path: Path, runs: dict[str, Path], gt_names: list[str], mots: bool
) -> TrackerInput:
    """One tracker from a folder of runs: each ground-truth sequence that has a run gets its
    results; sequences without one are left out (`score_trackers` scores the others)."""
    files: dict[str, Path] = {}
    for name in gt_names:
        if name in runs:
            files.update(_run_folder(runs[name], [name], mots).files)
    if not files:
        raise MotCliError(
            f"{path}: no run folder for any sequence of the ground truth (runs: "
            f"{', '.join(runs)}; ground truth: {', '.join(gt_names)})"
        )
    return TrackerInput(path.resolve().name, files)


def _run_folder(path: Path, gt_names: list[str], mots: bool) -> TrackerInput:
    """A run folder's results (MOTS text with `mots`), as its manifest records them and
    nothing else.

    The manifest's `tracks` entry names the text file and its sha256; a file that differs
    (edited, or left by a track run killed mid-write) is refused rather than scored. While a
    commit is being finished the entry names the new file under its temporary name.
    """
    from mot_cli.cache import RunDir
    from mot_cli.schema import TRACKS_STAGE

    name = _sequence_name(path)
    if name not in gt_names:
        raise MotCliError(
            f"{path / 'manifest.json'}: sequence {name!r} is not in the ground truth "
            f"(available: {', '.join(gt_names)})"
        )
    entry = RunDir(path).read_entry(TRACKS_STAGE)
    if entry is None or not entry.complete:
        raise MotCliError(
            f"{path}: the run folder has no finished track results; run `mot-cli track` first"
        )
    text_name = entry.get("mots_txt") if mots else entry.get("mot_txt", f"{name}.txt")
    if not isinstance(text_name, str):
        raise MotCliError(
            f"{path / (name + '.mots.txt')}: tracker results for sequence {name} not found "
            "(written by `track` when the run has masks.parquet)"
        )
    # the manifest's shape is checked on reading: these are maps of names to names
    staged = entry.get("staged", {})
    digests = entry.get("files", {})
    candidates = [staged.get(text_name), text_name]
    for candidate in candidates:
        if not isinstance(candidate, str) or "/" in candidate or candidate in ("", ".", ".."):
            continue
        file = path / candidate
        try:
            content = file.read_bytes()
        except OSError:
            continue
        wanted = digests.get(text_name)
        if wanted is not None and hashlib.sha256(content).hexdigest() != wanted:
            raise MotCliError(
                f"{file}: differs from what the run's manifest records (edited, or a track run "
                "was interrupted); re-run `mot-cli track`"
            )
        return TrackerInput(path.resolve().name, {name: file})
    raise MotCliError(f"{path / text_name}: tracker results for sequence {name} not found")


_BENCHMARK_PATTERN = re.compile(r"MOT(15|16|17|20)|2DMOT2015", re.IGNORECASE)


def detect_benchmark(path: Path, gt: Sequence[GtSequence]) -> str:
    """MOTS when the ground truth is MOTS text; else the benchmark its folder or sequences name;
    MOT15 rules otherwise.

    MOT15's rules (score every row whose conf is not 0) suit any box ground truth; MOT16/17/20
    preprocessing needs their class column, so it is only chosen when a name says so.
    """
    if gt and is_mots_text(gt[0].path):
        return "MOTS"
    path = Path(path).resolve()
    for text in [path.name, *(p.name for p in path.parents[:3]), *(s.name for s in gt)]:
        match = _BENCHMARK_PATTERN.search(text)
        if match:
            return "MOT15" if match.group(1) in (None, "15") else f"MOT{match.group(1)}"
    return "MOT15"


def is_mots_text(path: Path) -> bool:
    """Whether a file's first row looks like MOTS text: six space-separated fields, the last
    not a number (an RLE string), where MOTChallenge box rows have 6-10 numbers."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                if fields:
                    return len(fields) == 6 and "," not in line and not _is_number(fields[5])
    except OSError:
        return False
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
