"""Run folders: the manifest, stage keys, atomic Parquet writes and resumable stages.

A run folder (`runs/<name>/` by default) holds `manifest.json` and one Parquet file per stage.
A stage's key hashes its config, its model's sha256, the keys of the caches it reads and the
source's fingerprint; a cache whose key differs from the wanted one is recomputed, never reused.

Long stages write one small Parquet chunk per batch of frames into `<stage>.partial/`, each
chunk renamed into place only when complete, so a killed run loses at most one batch: a
half-written single Parquet file has no footer and could not be read back at all. When the
stage finishes, the chunks are joined (after checking they cover every frame) and committed.

The manifest is the truth about a run folder. A stage publishes its files with `commit`: each
file is written in full under a temporary name, the manifest entry (naming those temporaries)
is written, and only then are the files renamed into place. A kill before the manifest write
leaves the old result; a kill after it leaves a commit that the next run finishes (`recover`),
and readers of the manifest find the new files under their temporary names meanwhile. So a
run folder shows the old result or the new, never a mix.

One process at a time works in a run folder (`lock`); a second one waits, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mot_cli import __version__
from mot_cli.entries import StageEntry
from mot_cli.errors import MotCliError
from mot_cli.files import (
    atomic_path,
    file_sha256,
    new_temporary,
    prepare_folder,
    remove_stale_temporaries,
    write_text,
    writing,
)
from mot_cli.schema import SCHEMA_VERSION, STAGE_FILES

__all__ = [
    "ENV_LOCK_TIMEOUT",
    "MANIFEST",
    "PartialStage",
    "RunDir",
    "atomic_path",
    "read_table",
    "stage_key",
    "write_json",
    "write_parquet",
    "write_table",
]

MANIFEST = "manifest.json"
LOCK_FILE = ".lock"
KEY_METADATA = b"mot_cli.key"
STAGE_METADATA = b"mot_cli.stage"
ENV_LOCK_TIMEOUT = "MOT_CLI_LOCK_TIMEOUT"
ENV_STOP_AT = "MOT_CLI_TEST_STOP_AT"
ENV_KILL_AT = "MOT_CLI_TEST_KILL_AT"

FileWriter = Callable[[Path], None]


def stage_key(stage: str, **parts: Any) -> str:
    """A stable hash of everything a stage's output depends on."""
    payload = json.dumps(
        {"stage": stage, "schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def stop_here(point: str, run: str | None = None) -> None:
    """Test hook: stop this process (SIGSTOP) the first time it reaches `point`.

    Set `MOT_CLI_TEST_STOP_AT=<point>` and a test can kill -9 the process at an exact step
    instead of guessing with timers. Points: `chunk:<stage>` (a chunk was written),
    `commit:<stage>:written` (files written, manifest not yet), `commit:<stage>:recorded`
    (manifest written, no file renamed), `commit:<stage>:renamed` (first file renamed),
    `render:frame` (a frame of a render written).
    `MOT_CLI_TEST_KILL_AT=<point>[,<point>…]` kills the process (SIGKILL) there instead, every
    time: a batch worker that dies mid-run. Either may name one run folder, `<point>@<run>`.
    """
    names = {point} | ({f"{point}@{run}"} if run else set())
    if os.environ.get(ENV_STOP_AT) in names:
        del os.environ[ENV_STOP_AT]
        os.kill(os.getpid(), signal.SIGSTOP)
    if names & set(os.environ.get(ENV_KILL_AT, "").split(",")):
        os.kill(os.getpid(), signal.SIGKILL)


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_parquet(path: Path, table: pa.Table, *, stage: str, key: str) -> None:
    """Write a Parquet file in place, stamping it with its stage and key (see `write_table`)."""
    metadata = dict(table.schema.metadata or {})
    metadata[STAGE_METADATA] = stage.encode()
    metadata[KEY_METADATA] = key.encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


def write_table(path: Path, table: pa.Table, *, stage: str, key: str) -> None:
    """Write a Parquet file atomically, stamping it with its stage and key."""
    with atomic_path(path) as tmp, writing(path):
        write_parquet(tmp, table, stage=stage, key=key)


def read_table(path: Path, *, stage: str, key: str | None, schema: pa.Schema | None) -> pa.Table:
    """Read a cache file, refusing a truncated, foreign or mismatched one with a one-line error."""
    table = _readable(path, stage, pq.read_table)
    _check_stamp(path, table.schema, stage=stage, key=key, schema=schema)
    return table


def check_table(path: Path, *, stage: str, key: str | None) -> None:
    """Refuse a truncated or foreign cache file as `read_table` would, reading only its footer."""
    _check_stamp(path, _readable(path, stage, pq.read_schema), stage=stage, key=key, schema=None)


def _readable(path: Path, stage: str, read: Callable[[Path], Any]) -> Any:
    try:
        return read(path)
    except FileNotFoundError:
        raise MotCliError(f"{path}: cache file is missing; re-run the {stage} stage") from None
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MotCliError(
            f"{path}: cache file is truncated or not Parquet ({reason}); re-run with --force"
        ) from None


def _check_stamp(
    path: Path, found: pa.Schema, *, stage: str, key: str | None, schema: pa.Schema | None
) -> None:
    metadata = found.metadata or {}
    found_stage = metadata.get(STAGE_METADATA, b"").decode()
    found_key = metadata.get(KEY_METADATA, b"").decode()
    if found_stage != stage or (key is not None and found_key != key):
        raise MotCliError(
            f"{path}: cache was written by another run, version or config "
            f"(stage {found_stage or '?'}, key {found_key or '?'}); re-run with --force"
        )
    if schema is not None and not found.remove_metadata().equals(schema.remove_metadata()):
        missing = [name for name in schema.names if name not in found.names]
        wrong = [f"{field.name} is {found.field(field.name).type}, not {field.type}"
                 for field in schema if field.name in found.names
                 and not found.field(field.name).type.equals(field.type)]  # fmt: skip
        detail = "; ".join(([f"missing {', '.join(missing)}"] if missing else []) + wrong)
        raise MotCliError(
            f"{path}: cache columns do not match mot-cli's {stage} schema"
            + (f" ({detail})" if detail else "")
            + "; re-run with --force"
        )


def _lock_timeout() -> float:
    text = os.environ.get(ENV_LOCK_TIMEOUT, "").strip()
    if not text:
        return -1.0
    try:
        return float(text)
    except ValueError:
        raise MotCliError(
            f"${ENV_LOCK_TIMEOUT} must be seconds to wait (0 refuses at once), got {text!r}"
        ) from None


def _manifest_problem(data: Any) -> str | None:
    """What is wrong with the shape of a parsed manifest, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("name", ""), str):
        return '"name" is not a string'
    if not isinstance(data.get("source", {}), dict):
        return '"source" is not an object'
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        return '"stages" is not an object'
    for stage, entry in stages.items():
        if not isinstance(entry, dict):
            return f'stage "{stage}" is not an object'
        frames = entry.get("frames", [1, 1])
        if not (
            isinstance(frames, list)
            and len(frames) == 2
            and all(isinstance(f, int) and not isinstance(f, bool) for f in frames)
        ):
            return f'stage "{stage}" has no [first, last] "frames"'
        for field in ("staged", "files"):
            value = entry.get(field, {})
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                return f'stage "{stage}" has a malformed "{field}"'
        if not isinstance(entry.get("key", ""), str | None):
            return f'stage "{stage}" has a non-string "key"'
    return None


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


@dataclass
class RunDir:
    """One input's run folder and its manifest."""

    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def load_manifest(self) -> dict:
        """The manifest as a dict ({} when absent); a corrupt or misshapen one is an error."""
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise MotCliError(f"{self.manifest_path}: cannot read ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            problem: str | None = str(exc)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                problem = str(exc)
            else:
                problem = _manifest_problem(data)
        if problem is not None:
            raise MotCliError(
                f"{self.manifest_path}: corrupt manifest ({problem}); delete it, or re-run "
                "with --force to rebuild it"
            )
        return data

    def lock(self) -> Callable[[], None]:
        """Take this run folder for the calling process; returns the release function.

        Another process holding it makes this one wait, saying so, for up to
        `$MOT_CLI_LOCK_TIMEOUT` seconds (default: as long as it takes; 0 refuses at once).
        The same process may take it again (the lock counts).
        """
        from filelock import FileLock, Timeout

        from mot_cli.progress import console

        prepare_folder(self.path, "run folder")
        lock = FileLock(self.path / LOCK_FILE, is_singleton=True)
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                timeout = _lock_timeout()
                busy = f"{self.path}: another mot-cli process is working in this run folder"
                if timeout == 0:
                    raise MotCliError(
                        f"{busy}; wait for it to finish, or use another --name or --cache-dir"
                    ) from None
                console.print(f"{busy}; waiting for it to finish …", highlight=False)
                try:
                    lock.acquire(timeout=timeout)
                except Timeout:
                    raise MotCliError(
                        f"{busy}; gave up after {timeout:g} s (${ENV_LOCK_TIMEOUT})"
                    ) from None
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise MotCliError(f"{self.path}: cannot lock the run folder ({reason})") from None
        return lock.release

    def init(self, name: str, source: dict, *, replace: bool = False) -> dict:
        """Create or refresh the manifest for `source`.

        A folder holding results of another source (a different content fingerprint) is
        refused unless `replace`, which voids them; `replace` also rebuilds a corrupt manifest.
        """
        prepare_folder(self.path, "run folder")
        try:
            manifest = self.load_manifest()
        except MotCliError:
            if not replace:
                raise
            manifest = {}
        if manifest.get("schema_version") != SCHEMA_VERSION:
            manifest = {}
        old_source = manifest.get("source", {})
        if old_source.get("fingerprint") != source.get("fingerprint"):
            if manifest.get("stages") and not replace:
                old = old_source.get("path") or "an unknown source"
                same = old == source.get("path")
                raise MotCliError(
                    f"{self.path}: this run folder holds results for "
                    + (f"{old} as it was before its content changed" if same else old)
                    + "; pass --name to give this input its own run folder, or --force to "
                    "replace those results"
                )
            manifest["stages"] = {}
        manifest.update(
            name=name, source=source, schema_version=SCHEMA_VERSION, mot_cli_version=__version__
        )
        manifest.setdefault("stages", {})
        write_json(self.manifest_path, manifest)
        return manifest

    def file(self, stage: str) -> Path:
        """Where a stage's cache lives: `<stage>.parquet`, or its name in STAGE_FILES."""
        return self.path / STAGE_FILES.get(stage, f"{stage}.parquet")

    def check(self, stage: str, key: str) -> None:
        """Refuse a finished stage's file that is not the one its entry speaks of.

        A table is checked by its footer's stamp (`check_table`); another file (a checkpoint)
        by the sha256 its commit recorded.
        """
        path = self.file(stage)
        if path.suffix == ".parquet":
            check_table(path, stage=stage, key=key)
            return
        recorded = ((self.read_entry(stage) or {}).get("files") or {}).get(path.name)
        if recorded is not None and file_sha256(path) != recorded:
            raise MotCliError(
                f"{path}: changed since the {stage} stage wrote it; re-run with --force"
            )

    def read_entry(self, stage: str) -> StageEntry | None:
        """The manifest's entry for a stage, if any: the one way entries are read."""
        data = self.load_manifest().get("stages", {}).get(stage)
        return None if data is None else StageEntry.from_dict(data)

    def read_entries(self) -> dict[str, StageEntry]:
        """Every stage's manifest entry, in the manifest's order (`read_entry` for each)."""
        stages = self.load_manifest().get("stages", {})
        return {stage: StageEntry.from_dict(data) for stage, data in stages.items()}

    def write_entry(
        self,
        stage: str,
        entry: StageEntry | Mapping[str, Any],
        writers: dict[str, FileWriter] | None = None,
    ) -> None:
        """Write a stage's manifest entry: the one way entries are written.

        With `writers` the stage's files are published with it as one step (`_commit`);
        without, the entry alone replaces the one recorded (files already in place).
        """
        if not isinstance(entry, StageEntry):
            entry = StageEntry.from_dict(entry)
        if writers is not None:
            self._commit(stage, entry.to_dict(), writers)
            return
        manifest = self.load_manifest()
        manifest.setdefault("stages", {})[stage] = entry.to_dict()
        write_json(self.manifest_path, manifest)

    def entry(self, stage: str) -> StageEntry | None:
        """`read_entry` under its old name."""
        return self.read_entry(stage)

    def completed_key(self, stage: str) -> str | None:
        """The key of a finished stage whose file exists, else None."""
        entry = self.read_entry(stage)
        if entry is None or not entry.complete or not self.file(stage).exists():
            return None
        return entry.key

    def recorded_frames(self, stage: str) -> tuple[int, int] | None:
        """The frames a finished stage covered (fewer than asked when a video ended early)."""
        entry = self.read_entry(stage)
        if entry is None or not entry.complete or entry.frames is None:
            return None
        return entry.frames

    def covered(self, frames: tuple[int, int], stages: list[str]) -> tuple[int, int]:
        """Frames `first..last` cut to what every one of `stages` really covered.

        Fewer when a video ended early; a stage whose recorded range starts elsewhere (another
        frame range) does not cut it.
        """
        first, last = frames
        for stage in stages:
            recorded = self.recorded_frames(stage)
            if recorded is not None and recorded[0] == first:
                last = min(last, recorded[1])
        return first, last

    def read_completed(
        self, stage: str, schema: pa.Schema | None, key: str | None = None
    ) -> pa.Table | None:
        """A finished stage's table (checked against `key` when given), else None."""
        found = self.completed_key(stage)
        if found is None or (key is not None and found != key):
            return None
        return read_table(self.file(stage), stage=stage, key=found, schema=schema)

    def record(self, stage: str, entry: StageEntry | Mapping[str, Any]) -> None:
        """`write_entry` without files, under its old name."""
        self.write_entry(stage, entry)

    def commit(
        self, stage: str, entry: StageEntry | Mapping[str, Any], writers: dict[str, FileWriter]
    ) -> None:
        """`write_entry` with files, under its old name."""
        self.write_entry(stage, entry, writers)

    def _commit(self, stage: str, entry: dict, writers: dict[str, FileWriter]) -> None:
        """Publish a stage's files and its manifest entry as one step (see the module notes).

        `writers` maps each file name in the run folder to a function writing its content to
        the path it is given. The entry gains `files`: each file's sha256, so readers can tell
        the file the manifest speaks of from any other.
        """
        staged: dict[str, Path] = {}
        try:
            for name, write in writers.items():
                target = self.path / name
                staged[name] = new_temporary(target)
                with writing(target):
                    write(staged[name])
            digests = {name: file_sha256(tmp) for name, tmp in staged.items()}
            stop_here(f"commit:{stage}:written", self.path.name)
            manifest = self.load_manifest()
            manifest.setdefault("stages", {})[stage] = {
                **entry,
                "files": digests,
                "staged": {name: tmp.name for name, tmp in staged.items()},
            }
            write_json(self.manifest_path, manifest)  # the commit point
        except BaseException:
            for tmp in staged.values():
                tmp.unlink(missing_ok=True)
            raise
        stop_here(f"commit:{stage}:recorded", self.path.name)
        self._publish(stage)

    def _publish(self, stage: str) -> None:
        """Rename a committed stage's temporaries into place, then drop them from the entry."""
        manifest = self.load_manifest()
        entry = manifest["stages"][stage]
        for index, (name, tmp_name) in enumerate(entry.get("staged", {}).items()):
            target, tmp = self.path / name, self.path / tmp_name
            if not (_plain_name(name) and _plain_name(tmp_name)):
                raise MotCliError(f"{self.manifest_path}: stage {stage} names a file outside it")
            if tmp.exists():
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise MotCliError(f"{target}: cannot write ({exc.strerror})") from None
            elif not target.exists() or file_sha256(target) != entry["files"].get(name):
                entry["complete"] = False  # its content is lost: the stage must run again
            if index == 0:
                stop_here(f"commit:{stage}:renamed", self.path.name)
        entry.pop("staged", None)
        write_json(self.manifest_path, manifest)

    def recover(self) -> None:
        """Finish what a killed run left: a recorded commit, temporaries, joined partials."""
        try:
            manifest = self.load_manifest()
        except MotCliError:
            manifest = {}  # `init` reports it (or rebuilds it with --force)
        stages = manifest.get("stages", {})
        for stage, entry in stages.items():
            if entry.get("staged"):
                self._publish(stage)
        remove_stale_temporaries(self.path, untagged=True)
        for folder in self.path.glob("*.partial"):
            entry = stages.get(folder.name.removesuffix(".partial"), {})
            key_file = folder / "key"
            try:
                done = entry.get("complete") and key_file.read_text().strip() == entry.get("key")
            except OSError:
                done = False
            if done:  # killed after the commit, before the chunks were removed
                shutil.rmtree(folder, ignore_errors=True)
            else:
                remove_stale_temporaries(folder, untagged=True)

    def partial(self, stage: str, key: str, schema: pa.Schema) -> PartialStage:
        return PartialStage(self.path / f"{stage}.partial", stage, key, schema)


@dataclass
class PartialStage:
    """Chunks of a stage in progress; each chunk covers a contiguous range of frames."""

    folder: Path
    stage: str
    key: str
    schema: pa.Schema

    def _chunks(self) -> list[tuple[int, int, Path]]:
        chunks = []
        for chunk in self.folder.glob("frames-*.parquet"):
            try:
                _, first, last = chunk.stem.split("-")
                chunks.append((int(first), int(last), chunk))
            except ValueError:
                continue
        return sorted(chunks)

    def resume_frame(self, first: int, *, restart: bool = False) -> int:
        """The first frame still to do: after the last chunk contiguous from `first`.

        A folder left by another key (config changed between runs), or any folder when
        `restart`, is discarded. The chunks kept are read now, so a damaged one is reported
        before any work rather than after it; chunks past a gap are dropped.
        """
        key_file = self.folder / "key"
        if self.folder.exists() and (
            restart or not key_file.exists() or key_file.read_text().strip() != self.key
        ):
            shutil.rmtree(self.folder)
        prepare_folder(self.folder, "partial stage folder")
        if not key_file.exists():
            write_text(key_file, self.key)
        remove_stale_temporaries(self.folder, untagged=True)
        next_frame = first
        for chunk_first, chunk_last, path in self._chunks():
            if chunk_first != next_frame:
                path.unlink()
                continue
            read_table(path, stage=self.stage, key=self.key, schema=self.schema)
            next_frame = chunk_last + 1
        return next_frame

    def write_chunk(self, first: int, last: int, table: pa.Table) -> None:
        write_table(
            self.folder / f"frames-{first:07d}-{last:07d}.parquet",
            table.cast(self.schema),
            stage=self.stage,
            key=self.key,
        )
        stop_here(f"chunk:{self.stage}", self.folder.parent.name)

    def join(self, first: int, last: int) -> pa.Table:
        """The chunks of frames `first..last` as one table; a frame no chunk holds is an error."""
        tables, next_frame = [], first
        for chunk_first, chunk_last, path in self._chunks():
            if chunk_first != next_frame:
                break
            tables.append(read_table(path, stage=self.stage, key=self.key, schema=self.schema))
            next_frame = chunk_last + 1
        if next_frame <= last:
            covered = f"frames {first}-{next_frame - 1}" if next_frame > first else "no frames"
            raise MotCliError(
                f"{self.folder}: the {self.stage} chunks cover {covered}, not {first}-{last}; "
                "re-run to compute the rest (another process removed them?)"
            )
        table = pa.concat_tables(tables) if tables else self.schema.empty_table()
        return table.replace_schema_metadata(None)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
