"""TrackEval-exact tracking metrics: HOTA, CLEAR and Identity, per sequence and combined.

Pure numpy (plus scipy's assignment solver, loaded without the rest of scipy): importing this
package never loads torch, OpenCV or pyarrow, so `mot-cli eval` starts fast.

    from mot_cli.metrics import EvalConfig, evaluate, write_json
    result = evaluate(EvalConfig(Path("MOT17-train"), (Path("my_tracker"),)))
    write_json(result, Path("results.json"))
"""

from mot_cli.metrics.boxes import box_iou_xywh
from mot_cli.metrics.evaluate import (
    COMBINED,
    FIELDS,
    MOTS,
    RULES,
    EvalConfig,
    EvalResult,
    SequenceResult,
    TrackerResult,
    combine_results,
    evaluate,
    evaluate_sequence,
    score_sequence,
    score_trackers,
)
from mot_cli.metrics.hota import ALPHAS
from mot_cli.metrics.mots import prepare_mots_sequence
from mot_cli.metrics.report import results_json, write_csv, write_json, write_plot
from mot_cli.metrics.sequence import BENCHMARKS, Benchmark, SequenceData, prepare_sequence

__all__ = [
    "ALPHAS",
    "BENCHMARKS",
    "COMBINED",
    "FIELDS",
    "MOTS",
    "RULES",
    "Benchmark",
    "EvalConfig",
    "EvalResult",
    "SequenceData",
    "SequenceResult",
    "TrackerResult",
    "box_iou_xywh",
    "combine_results",
    "evaluate",
    "evaluate_sequence",
    "prepare_mots_sequence",
    "prepare_sequence",
    "results_json",
    "score_sequence",
    "score_trackers",
    "write_csv",
    "write_json",
    "write_plot",
]
