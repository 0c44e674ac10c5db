"""Drawing on BGR frames: a colour per id, boxes (solid or dashed), labels, trails, masks.

Pure functions that draw in place with OpenCV; the render loop composes them.
"""

from __future__ import annotations

import colorsys
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
    "overlay_mask",
    "track_label",
]

_GOLDEN = 0.618033988749895
MISS_COLOR = (0, 0, 255)  # red (BGR): ground truth the tracker missed
SWITCH_COLOR = (0, 255, 255)  # yellow: an identity switch


def id_color_rgb(track_id: int) -> tuple[float, float, float]:
    """An id's colour as RGB in [0, 1]: fixed by the id alone, so it never changes.

    Hues step by the golden ratio, so consecutive ids (which appear together) get far-apart
    hues; saturation and value alternate slightly to separate ids whose hues come close.
    """
    hue = (int(track_id) * _GOLDEN) % 1.0
    saturation = 0.95 if track_id % 2 else 0.75
    value = 1.0 if (track_id // 2) % 2 else 0.85
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
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
) -> tuple[int, int, int, int]:
    """A filled tag in `color` with `text`, its top-left at `corner` (kept inside the image).

    Returns the tag's (x1, y1, x2, y2). Text is black on light colours, white on dark ones.
    """
    import cv2

    width, height, baseline = style.size(text)
    tag_w, tag_h = width + 2 * style.pad, height + baseline + 2 * style.pad
    x1 = int(np.clip(round(corner[0]), 0, max(0, image.shape[1] - tag_w)))
    y1 = int(np.clip(round(corner[1]), 0, max(0, image.shape[0] - tag_h)))
    cv2.rectangle(image, (x1, y1), (x1 + tag_w, y1 + tag_h), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(image, text, (x1 + style.pad, y1 + style.pad + height), cv2.FONT_HERSHEY_SIMPLEX,
                style.scale, ink, style.thickness, cv2.LINE_AA)  # fmt: skip
    return x1, y1, x1 + tag_w, y1 + tag_h


def draw_text_block(image: np.ndarray, lines: Sequence[str], style: TextStyle) -> None:
    """White lines on a dark translucent panel in the top-left corner (frame number, counts)."""
    import cv2

    if not lines:
        return
    sizes = [style.size(line) for line in lines]
    line_h = max(h + b for _, h, b in sizes) + style.pad
    width = max(w for w, _, _ in sizes) + 2 * style.pad
    height = line_h * len(lines) + style.pad
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
