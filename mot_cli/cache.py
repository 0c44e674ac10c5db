"""Run folders: the manifest, stage keys, atomic Parquet writes and resumable stages.

A run folder (`runs/<name>/` by default) holds `manifest.json` and one Parquet file per stage.
A stage's key hashes its config, its model's sha256, the keys of the caches it reads and the
source's fingerprint; a cache whose key differs from the wanted one is recomputed, never reused.

Long stages write one small Parquet chunk per batch of frames into `<stage>.partial/`, each
chunk renamed into place only when complete, so a killed run loses at most one batch: a
half-written single Parquet file has no footer and could not be read back at all. When the
stage finishes, the chunks are joined into `<stage>.parquet` (again via a temporary file and a
rename) and the manifest records the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mot_cli import __version__
from mot_cli.errors import MotCliError
from mot_cli.schema import SCHEMA_VERSION

MANIFEST = "manifest.json"
KEY_METADATA = b"mot_cli.key"
STAGE_METADATA = b"mot_cli.stage"


def stage_key(stage: str, **parts: Any) -> str:
    """A stable hash of everything a stage's output depends on."""
    payload = json.dumps(
        {"stage": stage, "schema": SCHEMA_VERSION, **parts}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` and rename it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_json(path: Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_table(path: Path, table: pa.Table, *, stage: str, key: str) -> None:
    """Write a Parquet file atomically, stamping it with its stage and key."""
    metadata = dict(table.schema.metadata or {})
    metadata[STAGE_METADATA] = stage.encode()
    metadata[KEY_METADATA] = key.encode()
    table = table.replace_schema_metadata(metadata)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: Path, *, stage: str, key: str | None, schema: pa.Schema | None) -> pa.Table:
    """Read a cache file, refusing a truncated, foreign or mismatched one with a one-line error."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise MotCliError(f"{path}: cache file is missing; re-run the {stage} stage") from None
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MotCliError(
            f"{path}: cache file is truncated or not Parquet ({reason}); re-run with --force"
        ) from None
    metadata = table.schema.metadata or {}
    found_stage = metadata.get(STAGE_METADATA, b"").decode()
    found_key = metadata.get(KEY_METADATA, b"").decode()
    if found_stage != stage or (key is not None and found_key != key):
        raise MotCliError(
            f"{path}: cache was written by another run, version or config "
            f"(stage {found_stage or '?'}, key {found_key or '?'}); re-run with --force"
        )
    if schema is not None:
        wanted = schema.remove_metadata()
        if not table.schema.remove_metadata().equals(wanted):
            raise MotCliError(f"{path}: cache columns do not match mot-cli's {stage} schema")
    return table


@dataclass
class RunDir:
    """One input's run folder and its manifest."""

    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def load_manifest(self) -> dict:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MotCliError(f"{self.manifest_path}: corrupt manifest ({exc})") from None
        if not isinstance(data, dict):
            raise MotCliError(f"{self.manifest_path}: corrupt manifest (not a JSON object)")
        return data

    def init(self, name: str, source: dict) -> dict:
        """Create or refresh the manifest; a different source voids every recorded stage."""
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self.load_manifest()
        if manifest.get("schema_version") != SCHEMA_VERSION:
            manifest = {}
        old_source = manifest.get("source", {})
        if old_source.get("fingerprint") != source.get("fingerprint"):
            manifest["stages"] = {}
        manifest.update(
            name=name, source=source, schema_version=SCHEMA_VERSION, mot_cli_version=__version__
        )
        manifest.setdefault("stages", {})
        write_json(self.manifest_path, manifest)
        return manifest

    def file(self, stage: str) -> Path:
        return self.path / f"{stage}.parquet"

    def completed_key(self, stage: str) -> str | None:
        """The key of a finished stage whose file exists, else None."""
        entry = self.load_manifest().get("stages", {}).get(stage)
        if not entry or not entry.get("complete") or not self.file(stage).exists():
            return None
        return entry.get("key")

    def read_completed(
        self, stage: str, schema: pa.Schema | None, key: str | None = None
    ) -> pa.Table | None:
        """A finished stage's table (checked against `key` when given), else None."""
        found = self.completed_key(stage)
        if found is None or (key is not None and found != key):
            return None
        return read_table(self.file(stage), stage=stage, key=found, schema=schema)

    def record(self, stage: str, entry: dict) -> None:
        manifest = self.load_manifest()
        manifest.setdefault("stages", {})[stage] = entry
        write_json(self.manifest_path, manifest)

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

    def resume_frame(self, first: int) -> int:
        """The first frame still to do: after the last chunk contiguous from `first`.

        A folder left by another key (config changed between runs) is discarded.
        """
        key_file = self.folder / "key"
        if self.folder.exists() and (
            not key_file.exists() or key_file.read_text().strip() != self.key
        ):
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file.write_text(self.key)
        next_frame = first
        for chunk_first, chunk_last, _ in self._chunks():
            if chunk_first != next_frame:
                break
            next_frame = chunk_last + 1
        return next_frame

    def write_chunk(self, first: int, last: int, table: pa.Table) -> None:
        write_table(
            self.folder / f"frames-{first:07d}-{last:07d}.parquet",
            table.cast(self.schema),
            stage=self.stage,
            key=self.key,
        )

    def finish(self, target: Path, first: int) -> pa.Table:
        """Join the contiguous chunks into the stage's file and remove the partial folder."""
        tables, next_frame = [], first
        for chunk_first, chunk_last, path in self._chunks():
            if chunk_first != next_frame:
                break
            tables.append(read_table(path, stage=self.stage, key=self.key, schema=self.schema))
            next_frame = chunk_last + 1
        table = pa.concat_tables(tables) if tables else self.schema.empty_table()
        table = table.replace_schema_metadata(None)
        write_table(target, table, stage=self.stage, key=self.key)
        shutil.rmtree(self.folder, ignore_errors=True)
        return table
