"""Evaluating a preference → policy map on a problem: the return matrix and its front.

The default protocol for the seven benchmark problems is the papers': one episode per
preference, deterministic (mean) actions, undiscounted returns, reference point at the origin.
PD-MORL's own protocol (``protocol="pd-morl"``: 1001 preferences, three seeded repetitions,
hypervolume and sparsity as mean ± std over them) is offered beside it, so that a front can be set
next to PD-MORL's published numbers. Every result records the protocol it was measured with (its
name among the rest), and saves to and loads from JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from morl.envs.catalog import PROBLEM_IDS, get_problem
from morl.envs.fingerprint import fingerprint
from morl.envs.vector import make_vec
from morl.pareto import FrontMetrics, FrontMetricsResult, hypervolume, non_dominated, sparsity
from morl.policy import PolicyStack
from morl.preferences import evaluation_preferences, simplex_grid, validate_preference
from morl.run_files import atomic_write_text
from morl.versions import versions

FORMAT = "morl.front_result"
FORMAT_VERSION = 1

PAPER_PROTOCOL, PDMORL_PROTOCOL = "paper", "pd-morl"
PROTOCOLS = (PAPER_PROTOCOL, PDMORL_PROTOCOL)  # the values of evaluate_front's ``protocol``
PDMORL_REPETITIONS = 3  # E: PD-MORL runs the whole evaluation this many times ...
PDMORL_SEED_STRIDE = 11  # ... repetition e seeded with seed + 11·e (the authors': 11·e)


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
    name: str = PAPER_PROTOCOL  # one of PROTOCOLS (results saved before it existed are the paper's)
    repetitions: int = 1  # whole evaluations averaged (PD-MORL's E; ``episodes`` is per repetition)
    # The problem's definition the returns were measured on (morl.fingerprint); None in results
    # saved before morl 0.4.0, which ran on today's-compiler physics.
    fingerprint: str | None = None

    def describe(self) -> str:
        kind = "undiscounted" if self.discount == 1.0 else f"discounted (gamma={self.discount})"
        mode = "deterministic" if self.deterministic else "stochastic"
        text = (
            f"{self.problem_id}: {kind} returns, {self.episodes} episode(s) per preference, {mode} actions, "
            f"seed {self.seed}, reference point {list(self.ref_point)}"
        )
        if self.name == PAPER_PROTOCOL:
            return text
        seeds = ", ".join(str(self.seed + PDMORL_SEED_STRIDE * e) for e in range(self.repetitions))
        return (
            f"{self.name} protocol, {text}; {self.repetitions} repetitions seeded {seeds}, hypervolume and "
            "sparsity per repetition (mean ± std)"
        )


@dataclass(frozen=True)
class RepetitionMetrics:
    """PD-MORL's headline numbers: the hypervolume and sparsity of each repetition's returns, and
    their mean and standard deviation over the repetitions (numpy's population std, as the
    authors' evaluation script). As theirs: hypervolume of all the returns (those with a negative
    objective add no volume at the origin), sparsity over their non-dominated set (negative
    objectives included, unlike the paper protocol's front)."""

    seeds: tuple[int, ...]
    hypervolume: tuple[float, ...]
    sparsity: tuple[float, ...]
    hypervolume_mean: float
    hypervolume_std: float
    sparsity_mean: float
    sparsity_std: float

    @classmethod
    def of(cls, returns: np.ndarray, seeds: Sequence[int], ref_point: Sequence[float]) -> RepetitionMetrics:
        """From ``returns`` of shape (P, repetitions, m), repetition e seeded ``seeds[e]``."""
        if returns.ndim != 3 or returns.shape[1] != len(seeds):
            raise ValueError(f"returns of shape {returns.shape} do not match {len(seeds)} repetition seeds")
        fronts = [returns[:, e][non_dominated(returns[:, e])] for e in range(len(seeds))]
        hv = [hypervolume(front, ref_point=ref_point) for front in fronts]
        sp = [sparsity(front) for front in fronts]
        return cls(tuple(int(x) for x in seeds), tuple(hv), tuple(sp), float(np.mean(hv)), float(np.std(hv)),
                   float(np.mean(sp)), float(np.std(sp)))  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepetitionMetrics:
        """The inverse of ``asdict`` through JSON (lists back to tuples)."""
        return cls(
            seeds=tuple(int(x) for x in data["seeds"]),
            hypervolume=tuple(float(x) for x in data["hypervolume"]),
            sparsity=tuple(float(x) for x in data["sparsity"]),
            **{k: float(data[k]) for k in ("hypervolume_mean", "hypervolume_std", "sparsity_mean", "sparsity_std")},
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
    repetition_metrics: RepetitionMetrics | None = None  # protocols with repetitions (PD-MORL's)

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
            "repetition_metrics": None if self.repetition_metrics is None else asdict(self.repetition_metrics),
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
                repetition_metrics=(
                    RepetitionMetrics.from_dict(data["repetition_metrics"]) if data.get("repetition_metrics") else None
                ),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{str(path)!r} is not a valid front result ({error!r})") from None


def pdmorl_preferences(num_objectives: int) -> np.ndarray:
    """PD-MORL's evaluation preferences: ω_1 = 0, 0.001, ..., 1 with ω_2 = 1 - ω_1 (1001 rows,
    ω_1 ascending, the authors' final-evaluation grid). Two objectives only: the authors ran only
    two-objective problems, the spec gives no grid for more, and their grid code (a product of
    step-0.001 ranges filtered to sum to 1) would not make one in reasonable size."""
    if num_objectives != 2:
        raise ValueError(
            f"num_objectives={num_objectives}: PD-MORL's protocol defines its preferences (w1 = 0, 0.001, ..., 1) "
            "for 2 objectives only; pass preferences= explicitly"
        )
    w1 = np.arange(1001) / 1000
    return np.stack([w1, 1.0 - w1], axis=1)


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


def run_episode(env: gym.Env[Any, Any], policy: Policy, *, seed: int,
                observe: Callable[[], None] | None = None) -> np.ndarray:  # fmt: skip
    """One episode of ``policy`` (deterministic actions) on a single env from
    ``env.reset(seed=seed)`` to its end: the undiscounted return vector. ``observe`` is called
    after the reset and after every step (to keep frames or poses of the whole episode). A policy
    may return the action alone or Stable-Baselines3's ``(action, state)``."""
    obs, _ = env.reset(seed=seed)
    if observe is not None:
        observe()
    total: np.ndarray | None = None
    while True:
        obs, reward, terminated, truncated, _ = env.step(_actions(policy.predict(obs, deterministic=True)))
        vector = np.asarray(reward, dtype=np.float64)
        total = vector.copy() if total is None else total + vector
        if observe is not None:
            observe()
        if terminated or truncated:
            return total


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
    protocol: str = PAPER_PROTOCOL,
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

    ``protocol="pd-morl"`` measures with PD-MORL's protocol instead, to set a front beside its
    published numbers: ``preferences`` default to :func:`pdmorl_preferences` (1001, m = 2 only),
    one episode per preference, and the whole evaluation is repeated 3 times, repetition e seeded
    with ``seed + 11·e`` (0, 11, 22 at the default seed 0: the authors' seeds) for the envs (env i
    of the batch: ``seed + 11·e + i``, the batched counterpart of their one env seeded once and
    reset for each preference in turn) and for NumPy's and torch's global generators (restored
    afterwards), which only a stochastic policy draws from. ``returns`` are the means over the
    repetitions, ``episode_returns`` (P, 3, m) each repetition's, the front the non-dominated mean
    returns (negative ones included, as the authors'), ``metrics`` the indicators of the mean
    returns, and ``repetition_metrics`` the authors' numbers: hypervolume and sparsity per
    repetition, mean ± std (:class:`RepetitionMetrics`). On envs that reset without noise a
    deterministic policy repeats itself exactly, so the std is 0 there.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is unknown; expected one of {list(PROTOCOLS)}")
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes={episodes!r} must be a positive integer")
    if protocol == PDMORL_PROTOCOL and episodes != 1:
        raise ValueError(
            f"episodes={episodes} with protocol={PDMORL_PROTOCOL!r}: PD-MORL's protocol runs one episode per "
            f"preference in each of its {PDMORL_REPETITIONS} repetitions; expected episodes=1"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"discount={discount} must be in (0, 1]")
    benchmark = _is_benchmark(problem)
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
    if preferences is None:
        prefs = pdmorl_preferences(m) if protocol == PDMORL_PROTOCOL else evaluation_preferences(m)
    else:
        prefs = np.asarray(preferences, dtype=np.float64)
    if prefs.ndim != 2 or prefs.shape[1] != m or len(prefs) == 0:
        raise ValueError(f"preferences must have shape (P, {m}) with P >= 1; got {prefs.shape}")
    prefs = np.stack([validate_preference(w, m, name=f"preferences[{i}]") for i, w in enumerate(prefs)])
    if protocol == PDMORL_PROTOCOL:
        seeds = [seed + PDMORL_SEED_STRIDE * e for e in range(PDMORL_REPETITIONS)]
        runs = []
        for repetition_seed in seeds:
            with _global_rngs_seeded(repetition_seed):
                runs.append(evaluate_front(source, problem_id, prefs, seed=repetition_seed, discount=discount,
                                           deterministic=deterministic, ref_point=ref, workers=workers))  # fmt: skip
        return front_result(problem_id, prefs, np.stack([run.returns for run in runs], axis=1), seed=seed,
                            discount=discount, deterministic=deterministic, ref_point=ref,
                            utility_weights=utility_weights, env_steps=sum(run.env_steps for run in runs),
                            training_env_steps=training_env_steps, protocol=PDMORL_PROTOCOL)  # fmt: skip

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
    # Standalone policies of one architecture run as one stack: the same bits, one pass a step.
    stack = PolicyStack.of(policies, episodes) if policies is not None and deterministic else None
    if stack is not None:
        policies = None  # the stack holds what the steps need; policies made here are freed

    if benchmark:
        venv = make_vec(problem_id, num_envs, seed=seed, workers=workers)
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
            elif stack is not None:
                actions[:] = stack.predict(obs).reshape(num_envs, action_dim)
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
    protocol: str = PAPER_PROTOCOL,
) -> FrontResult:
    """The :class:`FrontResult` of returns already measured: ``returns`` (P, m), one episode per
    preference, or (P, episodes, m). For an agent that measures its front while training (PGMORL's
    archive) with the same protocol; ``env_steps`` are the evaluation steps this call cost (0).
    With ``protocol="pd-morl"`` the middle axis holds PD-MORL's repetitions (one episode each,
    repetition e seeded ``seed + 11·e``; see :func:`evaluate_front`)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is unknown; expected one of {list(PROTOCOLS)}")
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
    repeated = protocol == PDMORL_PROTOCOL  # the middle axis: repetitions of one episode, not episodes
    stated = EvaluationProtocol(
        problem_id=problem_id,
        ref_point=ref,
        discount=float(discount),
        episodes=1 if repeated else episode_returns.shape[1],
        seed=seed,
        deterministic=deterministic,
        versions=versions(),
        name=protocol,
        repetitions=episode_returns.shape[1] if repeated else 1,
        fingerprint=_definition(problem_id),
    )
    seeds = [seed + PDMORL_SEED_STRIDE * e for e in range(episode_returns.shape[1])]
    front = np.flatnonzero(non_dominated(mean_returns)) if repeated else metrics_fn.front(mean_returns)
    return FrontResult(
        preferences=prefs,
        returns=mean_returns,
        episode_returns=episode_returns,
        front_indices=tuple(int(i) for i in front),
        metrics=metrics_fn(mean_returns),
        protocol=stated,
        env_steps=env_steps,
        training_env_steps=training_env_steps,
        repetition_metrics=RepetitionMetrics.of(episode_returns, seeds, ref) if repeated else None,
    )


def _is_benchmark(problem_id: str) -> bool:
    """Whether ``problem_id`` is one of the seven problems (``morl/`` prefix or not), not another
    gymnasium id (a user's own env)."""
    return problem_id.removeprefix("morl/") in {p.removeprefix("morl/") for p in PROBLEM_IDS}


def _definition(problem_id: str) -> str | None:
    """The fingerprint of a benchmark problem; None for another gymnasium id, which morl cannot
    name a definition for."""
    return fingerprint(problem_id) if _is_benchmark(problem_id) else None


@contextmanager
def _global_rngs_seeded(seed: int) -> Iterator[None]:
    """NumPy's and torch's global generators seeded with ``seed`` inside the block and restored
    after it. PD-MORL seeds them in every repetition (only a stochastic policy draws from them);
    restoring them keeps an evaluation from changing a caller's streams (a training run's: the
    authors' reseeding made every stream of their training repeat after each evaluation)."""
    import torch

    state = np.random.get_state()  # noqa: NPY002  (the global generator, deliberately)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        np.random.seed(seed)  # noqa: NPY002
        torch.default_generator.manual_seed(seed)
        if devices:
            torch.cuda.manual_seed_all(seed)
        try:
            yield
        finally:
            np.random.set_state(state)  # noqa: NPY002
