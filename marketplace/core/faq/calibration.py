"""The bot's confidence: a logistic function of the best entry's features, fitted offline on a training set.

Fitted so that a brand's threshold means what it says: of the answers given at confidence about c, a share of about
c is the right entry. `marketplace faq calibrate` refits the constants below (faq/evaluation.py) and prints them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURES = ("message_covered", "phrasing_covered", "margin", "strength", "unknown", "unknown_share", "corrected",
            "bigram")

# Fitted by `marketplace faq calibrate` on tests/faq/eval/demo-dev.jsonl and the demo bases' own ways of asking.
INTERCEPT = -2.2900
COEFFICIENTS = {
    "message_covered": 0.7743,
    "phrasing_covered": 0.8538,
    "margin": 0.4945,
    "strength": 3.5739,
    "unknown": -0.2483,
    "unknown_share": -1.5734,
    "corrected": -1.0338,
    "bigram": -0.6442,
}


@dataclass(frozen=True)
class Model:
    """A fitted logistic function: the intercept and one coefficient per feature."""

    intercept: float
    coefficients: dict[str, float]

    def confidence(self, features: dict[str, float]) -> float:
        """The probability that the entry with these features is the right one."""
        z = self.intercept + sum(self.coefficients[name] * features[name] for name in FEATURES)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


FITTED = Model(INTERCEPT, COEFFICIENTS)


def fit(rows: Sequence[dict[str, float]], outcomes: Sequence[bool], *, ridge: float = 1.0,
        iterations: int = 50) -> Model:
    """The intercept and coefficients that best predict `outcomes` from `rows` (L2-regularised logistic regression,
    Newton's method)."""
    x = np.array([[1.0] + [row[name] for name in FEATURES] for row in rows])
    y = np.array([1.0 if outcome else 0.0 for outcome in outcomes])
    weights = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * ridge
    penalty[0, 0] = 0.0  # the intercept is free
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ weights, -30, 30)))
        gradient = x.T @ (p - y) + penalty @ weights
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return Model(float(weights[0]), {name: float(value) for name, value in zip(FEATURES, weights[1:], strict=True)})


def reliability(confidences: Sequence[float], outcomes: Sequence[bool],
                edges: Sequence[float] = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)) -> list[dict]:
    """Per confidence band: how many answers fell in it, their mean confidence and the share that were right."""
    bands = []
    for low, high in zip(edges, edges[1:], strict=False):
        inside = [(c, o) for c, o in zip(confidences, outcomes, strict=True)
                  if low <= c < high or (high == edges[-1] and c == high)]
        bands.append({"low": low, "high": high, "count": len(inside),
                      "confidence": sum(c for c, _ in inside) / len(inside) if inside else None,
                      "right": sum(1 for _, o in inside if o) / len(inside) if inside else None})
    return bands
