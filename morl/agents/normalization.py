"""Running normalisation statistics (float64 numpy), as in PGMORL and Hyper-MORL.

Observations: ``clip((o - μ) / sqrt(σ² + 1e-8), ±10)``; statistics start at count 1e-4 and are
updated with **raw** observations only (the authors' code also fed normalised ones during Pareto
set learning; that deviation is not reproduced).

Objectives: each objective is divided by the running std of its γ-discounted return (no
centring), clipped to ±10. The discounted return of a finished episode is recorded **including**
its terminal step before it is reset (the authors' code recorded 0 there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EPSILON = 1e-8
CLIP = 10.0


@dataclass
class RunningMeanStd:
    """Mean and variance of a stream of batches (parallel algorithm of Chan et al.)."""

    mean: np.ndarray
    var: np.ndarray
    count: float = 1e-4

    @classmethod
    def zeros(cls, shape: tuple[int, ...]) -> RunningMeanStd:
        return cls(np.zeros(shape), np.ones(shape))

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, dtype=np.float64).reshape(-1, *self.mean.shape)
        n = len(batch)
        if n == 0:
            return
        # np.mean and np.var, written out so the mean is computed once (called every env step)
        batch_mean = np.add.reduce(batch, axis=0) / n
        centred = batch - batch_mean
        batch_var = np.add.reduce(centred * centred, axis=0) / n
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + np.square(delta) * self.count * n / total
        self.var = m2 / total
        self.count = total

    def state(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": float(self.count)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunningMeanStd:
        mean = np.asarray(state["mean"], dtype=np.float64)
        return cls(mean, np.asarray(state["var"], dtype=np.float64).reshape(mean.shape), float(state["count"]))


def normalize_observations(obs: np.ndarray, stats: RunningMeanStd) -> np.ndarray:
    return np.clip((obs - stats.mean) / np.sqrt(stats.var + EPSILON), -CLIP, CLIP)


class ReturnNormalizer:
    """Scales each objective by the running std of its discounted return, per env."""

    def __init__(self, num_envs: int, num_objectives: int, gamma: float, stats: RunningMeanStd | None = None) -> None:
        self.gamma = gamma
        self.stats = stats if stats is not None else RunningMeanStd.zeros((num_objectives,))
        self.returns = np.zeros((num_envs, num_objectives))

    @property
    def scale(self) -> np.ndarray:
        """The factor that turns a normalised objective back into the raw one."""
        return np.sqrt(self.stats.var + EPSILON)

    def __call__(self, rewards: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
        """Normalised rewards for one batched step; updates the statistics."""
        self.returns = self.returns * self.gamma + rewards
        self.stats.update(self.returns)
        self.returns[episode_end] = 0.0
        return np.clip(rewards / self.scale, -CLIP, CLIP)
