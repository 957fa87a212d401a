"""Evaluating a preference → policy map on a problem: the return matrix and its front.

The default protocol for the seven benchmark problems is the papers': one episode per
preference, deterministic (mean) actions, undiscounted returns, reference point at the origin.
Every result records the protocol it was measured with, and saves to and loads from JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

import morl
from morl.envs.registration import PROBLEM_IDS, get_problem
from morl.io import atomic_write_text
from morl.pareto import FrontMetrics, FrontMetricsResult
from morl.preferences import evaluation_preferences, simplex_grid, validate_preference
from morl.versions import versions

FORMAT = "morl.front_result"
FORMAT_VERSION = 1


class Policy(Protocol):
    """Anything with ``predict(obs, deterministic)`` for a batch of observations: returns the
    actions, or an ``(actions, state)`` tuple as Stable-Baselines3 does."""

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> Any: ...


PolicyFor = Callable[[np.ndarray], Policy]


@runtime_checkable
class SupportsPolicyFor(Protocol):
    """An agent: ``policy_for(preference)`` gives the policy of a preference (every morl agent)."""

    def policy_for(self, preference: Any) -> Any: ...


PolicySource = PolicyFor | SupportsPolicyFor | Sequence[Policy]


@dataclass(frozen=True)
class EvaluationProtocol:
    """How a front was measured: stated with every number."""

    problem_id: str
    ref_point: tuple[float, ...]
    discount: float
    episodes: int
    seed: int
    deterministic: bool
    versions: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        kind = "undiscounted" if self.discount == 1.0 else f"discounted (gamma={self.discount})"
        mode = "deterministic" if self.deterministic else "stochastic"
        return (
            f"{self.problem_id}: {kind} returns, {self.episodes} episode(s) per preference, {mode} actions, "
            f"seed {self.seed}, reference point {list(self.ref_point)}"
        )


@dataclass(frozen=True)
class FrontResult:
    """The outcome of :func:`evaluate_front`."""

    preferences: np.ndarray  # (P, m)
    returns: np.ndarray  # (P, m): mean over episodes
    episode_returns: np.ndarray  # (P, episodes, m)
    front_indices: tuple[int, ...]  # rows of ``returns`` on the front
    metrics: FrontMetricsResult
    protocol: EvaluationProtocol
    env_steps: int  # environment steps of the evaluation episodes
    training_env_steps: int | None = None

    @property
    def front(self) -> np.ndarray:
        return self.returns[list(self.front_indices)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "preferences": self.preferences.tolist(),
            "returns": self.returns.tolist(),
            "episode_returns": self.episode_returns.tolist(),
            "front_indices": list(self.front_indices),
            "metrics": self.metrics.as_dict(),
            "protocol": asdict(self.protocol),
            "env_steps": self.env_steps,
            "training_env_steps": self.training_env_steps,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON, atomically (an existing file is replaced only by a complete one)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FrontResult:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"front result file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{str(path)!r} is not a valid front result (corrupt JSON: {error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{str(path)!r} is not a morl front result (expected format {FORMAT!r})")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} has format_version {data.get('format_version')!r}; expected {FORMAT_VERSION}"
            )
        try:
            protocol = dict(data["protocol"])
            protocol["ref_point"] = tuple(protocol["ref_point"])
            preferences = np.asarray(data["preferences"], dtype=np.float64)
            returns = np.asarray(data["returns"], dtype=np.float64)
            episode_returns = np.asarray(data["episode_returns"], dtype=np.float64)
            front_indices = tuple(int(i) for i in data["front_indices"])
            count, m = preferences.shape if preferences.ndim == 2 else (-1, -1)
            if (m < 1 or returns.shape != (count, m) or episode_returns.ndim != 3
                    or episode_returns.shape[::2] != (count, m) or len(protocol["ref_point"]) != m
                    or any(not 0 <= i < count for i in front_indices)):  # fmt: skip
                raise ValueError(
                    f"inconsistent shapes: preferences {preferences.shape}, returns {returns.shape}, "
                    f"episode_returns {episode_returns.shape}, ref_point of {len(protocol['ref_point'])}, "
                    f"front_indices {list(front_indices)}"
                )
            return cls(
                preferences=preferences,
                returns=returns,
                episode_returns=episode_returns,
                front_indices=front_indices,
                metrics=FrontMetricsResult(**data["metrics"]),
                protocol=EvaluationProtocol(**protocol),
                env_steps=int(data["env_steps"]),
                training_env_steps=data.get("training_env_steps"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{str(path)!r} is not a valid front result ({error!r})") from None


def default_utility_weights(num_objectives: int) -> np.ndarray:
    """Evenly spaced weights for expected utility: the papers' evaluation sets for m = 2, 3."""
    try:
        return evaluation_preferences(num_objectives)
    except ValueError:
        return simplex_grid(num_objectives, 10)


class _SingleEnvBatch:
    """A minimal batch of plain gymnasium envs for problems outside the benchmark (any env with a
    vector reward); the benchmark problems use the fast :class:`morl.MOVectorEnv` instead."""

    def __init__(self, problem_id: str, num_envs: int) -> None:
        self.envs = [gym.make(problem_id) for _ in range(num_envs)]
        self.done = np.zeros(num_envs, dtype=bool)
        self._last: list[np.ndarray] = []
        self.action_dim = int(np.prod(self.envs[0].action_space.shape or (1,)))
        self.reward_dim = int(self.envs[0].unwrapped.reward_space.shape[0])  # type: ignore[attr-defined]

    def reset(self, seed: int) -> np.ndarray:
        self._last = [env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)]
        return np.stack(self._last)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.envs)
        obs, rewards, ended = [], np.zeros((n, self.reward_dim)), np.zeros(n, dtype=bool)
        for i, env in enumerate(self.envs):
            if self.done[i]:  # finished: keep the last observation, no reward
                obs.append(self._last[i])
                continue
            o, r, terminated, truncated, _ = env.step(actions[i].reshape(env.action_space.shape))
            obs.append(o)
            rewards[i] = r
            ended[i] = terminated or truncated
        self._last = obs
        self.done |= ended
        return np.stack(obs), rewards, ended

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _actions(result: Any) -> np.ndarray:
    return np.asarray(result[0] if isinstance(result, tuple) else result, dtype=np.float64)


def evaluate_front(
    source: PolicySource,
    problem: str,
    preferences: Sequence[Sequence[float]] | np.ndarray | None = None,
    *,
    episodes: int = 1,
    seed: int = 0,
    discount: float = 1.0,
    deterministic: bool = True,
    ref_point: Sequence[float] | None = None,
    utility_weights: np.ndarray | None = None,
    workers: int | None = None,
    training_env_steps: int | None = None,
) -> FrontResult:
    """Run the policy of every preference ω and measure the front of the returns.

    ``source`` is an agent (anything with ``policy_for(ω)``, every morl agent), a plain
    callable ω → policy, or a sequence of policies, one per preference (a population's members,
    which may share a preference); a policy is anything with ``predict(obs, deterministic)``.

    All preferences (× ``episodes``) run together on one batched vector env: one batched step for
    all of them, each policy predicting for its own rows. If ``source`` has a method
    ``predict_batch(obs, preferences, deterministic)`` (obs and preferences with one row per env),
    it is called once per step instead (``source.predict_batch``), for generators that produce
    all policies at once.

    ``preferences`` defaults to the papers' set (200 for m=2, 406 for m=3). ``ref_point`` defaults
    to the origin for the seven benchmark problems and is required for any other problem (never
    derived from the data). Returns are summed with ``discount`` (1.0: undiscounted) and averaged
    over ``episodes``; env i of the batch is seeded with ``seed + i``.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes={episodes!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"discount={discount} must be in (0, 1]")
    benchmark = problem.removeprefix("morl/") in {p.removeprefix("morl/") for p in PROBLEM_IDS}
    if benchmark:
        spec = get_problem(problem)
        problem_id, m = spec.id, spec.reward_dim
    else:
        problem_id = problem
        probe = gym.make(problem)
        m = int(probe.unwrapped.reward_space.shape[0])  # type: ignore[attr-defined]
        probe.close()
        if ref_point is None:
            raise ValueError(f"ref_point is required for {problem!r}: only the benchmark problems have a default")
    ref = tuple(float(x) for x in (ref_point if ref_point is not None else np.zeros(m)))
    if len(ref) != m:
        raise ValueError(f"ref_point={list(ref)} has {len(ref)} entries; {problem_id} has {m} objectives")
    prefs = evaluation_preferences(m) if preferences is None else np.asarray(preferences, dtype=np.float64)
    if prefs.ndim != 2 or prefs.shape[1] != m or len(prefs) == 0:
        raise ValueError(f"preferences must have shape (P, {m}) with P >= 1; got {prefs.shape}")
    prefs = np.stack([validate_preference(w, m, name=f"preferences[{i}]") for i, w in enumerate(prefs)])

    num_envs = len(prefs) * episodes
    row_prefs = np.repeat(prefs, episodes, axis=0)
    returns = np.zeros((num_envs, m))
    factor = np.ones(num_envs)
    lengths = np.zeros(num_envs, dtype=np.int64)
    active = np.ones(num_envs, dtype=bool)
    batched = getattr(source, "predict_batch", None)
    policies: list[Policy] | None = None
    if isinstance(source, Sequence):
        policies, batched = list(source), None
        if len(policies) != len(prefs):
            raise ValueError(f"{len(policies)} policies for {len(prefs)} preferences; expected one per preference")
    elif batched is None:
        make_policy = source.policy_for if isinstance(source, SupportsPolicyFor) else source
        policies = [make_policy(w) for w in prefs]

    if benchmark:
        venv = morl.make_vec(problem_id, num_envs, seed=seed, workers=workers)
        obs, _ = venv.reset()
        action_dim = venv.single_action_space.shape[0]
    else:
        batch = _SingleEnvBatch(problem_id, num_envs)
        obs = batch.reset(seed)
        action_dim = batch.action_dim
    try:
        while active.any():
            actions = np.zeros((num_envs, action_dim))
            if batched is not None:
                actions[:] = _actions(batched(obs, row_prefs, deterministic)).reshape(num_envs, action_dim)
            else:
                assert policies is not None
                for p, policy in enumerate(policies):
                    rows = slice(p * episodes, (p + 1) * episodes)
                    if active[rows].any():
                        predicted = _actions(policy.predict(obs[rows], deterministic=deterministic))
                        actions[rows] = predicted.reshape(episodes, action_dim)
            if benchmark:
                obs, rewards, terminated, truncated, _ = venv.step(actions)
                ended = terminated | truncated
            else:
                obs, rewards, ended = batch.step(actions)
            returns[active] += factor[active, None] * rewards[active]
            lengths[active] += 1
            factor *= discount
            active &= ~ended
    finally:
        if benchmark:
            venv.close()
        else:
            batch.close()

    return front_result(
        problem_id,
        prefs,
        returns.reshape(len(prefs), episodes, m),
        seed=seed,
        discount=discount,
        deterministic=deterministic,
        ref_point=ref,
        utility_weights=utility_weights,
        env_steps=int(lengths.sum()),
        training_env_steps=training_env_steps,
    )


def front_result(
    problem_id: str,
    preferences: np.ndarray,
    returns: np.ndarray,
    *,
    seed: int = 0,
    discount: float = 1.0,
    deterministic: bool = True,
    ref_point: Sequence[float] | None = None,
    utility_weights: np.ndarray | None = None,
    env_steps: int = 0,
    training_env_steps: int | None = None,
) -> FrontResult:
    """The :class:`FrontResult` of returns already measured: ``returns`` (P, m), one episode per
    preference, or (P, episodes, m). For an agent that measures its front while training (PGMORL's
    archive) with the same protocol; ``env_steps`` are the evaluation steps this call cost (0)."""
    episode_returns = np.asarray(returns, dtype=np.float64)
    if episode_returns.ndim == 2:
        episode_returns = episode_returns[:, None, :]
    prefs = np.asarray(preferences, dtype=np.float64)
    m = episode_returns.shape[-1]
    if episode_returns.ndim != 3 or len(episode_returns) != len(prefs) or prefs.shape[-1] != m:
        raise ValueError(f"returns of shape {np.shape(returns)} do not match preferences of shape {prefs.shape}")
    ref = tuple(float(x) for x in (ref_point if ref_point is not None else np.zeros(m)))
    mean_returns = episode_returns.mean(axis=1)
    weights = default_utility_weights(m) if utility_weights is None else np.asarray(utility_weights)
    metrics_fn = FrontMetrics(ref_point=ref, weights=weights)
    protocol = EvaluationProtocol(
        problem_id=problem_id,
        ref_point=ref,
        discount=float(discount),
        episodes=episode_returns.shape[1],
        seed=seed,
        deterministic=deterministic,
        versions=versions(),
    )
    return FrontResult(
        preferences=prefs,
        returns=mean_returns,
        episode_returns=episode_returns,
        front_indices=tuple(int(i) for i in metrics_fn.front(mean_returns)),
        metrics=metrics_fn(mean_returns),
        protocol=protocol,
        env_steps=env_steps,
        training_env_steps=training_env_steps,
    )
