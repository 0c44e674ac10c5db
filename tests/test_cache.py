"""Run folders: keys, atomic writes, refusing truncated or foreign caches, resumable chunks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mot_cli.cache import RunDir, read_table, stage_key, write_table
from mot_cli.errors import MotCliError
from mot_cli.schema import DETECTIONS


def rows(frames: list[int]) -> pa.Table:
    n = len(frames)
    return pa.table(
        {
            "frame": frames,
            "det": [0] * n,
            "x1": [1.0] * n,
            "y1": [2.0] * n,
            "x2": [3.0] * n,
            "y2": [4.0] * n,
            "score": [0.5] * n,
            "cls": [0] * n,
        }
    ).cast(DETECTIONS)


def test_stage_key_depends_on_every_part() -> None:
    base = stage_key("detections", config={"conf": 0.1}, source="abc")
    assert base == stage_key("detections", source="abc", config={"conf": 0.1})
    assert base != stage_key("detections", config={"conf": 0.2}, source="abc")
    assert base != stage_key("detections", config={"conf": 0.1}, source="abd")
    assert base != stage_key("embeddings", config={"conf": 0.1}, source="abc")


def test_round_trip_and_no_temporary_left(tmp_path: Path) -> None:
    path = tmp_path / "detections.parquet"
    write_table(path, rows([1, 2]), stage="detections", key="k1")
    table = read_table(path, stage="detections", key="k1", schema=DETECTIONS)
    assert table.column("frame").to_pylist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["detections.parquet"]


def test_truncated_cache_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "detections.parquet"
    write_table(path, rows([1, 2, 3]), stage="detections", key="k1")
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(MotCliError, match=r"detections.parquet: cache file is truncated") as info:
        read_table(path, stage="detections", key="k1", schema=DETECTIONS)
    assert "\n" not in str(info.value)


def test_foreign_cache_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "detections.parquet"
    write_table(path, rows([1]), stage="detections", key="other-config")
    with pytest.raises(MotCliError, match="another run, version or config"):
        read_table(path, stage="detections", key="k1", schema=DETECTIONS)
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1]}), path)  # a Parquet file mot-cli never wrote
    with pytest.raises(MotCliError, match="another run, version or config"):
        read_table(path, stage="detections", key=None, schema=DETECTIONS)


def test_manifest_refuses_another_source_unless_replaced(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.init("seq", {"fingerprint": "a", "path": "/videos/a.mp4"})
    write_table(run.file("detections"), rows([1]), stage="detections", key="k")
    run.record("detections", {"key": "k", "complete": True})
    assert run.completed_key("detections") == "k"
    run.init("seq", {"fingerprint": "a", "path": "/videos/a.mp4"})
    assert run.completed_key("detections") == "k"
    with pytest.raises(MotCliError, match=r"holds results for /videos/a\.mp4.*--name"):
        run.init("seq", {"fingerprint": "b"})
    assert run.completed_key("detections") == "k"
    run.init("seq", {"fingerprint": "b"}, replace=True)
    assert run.completed_key("detections") is None


def test_corrupt_manifest_is_a_one_line_error(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.manifest_path.write_text("{not json")
    with pytest.raises(MotCliError, match=r"manifest\.json: corrupt manifest.*--force"):
        run.load_manifest()
    run.manifest_path.write_text('{"stages": []}')  # valid JSON, wrong shape
    with pytest.raises(MotCliError, match=r"corrupt manifest \(\"stages\" is not an object\)"):
        run.load_manifest()
    run.init("seq", {"fingerprint": "a"}, replace=True)  # --force rebuilds it
    assert run.load_manifest()["stages"] == {}


def test_partial_chunks_resume_and_join(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    partial = run.partial("detections", "k1", DETECTIONS)
    assert partial.resume_frame(1) == 1
    partial.write_chunk(1, 4, rows([1, 2, 3, 4]))
    partial.write_chunk(5, 6, rows([5, 6]))
    partial.write_chunk(9, 9, rows([9]))  # not contiguous: dropped on resume
    assert partial.resume_frame(1) == 7
    assert not (partial.folder / "frames-0000009-0000009.parquet").exists()
    table = partial.join(1, 6)
    assert table.column("frame").to_pylist() == [1, 2, 3, 4, 5, 6]
    with pytest.raises(MotCliError, match=r"cover frames 1-6, not 1-8"):
        partial.join(1, 8)  # a join never records frames no chunk holds as done
    partial.remove()
    assert not partial.folder.exists()


def test_damaged_chunk_is_reported_before_any_work(tmp_path: Path) -> None:
    partial = RunDir(tmp_path).partial("detections", "k1", DETECTIONS)
    partial.resume_frame(1)
    partial.write_chunk(1, 4, rows([1, 2, 3, 4]))
    chunk = partial.folder / "frames-0000001-0000004.parquet"
    chunk.write_bytes(chunk.read_bytes()[:-30])
    with pytest.raises(MotCliError, match=r"frames-0000001-0000004\.parquet: cache file is trunc"):
        partial.resume_frame(1)
    assert partial.resume_frame(1, restart=True) == 1  # --force starts over


def test_partial_chunks_of_another_key_are_dropped(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    old = run.partial("detections", "old", DETECTIONS)
    old.resume_frame(1)
    old.write_chunk(1, 4, rows([1, 2, 3, 4]))
    assert run.partial("detections", "new", DETECTIONS).resume_frame(1) == 1
