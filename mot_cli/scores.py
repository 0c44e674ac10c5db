"""Detection scores as probabilities, by a fixed rule per detector that no sequence can shift.

The tracker thresholds scores, so one threshold must mean the same thing on every video. A
rule computed from the sequence itself (its rank or min-max range) does not: a video full of
weak boxes then promotes its own weakest boxes past the threshold. Instead:

- ultralytics detectors (YOLO and the rest) already give probabilities: used as they are;
- a MOTChallenge `det.txt` is imported with the calibration of the detector that wrote it,
  a logistic map ``p = 1 / (1 + exp(-(s - centre) / width))`` with fixed constants, so that
  one threshold means one thing whichever detector made the boxes. The constants put each
  box on the scale of the ultralytics scores the tracker's thresholds were tuned on: a box
  gets the YOLO11n score that has the same precision (the fraction of boxes overlapping a
  ground-truth person at IoU >= 0.5) on the dev set's labelled detections:

  ======  =======  =====  ==========================================================
  name    centre   width  fitted on
  ======  =======  =====  ==========================================================
  acf     34.6     24.1   MOT15 ACF margins of TUD-Campus, TUD-Stadtmitte, KITTI-17:
                          half the boxes are people at a margin of 17 (~0.33), 90 %
                          at 50 (~0.64), as YOLO11n boxes are at those scores
  dpm     0.30     0.48   MOT16 DPM scores of MOT16-11 (its only DPM sequence): half
                          are people at -0.1 (~0.33), 86 % at 0.46 (~0.6)
  ======  =======  =====  ==========================================================

  `auto` picks the family from the file's score range only (all in [0, 1]: probabilities;
  above 10: ACF; else DPM), so the choice depends on which detector wrote the file, never
  on how many weak boxes it holds. ``logistic:CENTRE:WIDTH`` takes any other detector.

- A scene can score lower on the same detector: ETH-Sunnyday's ACF margins have a median of
  20.6 against 37-55 on the sequences the ACF constants were fitted on, and the fixed map
  cut most of its true people. So a named family also carries the lowest median its
  constants were fitted on (ACF 37.2, TUD-Campus; DPM 0.65, MOT16-11), and a file whose
  median lies below it has the centre lowered by the difference, **at most one width**
  (`fitted_to`). The rule cannot collapse the way a per-sequence rank or min-max does:
  it only ever lowers the centre, by at most one width, so a box's log-odds rise by at most
  1 over the fixed map (a box at 0.40 can become at most 0.64; one at 0.10, 0.23), whatever
  the file holds; and a file scoring as high as the fitted ones keeps the fixed map
  exactly. A file of nothing but weak boxes gains that one step and no more, where rank
  scaling would promote its weakest half past any threshold.

The map is recorded with the detections cache (manifest) and applied when detections are
handed to the tracker, whose key includes it; the cache keeps the detector's own scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from mot_cli.errors import MotCliError

KINDS = ("probability", "logistic")


@dataclass(frozen=True)
class ScoreMap:
    """A fixed map from a detector's own score scale to a probability in [0, 1].

    Attributes:
        name: what it is called on the command line (probability, acf, dpm, logistic).
        kind: ``probability`` (clip to [0, 1]) or ``logistic``.
        centre: the score mapped to 0.5 (logistic only).
        width: score units per unit of log-odds (logistic only).
        reference_median: the lowest median score of the files the constants were fitted
            on; a file scoring lower gets the centre lowered (`fitted_to`). None: fixed.
        shift: how far `fitted_to` lowered the centre for this file (0: not at all).
    """

    name: str
    kind: str = "probability"
    centre: float = 0.0
    width: float = 1.0
    reference_median: float | None = None
    shift: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MotCliError(
                f"score map kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if not (np.isfinite(self.centre) and np.isfinite(self.width) and self.width > 0):
            raise MotCliError(
                f"logistic score map needs a finite centre and a width > 0, got "
                f"centre={self.centre}, width={self.width}"
            )

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities (float32) for the detector's own scores."""
        s = np.asarray(scores, dtype=np.float64)
        if self.kind == "probability":
            return np.clip(s, 0.0, 1.0).astype(np.float32)
        z = np.clip((s - self.centre) / self.width, -60.0, 60.0)
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def fitted_to(self, scores: np.ndarray) -> ScoreMap:
        """This map for one file: the centre lowered by how far the file's median lies
        below `reference_median`, at most one width (module doc); others as they are."""
        s = np.asarray(scores, dtype=np.float64)
        if self.kind != "logistic" or self.reference_median is None or s.size == 0:
            return self
        shift = float(np.clip(self.reference_median - np.median(s), 0.0, MAX_SHIFT * self.width))
        return replace(
            self, centre=self.centre - shift, reference_median=None, shift=self.shift + shift
        )

    def to_dict(self) -> dict:
        """Plain values for the manifest."""
        return asdict(self)

    def describe(self) -> str:
        """One token naming the map exactly (it goes into the track stage's key)."""
        if self.kind == "probability":
            return self.name
        return f"{self.name}:{self.centre:g}:{self.width:g}"

    @classmethod
    def from_dict(cls, values: dict) -> ScoreMap:
        """The map a manifest recorded."""
        reference = values.get("reference_median")
        return cls(
            name=str(values["name"]),
            kind=str(values["kind"]),
            centre=float(values["centre"]),
            width=float(values["width"]),
            reference_median=None if reference is None else float(reference),
            shift=float(values.get("shift", 0.0)),
        )


MAX_SHIFT = 1.0
"""The most, in widths (units of log-odds), that `fitted_to` lowers a family's centre."""

PROBABILITY = ScoreMap("probability")
NAMED: dict[str, ScoreMap] = {
    "probability": PROBABILITY,
    "acf": ScoreMap("acf", "logistic", 34.6, 24.1, reference_median=37.2),
    "dpm": ScoreMap("dpm", "logistic", 0.30, 0.48, reference_median=0.65),
}
CHOICES = ("auto", *NAMED, "logistic:CENTRE:WIDTH")


def parse_score_map(text: str) -> ScoreMap | None:
    """The map a `--det-score` value names; None for ``auto`` (decided from the file)."""
    value = text.strip().lower()
    if value == "auto":
        return None
    if value in NAMED:
        return NAMED[value]
    name, _, rest = value.partition(":")
    if name == "logistic":
        centre, sep, width = rest.partition(":")
        try:
            if not sep:
                raise ValueError
            return ScoreMap("logistic", "logistic", float(centre), float(width))
        except ValueError:
            pass
    raise MotCliError(
        f"--det-score must be one of {', '.join(CHOICES)} (e.g. logistic:17:10.5), got {text!r}"
    )


def infer_score_map(scores: np.ndarray) -> ScoreMap:
    """The detector family a det.txt's score range reveals (module doc: `auto`)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0):
        return PROBABILITY
    return NAMED["acf"] if s.max() > 10.0 else NAMED["dpm"]
