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
    """Mean and variance of a stream of batches (parallel algorithm of Chan et al.).

    Grouped statistics (:meth:`grouped`): ``mean`` and ``var`` (G, d) and ``count`` (G, 1), one
    normaliser per group (PGMORL's policies each keep their own), updated together with batches
    shaped (n, G, d); a group's statistics are copied in and out with :meth:`row` / :meth:`set_row`.
    """

    mean: np.ndarray
    var: np.ndarray
    count: float | np.ndarray = 1e-4

    @classmethod
    def zeros(cls, shape: tuple[int, ...]) -> RunningMeanStd:
        return cls(np.zeros(shape), np.ones(shape))

    @classmethod
    def grouped(cls, groups: int, shape: tuple[int, ...]) -> RunningMeanStd:
        """``groups`` independent fresh normalisers of ``shape`` (a 1-D shape)."""
        return cls(np.zeros((groups, *shape)), np.ones((groups, *shape)), np.full((groups, 1), 1e-4))

    @property
    def groups(self) -> int | None:
        """The number of groups, None for a single normaliser."""
        return None if np.ndim(self.count) == 0 else int(np.shape(self.count)[0])

    def row(self, group: int) -> RunningMeanStd:
        """A copy of one group's statistics as a single normaliser."""
        assert self.groups is not None
        return RunningMeanStd(self.mean[group].copy(), self.var[group].copy(), float(np.asarray(self.count)[group, 0]))

    def set_row(self, group: int, stats: RunningMeanStd) -> None:
        """Overwrite one group with a single normaliser's statistics."""
        assert self.groups is not None and isinstance(self.count, np.ndarray)
        self.mean[group], self.var[group], self.count[group, 0] = stats.mean, stats.var, float(stats.count)

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, dtype=np.float64).reshape(-1, *self.mean.shape)
        n = len(batch)
        if n == 0:
            return
        # np.mean and np.var, written out so the mean is computed once (called every env step)
        batch_mean = np.add.reduce(batch, axis=0) / n
        centred = batch - batch_mean
        batch_var = np.add.reduce(centred * centred, axis=0) / n
        self.update_moments(batch_mean, batch_var, n)

    def update_moments(self, batch_mean: np.ndarray, batch_var: np.ndarray, n: int) -> None:
        """Merge a batch of ``n`` samples (per group) given by its mean and variance."""
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + np.square(delta) * self.count * n / total
        self.var = m2 / total
        self.count = total

    def state(self) -> dict[str, Any]:
        count = self.count.tolist() if isinstance(self.count, np.ndarray) else float(self.count)
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": count}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunningMeanStd:
        mean = np.asarray(state["mean"], dtype=np.float64)
        raw = state["count"]
        count: float | np.ndarray = (
            np.asarray(raw, dtype=np.float64).reshape(len(mean), 1) if isinstance(raw, list) else float(raw)
        )
        return cls(mean, np.asarray(state["var"], dtype=np.float64).reshape(mean.shape), count)


def normalize_observations(obs: np.ndarray, stats: RunningMeanStd) -> np.ndarray:
    """Normalised observations; with grouped statistics of G groups, ``obs`` rows are G equal
    consecutive blocks, block g normalised by group g (a population's env rows)."""
    groups = stats.groups
    if groups is None:
        return np.clip((obs - stats.mean) / np.sqrt(stats.var + EPSILON), -CLIP, CLIP)
    blocks = obs.reshape(groups, -1, obs.shape[-1])
    scaled = (blocks - stats.mean[:, None]) / np.sqrt(stats.var[:, None] + EPSILON)
    return np.clip(scaled, -CLIP, CLIP).reshape(obs.shape)


def row_statistics(stats: RunningMeanStd, num_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``num_rows`` rows' normalisation as (mean, std) arrays (num_rows, d), std =
    sqrt(var + eps), so that ``clip((o - mean) / std, ±CLIP)`` is exactly
    :func:`normalize_observations` (rows in G equal consecutive blocks with grouped statistics)."""
    std = np.sqrt(stats.var + EPSILON)
    groups = stats.groups
    if groups is None:
        return np.tile(stats.mean, (num_rows, 1)), np.tile(std, (num_rows, 1))
    return np.repeat(stats.mean, num_rows // groups, axis=0), np.repeat(std, num_rows // groups, axis=0)


def update_stats_from_rows(stats: RunningMeanStd, mean: np.ndarray, m2: np.ndarray, samples: int) -> None:
    """Update ``stats`` with rows that each hold ``samples`` observations, given by each row's
    mean and sum of squared deviations (N, d) (rows in G equal consecutive blocks with grouped
    statistics): the same statistics as updating with all N·samples observations."""
    groups = stats.groups or 1
    rows = len(mean) // groups
    mean_g = mean.reshape(groups, rows, -1)
    batch_mean = mean_g.mean(axis=1)  # (G, d): rows have equal counts
    spread = np.square(mean_g - batch_mean[:, None]).sum(axis=1) * samples
    batch_var = (m2.reshape(groups, rows, -1).sum(axis=1) + spread) / (rows * samples)
    if stats.groups is None:
        stats.update_moments(batch_mean[0], batch_var[0], rows * samples)
    else:
        stats.update_moments(batch_mean, batch_var, rows * samples)


def update_stats(stats: RunningMeanStd, batch: np.ndarray) -> None:
    """Update ``stats`` with a batch of rows: all rows for a single normaliser; with G groups,
    the rows are G equal consecutive blocks and block g updates group g."""
    groups = stats.groups
    if groups is None:
        stats.update(batch)
    else:
        stats.update(batch.reshape(groups, -1, batch.shape[-1]).swapaxes(0, 1))


class ReturnNormalizer:
    """Scales each objective by the running std of its discounted return, per env."""

    def __init__(self, num_envs: int, num_objectives: int, gamma: float, stats: RunningMeanStd | None = None,
                 zero_at_episode_end: bool = False) -> None:  # fmt: skip
        """``zero_at_episode_end``: record the discounted return of an episode's last step as 0 in
        the statistics, as the Hyper-MORL authors' code does (a deviation, off by default)."""
        self.gamma = gamma
        self.stats = stats if stats is not None else RunningMeanStd.zeros((num_objectives,))
        self.returns = np.zeros((num_envs, num_objectives))
        self.zero_at_episode_end = zero_at_episode_end

    @property
    def scale(self) -> np.ndarray:
        """The factor that turns a normalised objective back into the raw one: (m,), or one row
        per env (num_envs, m) with grouped statistics."""
        scale = np.sqrt(self.stats.var + EPSILON)
        groups = self.stats.groups
        return scale if groups is None else np.repeat(scale, len(self.returns) // groups, axis=0)

    def __call__(self, rewards: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
        """Normalised rewards for one batched step; updates the statistics."""
        self.returns = self.returns * self.gamma + rewards
        recorded = np.where(episode_end[:, None], 0.0, self.returns) if self.zero_at_episode_end else self.returns
        update_stats(self.stats, recorded)
        self.returns[episode_end] = 0.0
        return np.clip(rewards / self.scale, -CLIP, CLIP)

    def normalize_rollout(self, rewards: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for every step of a rollout at once: rewards (T, N, m), episode_end
        (T, N) → normalised rewards (T, N, m). Each step is scaled by the statistics updated
        through that step, as T calls would, with the statistics of every step computed from
        running sums of deviations from the starting mean (equal to the step-by-step update to
        rounding; one vectorised pass instead of T small updates)."""
        steps, num_envs, m = rewards.shape
        returns = np.empty_like(rewards)
        running = self.returns
        for t in range(steps):
            running = running * self.gamma + rewards[t]
            returns[t] = running
            running = np.where(episode_end[t][:, None], 0.0, running)
        self.returns = running
        if self.zero_at_episode_end:
            returns = np.where(episode_end[:, :, None], 0.0, returns)
        groups = self.stats.groups or 1
        mean0 = np.reshape(self.stats.mean, (groups, m))
        var0 = np.reshape(self.stats.var, (groups, m))
        count0 = np.reshape(np.asarray(self.stats.count, dtype=np.float64), (groups, 1))
        deviation = returns.reshape(steps, groups, num_envs // groups, m) - mean0[None, :, None, :]
        first = np.cumsum(deviation.sum(axis=2), axis=0)  # (T, G, m)
        second = np.cumsum(np.square(deviation).sum(axis=2), axis=0)
        counts = count0[None] + (num_envs // groups) * np.arange(1, steps + 1, dtype=np.float64)[:, None, None]
        shift = first / counts
        var = np.maximum(count0[None] * var0[None] + second - counts * np.square(shift), 0.0) / counts
        scale = np.sqrt(var + EPSILON)  # (T, G, m)
        normalised = rewards.reshape(steps, groups, num_envs // groups, m) / scale[:, :, None, :]
        mean_last, var_last, count_last = mean0 + shift[-1], var[-1], counts[-1]
        if self.stats.groups is None:
            self.stats.mean, self.stats.var, self.stats.count = mean_last[0], var_last[0], float(count_last[0, 0])
        else:
            self.stats.mean, self.stats.var, self.stats.count = mean_last, var_last, count_last
        return np.clip(normalised.reshape(steps, num_envs, m), -CLIP, CLIP)
