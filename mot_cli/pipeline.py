"""Opening a run (source + run folder + frame range), and the stage graph every command asks.

Opening a run is where every command meets the run folder, so its safety lives here: the run
name is one folder name, the folder is locked for this process (a second one waits), what a
killed run left is finished or cleaned, and a folder of another source is refused.

The stage graph is one table, `STAGES`: each row names a cache, its config type, the caches
it reads and the `plan` function of its module (mot_cli/stages/). `produce(run, target,
configs)` walks the rows the target needs, chains each stage's key from the keys of what it
reads, and runs exactly the stages whose cache is missing or stale, in order. Frame-wise
stages that are due together share one decode pass of the video (stages/_framewise.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from mot_cli.cache import RunDir
from mot_cli.errors import ModelNotFoundError, MotCliError
from mot_cli.files import prepare_folder
from mot_cli.progress import console
from mot_cli.schema import DETECTIONS_STAGE, FIXED_SCHEMAS
from mot_cli.scope import at_command_end
from mot_cli.stages import (
    camera_motion,
    depth,
    detect,
    embed,
    sd_embed,
    sd_encoder,
    segment,
    track,
)
from mot_cli.stages._framewise import Lane, run_pass
from mot_cli.stages._job import FramewiseJob, Job, StageInputs, TableJob
from mot_cli.stages.camera_motion import CameraMotionConfig
from mot_cli.stages.depth import DepthConfig, DepthStatsConfig
from mot_cli.stages.detect import DetectConfig
from mot_cli.stages.embed import EmbedConfig
from mot_cli.stages.sd_embed import SdEmbedConfig
from mot_cli.stages.sd_encoder import SdEncoderConfig
from mot_cli.stages.segment import SegmentConfig
from mot_cli.tracking import TrackerConfig
from mot_cli.video import FrameRange, FrameSource, open_source


@dataclass(frozen=True)
class Run:
    """An opened input with its run folder and the concrete frames to process.

    The run folder stays locked until the command ends (or `close()`, outside a command).
    """

    source: FrameSource
    run_dir: RunDir
    name: str
    first: int
    last: int
    release: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    opened: float | None = field(default=None, compare=False)
    """When `open_run` began (Unix seconds): opening the source is the first stage's work."""

    @property
    def frames(self) -> tuple[int, int]:
        return self.first, self.last

    def covered(self, stages: Iterable[str]) -> tuple[int, int]:
        """The frames every one of `stages` really covered: fewer when a video ended early.

        Tracking covers what the detections stage covered: imported detections (det.txt) are
        not cut short by a later stage that found the video truncated.
        """
        return self.run_dir.covered(self.frames, list(stages))

    def close(self) -> None:
        """Release the run folder's lock (a command does this itself when it ends)."""
        if self.release is not None:
            self.release()


def check_run_name(name: str, what: str = "--name") -> str:
    """A run name must be one folder name, so a run never writes outside --cache-dir."""
    bad = (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or name != name.strip()
    )
    if bad:
        raise MotCliError(
            f"{what} {name!r}: must be one folder name (no '/', '\\', '..' or surrounding "
            "spaces); the run folder is CACHE_DIR/NAME"
        )
    return name


def open_run(
    source_path: Path,
    cache_dir: Path = Path("runs"),
    name: str | None = None,
    frame_range: FrameRange | None = None,
    *,
    force: bool = False,
    allow_missing_images: bool = False,
) -> Run:
    """Open the source, then lock and create or refresh `cache_dir/<name>/manifest.json`.

    `force` lets this source take over a run folder holding another source's results, and
    rebuilds a corrupt manifest.
    """
    opened = time.time()
    if name is not None:
        check_run_name(name)
    source = open_source(source_path, allow_missing=allow_missing_images)
    for note in source.notes:
        console.print(f"note: {note}", highlight=False)
    if name is None:
        name = check_run_name(source.info.name, f"run name from {source_path} (pass --name)")
    first, last = (frame_range or FrameRange()).clip(source.info.frames)
    run_dir = RunDir(prepare_folder(Path(cache_dir), "--cache-dir") / name)
    release = run_dir.lock()
    try:
        run_dir.recover()
        run_dir.init(name, source.info.to_dict(), replace=force)
    except BaseException:
        release()
        raise
    if at_command_end(release):
        release = None
    return Run(source, run_dir, name, first, last, release, opened)


# ------------------------------------------------------------------------------ stage graph


@dataclass(frozen=True)
class Stage:
    """One row of the stage graph.

    `name`: the cache it writes (`<name>.parquet`, its manifest entry). `config`: its frozen
    config type. `reads`: caches it always reads. `plan`: its module's `plan(inputs, config)`.
    `cues`: caches it reads only when they are asked for (a config given), e.g. appearance.
    `per_frame`: how frame-wise readers see its rows (frame -> value), if they may.
    `after_inputs`: it reads its inputs' finished tables, so it is planned only after they are
    complete (it cannot share a decode pass with them). `command`: the command that makes it;
    `also`: a tracking command that makes it too (both named when its cache is missing).
    """

    name: str
    config: type
    reads: tuple[str, ...]
    plan: Callable[[StageInputs, Any], Job]
    cues: tuple[str, ...] = ()
    per_frame: Callable[[pa.Table], Mapping[int, Any]] | None = None
    after_inputs: bool = False
    command: str = "track"
    also: str | None = None


STAGES: tuple[Stage, ...] = (
    Stage(detect.STAGE, DetectConfig, (), detect.plan, per_frame=detect.frame_detections,
          command="detect", also="track"),
    Stage(embed.STAGE, EmbedConfig, (detect.STAGE,), embed.plan, command="embed",
          also="track"),
    Stage(camera_motion.STAGE, CameraMotionConfig, (), camera_motion.plan),
    Stage(segment.STAGE, SegmentConfig, (detect.STAGE,), segment.plan, command="segment",
          also="track --sd"),
    Stage(depth.MAPS_STAGE, DepthConfig, (detect.STAGE,), depth.plan_maps, cues=(segment.STAGE,),
          command="depth", also="track --sd"),
    Stage(depth.STAGE, DepthStatsConfig, (depth.MAPS_STAGE, detect.STAGE), depth.plan_stats,
          cues=(segment.STAGE,), after_inputs=True, command="depth"),
    Stage(sd_encoder.STAGE, SdEncoderConfig, sd_encoder.READS, sd_encoder.plan,
          after_inputs=True, command="train-encoder RUN", also="track --sd"),
    Stage(sd_embed.STAGE, SdEmbedConfig, sd_embed.READS, sd_embed.plan,
          cues=(sd_encoder.STAGE,), after_inputs=True, command="track --sd"),
    Stage(track.STAGE, TrackerConfig, (detect.STAGE,), track.plan,
          cues=(embed.STAGE, camera_motion.STAGE, segment.STAGE, sd_embed.STAGE, depth.STAGE),
          after_inputs=True),
)  # fmt: skip
"""Every stage; adding one is a module with `plan` and `STAGE` plus one row here.

The depth maps read the detections only for the weight-free `pseudo` backend (a network's
key ignores them) and the masks (a cue) only for `pseudo` too; the encoder stage trains on the
run's own caches; the tracker reads the masks and the depth×mask embeddings only when a cue
of its config uses them.
"""


@dataclass(frozen=True)
class Cached:
    """A config stand-in: use the stage's finished cache as it is, whatever config made it,
    when it was made from the inputs of this walk (the keys its manifest entry records as
    `upstream` are the current ones, and it covers these frames); otherwise run `fallback`,
    or leave the stage off when there is none (a cue then is off; a stage that must read it
    fails). With `force`, `fallback` runs even over a usable cache.

    So `mot-cli depth` uses the masks `mot-cli segment` made, and `track --sd` the masks,
    depth maps and encoder made by hand with other backends, making them with the defaults
    only when they are missing or stale.
    """

    fallback: object | None = None


@dataclass(frozen=True)
class Outcome:
    """What `produce` did: the key of every stage used, and which stages were computed."""

    run_dir: RunDir
    keys: dict[str, str]
    ran: tuple[str, ...]

    def entry(self, stage: str) -> dict:
        """The manifest entry of a stage used."""
        return self.run_dir.read_entry(stage) or {}

    def table(self, stage: str, schema: pa.Schema | None = None) -> pa.Table:
        """A stage's finished table (checked against the key it was used with)."""
        table = self.run_dir.read_completed(stage, schema, self.keys[stage])
        if table is None:
            raise MotCliError(f"{self.run_dir.file(stage)}: no finished {stage} cache")
        return table


def produce(
    run: Run,
    target: str | Sequence[str],
    configs: Mapping[str, object],
    *,
    force: bool | Collection[str] = False,
    optional: Mapping[str, str] | None = None,
    trust_keys: bool = False,
    stages: tuple[Stage, ...] = STAGES,
) -> Outcome:
    """Make `target`'s cache fresh, running exactly the missing or stale stages it needs.

    `target` may name several stages (a batch's perception task makes everything the tracks
    read, in one decode pass). `configs` maps stage names to configs, or to `Cached` (use the
    cache there is when it fits these inputs). A stage the target reads that has no config is
    taken from its cache as it is (an error when there is none); a cue without a config is
    off. `optional` maps stages to the cue they give (`{"embeddings": "appearance"}`): when
    their model weights cannot be found, the cue is turned off with a warning instead of an
    error. `force` recomputes every stage that has a config (True) or the stages it names.
    `trust_keys` skips even a stage that asks to always run (the tracker) when its key
    matches, so a batch re-run leaves a finished run as it is.
    """
    rows = {stage.name: stage for stage in stages}
    targets = (target,) if isinstance(target, str) else tuple(target)
    order = _order(targets, configs, rows)
    graph = _Graph(run, rows, configs, force, dict(optional or {}), order, trust_keys)
    for stage in order:
        graph.visit(stage)
    graph.flush()
    return Outcome(run.run_dir, graph.keys, tuple(graph.ran))


def inputs_of(
    target: str, configs: Mapping[str, object], stages: tuple[Stage, ...] = STAGES
) -> tuple[str, ...]:
    """The stages `target` reads with these configs (cues only when on), in the order they run."""
    rows = {stage.name: stage for stage in stages}
    return tuple(stage.name for stage in _order((target,), configs, rows) if stage.name != target)


def _order(
    targets: tuple[str, ...], configs: Mapping[str, object], rows: dict[str, Stage]
) -> list[Stage]:
    """The stages the targets need, each after those it reads (depth first, reads in order)."""
    unknown = sorted({*targets, *configs} - set(rows))
    if unknown:
        raise ValueError(f"unknown stage {unknown[0]!r}; valid names: {', '.join(rows)}")
    order: list[Stage] = []

    def visit(name: str) -> None:
        stage = rows[name]
        if stage in order:
            return
        config = configs.get(name)
        if config is not None:
            given = config.fallback if isinstance(config, Cached) else config
            if given is not None and not isinstance(given, stage.config):
                raise TypeError(
                    f"stage {name!r} takes a {stage.config.__name__}, got {type(given).__name__}"
                )
            for read in stage.reads + tuple(c for c in stage.cues if configs.get(c) is not None):
                visit(read)
        order.append(stage)

    for target in targets:
        visit(target)
    return order


@dataclass
class _Graph:
    """The walk of `produce`: keys so far, the frame-wise stages waiting for their pass."""

    run: Run
    rows: dict[str, Stage]
    configs: Mapping[str, object]
    force: bool | Collection[str]
    optional: dict[str, str]
    order: list[Stage]
    trust_keys: bool = False
    keys: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    views: dict[str, dict[int, Any]] = field(default_factory=dict)
    began: dict[str, float] = field(default_factory=dict)  # when each stage due began
    recorded: bool = False  # a stage's window recorded yet

    @property
    def run_dir(self) -> RunDir:
        return self.run.run_dir

    @property
    def waiting(self) -> set[str]:
        return {lane.job.stage for lane in self.lanes}

    def visit(self, stage: Stage) -> None:
        config = self.configs.get(stage.name)
        if config is None:
            self.keys[stage.name] = self._cached_key(stage)
            return
        missing = [r for r in stage.reads if r not in self.keys]
        if isinstance(config, Cached):
            rebuild = config.fallback is not None and self.forced(stage.name)
            key = None if missing or rebuild else self._usable_cache(stage)
            if key is not None:
                self.keys[stage.name] = key
                return
            config = config.fallback
            if config is None:
                return  # off
        if missing:
            raise MotCliError(f"{stage.name} needs {missing[0]}, which is off")
        reads = [r for r in stage.reads + stage.cues if r in self.keys]
        if stage.after_inputs and self.waiting & set(reads):
            self.flush()
        views = {} if stage.after_inputs else {r: self._view(r) for r in reads}
        inputs = StageInputs(
            self.run.source, self.run_dir, self.run.name, self.run.frames,
            {r: self.keys[r] for r in reads},
            {r: view for r, view in views.items() if view is not None},
            self.forced(stage.name),
        )  # fmt: skip
        self.began[stage.name] = time.time()  # before planning: a model may load there
        try:
            job = stage.plan(inputs, config)
        except ModelNotFoundError as exc:
            if stage.name not in self.optional:
                raise
            cue = self.optional[stage.name]
            console.print(f"[yellow]warning:[/] {cue} off: {exc}", highlight=False)
            return
        self.keys[stage.name] = job.key
        always = isinstance(job, TableJob) and job.always and not self.trust_keys
        fresh = self.run_dir.completed_key(stage.name) == job.key
        if not (self.forced(stage.name) or always) and fresh:
            self.run_dir.check(stage.name, job.key)
            console.print(f"{stage.name}: cache up to date ({self.run_dir.file(stage.name)})")
        elif isinstance(job, FramewiseJob):
            self._wait(stage, job, reads)
        else:
            if self.waiting & set(reads):
                self.flush()
                self.began[stage.name] = time.time()  # its own time starts after the pass
            job.run()
            self.ran.append(stage.name)
            self._record_wall(stage.name)

    def forced(self, name: str) -> bool:
        """Whether `force` asks to recompute this stage (all, or those it names)."""
        return self.force is True or (not isinstance(self.force, bool) and name in self.force)

    def flush(self) -> None:
        """Run the frame-wise stages waiting, together, in one decode pass."""
        if self.lanes:
            run_pass(self.run_dir, self.run.source, self.lanes)
            self.ran.extend(lane.job.stage for lane in self.lanes)
            for lane in self.lanes:
                self._record_wall(lane.job.stage)
            self.lanes = []

    def _record_wall(self, name: str) -> None:
        """Add `wall`, [start, end] in Unix seconds, to the entry of a stage that just ran.

        A stage's own `seconds` leave out the decode it shares and overlap the other stages
        of its pass; the union of these windows is the run's wall time (`summary`). The first
        window starts when the run was opened: reading the source is work done for it.
        """
        entry = self.run_dir.read_entry(name)
        began = self.began.pop(name, None)
        if entry is not None and began is not None:
            if not self.recorded and self.run.opened is not None:
                began = min(began, self.run.opened)
            self.recorded = True
            wall = [round(began, 3), round(time.time(), 3)]
            self.run_dir.write_entry(name, entry.with_fields(wall=wall))

    def _wait(self, stage: Stage, job: FramewiseJob, reads: list[str]) -> None:
        publish = None
        if stage.per_frame is not None and self._read_per_frame(stage.name):
            publish = _publisher(self.views.setdefault(stage.name, {}), stage.per_frame)
        waits_for = tuple(r for r in reads if r in self.waiting)
        self.lanes.append(Lane(job, waits_for, publish, restart=self.forced(stage.name)))

    def _read_per_frame(self, name: str) -> bool:
        """Whether a frame-wise stage of this walk reads `name`."""
        return any(
            name in stage.reads + stage.cues and not stage.after_inputs
            for stage in self.order
            if self.configs.get(stage.name) is not None
        )

    def _view(self, name: str) -> dict[int, Any] | None:
        """`name`'s rows by frame for a frame-wise reader (filled as it runs, when waiting)."""
        per_frame = self.rows[name].per_frame
        if per_frame is None:
            return None
        if name not in self.views:
            table = self.run_dir.read_completed(name, FIXED_SCHEMAS.get(name), self.keys[name])
            if table is None:
                raise MotCliError(f"{self.run_dir.file(name)}: no finished {name} cache")
            self.views[name] = dict(per_frame(table))
        return self.views[name]

    def _usable_cache(self, stage: Stage) -> str | None:
        """The key of the stage's finished cache when it was made from this walk's inputs."""
        key = self.run_dir.completed_key(stage.name)
        if key is None:
            return None
        entry = self.run_dir.read_entry(stage.name) or {}
        made_from = entry.get("upstream") or {}
        if any(self.keys.get(name) != value for name, value in made_from.items()):
            return None
        frames = entry.get("frames")
        if frames is not None and tuple(frames) not in {
            self.run.frames, self.run.covered([DETECTIONS_STAGE])
        }:
            return None
        self.run_dir.check(stage.name, key)
        console.print(f"{stage.name}: using the existing cache ({self.run_dir.file(stage.name)})")
        return key

    def _cached_key(self, stage: Stage) -> str:
        key = self.run_dir.completed_key(stage.name)
        if key is None:
            how = f"`mot-cli {stage.command}` first"
            if stage.also:
                how += f" (or `mot-cli {stage.also}`, which makes it too)"
            raise MotCliError(f"{self.run_dir.file(stage.name)}: no {stage.name} cache; run {how}")
        return key


def _publisher(
    view: dict[int, Any], per_frame: Callable[[pa.Table], Mapping[int, Any]]
) -> Callable[[pa.Table], None]:
    def publish(table: pa.Table) -> None:
        view.update(per_frame(table))

    return publish
