"""A batched constant-velocity Kalman filter on boxes, with OC-SORT's re-update and camera warps.

State per track: ``x = (cx, cy, w, h, vcx, vcy, vw, vh)``, observation ``z = (cx, cy, w, h)``.

Why (cx, cy, w, h) and not SORT/OC-SORT's (cx, cy, s = area, r = aspect): width and height
each get a velocity (OC-SORT keeps the aspect ratio constant, so a pedestrian's swinging legs
and partial occlusions leak into the area only), a box cannot get a negative area from an
extrapolated area velocity, and the noise can be made proportional to the box's own size as
BoT-SORT does (ref: Aharon et al. 2022, BoT-SORT §3.1), so one set of noise values suits
small far-away and large near pedestrians alike. A camera warp also maps this state simply:
the centre and its velocity go through the affine's linear part, sizes through its scale.

Everything works on stacks of tracks at once: ``mean`` is (T, 8) and ``cov`` is (T, 8, 8), so
a frame costs a few numpy calls whatever the number of tracks. The motion model's block
structure (F = [[I, I], [0, I]]) is written out instead of multiplying 8x8 matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_H_IDX = np.arange(4)
_DIAG8 = np.arange(8)
_WH8 = np.array([2, 3, 2, 3, 2, 3, 2, 3])


@dataclass(frozen=True)
class KalmanNoise:
    """Noise standard deviations as fractions of the box's width/height (ref: BoT-SORT).

    Attributes:
        std_position: position/size noise per unit of box size (process and measurement).
        std_velocity: velocity noise per unit of box size, per frame.
    """

    std_position: float = 1.0 / 20.0
    std_velocity: float = 1.0 / 160.0


def xyxy_to_z(xyxy: np.ndarray) -> np.ndarray:
    """Boxes (N, 4) x1 y1 x2 y2 to observations (N, 4) cx cy w h."""
    xyxy = np.asarray(xyxy, dtype=np.float64)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    return np.concatenate([xyxy[:, :2] + wh / 2, wh], axis=1)


def z_to_xyxy(z: np.ndarray) -> np.ndarray:
    """Observations or states (N, >=4) cx cy w h ... to boxes (N, 4) x1 y1 x2 y2."""
    half = z[:, 2:4] / 2
    return np.concatenate([z[:, :2] - half, z[:, :2] + half], axis=1)


def _size_scale(mean: np.ndarray) -> np.ndarray:
    """(T, 8) per-component scale (w, h, w, h, w, h, w, h) used to size the noise."""
    return np.abs(mean[:, _WH8])


def initiate(xyxy: np.ndarray, noise: KalmanNoise) -> tuple[np.ndarray, np.ndarray]:
    """Start tracks at boxes (N, 4) with zero velocity and wide velocity uncertainty."""
    z = xyxy_to_z(xyxy)
    n = len(z)
    mean = np.zeros((n, 8))
    mean[:, :4] = z
    scale = _size_scale(mean)
    std = np.empty((n, 8))
    std[:, :4] = 2 * noise.std_position * scale[:, :4]
    std[:, 4:] = 10 * noise.std_velocity * scale[:, 4:]
    cov = np.zeros((n, 8, 8))
    idx = np.arange(8)
    cov[:, idx, idx] = std**2
    return mean, cov


def predict(mean: np.ndarray, cov: np.ndarray, noise: KalmanNoise) -> tuple[np.ndarray, np.ndarray]:
    """One frame of constant-velocity motion for every track; returns new arrays.

    A size velocity that would make a box collapse is zeroed first (OC-SORT does the same for
    its area), so a shrinking track cannot predict a negative width.
    """
    mean = mean.copy()
    collapse = mean[:, 2:4] + mean[:, 6:8] <= 0
    mean[:, 6:8][collapse] = 0.0
    mean[:, :4] += mean[:, 4:]
    a, b, c = cov[:, :4, :4], cov[:, :4, 4:], cov[:, 4:, 4:]
    bt = np.swapaxes(b, 1, 2)
    out = np.empty_like(cov)
    out[:, :4, :4] = a + b + bt + c
    out[:, :4, 4:] = b + c
    out[:, 4:, :4] = bt + c
    out[:, 4:, 4:] = c
    scale = _size_scale(mean)
    q = np.empty_like(scale)
    q[:, :4] = (noise.std_position * scale[:, :4]) ** 2
    q[:, 4:] = (noise.std_velocity * scale[:, 4:]) ** 2
    out[:, _DIAG8, _DIAG8] += q
    return mean, out


def update(
    mean: np.ndarray, cov: np.ndarray, xyxy: np.ndarray, noise: KalmanNoise
) -> tuple[np.ndarray, np.ndarray]:
    """Correct every track (row) with its observed box (same row of `xyxy`)."""
    z = xyxy_to_z(xyxy)
    r = (noise.std_position * np.abs(mean[:, _WH8[:4]])) ** 2
    s = cov[:, :4, :4].copy()
    s[:, _H_IDX, _H_IDX] += r
    pht = cov[:, :, :4]  # P H^T, (T, 8, 4)
    gain = np.swapaxes(np.linalg.solve(s, np.swapaxes(pht, 1, 2)), 1, 2)  # P H^T S^-1
    innovation = z - mean[:, :4]
    mean = mean + np.einsum("tij,tj->ti", gain, innovation)
    cov = cov - gain @ cov[:, :4, :]
    return mean, cov


def re_update(
    saved_mean: np.ndarray,
    saved_cov: np.ndarray,
    last_xyxy: np.ndarray,
    new_xyxy: np.ndarray,
    gaps: np.ndarray,
    noise: KalmanNoise,
) -> tuple[np.ndarray, np.ndarray]:
    """Observation-centric re-update (ref: OC-SORT §3.3, "ORU").

    A track lost for ``gap - 1`` frames drifted on its own predictions, accumulating velocity
    error. When it is matched again, go back to the filter state saved at its last
    observation and replay the gap with virtual observations on the straight line between
    the last observed box and the new one, so the velocity is re-fitted to the real motion.

    Args:
        saved_mean: (T, 8) states right after the last observation.
        saved_cov: (T, 8, 8) their covariances.
        last_xyxy: (T, 4) last observed boxes.
        new_xyxy: (T, 4) the boxes just matched.
        gaps: (T,) frames from the last observation to now (>= 1; 1 is an ordinary update).
        noise: the filter's noise settings.
    """
    gaps = np.asarray(gaps, dtype=np.int64)
    mean, cov = saved_mean.copy(), saved_cov.copy()
    z_last, z_new = xyxy_to_z(last_xyxy), xyxy_to_z(new_xyxy)
    for step in range(1, int(gaps.max(initial=0)) + 1):
        active = step <= gaps
        frac = (step / gaps[active])[:, None]
        z = z_last[active] + frac * (z_new[active] - z_last[active])
        m, c = predict(mean[active], cov[active], noise)
        m, c = update(m, c, z_to_xyxy(z), noise)
        mean[active], cov[active] = m, c
    return mean, cov


def _linear_parts(matrix: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map points (N, 2) through a 2x3 affine or 3x3 homography; also its Jacobians (N, 2, 2)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(points)
    if matrix.shape == (2, 3):
        lin = matrix[:, :2]
        mapped = points @ lin.T + matrix[:, 2]
        return mapped, np.broadcast_to(lin, (n, 2, 2))
    if matrix.shape != (3, 3):
        raise ValueError(f"warp must be a 2x3 affine or a 3x3 homography, got {matrix.shape}")
    homog = points @ matrix[:, :2].T + matrix[:, 2]
    w = homog[:, 2:3]
    mapped = homog[:, :2] / w
    # d(mapped)/d(point) = (H[:2,:2] - mapped (x) H[2,:2]) / w
    jac = (matrix[None, :2, :2] - mapped[:, :, None] * matrix[None, 2:3, :2]) / w[:, :, None]
    return mapped, jac


def warp_state(
    mean: np.ndarray, cov: np.ndarray, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move states from the previous frame's pixels into the current frame's (camera motion).

    The centre goes through the warp, the centre velocity through its local linear part, and
    sizes and size velocities through that part's isotropic scale sqrt|det|; the covariance
    follows with the same Jacobian (J P J^T).
    """
    if len(mean) == 0:
        return mean, cov
    centres, lin = _linear_parts(matrix, mean[:, :2])
    scale = np.sqrt(np.abs(np.linalg.det(lin)))
    n = len(mean)
    jac = np.zeros((n, 8, 8))
    jac[:, 0:2, 0:2] = lin
    jac[:, 4:6, 4:6] = lin
    for i in (2, 3, 6, 7):
        jac[:, i, i] = scale
    out = mean.copy()
    out[:, :2] = centres
    out[:, 2:4] *= scale[:, None]
    out[:, 4:6] = np.einsum("nij,nj->ni", lin, mean[:, 4:6])
    out[:, 6:8] *= scale[:, None]
    return out, jac @ cov @ np.swapaxes(jac, 1, 2)


def warp_boxes(xyxy: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Move boxes (N, 4) into the current frame the same way `warp_state` moves states.

    Rows of NaN (missing observations) stay NaN.
    """
    if len(xyxy) == 0:
        return xyxy
    z = xyxy_to_z(xyxy)
    centres, lin = _linear_parts(matrix, z[:, :2])
    scale = np.sqrt(np.abs(np.linalg.det(lin)))
    z[:, :2] = centres
    z[:, 2:] *= scale[:, None]
    return z_to_xyxy(z)
