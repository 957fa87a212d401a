"""Configuration of Hyper-MORL: the authors' settings as defaults, every field overridable."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any

from morl.agents.ppo import PPOSettings
from morl.envs.registration import get_problem


@dataclass(frozen=True)
class HyperMORLConfig(PPOSettings):
    """Hyper-MORL's settings (Shu et al., IJCAI 2024): the PPO settings it inherits (steps per
    env, envs per preference, epochs, mini-batches, γ, λ, clip, value and entropy coefficients,
    gradient-norm clip) plus its own. Use :meth:`for_problem` for a problem's defaults (its
    budget, K, envs per preference)."""

    total_steps: int = 12_000_000  # environment steps of training, both stages
    warmup_fraction: float = 0.15  # α: share of the budget for the warm-up stage
    embedding_dim: int = 10  # d: hypernetwork embedding size
    preference_splits: int = 5  # grid splits of the PSL sampler: K = 6 for m=2 (5), 15 for m=3 (4)
    learning_rate: float = 5e-5  # both stages, linear decay to 0 over each stage
    adam_eps: float = 1e-5
    eval_interval: int = 10  # PSL iterations between evaluations (and one at the end)
    eval_splits: int = 0  # 0: the papers' evaluation set (200 for m=2, 406 for m=3)
    seed: int = 0
    workers: int = 0  # processes stepping the physics; 0: all cores
    # torch threads while training (0: leave torch's setting). 1 by default: the physics workers
    # use the other cores, and idle OpenMP threads spinning beside them slowed collection from
    # 14k to 10.7k env-steps/s on 2 cores (the update was not faster with 2 threads either).
    torch_threads: int = 1

    def __post_init__(self) -> None:
        positive = ("total_steps", "embedding_dim", "preference_splits", "steps_per_env", "envs_per_preference",
                    "epochs", "minibatches", "eval_interval")  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        for name in ("eval_splits", "seed", "workers", "torch_threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}={value!r} must be a non-negative integer")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction={self.warmup_fraction!r} must be in [0, 1)")
        for name in ("learning_rate", "adam_eps", "clip", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be > 0")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be in (0, 1]")
        if self.minibatches > self.steps_per_env * self.envs_per_preference:
            raise ValueError(
                f"minibatches={self.minibatches} exceeds the samples per preference "
                f"({self.steps_per_env} x {self.envs_per_preference})"
            )

    @classmethod
    def for_problem(cls, problem_id: str, **overrides: Any) -> HyperMORLConfig:
        """The authors' settings for ``problem_id``, with ``overrides`` applied."""
        problem = get_problem(problem_id)
        defaults: dict[str, Any] = {
            "total_steps": problem.paper_budget,
            "preference_splits": 5 if problem.reward_dim == 2 else 4,
            "envs_per_preference": 8 if "Humanoid" in problem.name else 4,
        }
        return cls.from_dict({**defaults, **overrides})

    @property
    def ppo(self) -> PPOSettings:
        """The PPO core's settings: the fields of the same names."""
        return PPOSettings(**{f.name: getattr(self, f.name) for f in fields(PPOSettings)})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HyperMORLConfig:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; known: {sorted(known)}")
        converted = {}
        for name, value in values.items():
            kind = type(getattr(cls(), name))
            if kind is int and isinstance(value, float) and value.is_integer():
                value = int(value)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            converted[name] = value
        return cls(**converted)
