"""Does the depth×mask cue `S_sd` help? Leave-one-sequence-out ablation on the dev set.

Inputs are the caches of the five dev sequences (bench/_common.py) with YOLO11n INT8
detections, OSNet embeddings and camera motion in ``<runs>/yolo/<seq>/`` (as
bench/association.py fills them), YOLO11n-seg masks beside them, and two depth backends:
mobilePydnet maps in ``<runs>/yolo/<seq>/`` and pseudo-depth maps in
``<runs>/yolo-pseudo/<seq>/`` (a run folder of its own, because a run folder holds one depth
cache; its detections and masks are the same YOLO runs again, which the bench checks).
``--fill`` makes the missing ones with `mot-cli segment` and `mot-cli depth`.

Rows, per depth backend (every one replayed with `mot_cli.stages.track.replay` and scored
with `mot_cli.metrics` under each sequence's own rules, as bench/tune_tracker.py does):

- no S_sd: the tracker's defaults;
- S_sd with a random-init encoder, with the self-supervised encoder (trained without labels
  on all five videos: a user's own video is always there), and with an encoder trained on
  the ground-truth identities of the other four sequences (the reference's recipe, an upper
  bound; detections take the id of the ground-truth box they overlap by IoU >= 0.5);
- each of those without appearance: no OSNet embeddings at all (so neither the `w_emb` cue
  nor the appearance re-identification round), where depth×mask carries identity alone;
- mask IoM (`w_iom`) and mask-based occlusion (`mask_occlusion`), with appearance.

Leave-one-sequence-out: for each sequence, `w_sd` (or `w_iom`, or the mask occlusion
threshold) is the grid value with the best mean HOTA over the *other four* sequences, using
that fold's encoder; the row's figures combine the five left-out results (TrackEval's
combination: counts summed). A diagnostic table says how well each embedding tells people
apart on its own: for detections matched to a ground-truth person who is also detected in
the next frame, how often the most similar detection of the next frame is that person.

    python bench/ablation.py [--runs bench/.runs] [--depth pydnet pseudo] [--fill]
    python bench/ablation.py --sizes 32x16x16 32x16x32 64x32x32 64x32x64 --depth pydnet

``--sizes HxWxD ...`` instead compares encoder input (H x W) and embedding (D) sizes with the
self-supervised encoder. Checkpoints and results go to ``<runs>/ablation/``; a checkpoint
whose training key still matches is reused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import DEV, DEV_SEQUENCES, mot_cli  # noqa: E402
from bench.tune_tracker import SequenceInputs, load_source  # noqa: E402
from mot_cli.cache import RunDir  # noqa: E402
from mot_cli.formats.mot import MotRows  # noqa: E402
from mot_cli.metrics.evaluate import SequenceResult, combine_results  # noqa: E402
from mot_cli.tracking import TrackerConfig  # noqa: E402

RUNS = ROOT / "bench" / ".runs"
DEPTH_FOLDERS = {"pydnet": "yolo", "pseudo": "yolo-pseudo"}
W_SD = (0.25, 0.5, 1.0, 2.0)
W_IOM = (0.25, 0.5, 1.0)
MASK_OCCLUSION = (0.15, 0.3, 0.45)
FIELDS = ("HOTA", "AssA", "IDF1", "IDSW")


# -- inputs ----------------------------------------------------------------------------------


@dataclass
class SdSequence:
    """One sequence's depth×mask material for one depth backend and one crop size."""

    name: str
    frames: list[int]  # frames with a depth map, in order
    counts: list[int]  # detections in each
    crops: object  # (M, 1, H, W) float16 torch tensor: normalised encoder inputs
    windows: object  # TrainingSet: context windows, links and ground-truth identities
    identity: np.ndarray  # (M,) ground-truth id per detection, -1 when unmatched
    boxes: np.ndarray  # (M, 4)


def ground_truth_boxes(seq: SequenceInputs) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per frame, (xyxy, id) of the ground truth's pedestrians that count (conf > 0)."""
    gt: MotRows = seq.gt
    keep = (gt.conf > 0) & np.isin(gt.cls, (-1, 1))
    xyxy = gt.xywh.copy()
    xyxy[:, 2:] += xyxy[:, :2]
    out = {}
    for number in np.unique(gt.frame[keep]):
        rows = keep & (gt.frame == number)
        out[int(number)] = (xyxy[rows], gt.id[rows].astype(np.int64))
    return out


def load_sd(
    runs: Path, depth: str, seq: SequenceInputs, size: tuple[int, int]
) -> SdSequence:
    """Crops and training windows of every detection of a sequence, cut once."""
    import torch

    from mot_cli.encoder import build_crops, build_training_set, read_run
    from mot_cli.encoder.labels import with_identities

    frames = list(with_identities(read_run(runs / DEPTH_FOLDERS[depth] / seq.name),
                                  ground_truth_boxes(seq)))
    for arrays in frames:
        ours = seq.detections.get(arrays.frame)
        theirs = arrays.boxes
        if (0 if ours is None else len(ours)) != len(theirs) or (
            len(theirs) and not np.allclose(ours.xyxy, theirs)
        ):
            raise SystemExit(
                f"{runs / DEPTH_FOLDERS[depth] / seq.name}: frame {arrays.frame} has other "
                "detections than the yolo run folder; re-run --fill with --force"
            )
    crops = [
        build_crops(a.depth_map, a.scale, a.boxes, a.masks, size).half()
        for a in frames
        if len(a.boxes)
    ]
    return SdSequence(
        seq.name,
        [a.frame for a in frames],
        [len(a.boxes) for a in frames],
        torch.cat(crops),
        build_training_set([frames], size),
        np.concatenate([a.identity for a in frames]),
        np.concatenate([a.boxes for a in frames]),
    )


def with_sd(seq: SequenceInputs, sd: SdSequence, values: np.ndarray) -> SequenceInputs:
    """The sequence's tracker inputs with (M, D) sd embeddings attached, frame by frame."""
    detections = dict(seq.detections)
    start = 0
    for number, count in zip(sd.frames, sd.counts, strict=True):
        if count:
            detections[number] = detections[number].replace(
                sd_embedding=values[start : start + count]
            )
        start += count
    return dataclasses.replace(seq, detections=detections)


def with_masks(seq: SequenceInputs, runs: Path) -> SequenceInputs:
    """The sequence's tracker inputs with their YOLO11n-seg masks on the default grid."""
    from mot_cli.stages.track import attach_masks

    detections = attach_masks(RunDir(runs / "yolo" / seq.name), seq.detections)
    return dataclasses.replace(seq, detections=detections)


# -- encoders --------------------------------------------------------------------------------


def embed_all(encoder, crops) -> np.ndarray:
    """(M, D) float32 embeddings of prepared crops."""
    import torch

    encoder.eval()
    parts = []
    with torch.inference_mode():
        for start in range(0, len(crops), 2048):
            parts.append(encoder(crops[start : start + 2048].float()).numpy())
    return np.concatenate(parts).astype(np.float32)


def trained(
    work: Path, label: str, sets: list, config, upstream: list, log: dict
):
    """Train (or reuse a checkpoint whose key matches) and return the encoder."""
    from mot_cli.encoder import read_checkpoint, save_checkpoint, train_encoder
    from mot_cli.encoder.data import concat_training_sets
    from mot_cli.encoder.train import training_key

    key = training_key(config, upstream)
    path = work / f"{label}.pt"
    record = path.with_suffix(".json")
    if path.exists() and record.exists() and json.loads(record.read_text())["key"] == key:
        log[label] = json.loads(record.read_text())
        return read_checkpoint(path)
    data = concat_training_sets(sets)
    if config.positives == "links":
        data = dataclasses.replace(data, identity=None)
    print(f"  training {label} on {len(data)} detections …", file=sys.stderr, flush=True)
    result = train_encoder(data, config, show_progress=False)
    save_checkpoint(path, result.encoder, {"key": key})
    log[label] = {
        "key": key,
        "detections": len(data),
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "epoch_losses": [round(x, 4) for x in result.epoch_losses],
    }
    record.write_text(json.dumps(log[label], indent=1))
    return result.encoder


# -- leave-one-sequence-out --------------------------------------------------------------------


class Scorer:
    """Memoised `replay` + metrics of (inputs variant, config) on one sequence."""

    def __init__(self) -> None:
        self._memo: dict[tuple, SequenceResult] = {}
        self.replays = 0

    def __call__(self, variant: str, seq: SequenceInputs, config: TrackerConfig):
        key = (variant, seq.name, tuple(sorted(config.to_dict().items())))
        if key not in self._memo:
            self._memo[key] = seq.score(seq.track(config))
            self.replays += 1
        return self._memo[key]


Inputs = Callable[[str], tuple[str, list[SequenceInputs]]]
"""fold (left-out sequence) → (variant label, the five sequences' inputs for that fold)."""


def left_out(
    scorer: Scorer, inputs: Inputs, base: TrackerConfig, grid: Sequence[dict]
) -> tuple[SequenceResult, dict[str, SequenceResult], dict[str, dict]]:
    """Combined and per-sequence left-out results, and each fold's pick from `grid`."""
    results, picks = {}, {}
    for name in DEV_SEQUENCES:
        variant, sequences = inputs(name)
        others = [s for s in sequences if s.name != name]
        held = next(s for s in sequences if s.name == name)
        if len(grid) == 1:
            best = grid[0]
        else:
            means = [
                np.mean([_hota(scorer(variant, s, base.replace(**point))) for s in others])
                for point in grid
            ]
            best = grid[int(np.argmax(means))]
        picks[name] = best
        results[name] = scorer(variant, held, base.replace(**best))
    return combine_results(list(results.values())), results, picks


def _hota(result: SequenceResult) -> float:
    return 100 * float(result.summary()["HOTA"])


def figures(result: SequenceResult) -> dict[str, float]:
    s = result.summary()
    return {f: (float(s[f]) if f == "IDSW" else 100 * float(s[f])) for f in FIELDS}


# -- diagnostics -------------------------------------------------------------------------------


def next_frame_identification(sd: SdSequence, values: np.ndarray) -> tuple[float, int]:
    """How often a person's most similar detection in the next frame is that person.

    Over detections matched to a ground-truth id that is also matched in the next frame,
    among that frame's detections (chance: one over their number). Returns (rate, count).
    """
    hits = total = 0
    starts = np.cumsum([0, *sd.counts])
    for index in range(len(sd.frames) - 1):
        if sd.frames[index + 1] != sd.frames[index] + 1:
            continue
        a = slice(starts[index], starts[index + 1])
        b = slice(starts[index + 1], starts[index + 2])
        ids_a, ids_b = sd.identity[a], sd.identity[b]
        if len(ids_b) < 2:
            continue
        sim = values[a] @ values[b].T
        for row, person in enumerate(ids_a):
            if person < 0 or person not in ids_b:
                continue
            total += 1
            hits += ids_b[int(np.argmax(sim[row]))] == person
    return (hits / total if total else float("nan")), total


def appearance_values(seq: SequenceInputs, sd: SdSequence) -> np.ndarray:
    """OSNet embeddings in the sd row order (for the same diagnostic)."""
    rows = [seq.detections[f].embedding for f, n in zip(sd.frames, sd.counts, strict=True) if n]
    return np.concatenate(rows)


def iou_identification(sd: SdSequence) -> tuple[float, int]:
    """The same diagnostic with box IoU as the similarity."""
    from mot_cli.tracking.cues import iou_matrix

    hits = total = 0
    starts = np.cumsum([0, *sd.counts])
    for index in range(len(sd.frames) - 1):
        if sd.frames[index + 1] != sd.frames[index] + 1:
            continue
        a = slice(starts[index], starts[index + 1])
        b = slice(starts[index + 1], starts[index + 2])
        ids_a, ids_b = sd.identity[a], sd.identity[b]
        if len(ids_b) < 2:
            continue
        sim = iou_matrix(sd.boxes[a], sd.boxes[b])
        for row, person in enumerate(ids_a):
            if person < 0 or person not in ids_b:
                continue
            total += 1
            hits += ids_b[int(np.argmax(sim[row]))] == person
    return (hits / total if total else float("nan")), total


def input_quality(runs: Path, depths: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per sequence: masks left empty by the segmenter (%), the share of its box a mask
    fills (%), and per depth backend the in-mask relief, (q3 - q1) / median nearness (%)."""
    from mot_cli.stages.depth import read_depth
    from mot_cli.stages.segment import STAGE as MASKS_STAGE

    out: dict[str, dict[str, float]] = {}
    for name in DEV_SEQUENCES:
        run = RunDir(runs / "yolo" / name)
        masks = run.read_completed(MASKS_STAGE, None)
        area = masks.column("area").to_numpy().astype(float)
        dets = run.read_completed("detections", None)
        box = ((dets.column("x2").to_numpy() - dets.column("x1").to_numpy())
               * (dets.column("y2").to_numpy() - dets.column("y1").to_numpy()))
        row = {"empty masks": 100 * float(np.mean(area == 0)),
               "mask fills box": 100 * float(np.mean(area[area > 0] / box[area > 0]))}
        for depth in depths:
            stats = read_depth(RunDir(runs / DEPTH_FOLDERS[depth] / name))
            q1, q3, med = (stats.column(c).to_numpy() for c in
                           ("mask_q1", "mask_q3", "mask_median"))
            ok = np.isfinite(q1) & np.isfinite(q3) & (np.abs(med) > 0)
            row[f"{depth} relief"] = 100 * float(np.median((q3 - q1)[ok] / np.abs(med[ok])))
        out[name] = row
    return out


def print_quality(quality: dict[str, dict[str, float]]) -> None:
    print("\n--- inputs: masks and depth relief per sequence (%) ---")
    labels = list(next(iter(quality.values())))
    print(f"{'':<22}" + "".join(f"{n[:12]:>14}" for n in DEV_SEQUENCES))
    for label in labels:
        print(f"{label:<22}" + "".join(f"{quality[n][label]:14.1f}" for n in DEV_SEQUENCES))


# -- the experiment ----------------------------------------------------------------------------


def fill(runs: Path, depths: Sequence[str]) -> None:
    """Masks and depth caches for the dev set, through the CLI (existing caches are reused)."""
    for seq in DEV.values():
        for depth in depths:
            folder = runs / DEPTH_FOLDERS[depth]
            common = ["--cache-dir", folder, "--name", seq.name]
            steps = [["segment", seq.video, *common], ["depth", seq.video, *common,
                                                       "--backend", depth]]
            if depth != "pydnet":
                steps.insert(0, ["detect", seq.video, *common, "--conf", "0.1"])
            for args in steps:
                started = time.perf_counter()
                mot_cli(*args)
                print(f"  {args[0]} {depth}/{seq.name}: {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)


def run_depth(
    runs: Path,
    depth: str,
    with_app: list[SequenceInputs],
    without_app: list[SequenceInputs],
    encoder_config,
    scorer: Scorer,
    log: dict,
    *,
    supervised: bool = True,
    random_init: bool = True,
    own_video: bool = False,
    seed: int = 0,
    w_sd: Sequence[float] = W_SD,
    epochs: int | None = None,
) -> dict[str, dict]:
    """Every S_sd row for one depth backend; returns row label → figures and picks."""
    from mot_cli.encoder import TrainConfig, build_encoder
    from mot_cli.encoder.data import upstream_keys

    size = encoder_config.input_size
    tag = f"{depth}-{size[0]}x{size[1]}x{encoder_config.embedding_dim}"
    work = runs / "ablation" / tag
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sds = {seq.name: load_sd(runs, depth, seq, size) for seq in with_app}
    print(f"[{tag}] crops and windows cut in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    upstream = {
        name: upstream_keys(RunDir(runs / DEPTH_FOLDERS[depth] / name)) for name in sds
    }
    encoders: dict[str, dict[str, object]] = {}  # kind → fold → encoder
    default = TrainConfig(encoder=encoder_config, seed=seed)
    config = default if epochs is None else dataclasses.replace(default, epochs=epochs)
    suffix = (f"-seed{seed}" if seed else "") + (
        f"-{config.epochs}ep" if config.epochs != default.epochs else "")
    if random_init:
        encoder = build_encoder(encoder_config, seed=seed).eval()
        encoders["random-init"] = dict.fromkeys(DEV_SEQUENCES, encoder)
    names = list(DEV_SEQUENCES)
    encoder = trained(work, f"self-supervised{suffix}", [sds[n].windows for n in names],
                      config, [upstream[n] for n in names], log.setdefault(tag, {}))
    encoders["self-supervised"] = dict.fromkeys(DEV_SEQUENCES, encoder)
    if own_video:  # what `track --sd` does without a checkpoint: train on the video alone
        encoders["self-supervised (own video)"] = {
            fold: trained(work, f"self-supervised-own-{fold}{suffix}", [sds[fold].windows], config,
                          [upstream[fold]], log[tag])
            for fold in DEV_SEQUENCES
        }
    if supervised:
        supervised_config = dataclasses.replace(config, positives="identities")
        encoders["supervised (GT ids)"] = {}
        for fold in DEV_SEQUENCES:
            others = [n for n in names if n != fold]
            encoders["supervised (GT ids)"][fold] = trained(
                work, f"supervised-without-{fold}{suffix}", [sds[n].windows for n in others],
                supervised_config, [upstream[n] for n in others], log[tag],
            )
    rows: dict[str, dict] = {}
    diagnostics: dict[str, dict] = {}
    for kind, per_fold in encoders.items():
        values: dict[int, dict[str, np.ndarray]] = {}  # id(encoder) → seq → (M, D)
        for encoder in {id(e): e for e in per_fold.values()}.values():
            values[id(encoder)] = {n: embed_all(encoder, sds[n].crops) for n in names}
        diagnostics[kind] = {
            n: next_frame_identification(sds[n], values[id(per_fold[n])][n])[0] for n in names
        }
        for appearance, inputs in (("with", with_app), ("without", without_app)):
            cache: dict[int, list[SequenceInputs]] = {}

            def fold_inputs(fold: str, per_fold=per_fold, inputs=inputs, cache=cache,
                            values=values, kind=kind, appearance=appearance):
                encoder = per_fold[fold]
                if id(encoder) not in cache:
                    cache[id(encoder)] = [
                        with_sd(s, sds[s.name], values[id(encoder)][s.name]) for s in inputs
                    ]
                return f"{tag}/{kind}/{id(encoder)}/{appearance}", cache[id(encoder)]

            base = TrackerConfig()
            grid = [{"w_sd": w} for w in w_sd]
            combined, per_seq, picks = left_out(scorer, fold_inputs, base, grid)
            rows[f"S_sd {kind}, {appearance} appearance"] = {
                **figures(combined),
                "per_sequence": {n: figures(r) for n, r in per_seq.items()},
                "picks": picks,
            }
            print(f"  [{tag}] {kind}, {appearance} appearance: "
                  + " ".join(f"{k} {v:.2f}" for k, v in figures(combined).items()),
                  file=sys.stderr, flush=True)
    diagnostics["appearance (OSNet)"] = {
        s.name: next_frame_identification(sds[s.name], appearance_values(s, sds[s.name]))[0]
        for s in with_app
    }
    diagnostics["box IoU"] = {n: iou_identification(sds[n])[0] for n in names}
    diagnostics["chance"] = {n: _chance(sds[n]) for n in names}
    rows["_diagnostics"] = diagnostics
    return rows


def _chance(sd: SdSequence) -> float:
    """Mean of 1 / (detections in the next frame) over the diagnostic's cases."""
    values = []
    starts = np.cumsum([0, *sd.counts])
    for index in range(len(sd.frames) - 1):
        if sd.frames[index + 1] != sd.frames[index] + 1:
            continue
        ids_a = sd.identity[starts[index] : starts[index + 1]]
        ids_b = sd.identity[starts[index + 1] : starts[index + 2]]
        if len(ids_b) < 2:
            continue
        values += [1 / len(ids_b)] * int(sum(p >= 0 and p in ids_b for p in ids_a))
    return float(np.mean(values)) if values else float("nan")


def baseline_rows(
    runs: Path, with_app: list[SequenceInputs], without_app: list[SequenceInputs],
    scorer: Scorer, mask_rows: bool = True,
) -> dict[str, dict]:
    """No S_sd (defaults), and the two mask rows."""
    rows = {}
    base = TrackerConfig()
    for appearance, inputs in (("with", with_app), ("without", without_app)):
        combined, per_seq, _ = left_out(
            scorer, lambda _f, i=inputs, a=appearance: (f"plain/{a}", i), base, [{}]
        )
        rows[f"no S_sd, {appearance} appearance"] = {
            **figures(combined), "per_sequence": {n: figures(r) for n, r in per_seq.items()}
        }
    if not mask_rows:
        return rows
    started = time.perf_counter()
    masked = {a: [with_masks(s, runs) for s in i]
              for a, i in (("with", with_app), ("without", without_app))}
    print(f"masks on the grid in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    variants = (
        ("mask IoM", "with", [{"w_iom": w} for w in W_IOM]),
        ("mask IoM", "without", [{"w_iom": w} for w in W_IOM]),
        ("mask occlusion", "with",
         [{"mask_occlusion": True, "mask_occlusion_threshold": t} for t in MASK_OCCLUSION]),
    )
    for label, appearance, grid in variants:
        inputs = masked[appearance]
        combined, per_seq, picks = left_out(
            scorer, lambda _f, i=inputs, a=appearance: (f"masks/{a}", i), base, grid
        )
        rows[f"{label}, {appearance} appearance"] = {
            **figures(combined),
            "per_sequence": {n: figures(r) for n, r in per_seq.items()},
            "picks": picks,
        }
    return rows


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n=== {title} (left-out, combined over the five dev sequences) ===")
    print(f"{'row':<46}" + "".join(f"{f:>8}" for f in FIELDS) + "  picks (per left-out seq)")
    for label, row in rows.items():
        if label.startswith("_"):
            continue
        cells = "".join(
            f"{row[f]:8.0f}" if f == "IDSW" else f"{row[f]:8.2f}" for f in FIELDS
        )
        picks = row.get("picks")
        text = ""
        if picks:
            text = " ".join(
                "/".join(f"{v:g}" if isinstance(v, float) else str(v) for v in p.values())
                for p in picks.values()
            )
        print(f"{label:<46}{cells}  {text}")


def print_diagnostics(title: str, diagnostics: dict[str, dict]) -> None:
    print(f"\n--- {title}: next-frame identification rate (%), nearest by similarity ---")
    print(f"{'embedding':<22}" + "".join(f"{n[:12]:>14}" for n in DEV_SEQUENCES))
    for label, per_seq in diagnostics.items():
        print(f"{label:<22}" + "".join(f"{100 * per_seq[n]:14.1f}" for n in DEV_SEQUENCES))


def verdict(plain: dict, rows: dict, depth: str) -> None:
    for appearance, target in (("with", 0.5), ("without", 2.0)):
        gain = (rows[f"S_sd self-supervised, {appearance} appearance"]["AssA"]
                - plain[f"no S_sd, {appearance} appearance"]["AssA"])
        ok = "meets" if gain >= target else "misses"
        print(f"{depth}: self-supervised S_sd, {appearance} appearance: left-out AssA "
              f"{gain:+.2f} over no S_sd ({ok} the +{target:g} target)")


def parse_size(text: str):
    from mot_cli.encoder import EncoderConfig

    height, width, dim = (int(v) for v in text.lower().split("x"))
    return EncoderConfig(input_height=height, input_width=width, embedding_dim=dim)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, default=RUNS, help="folder holding yolo/ (and "
                   "yolo-pseudo/)")
    p.add_argument("--depth", nargs="+", default=list(DEPTH_FOLDERS), choices=DEPTH_FOLDERS)
    p.add_argument("--fill", action="store_true", help="make missing masks / depth caches")
    p.add_argument("--sizes", nargs="+", metavar="HxWxD",
                   help="compare encoder sizes (self-supervised rows only)")
    p.add_argument("--no-supervised", action="store_true", help="skip the GT-trained rows")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random-init weights and of training (noise estimate)")
    p.add_argument("--no-mask-rows", action="store_true", help="skip the mask cue rows")
    p.add_argument("--w-sd", type=float, nargs="+", default=list(W_SD),
                   help=f"the w_sd grid each fold picks from (default: {W_SD})")
    p.add_argument("--epochs", type=int, help="training epochs of every encoder "
                   "(default: train-encoder's)")
    p.add_argument("--no-random-init", action="store_true", help="skip the random-init rows")
    p.add_argument("--own-video", action="store_true",
                   help="add S_sd rows with encoders trained on the left-out video alone")
    p.add_argument("--json", type=Path, help="where to write the figures "
                   "(default: RUNS/ablation/results.json)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.fill:
        fill(args.runs, args.depth)
    started = time.perf_counter()
    with_app = load_source("yolo", args.runs, DEV_SEQUENCES, appearance=True,
                           camera_motion=True)
    without_app = load_source("yolo", args.runs, DEV_SEQUENCES, appearance=False,
                              camera_motion=True)
    scorer = Scorer()
    log: dict = {}
    out: dict = {"training": log}
    if args.sizes:
        for text in args.sizes:
            config = parse_size(text)
            for depth in args.depth:
                rows = run_depth(args.runs, depth, with_app, without_app, config, scorer, log,
                                 supervised=False, random_init=False, seed=args.seed,
                                 w_sd=args.w_sd)
                out[f"{depth} {text}"] = rows
                print_table(f"{depth} depth, encoder {text}", rows)
                print_diagnostics(f"{depth} depth, encoder {text}", rows["_diagnostics"])
    else:
        from mot_cli.encoder import EncoderConfig

        quality = input_quality(args.runs, args.depth)
        out["inputs"] = quality
        print_quality(quality)
        plain = baseline_rows(args.runs, with_app, without_app, scorer,
                              mask_rows=not args.no_mask_rows)
        out["plain"] = plain
        print_table("no S_sd and mask cues", plain)
        for depth in args.depth:
            rows = run_depth(args.runs, depth, with_app, without_app, EncoderConfig(),
                             scorer, log, supervised=not args.no_supervised,
                             own_video=args.own_video, seed=args.seed, w_sd=args.w_sd,
                             epochs=args.epochs, random_init=not args.no_random_init)
            out[depth] = rows
            print_table(f"{depth} depth: S_sd rows", {**plain, **rows})
            print_diagnostics(depth, rows["_diagnostics"])
            verdict(plain, rows, depth)
    for tag, entries in log.items():
        for label, entry in entries.items():
            if "seconds" in entry:
                print(f"training {tag}/{label}: {entry['seconds']} s, {entry['steps']} steps, "
                      f"{entry['detections']} detections")
    print(f"\n{scorer.replays} replays, {time.perf_counter() - started:.0f} s in all")
    path = args.json or args.runs / "ablation" / ("sizes.json" if args.sizes else
                                                  "results.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=float) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
