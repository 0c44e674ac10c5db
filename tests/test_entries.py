"""Typed manifest entries (`mot_cli.entries.StageEntry`) through `RunDir.write_entry` /
`read_entry`: the manifest's JSON is what the untyped dicts wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mot_cli.cache import RunDir
from mot_cli.entries import StageEntry

DICT = {"key": "k1", "complete": True, "config": {"a": 1}, "frames": [1, 30], "rows": 7,
        "seconds": 0.5, "upstream": {"detections": "d"}, "ids": 3, "mot_txt": "x.txt"}  # fmt: skip


def test_round_trip_keeps_the_json_and_types_the_shared_fields() -> None:
    entry = StageEntry.from_dict(DICT)
    assert entry.frames == (1, 30) and entry.rows == 7 and entry.complete is True
    assert entry.extra == {"ids": 3, "mot_txt": "x.txt"}
    assert entry.to_dict() == DICT and dict(entry) == DICT and entry["frames"] == [1, 30]
    assert StageEntry.from_dict({"key": "k"}).to_dict() == {"key": "k"}  # absent stays absent
    wider = entry.with_fields(rows=9, wall=[1.0, 2.0])
    assert (wider.rows, wider.extra["wall"], entry.rows) == (9, [1.0, 2.0], 7)
    with pytest.raises(ValueError, match="typed fields"):
        StageEntry(key="k", extra={"rows": 1})


def test_run_dir_writes_and_reads_entries(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "run")
    run_dir.init("run", {"fingerprint": "f"})
    run_dir.write_entry("tracks", StageEntry.from_dict(DICT))
    (tmp_path / "run" / "tracks.parquet").write_bytes(b"")
    stored = json.loads(run_dir.manifest_path.read_text())["stages"]["tracks"]
    assert stored == DICT
    assert run_dir.read_entry("tracks") == StageEntry.from_dict(DICT)
    assert run_dir.completed_key("tracks") == "k1" and run_dir.recorded_frames("tracks") == (1, 30)
    run_dir.write_entry("notes", StageEntry(key="n"), {"notes.txt": lambda p: p.write_text("hi")})
    assert (tmp_path / "run" / "notes.txt").read_text() == "hi"
    assert set(run_dir.read_entry("notes").extra["files"]) == {"notes.txt"}
    assert run_dir.read_entry("missing") is None


def test_eval_and_summary_read_typed_entries(tmp_path: Path) -> None:
    """`eval` finds a run's text through `read_entry` and refuses a manifest without its
    sequence name; the summary's stages are `StageEntry`s (seconds, frames typed)."""
    from mot_cli.errors import MotCliError
    from mot_cli.metrics.dataset import runs_in
    from mot_cli.outputs.summary import _stage_time, stage_windows

    run_dir = RunDir(tmp_path / "runs" / "walk")
    run_dir.init("walk", {"fingerprint": "f"})
    run_dir.write_entry("tracks", StageEntry.from_dict(DICT).with_fields(wall=[5.0, 7.5]))
    assert runs_in(tmp_path / "runs") == {"walk": run_dir.path}
    entries = run_dir.read_entries()
    assert list(entries) == ["tracks"] and isinstance(entries["tracks"], StageEntry)
    assert _stage_time("tracks", entries["tracks"]) == "tracks 0.50 s (60 frames/s)"
    assert stage_windows(entries) == {"tracks": (5.0, 7.5)}
    manifest = json.loads(run_dir.manifest_path.read_text())
    del manifest["name"]
    run_dir.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(MotCliError, match=r'manifest\.json: not a run manifest with a "name"'):
        runs_in(tmp_path / "runs")
