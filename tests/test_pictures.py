"""What the summary and eval pictures show: wall time counted once, the ground truth labelled
with tracker ids, false positives beside misses, labels apart, eval curves in percent."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from mot_cli.outputs.run import load_run
from mot_cli.outputs.summary import summarize, summary_lines, wall_seconds
from mot_cli.outputs.summary_plot import summary_figure
from tests.test_outputs import FRAMES, WALKERS, invoke, track_sample, walker_box


def test_wall_time_is_the_union_of_the_stage_windows() -> None:
    windows = {"a": (10.0, 20.0), "b": (12.0, 18.0), "c": (19.0, 25.0), "d": (30.0, 31.0)}
    assert wall_seconds(windows) == 16.0  # 10-25 and 30-31
    assert wall_seconds({}) is None


def test_summary_wall_time_is_within_5_percent_of_the_run(tmp_path: Path) -> None:
    """Camera motion and tracking on the sample clip (a decode pass, then the tracker), timed
    from opening the run to its last cache: the summary's total is that wall time, not the
    sum of stages that overlapped."""
    from mot_cli.pipeline import open_run, produce
    from mot_cli.recipes import TrackRequest, track_configs
    from tests.test_outputs import SAMPLE

    run = track_sample(tmp_path, "--cmc")  # first run: imports and caches warm
    options = TrackRequest(det_txt=tmp_path / "det.txt", reid=False, settings=["min_hits=1"])
    configs, optional = track_configs(options, SAMPLE)
    started = time.perf_counter()
    opened = open_run(SAMPLE, tmp_path / "runs", force=True)
    try:
        produce(opened, "tracks", configs, force=True, optional=optional)
    finally:
        opened.close()
    took = time.perf_counter() - started
    summary = summarize(load_run(run))
    assert summary.wall is not None
    assert abs(summary.wall - took) <= 0.05 * took, (summary.wall, took)
    assert set(summary.stages) >= {"detections", "camera_motion", "tracks"}
    assert any(line.startswith(f"wall time: {summary.wall:.2f} s") for line in
               summary_lines(summary))  # fmt: skip


def gt_for_sample(path: Path) -> Path:
    """The walkers as ground truth, plus one person nobody detected (misses)."""
    rows = [(f, k + 1, walker_box(k, f)) for f in range(1, FRAMES + 1) for k in range(len(WALKERS))]
    rows += [(f, 9, (20, 480, 40, 80)) for f in range(1, FRAMES + 1)]
    path.write_text("".join(f"{f},{i},{','.join(map(str, box))},1,-1,-1,-1\n"
                            for f, i, box in rows))  # fmt: skip
    return path


def test_summary_plot_labels_gt_with_ids_and_shows_false_positives(tmp_path: Path) -> None:
    from mot_cli.formats.mot import read_mot

    run = track_sample(tmp_path, "--cmc")
    gt = read_mot(gt_for_sample(tmp_path / "gt.txt"), kind="gt", seq_length=FRAMES)
    summary = summarize(load_run(run), gt)
    figure = summary_figure(summary)
    timelines, gt_panel, people, stages = figure.axes
    covering = summary.comparison.gt_track
    ids = {str(i) for i in np.unique(covering[covering >= 0])}
    assert len(ids) == len(WALKERS)
    written = {text.get_text() for text in gt_panel.texts}
    assert ids <= written  # each person's bar names the tracker id covering it
    legend = [text.get_text() for text in people.get_legend().get_texts()]
    assert any(label.startswith("false positives (FP, ") for label in legend), legend
    assert any("missed people (FN)" in label for label in legend)
    fp = summary.comparison.false_positive.sum()
    assert any(f"(FP, {fp})" in label for label in legend) and fp >= 15  # the walker-less box
    assert f"wall time {summary.wall:.2f} s" in stages.get_title()
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for ax in (stages, timelines, gt_panel):
        boxes = [label.get_window_extent(renderer) for label in ax.get_yticklabels()
                 if label.get_text()]  # fmt: skip
        assert len(boxes) >= 3
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), (ax.get_title(), a, b)  # labels never overlap
    written = [text.get_window_extent(renderer) for text in stages.texts]
    assert len(written) == len(summary.stages)
    for a, b in itertools.combinations(written, 2):
        assert not a.overlaps(b), (a, b)  # nor do the times written beside the bars


def test_eval_plot_is_in_percent(tmp_path: Path) -> None:
    from mot_cli.metrics import EvalConfig, evaluate
    from mot_cli.metrics.report import alpha_figure

    seq = tmp_path / "MOT15-train" / "Seq"
    (seq / "gt").mkdir(parents=True)
    rows = "".join(f"{f},{i},{40 * i},10,20,40,1,-1,-1,-1\n" for f in range(1, 6) for i in (1, 2))
    (seq / "gt" / "gt.txt").write_text(rows)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=Seq\nseqLength=5\n")
    tracker = tmp_path / "perfect" / "data"
    tracker.mkdir(parents=True)
    (tracker / "Seq.txt").write_text(rows)
    result = evaluate(EvalConfig(ground_truth=seq.parent, trackers=(tracker.parent,)))
    figure = alpha_figure(result)
    for ax in figure.axes:
        assert ax.get_ylim() == (0, 100)
        values = ax.get_lines()[0].get_ydata()
        assert np.allclose(values, 100)  # a perfect tracker scores 100 %, as in the legend
        assert ax.get_legend().get_texts()[0].get_text() == "perfect (100.0)"
    assert "%" in figure.axes[0].get_ylabel()
    result = invoke("eval", seq.parent, tracker.parent, "--plot", tmp_path / "alpha.png")
    assert result.exit_code == 0 and (tmp_path / "alpha.png").stat().st_size > 10_000
