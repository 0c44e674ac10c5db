"""The annotated video: a run's tracks drawn over its source, from the caches alone.

Boxes and ids in one colour per id (the same for that id in every frame and every video),
short motion trails of each box's bottom centre, the mask overlay when the run has masks, and
the frame number. With ground truth, the CLEAR metrics' own matching marks misses (red ground-
truth boxes), false positives (dashed boxes) and identity switches (a yellow tag naming the
id the person had before).
The file is H.264 through PyAV (OpenCV's writer when PyAV is missing; `video_writer`), written
to a temporary name beside the target (`files.atomic_path`, watched so that a killed render
leaves nothing) and renamed into place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mot_cli.cache import stop_here
from mot_cli.errors import MotCliError
from mot_cli.files import atomic_path
from mot_cli.masks import decode
from mot_cli.outputs import drawing
from mot_cli.outputs.run import FinishedRun, TrackRows, load_run
from mot_cli.outputs.versus_gt import GtComparison, compare_with_gt, read_gt
from mot_cli.outputs.video_writer import CONTAINERS, container_of, open_writer
from mot_cli.progress import progress_bar

__all__ = ["CODECS", "RenderConfig", "RenderResult", "render", "render_run", "video_codec"]

CODECS = CONTAINERS
SWITCH_TAG_SECONDS = 0.5
"""How long an id-switch tag stays on the new id: long enough to read, short enough that the
tags on screen are the switches of the last moment (the corner panel counts them all)."""


@dataclass(frozen=True)
class RenderConfig:
    """What to draw.

    Attributes:
        start: first frame (1-based); frames before the tracks' first are skipped.
        end: last frame (None: the tracks' last).
        scale: output size over source size (0.5 turns 1080p into 540p).
        trail: frames of motion trail behind each box (0: none).
        masks: draw the mask overlay when the run has masks.
        mask_alpha: opacity of the mask tint.
        gt: MOTChallenge ground truth (gt.txt or sequence folder) to mark errors against.
    """

    start: int = 1
    end: int | None = None
    scale: float = 1.0
    trail: int = 20
    masks: bool = True
    mask_alpha: float = 0.45
    gt: Path | None = None

    def __post_init__(self) -> None:
        if self.start < 1:
            raise MotCliError(f"--start must be >= 1, got {self.start}")
        if self.end is not None and self.end < self.start:
            raise MotCliError(f"--end ({self.end}) is before --start ({self.start})")
        if not 0.05 <= self.scale <= 4:
            raise MotCliError(f"--scale must be between 0.05 and 4, got {self.scale}")
        if self.trail < 0:
            raise MotCliError(f"--trail must be >= 0, got {self.trail}")


@dataclass(frozen=True)
class RenderResult:
    """What was written."""

    path: Path
    frames: int
    width: int
    height: int
    masks: bool
    comparison: GtComparison | None
    codec: str = "h264"


def render_run(run_path: Path, output: Path, config: RenderConfig) -> RenderResult:
    """Render the run folder `run_path` into `output` (.mp4, .m4v, .mov or .avi)."""
    return render(load_run(run_path), output, config)


def render(run: FinishedRun, output: Path, config: RenderConfig) -> RenderResult:
    """Render a loaded run; see the module docstring."""
    output = Path(output)
    video_codec(output)
    first, last = _frame_range(run, config)
    source = run.open_source()
    info = source.info
    width, height = _scaled(info.width, config.scale), _scaled(info.height, config.scale)
    comparison = None
    if config.gt is not None:
        gt_rows, benchmark = read_gt(config.gt, info.frames)
        comparison = compare_with_gt(run.tracks, gt_rows, (first, last), benchmark)
    painter = _Painter(run, config, comparison, (width / info.width, height / info.height),
                       info.fps)  # fmt: skip

    written = 0
    with atomic_path(output, keep_suffix=True, watchdog=True) as tmp:
        writer = open_writer(tmp, info.fps, (width, height), shown=output)
        try:
            with progress_bar("render", last - first + 1) as advance:
                for number, image in source.frames(first, last):
                    writer.write(painter.paint(number, image, (width, height)))
                    written += 1
                    advance(1)
                    stop_here("render:frame")  # test hook: kill -9 mid-render
        finally:
            writer.close()
        if written == 0:
            raise MotCliError(f"{info.path}: no frames could be decoded in {first}-{last}")
    masks = painter.masks is not None
    return RenderResult(output, written, width, height, masks, comparison, writer.codec)


def video_codec(output: Path) -> str:
    """The codec a file name asks for, or a one-line error for an unsupported one."""
    return container_of(output)


def _frame_range(run: FinishedRun, config: RenderConfig) -> tuple[int, int]:
    tracked_first, tracked_last = run.frames
    first = max(config.start, tracked_first)
    last = tracked_last if config.end is None else min(config.end, tracked_last)
    if first > last:
        raise MotCliError(
            f"{run.path}: frames {config.start}-{config.end or 'end'} hold no tracks "
            f"(tracked: {tracked_first}-{tracked_last})"
        )
    return first, last


def _scaled(size: int, scale: float) -> int:
    """Even sizes: H.264 in yuv420p (and MPEG-4) needs them."""
    return max(2, round(size * scale / 2) * 2)


class _Painter:
    """Draws one frame; holds what spans frames (trails, id-switch tags)."""

    def __init__(
        self,
        run: FinishedRun,
        config: RenderConfig,
        comparison: GtComparison | None,
        factor: tuple[float, float],
        fps: float,
    ) -> None:
        self.tracks: TrackRows = run.tracks
        self.config = config
        self.comparison = comparison
        self.masks = run.masks if config.masks else None
        self.factor = np.array([factor[0], factor[1], factor[0], factor[1]], np.float32)
        self.switch_frames = max(1, round(SWITCH_TAG_SECONDS * fps))
        self.panel: tuple[int, int, int, int] | None = None  # the corner panel: tags avoid it
        self.id_tags: list[tuple[int, int, int, int]] = []  # this frame's: switch tags avoid them
        xyxy = self.tracks.xyxy * self.factor
        self.bottom = np.c_[(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]]
        self.rows_of_id = {
            int(i): np.flatnonzero(self.tracks.id == i) for i in np.unique(self.tracks.id)
        }  # sorted by frame, as the tracks are
        self.tags: dict[int, tuple[str, int]] = {}  # id -> (text, last frame shown)
        self.totals = {"FN": 0, "FP": 0, "IDSW": 0}

    def paint(self, number: int, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        import cv2

        rows = self.tracks.rows_in(number)
        if self.masks is not None:
            self._masks(number, image, rows)
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        style = drawing.TextStyle(size[1])
        lines = self._panel_lines(number, rows)
        width, height = drawing.text_block_size(lines, style)
        self.panel = (0, 0, width, height)  # drawn last; every tag is placed outside it
        for row in rows.tolist():
            self._trail(image, row, number)
        if self.comparison is not None:
            self._misses(image, number, style)
        self.id_tags = [
            drawing.label_box(image.shape, self._label(row),
                              tuple(self.tracks.xyxy[row, :2] * self.factor[:2]), style,
                              self.panel)
            for row in rows.tolist()
        ]  # fmt: skip
        for row in rows.tolist():
            self._track(image, row, number, style)
        for row in rows.tolist():
            self._id_tag(image, row, style)
        drawing.draw_text_block(image, lines, style)
        return image

    def _panel_lines(self, number: int, rows: np.ndarray) -> list[str]:
        """The corner panel: frame, tracks, and with ground truth this frame's errors and
        the totals so far (the tags on screen may be switches of earlier frames)."""
        lines = [f"frame {number}", f"{len(rows)} tracks"]
        c = self.comparison
        if c is None:
            return lines
        counts = {
            "FN": int(np.sum((c.gt_frame == number) & (c.gt_track < 0))),
            "FP": int(np.sum(c.false_positive[rows])),
            "IDSW": int(np.sum(c.switched_from[rows] >= 0)),
        }
        for key, value in counts.items():
            self.totals[key] += value
        return [*lines, "this frame: FN {} FP {} IDSW {}".format(*counts.values()),
                "so far: FN {} FP {} IDSW {}".format(*self.totals.values())]  # fmt: skip

    def _masks(self, number: int, image: np.ndarray, rows: np.ndarray) -> None:
        assert self.masks is not None
        for row in rows.tolist():
            det = int(self.tracks.det[row])
            found = self.masks.find(number, det) if det >= 0 else None
            if found is None or self.masks.area[found] == 0:
                continue
            h, w = int(self.masks.height[found]), int(self.masks.width[found])
            if (h, w) != image.shape[:2]:
                continue  # a mask of another resolution: never blend it misplaced
            mask = decode(str(self.masks.rle[found]), h, w)
            color = drawing.id_color(int(self.tracks.id[row]))
            drawing.overlay_mask(image, mask, color, self.config.mask_alpha)

    def _trail(self, image: np.ndarray, row: int, number: int) -> None:
        if self.config.trail == 0:
            return
        track_id = int(self.tracks.id[row])
        same = self.rows_of_id[track_id]
        frames = self.tracks.frame[same]
        lo, hi = np.searchsorted(frames, [number - self.config.trail, number + 1])
        drawing.draw_trail(image, self.bottom[same[lo:hi]], drawing.id_color(track_id))

    def _track(self, image: np.ndarray, row: int, number: int, style: drawing.TextStyle) -> None:
        """Box of one track row (and its id-switch tag while it lasts); the id tags are drawn
        after every box and switch tag (`_id_tag`), so nothing covers an id."""
        track_id = int(self.tracks.id[row])
        color = drawing.id_color(track_id)
        box = self.tracks.xyxy[row] * self.factor
        interpolated = self.tracks.det[row] < 0
        is_fp = bool(self.comparison is not None and self.comparison.false_positive[row])
        drawing.draw_box(image, box, color, 1 if interpolated else 2, dashed=is_fp)
        if self.comparison is not None and self.comparison.switched_from[row] >= 0:
            was = int(self.comparison.switched_from[row])
            text = f"id switch at {number}: was {was}"
            self.tags[track_id] = (text, number + self.switch_frames - 1)
        tag = self.tags.get(track_id)
        if tag is not None and number <= tag[1]:
            _, height, baseline = style.size(tag[0])
            tag_h = height + baseline + 2 * style.pad
            own = drawing.label_box(image.shape, self._label(row), (box[0], box[1]), style,
                                    self.panel)  # fmt: skip
            # above the box, else under its id tag, else under the box: the first place
            # clear of the panel and of every id tag (which are drawn over it regardless)
            places = [(box[0], box[1] - tag_h - 1), (box[0], own[3] + 1), (box[0], box[3] + 1)]
            blocked = [*self.id_tags, *([self.panel] if self.panel else [])]
            corner = next(
                (place for place in places if not any(
                    drawing.overlap(drawing.label_box(image.shape, tag[0], place, style), other)
                    for other in blocked)),
                places[0],
            )  # fmt: skip
            drawing.draw_label(image, tag[0], corner, drawing.SWITCH_COLOR, style, self.panel)

    def _label(self, row: int) -> str:
        return drawing.track_label(int(self.tracks.id[row]), self.tracks.class_name(row))

    def _id_tag(self, image: np.ndarray, row: int, style: drawing.TextStyle) -> None:
        track_id = int(self.tracks.id[row])
        box = self.tracks.xyxy[row] * self.factor
        drawing.draw_label(image, self._label(row), (box[0], box[1]), drawing.id_color(track_id),
                           style, self.panel)  # fmt: skip

    def _misses(self, image: np.ndarray, number: int, style: drawing.TextStyle) -> None:
        assert self.comparison is not None
        c = self.comparison
        missed = np.flatnonzero((c.gt_frame == number) & (c.gt_track < 0))
        for index in missed.tolist():
            box = c.gt_xyxy[index] * self.factor
            drawing.draw_box(image, box, drawing.MISS_COLOR, 2)
            _, height, baseline = style.size("FN")
            corner = (box[0], box[3] - height - baseline - 2 * style.pad)
            drawing.draw_label(image, "FN", corner, drawing.MISS_COLOR, style, self.panel)
