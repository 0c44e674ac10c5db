"""issue 21: `track --classes car,person` keeps each track's class in tracks.parquet, the MOT
text (column 8, MOTChallenge's class ids) and render's tags, and no id moves between classes.

YOLO is slow on two CPU cores, so the detections cache is made by importing a det.txt and then
given the classes a detector would have (its rows re-stamped with the same key, and the class
names recorded in the manifest as the detect stage records them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from mot_cli.cache import KEY_METADATA, write_parquet
from mot_cli.cli import app
from mot_cli.formats.mot import read_mot

runner = CliRunner()
PERSON, CAR = 0, 2
ARGS = ("--no-reid", "--no-cmc", "--set", "min_hits=1", "--set", "min_track_length=1")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _classed_run(tmp_path: Path, video: Path, det_txt: Path) -> Path:
    """A run of `video` whose square is a person in frames 1-10 and a car in frames 11-20."""
    runs = tmp_path / "runs"
    first = invoke("track", video, "--det-txt", det_txt, "--cache-dir", runs, *ARGS)
    assert first.exit_code == 0, first.output
    run = runs / "walk"
    path = run / "detections.parquet"
    table = pq.read_table(path)
    key = table.schema.metadata[KEY_METADATA].decode()
    frame = table.column("frame").to_numpy()
    cls = np.where(frame <= 10, PERSON, CAR).astype(np.int32)
    table = table.set_column(table.schema.get_field_index("cls"), "cls", pa.array(cls))
    write_parquet(path, table, stage="detections", key=key)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stages"]["detections"]["class_names"] = {"0": "person", "2": "car"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    again = invoke("track", video, "--det-txt", det_txt, "--cache-dir", runs, *ARGS)
    assert again.exit_code == 0, again.output
    return run


def test_tracks_keep_their_class_and_never_cross_one(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    run = _classed_run(tmp_path, small_video, small_det_txt)
    tracks = pq.read_table(run / "tracks.parquet")
    assert tracks.schema.field("class").type == pa.int32()
    frame, ids = tracks.column("frame").to_numpy(), tracks.column("id").to_numpy()
    cls = tracks.column("class").to_numpy()
    assert set(cls[frame <= 10].tolist()) == {PERSON} and set(cls[frame > 10].tolist()) == {CAR}
    assert not set(ids[cls == PERSON].tolist()) & set(ids[cls == CAR].tolist())
    entry = json.loads((run / "manifest.json").read_text())["stages"]["tracks"]
    assert entry["classes"] == {"0": "person", "2": "car"}

    text = read_mot(run / "walk.txt", kind="tracker", seq_length=20)
    by_frame = dict(zip(text.frame.tolist(), text.cls.tolist(), strict=True))
    assert {by_frame[f] for f in range(1, 11)} == {1}  # MOTChallenge's pedestrian
    assert {by_frame[f] for f in range(11, 21)} == {3}  # and car


def test_render_tags_a_car_by_its_class(
    tmp_path: Path, small_video: Path, small_det_txt: Path, monkeypatch
) -> None:
    from mot_cli.outputs import drawing

    run = _classed_run(tmp_path, small_video, small_det_txt)
    labels: list[str] = []
    original = drawing.draw_label

    def spy(image, text, *args, **kwargs):
        labels.append(text)
        return original(image, text, *args, **kwargs)

    monkeypatch.setattr(drawing, "draw_label", spy)
    result = invoke("render", run, "-o", tmp_path / "out.avi")
    assert result.exit_code == 0, result.output
    car_ids = {label.split()[0] for label in labels if label.endswith(" car")}
    assert len([label for label in labels if label.endswith(" car")]) == 10 and car_ids
    assert {label for label in labels if label.isdigit()}.isdisjoint(car_ids)  # persons: the id


def test_track_label() -> None:
    from mot_cli.outputs.drawing import track_label

    assert track_label(7) == "7" and track_label(7, "person") == "7"
    assert track_label(12, "car") == "12 car"


def test_a_people_only_run_still_scores_as_today(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    """Imported detections have no class: column 8 stays -1, tracks carry -1."""
    runs = tmp_path / "runs"
    result = invoke("track", small_video, "--det-txt", small_det_txt, "--cache-dir", runs, *ARGS)
    assert result.exit_code == 0, result.output
    assert set(pq.read_table(runs / "walk" / "tracks.parquet").column("class").to_pylist()) == {-1}
    assert set(read_mot(runs / "walk" / "walk.txt", kind="tracker", seq_length=20).cls) == {-1}


def test_tracks_from_before_classes_still_render_and_summarise(
    tmp_path: Path, small_video: Path, small_det_txt: Path
) -> None:
    runs = tmp_path / "runs"
    result = invoke("track", small_video, "--det-txt", small_det_txt, "--cache-dir", runs, *ARGS)
    assert result.exit_code == 0, result.output
    path = runs / "walk" / "tracks.parquet"
    table = pq.read_table(path)
    key = table.schema.metadata[KEY_METADATA].decode()
    write_parquet(path, table.drop_columns(["class"]), stage="tracks", key=key)
    summary = invoke("summary", runs / "walk")
    assert summary.exit_code == 0, summary.output
    render = invoke("render", runs / "walk", "-o", tmp_path / "old.avi")
    assert render.exit_code == 0, render.output
