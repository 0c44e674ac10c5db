"""The resumable frame-by-frame loop: every due frame-wise stage in one decode pass.

Detect, embed and camera motion each used to decode the whole video again (on 1080p video,
decoding is a large share of a run). Here the stages due in one run ("lanes") share a single
decode: a thread decodes a few frames ahead into a bounded queue, and each frame goes to every
lane that still needs it. Each lane works on a thread of its own, so the stages overlap with
each other and with decoding (the models and OpenCV release the GIL), while bounded queues
keep only a few dozen frames in memory. Each lane keeps its own batch size, writes
its own chunks of `flush_frames` frames and resumes from its own last chunk, so what a lane
writes is what it would write alone. A lane that reads another lane's rows (embed reads the
detections) is handed a batch only once that lane has processed every frame of it.

The manifest entry of each lane records `seconds`, the time spent in its own work (its batch
function and chunk writes), and `pass`: the stages that shared the decode and the wall time
of the whole pass, with `waiting_for_frames`, the part spent waiting on the decoder.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from mot_cli.cache import PartialStage, RunDir, write_parquet
from mot_cli.entries import StageEntry
from mot_cli.errors import MotCliError
from mot_cli.progress import console, progress_bars
from mot_cli.stages._job import BatchFn, FramewiseJob, StageRun
from mot_cli.video import FrameSource

__all__ = ["BatchFn", "Lane", "StageRun", "run_pass"]

DECODE_AHEAD = 4
"""Frames the decode thread may hold ready: enough to hide decode jitter, few enough that
1080p frames (6 MB each) stay a small part of memory."""


@dataclass(frozen=True)
class Lane:
    """One frame-wise stage in a pass.

    `reads`: stages of the same pass whose rows it reads (it waits for their frames).
    `publish`: called with the rows this stage already had (a resumed run) and then with each
    batch's rows, so readers of the same pass see them (the graph's per-frame views).
    `restart`: drop the chunks an interrupted run left instead of resuming from them (--force).
    """

    job: FramewiseJob
    reads: tuple[str, ...] = ()
    publish: Callable[[pa.Table], None] | None = None
    restart: bool = False


@dataclass
class _State:
    """A lane's progress through the pass."""

    lane: Lane
    process: BatchFn
    partial: PartialStage
    start: int
    waits_for: list[_State]
    done: int = 0  # the last frame processed (start - 1 before any)
    chunk_first: int = 0
    buffer: list[tuple[int, np.ndarray]] = field(default_factory=list)
    pending: list[pa.Table] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def spec(self) -> StageRun:
        return self.lane.job.spec

    def full(self, final: bool) -> int:
        """How many buffered frames make the next batch (0: wait for more frames)."""
        count = min(self.spec.batch, len(self.buffer))
        return count if count == self.spec.batch or final else 0

    def reads_done(self, upto: int) -> bool:
        """Whether every lane this one reads has processed frames up to `upto`."""
        return all(other.done >= upto for other in self.waits_for)

    def run_batch(self, count: int) -> None:
        started = time.perf_counter()
        batch, self.buffer = self.buffer[:count], self.buffer[count:]
        table = self.process([number for number, _ in batch], [image for _, image in batch])
        if self.lane.publish is not None:
            self.lane.publish(table)
        self.pending.append(table)
        self.done = batch[-1][0]
        if self.done - self.chunk_first + 1 >= self.spec.flush_frames:
            self.flush()
        self.seconds += time.perf_counter() - started

    def flush(self) -> None:
        if self.pending:
            self.partial.write_chunk(self.chunk_first, self.done, pa.concat_tables(self.pending))
            self.pending, self.chunk_first = [], self.done + 1


def run_pass(run_dir: RunDir, source: FrameSource, lanes: list[Lane]) -> dict[str, pa.Table]:
    """Run `lanes` (in an order where every lane comes after those it reads) over one decode.

    Each lane resumes from its own chunks (unless it is to `restart`); the decode starts at
    the earliest frame any lane still needs. Returns each stage's committed table.
    """
    if not lanes:
        return {}
    _large_buffers_back_to_the_system()
    last = max(lane.job.spec.last for lane in lanes)
    states: dict[str, _State] = {}
    for lane in lanes:
        spec = lane.job.spec
        process = lane.job.make_process()  # a model that cannot load fails before any write
        partial = run_dir.partial(spec.stage, spec.key, spec.schema)
        start = partial.resume_frame(spec.first, restart=lane.restart)
        if start > spec.first:
            console.print(
                f"{spec.stage}: resuming at frame {start} "
                f"(frames {spec.first}-{start - 1} cached)"
            )
            if lane.publish is not None:
                lane.publish(partial.join(spec.first, start - 1))
        states[spec.stage] = _State(
            lane, process, partial, start,
            [states[name] for name in lane.reads if name in states],
            done=start - 1, chunk_first=start,
        )  # fmt: skip
    started = time.perf_counter()
    start = min(state.start for state in states.values())
    waited = _feed(source, list(states.values()), start, last)
    wall = time.perf_counter() - started
    shared = {"stages": list(states), "seconds": round(wall, 3), "waiting_for_frames": waited}
    tables = {name: _commit(run_dir, source, state, shared) for name, state in states.items()}
    for lane in lanes:
        if lane.job.finish is not None:
            lane.job.finish(tables[lane.job.stage])
    return tables


@dataclass
class _Shared:
    """What the lanes' threads share: a condition signalled after every batch, and stopping."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[BaseException] = field(default_factory=list)

    def fail(self, exc: BaseException) -> None:
        self.failures.append(exc)
        self.stop.set()

    def put(self, inbox: queue.Queue, item: object) -> bool:
        """Put `item` in a bounded queue, giving up (False) once the pass is stopping."""
        while not self.stop.is_set():
            try:
                inbox.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self, inbox: queue.Queue) -> object | None:
        """The next item of a queue, or None once the pass is stopping."""
        while not self.stop.is_set():
            try:
                return inbox.get(timeout=0.1)
            except queue.Empty:
                continue
        return None


def _feed(source: FrameSource, states: list[_State], start: int, last: int) -> float:
    """Hand every decoded frame to the lanes that need it; returns seconds spent waiting.

    Each lane works on a thread of its own, so on a multi-core machine detection, embedding
    and camera motion run at the same time (the models and OpenCV release the GIL). A lane's
    queue holds as many frames as the largest batch: a lane waiting for another one holds a
    batch of its own, and that one then still gets the rest of the frames its batch needs.
    """
    tasks = [
        (s.spec.stage, s.spec.last - s.spec.first + 1, s.start - s.spec.first) for s in states
    ]
    room = max(s.spec.batch for s in states)
    inboxes = [queue.Queue(maxsize=room) for _ in states]
    shared = _Shared()
    waited = 0.0
    with progress_bars(tasks) as advances:
        workers = [
            threading.Thread(
                target=_work,
                args=(state, inbox, advance, shared),
                name=f"mot-cli-{state.spec.stage}",
                daemon=True,
            )
            for state, inbox, advance in zip(states, inboxes, advances, strict=True)
        ]
        for worker in workers:
            worker.start()
        try:
            if start <= last:
                with closing(_decoded(source, start, last)) as frames:
                    while not shared.stop.is_set():
                        before = time.perf_counter()
                        item = next(frames, None)
                        waited += time.perf_counter() - before
                        if item is None:
                            break
                        for state, inbox in zip(states, inboxes, strict=True):
                            if state.start <= item[0] <= state.spec.last:
                                shared.put(inbox, item)
            for inbox in inboxes:
                shared.put(inbox, _END)
            for worker in workers:
                worker.join()
        finally:
            shared.stop.set()  # an error or interrupt here: the lanes finish their batch
            for worker in workers:
                worker.join()
    if shared.failures:
        raise shared.failures[0]
    return round(waited, 3)


def _work(
    state: _State, inbox: queue.Queue, advance: Callable[[int], None], shared: _Shared
) -> None:
    """A lane's thread: batches from its queue, each once the lanes it reads are past it."""
    try:
        final = False
        while not final:
            item = shared.get(inbox)
            if item is None:
                return
            if item is _END:
                final = True
            else:
                state.buffer.append(item)
            while count := state.full(final):
                upto = state.buffer[count - 1][0]
                with shared.changed:
                    while not state.reads_done(upto):
                        if shared.stop.is_set():
                            return
                        shared.changed.wait(timeout=0.1)
                state.run_batch(count)
                advance(count)
                with shared.changed:
                    shared.changed.notify_all()
        state.flush()
    except BaseException as exc:  # raised again by the feeding thread
        shared.fail(exc)


def _commit(run_dir: RunDir, source: FrameSource, state: _State, shared: dict) -> pa.Table:
    spec = state.spec
    last = _last_frame(source, spec, state.done)
    table = state.partial.join(spec.first, last)
    entry = StageEntry.from_dict(spec.entry).with_fields(
        key=spec.key,
        complete=True,
        frames=(spec.first, last),
        rows=table.num_rows,
        seconds=round(state.seconds, 3),
        **{"pass": shared},
    )
    run_dir.write_entry(
        spec.stage,
        entry,
        {
            run_dir.file(spec.stage).name: lambda path: write_parquet(
                path, table, stage=spec.stage, key=spec.key
            )
        },
    )
    state.partial.remove()
    return table


_END = object()


def _decoded(source: FrameSource, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
    """`source.frames(first, last)` decoded on a thread, up to DECODE_AHEAD frames ahead.

    OpenCV's decoder releases the GIL, so decoding overlaps the stages' work. An error in the
    decoder (a missing image) is raised here, in the caller's thread; closing the generator
    stops the decoder.
    """
    ready: queue.Queue = queue.Queue(maxsize=DECODE_AHEAD)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            for item in source.frames(first, last):
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the caller, who raises it
            put(exc)

    thread = threading.Thread(target=decode, name="mot-cli-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def _large_buffers_back_to_the_system() -> None:
    """Have glibc return every buffer of 1 MiB or more (a frame) to the system when freed.

    By default glibc raises its mmap threshold to the size of the largest buffer freed; frames
    are then cut from per-thread heaps, which threads handing frames to each other fragment:
    on 1080p video the peak memory of a pass grew by a gigabyte over 900 frames. A fixed
    threshold keeps it flat. Without glibc (macOS), nothing changes.
    """
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass


def _last_frame(source: FrameSource, spec: StageRun, last_seen: int) -> int:
    """The last frame the stage covered: `spec.last`, or earlier when a video ended early.

    Frames a source knows to be absent (missing images allowed as empty) do not count as an
    early end.
    """
    if last_seen >= spec.last or not source.has_frame(spec.last):
        return spec.last
    if last_seen < spec.first:
        raise MotCliError(
            f"{source.info.path}: no frame could be decoded from frame {spec.first} on, although "
            f"its header announces {source.info.frames} (truncated video?)"
        )
    console.print(
        f"[yellow]warning:[/] {source.info.path}: the video ended at frame {last_seen}, before "
        f"frame {spec.last} that its header announced (truncated video?); frames "
        f"{spec.first}-{last_seen} were processed",
        highlight=False,
    )
    return last_seen
