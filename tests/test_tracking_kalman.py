"""Batched Kalman filter: prediction, correction, re-update and camera warps."""

from __future__ import annotations

import numpy as np

from mot_cli.tracking import kalman

NOISE = kalman.KalmanNoise()


def test_box_conversions_round_trip() -> None:
    boxes = np.array([[10, 20, 50, 120.0]])
    z = kalman.xyxy_to_z(boxes)
    assert np.allclose(z, [[30, 70, 40, 100]])
    assert np.allclose(kalman.z_to_xyxy(z), boxes)


def test_predict_moves_by_velocity_and_grows_uncertainty() -> None:
    mean, cov = kalman.initiate(np.array([[0, 0, 40, 100.0]]), NOISE)
    mean[0, 4:6] = [3.0, -1.0]
    new_mean, new_cov = kalman.predict(mean, cov, NOISE)
    assert np.allclose(new_mean[0, :4], [23, 49, 40, 100])
    assert np.all(np.diag(new_cov[0]) > np.diag(cov[0]))
    assert np.allclose(new_cov[0], new_cov[0].T)


def test_predict_matches_dense_formula() -> None:
    rng = np.random.default_rng(0)
    mean = np.abs(rng.normal(50, 10, (3, 8)))
    a = rng.normal(size=(3, 8, 8))
    cov = a @ a.transpose(0, 2, 1)
    f = np.eye(8)
    f[:4, 4:] = np.eye(4)
    _, got = kalman.predict(mean, cov, NOISE)
    q_free = f @ cov @ f.T
    off_diag = ~np.eye(8, dtype=bool)
    assert np.allclose(got[:, off_diag], q_free[:, off_diag])


def test_update_moves_towards_observation() -> None:
    mean, cov = kalman.initiate(np.array([[0, 0, 40, 100.0]]), NOISE)
    mean, cov = kalman.predict(mean, cov, NOISE)
    obs = np.array([[10, 0, 50, 100.0]])
    new_mean, new_cov = kalman.update(mean, cov, obs, NOISE)
    assert 20 < new_mean[0, 0] < 30  # between prediction (20) and observation (30)
    assert new_mean[0, 4] > 0  # learns a rightward velocity
    assert np.all(np.diag(new_cov[0])[:4] < np.diag(cov[0])[:4])


def test_constant_velocity_is_learned() -> None:
    mean, cov = kalman.initiate(np.array([[0, 0, 40, 100.0]]), NOISE)
    for k in range(1, 40):
        mean, cov = kalman.predict(mean, cov, NOISE)
        mean, cov = kalman.update(mean, cov, np.array([[5.0 * k, 0, 40 + 5.0 * k, 100]]), NOISE)
    assert abs(mean[0, 4] - 5.0) < 0.1


def test_re_update_refits_velocity_over_gap() -> None:
    mean, cov = kalman.initiate(np.array([[0, 0, 40, 100.0]]), NOISE)
    last = np.array([[0, 0, 40, 100.0]])
    new = np.array([[50, 0, 90, 100.0]])  # reappears 10 frames later, 5 px per frame
    m, _ = kalman.re_update(mean, cov, last, new, np.array([10]), NOISE)
    assert 2.0 < m[0, 4] < 6.0
    assert abs(m[0, 0] - 70) < 5  # close to the new box's centre
    plain, _ = kalman.update(*kalman.predict(mean, cov, NOISE), new, NOISE)
    assert np.allclose(kalman.re_update(mean, cov, last, new, np.array([1]), NOISE)[0], plain)


def test_warp_translation_and_scale() -> None:
    mean, cov = kalman.initiate(np.array([[0, 0, 40, 100.0]]), NOISE)
    mean[0, 4:6] = [2.0, 0.0]
    affine = np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -5.0]])
    m, c = kalman.warp_state(mean, cov, affine)
    assert np.allclose(m[0, :4], [50, 95, 80, 200])
    assert np.allclose(m[0, 4:6], [4.0, 0.0])
    assert np.allclose(c[0, 0, 0], 4 * cov[0, 0, 0])
    homography = np.vstack([affine, [0, 0, 1]])
    m2, c2 = kalman.warp_state(mean, cov, homography)
    assert np.allclose(m2, m) and np.allclose(c2, c)
    boxes = kalman.warp_boxes(np.array([[0, 0, 40, 100.0], [np.nan] * 4]), affine)
    assert np.allclose(boxes[0], [10, -5, 90, 195])
    assert np.isnan(boxes[1]).all()
