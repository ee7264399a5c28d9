"""Logistic regression by Newton's method: the one fitter socialsight's small learnt heads
share (entity-score calibration, the scene head in tools/models)."""

from __future__ import annotations

import numpy as np


def fit(x: np.ndarray, y: np.ndarray, ridge: np.ndarray, iterations: int = 50,
        tolerance: float = 1e-8) -> np.ndarray:
    """Weights ``w`` of ``P(y = 1) = 1 / (1 + exp(-x @ w))`` with ``ridge / 2 · w²`` as the
    penalty of each weight (0 leaves one free, a bias column's); stops when no step
    moves a weight by ``tolerance``."""
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30.0, 30.0)))
        gradient = x.T @ (p - y) + ridge * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < tolerance:
            break
    return w
