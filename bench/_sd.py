"""What `S_sd` costs in association replay, on the dev caches that have sd embeddings.

`sd_replay_line` is what bench/association.py prints: the best-of-`repeats` ms/frame of
`mot_cli.stages.track.replay` over the sequences whose run folder holds sd_embeddings.parquet,
without the cue (no sd embeddings, `w_sd` = 0) and with it (embeddings attached, `w_sd` = 1),
the two timed in alternation so that a busy machine slows both alike.

    python -m bench._sd [--work bench/.runs] [--checkpoint FILE]

writes the sd embeddings of every dev run folder in ``<work>/yolo`` with a trained encoder
(default: the self-supervised pydnet one bench/ablation.py trained) and prints the line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DEV_SET, REPO


def default_checkpoint() -> str:
    """The self-supervised pydnet encoder bench/ablation.py trains at the default size."""
    from mot_cli.encoder import EncoderConfig

    config = EncoderConfig()
    size = f"{config.input_height}x{config.input_width}x{config.embedding_dim}"
    return f"ablation/pydnet-{size}/self-supervised.pt"


def sd_replay_line(
    work: Path, source: str, sequences: Sequence, settings: Sequence[str], repeats: int = 5
) -> str:
    """One line: replay ms/frame without and with S_sd, over the sequences that have it."""
    from mot_cli.cache import RunDir
    from mot_cli.formats.seqinfo import read_seqinfo
    from mot_cli.stages import sd_embed, track
    from mot_cli.tracking import TrackerConfig

    plain_config = TrackerConfig().with_overrides(settings).replace(w_sd=0.0)
    sd_config = plain_config.replace(w_sd=1.0)
    plain, with_sd, names, frames = [], [], [], 0
    for seq in sequences:
        run = RunDir(work / source / seq.name)
        table = sd_embed.read_sd_embeddings(run) if run.manifest_path.exists() else None
        if table is None:
            continue
        length = read_seqinfo(seq.seqinfo).seq_length
        detections, warps = track.cached_inputs(run)
        fps = track.source_fps(run)
        plain.append(((1, length), detections, warps, fps))
        with_sd.append(((1, length), sd_embed.attach(detections, table), warps, fps))
        names.append(seq.name)
        frames += length
    if not names:
        return (f"S_sd replay cost: no sd_embeddings.parquet in {work / source}/<seq> "
                "(python -m bench._sd writes them)")
    best = {"without": float("inf"), "with": float("inf")}
    for _ in range(repeats):
        for label, inputs, config in (("without", plain, plain_config),
                                      ("with", with_sd, sd_config)):
            started = time.perf_counter()
            for item in inputs:
                track.replay(item[0], item[1], config, item[2], item[3])
            best[label] = min(best[label], time.perf_counter() - started)
    ms = {k: v * 1000 / frames for k, v in best.items()}
    return (f"S_sd replay cost ({source}, {len(names)} sequences, {frames} frames): "
            f"{ms['without']:.3f} ms/frame without, {ms['with']:.3f} with "
            f"(+{ms['with'] - ms['without']:.3f} ms/frame; best of {repeats})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".runs")
    parser.add_argument("--source", default="yolo")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="encoder checkpoint (default: WORK/ablation/pydnet-HxWxD/"
                        "self-supervised.pt at the default encoder size)")
    args = parser.parse_args()
    from mot_cli.pipeline import open_run, produce
    from mot_cli.stages import sd_embed

    checkpoint = args.checkpoint or args.work / default_checkpoint()
    config = sd_embed.SdEmbedConfig(str(checkpoint))
    for seq in DEV_SET:
        started = time.perf_counter()
        # the detections, masks and depth maps are read from the run folder as they are
        run = open_run(seq.video, args.work / args.source, seq.name)
        try:
            rows = produce(run, sd_embed.STAGE, {sd_embed.STAGE: config}).entry(sd_embed.STAGE)
        finally:
            run.close()
        print(f"  sd embeddings {args.source}/{seq.name}: {rows['rows']} rows, "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    print(sd_replay_line(args.work, args.source, DEV_SET, []))


if __name__ == "__main__":
    main()
