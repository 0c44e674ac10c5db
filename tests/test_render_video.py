"""The rendered video as a player sees it: H.264 in MP4 (OpenCV's writer as the fallback),
every id tag visible (never under the corner panel), colours that tell ids apart, and id-switch
tags that last half a second."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from mot_cli.outputs import drawing
from mot_cli.outputs.run import load_run
from tests.test_outputs import FRAMES, HEIGHT, WIDTH, invoke, read_frames, walker_box

CORNER = (4, 6, 40, 90)  # x, y, w, h of a person standing where the corner panel is drawn


def corner_track(root: Path, *extra: object) -> Path:
    """`track` on the sample clip with a walker at the top-left and two elsewhere."""
    lines = [f"{f},-1,{CORNER[0] + f},{CORNER[1]},{CORNER[2]},{CORNER[3]},56,-1,-1,-1"
             for f in range(1, FRAMES + 1)]  # fmt: skip
    lines += [f"{f},-1,{','.join(map(str, walker_box(k, f)))},55,-1,-1,-1"
              for f in range(1, FRAMES + 1) for k in (0, 1)]  # fmt: skip
    det = root / "det.txt"
    det.write_text("\n".join(lines) + "\n")
    result = invoke("track", "sample_videos/vtest_first80.mp4", "--det-txt", det, "--no-reid",
                    "--no-cmc", "--cache-dir", root / "runs", "--set", "min_hits=1",
                    *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return root / "runs" / "vtest_first80"


@pytest.fixture(scope="module")
def corner_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corner_track(tmp_path_factory.mktemp("corner"))


def gt_of_run(run: Path, path: Path) -> Path:
    """Ground truth equal to the run's tracks: the panel shows all four lines."""
    tracks = load_run(run).tracks
    rows = [f"{f},{i},{x1:.0f},{y1:.0f},{x2 - x1:.0f},{y2 - y1:.0f},1,-1,-1,-1\n"
            for f, i, (x1, y1, x2, y2) in zip(tracks.frame, tracks.id, tracks.xyxy,
                                               strict=True)]  # fmt: skip
    path.write_text("".join(rows))
    return path


def test_render_writes_h264_mp4(corner_run: Path, tmp_path: Path) -> None:
    import av

    out = tmp_path / "clip.mp4"
    result = invoke("render", corner_run, "-o", out)
    assert result.exit_code == 0, result.output
    assert "h264" in result.stdout
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert "mp4" in container.format.name
        assert (stream.codec_context.width, stream.codec_context.height) == (WIDTH, HEIGHT)
        assert stream.codec_context.pix_fmt == "yuv420p"  # what browsers decode
        assert sum(1 for _ in container.decode(stream)) == FRAMES
    assert len(read_frames(out)) == FRAMES  # and OpenCV reads it back


def test_render_falls_back_to_opencv_without_pyav(
    corner_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mot_cli.outputs import video_writer

    def no_pyav(*_: object) -> None:
        raise ImportError("no module named av")

    monkeypatch.setattr(video_writer, "_PyAvWriter", no_pyav)
    out = tmp_path / "clip.mp4"
    result = invoke("render", corner_run, "-o", out, "--end", "10")
    assert result.exit_code == 0, result.output
    assert "mp4v" in result.stdout
    assert len(read_frames(out)) == 10


def tag_visible(frame: np.ndarray, box: np.ndarray, track_id: int) -> bool:
    """Whether a filled tag of the id's colour, the size of its label, lies anywhere on the
    box's left edge column, from the top of the image down to the box's bottom."""
    style = drawing.TextStyle(frame.shape[0])
    width, height, baseline = style.size(str(track_id))
    tag_w, tag_h = width + 2 * style.pad, height + baseline + 2 * style.pad
    x = int(np.clip(round(float(box[0])), 0, frame.shape[1] - tag_w))
    want = np.array(drawing.id_color(track_id), float)
    for y in range(0, min(frame.shape[0] - tag_h, round(float(box[3]))) + 1):
        patch = frame[y + 2 : y + tag_h - 2, x + 2 : x + tag_w - 2].reshape(-1, 3)
        if np.abs(np.median(patch, axis=0) - want).max() <= 40:
            return True
    return False


def test_no_id_tag_is_covered_by_the_corner_panel(corner_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "errors.mp4"
    gt = gt_of_run(corner_run, tmp_path / "gt.txt")
    result = invoke("render", corner_run, "-o", out, "--gt", gt, "--trail", "0")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    tracks = load_run(corner_run).tracks
    under_panel = 0
    for row in range(len(tracks.frame)):
        frame, track_id, box = frames[tracks.frame[row] - 1], int(tracks.id[row]), tracks.xyxy[row]
        under_panel += box[0] < 150 and box[1] < 60
        assert tag_visible(frame, box, track_id), (int(tracks.frame[row]), track_id)
    assert under_panel >= FRAMES // 2  # the case this test is about did occur


def test_neighbouring_ids_get_colours_told_apart() -> None:
    def lab(bgr: tuple[int, int, int]) -> np.ndarray:
        rgb = np.array(bgr[::-1], float) / 255
        rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
        xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1, 1.08883])
        f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    for first in range(1, 40):
        window = [lab(drawing.id_color(i)) for i in range(first, first + 12)]
        for a, b in itertools.combinations(window, 2):
            assert np.linalg.norm(a - b) > 25, first
    for marker in (drawing.MISS_COLOR, drawing.SWITCH_COLOR):
        distances = [np.linalg.norm(lab(marker) - lab(drawing.id_color(i))) for i in range(1, 13)]
        assert min(distances) > 40
    greens = [drawing.id_color_rgb(i) for i in (2, 7, 15)]  # three greens before
    assert len({max(range(3), key=lambda k, c=c: c[k]) for c in greens}) == 3


def test_id_switch_tag_lasts_half_a_second(tmp_path: Path) -> None:
    """The run's id 1 becomes another person's at frame 41 of the ground truth: one id switch,
    tagged from frame 41 for 0.5 s (5 frames at the clip's 10 fps), then gone."""
    from tests.test_outputs import track_sample

    run = track_sample(tmp_path)
    rows = []
    for f in range(1, FRAMES + 1):
        a, b, c = (walker_box(k, f) for k in range(3))
        rows += [(f, 1, a if f <= 40 else c), (f, 2, b)]
        rows.append((f, 3, c) if f <= 40 else (f, 4, a))
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{f},{i},{','.join(map(str, box))},1,-1,-1,-1\n"
                          for f, i, box in rows))  # fmt: skip
    out = tmp_path / "switch.mp4"
    assert invoke("render", run, "-o", out, "--gt", gt, "--trail", "0").exit_code == 0
    frames = read_frames(out)

    def yellow(index: int) -> int:
        blue, green, red = (frames[index][..., k].astype(int) for k in range(3))
        return int(np.sum((blue < 90) & (green > 200) & (red > 200)))

    # the clip itself has about 150 such pixels; a tag has thousands
    switched = [number for number in range(1, FRAMES + 1) if yellow(number - 1) > 1500]
    assert switched and switched[0] == 41, switched
    assert max(switched) - switched[0] + 1 == 5, switched  # 0.5 s at 10 fps
