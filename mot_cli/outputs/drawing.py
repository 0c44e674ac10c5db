"""Drawing on BGR frames: a colour per id, boxes (solid or dashed), labels, trails, masks.

Pure functions that draw in place with OpenCV; the render loop composes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "MISS_COLOR",
    "SWITCH_COLOR",
    "TextStyle",
    "draw_box",
    "draw_label",
    "draw_text_block",
    "draw_trail",
    "id_color",
    "id_color_rgb",
    "label_box",
    "overlap",
    "overlay_mask",
    "text_block_size",
    "track_label",
]

MISS_COLOR = (0, 0, 255)  # red (BGR): ground truth the tracker missed
SWITCH_COLOR = (0, 255, 255)  # yellow: an identity switch

PALETTE = (
    "4363d8", "f58231", "3cb44b", "f032e6", "42d4f4", "9a6324",
    "911eb4", "fabed4", "000075", "469990", "ffffff", "808000",
)  # fmt: skip
"""Twelve colours any two of which a viewer tells apart (CIELAB distance above 29), none close
to the red of a miss or the yellow of an id switch (above 43): blue, orange, green, magenta,
cyan, brown, purple, pink, navy, teal, white, olive, from Sasha Trubetskoy's list of 20
distinct colours with the reds, yellows and near-twins left out."""


def id_color_rgb(track_id: int) -> tuple[float, float, float]:
    """An id's colour as RGB in [0, 1]: fixed by the id alone, so it never changes.

    Ids take the palette in turn, so any twelve consecutive ids (those that are on screen
    together, mostly) all differ. The golden-ratio hues used before put ids 2, 7 and 15 in
    three near greens.
    """
    code = PALETTE[(int(track_id) - 1) % len(PALETTE)]
    red, green, blue = (int(code[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def id_color(track_id: int) -> tuple[int, int, int]:
    """An id's colour as OpenCV's BGR bytes."""
    red, green, blue = id_color_rgb(track_id)
    return round(blue * 255), round(green * 255), round(red * 255)


class TextStyle:
    """Font scale and stroke for a frame size, so labels stay legible from 360p to 4K."""

    def __init__(self, height: int) -> None:
        self.scale = max(0.4, height / 1100)
        self.thickness = 1 if height < 900 else 2
        self.pad = max(3, round(4 * self.scale))

    def size(self, text: str) -> tuple[int, int, int]:
        import cv2

        (width, height), baseline = cv2.getTextSize(
            text, cv2.FONT_HERSHEY_SIMPLEX, self.scale, self.thickness
        )
        return width, height, baseline


def draw_box(
    image: np.ndarray,
    xyxy: Sequence[float],
    color: tuple[int, int, int],
    thickness: int = 2,
    dashed: bool = False,
) -> None:
    """A rectangle, solid or dashed (dashes about 8 px, gaps 6 px)."""
    import cv2

    x1, y1, x2, y2 = (round(float(v)) for v in xyxy)
    if not dashed:
        cv2.rectangle(image, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        return
    dash, gap = 8, 6
    for start, end in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)),
                       ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):  # fmt: skip
        length = max(abs(end[0] - start[0]), abs(end[1] - start[1]))
        for offset in range(0, length, dash + gap):
            stop = min(offset + dash, length)
            a = _along(start, end, offset / max(length, 1))
            b = _along(start, end, stop / max(length, 1))
            cv2.line(image, a, b, color, thickness, cv2.LINE_AA)


def _along(start: tuple[int, int], end: tuple[int, int], t: float) -> tuple[int, int]:
    return round(start[0] + (end[0] - start[0]) * t), round(start[1] + (end[1] - start[1]) * t)


def track_label(track_id: int, class_name: str | None = None) -> str:
    """A track's tag: its id, and its class unless it is a person (the default class), so a
    car and a person are told apart while a people-only video keeps short tags."""
    if class_name is None or class_name.lower() in ("person", "pedestrian"):
        return str(track_id)
    return f"{track_id} {class_name}"


def draw_label(
    image: np.ndarray,
    text: str,
    corner: tuple[float, float],
    color: tuple[int, int, int],
    style: TextStyle,
    avoid: tuple[int, int, int, int] | None = None,
) -> tuple[int, int, int, int]:
    """A filled tag in `color` with `text`, its top-left at `corner` (kept inside the image).

    A tag that would overlap `avoid` (x1, y1, x2, y2: the corner panel) moves down to just
    below it, so the panel never hides an id. Returns the tag's (x1, y1, x2, y2). Text is
    black on light colours, white on dark ones.
    """
    import cv2

    x1, y1, x2, y2 = label_box(image.shape, text, corner, style, avoid)
    height = style.size(text)[1]
    cv2.rectangle(image, (x1, y1), (x2, y2), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(image, text, (x1 + style.pad, y1 + style.pad + height), cv2.FONT_HERSHEY_SIMPLEX,
                style.scale, ink, style.thickness, cv2.LINE_AA)  # fmt: skip
    return x1, y1, x2, y2


def label_box(
    shape: tuple[int, ...],
    text: str,
    corner: tuple[float, float],
    style: TextStyle,
    avoid: tuple[int, int, int, int] | None = None,
) -> tuple[int, int, int, int]:
    """Where `draw_label` puts a tag: (x1, y1, x2, y2) inside an image of `shape`, below
    `avoid` when it would overlap it."""
    width, height, baseline = style.size(text)
    tag_w, tag_h = width + 2 * style.pad, height + baseline + 2 * style.pad
    x1 = int(np.clip(round(corner[0]), 0, max(0, shape[1] - tag_w)))
    y1 = int(np.clip(round(corner[1]), 0, max(0, shape[0] - tag_h)))
    if avoid is not None and overlap((x1, y1, x1 + tag_w, y1 + tag_h), avoid):
        y1 = min(avoid[3] + 1, max(0, shape[0] - tag_h))
    return x1, y1, x1 + tag_w, y1 + tag_h


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two (x1, y1, x2, y2) rectangles share any pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def text_block_size(lines: Sequence[str], style: TextStyle) -> tuple[int, int]:
    """(width, height) of the panel `draw_text_block` draws for `lines` (0, 0 for none)."""
    if not lines:
        return 0, 0
    sizes = [style.size(line) for line in lines]
    line_h = max(h + b for _, h, b in sizes) + style.pad
    return max(w for w, _, _ in sizes) + 2 * style.pad, line_h * len(lines) + style.pad


def draw_text_block(image: np.ndarray, lines: Sequence[str], style: TextStyle) -> None:
    """White lines on a dark translucent panel in the top-left corner (frame number, counts)."""
    import cv2

    if not lines:
        return
    sizes = [style.size(line) for line in lines]
    line_h = max(h + b for _, h, b in sizes) + style.pad
    width, height = text_block_size(lines, style)
    panel = image[:height, :width]
    panel[:] = (panel * 0.35).astype(image.dtype)
    for i, line in enumerate(lines):
        y = style.pad + (i + 1) * line_h - style.pad - sizes[i][2]
        cv2.putText(image, line, (style.pad, y), cv2.FONT_HERSHEY_SIMPLEX, style.scale,
                    (255, 255, 255), style.thickness, cv2.LINE_AA)  # fmt: skip


def draw_trail(
    image: np.ndarray, points: np.ndarray, color: tuple[int, int, int], thickness: int = 2
) -> None:
    """A polyline through (K, 2) points, oldest first."""
    import cv2

    if len(points) < 2:
        return
    cv2.polylines(image, [np.round(points).astype(np.int32)], False, color, thickness, cv2.LINE_AA)


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], alpha: float = 0.45
) -> None:
    """Tint the pixels of a (H, W) bool mask with `color`."""
    if not mask.any():
        return
    pixels = image[mask].astype(np.float32)
    image[mask] = (pixels * (1 - alpha) + np.asarray(color, np.float32) * alpha).astype(image.dtype)
