"""Configuration of Hyper-MORL: the authors' settings as defaults, every field overridable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from morl.agents.ppo.core import PPOSettings
from morl.agents.settings import AgentConfig, setting
from morl.envs.problem import Problem


@dataclass(frozen=True)
class HyperMORLConfig(PPOSettings, AgentConfig):
    """Hyper-MORL's settings (Shu et al., IJCAI 2024): the PPO settings (steps per env, epochs,
    mini-batches, γ, λ, clip, value and entropy coefficients, gradient-norm clip, learning rate),
    the run settings every agent has (budget, seed, workers, evaluation cadence) and its own.
    Use :meth:`for_problem` for a problem's defaults (its budget, K, envs per preference)."""

    envs_per_preference: int = setting(4, low=1, help="envs per preference (8 for Humanoid)")
    warmup_fraction: float = setting(0.15, low=0.0, high=1.0, high_open=True,
                                     help="share of the budget for the warm-up stage (alpha)")  # fmt: skip
    embedding_dim: int = setting(10, low=1, help="hypernetwork embedding size d")
    preference_splits: int = setting(5, low=1, help="grid splits of the PSL sampler: K = 6 for m=2 (5), 15 for m=3 (4)")
    learning_rate: float = setting(5e-5, low=0.0, low_open=True, help="Adam step size, both stages, linear decay to 0")
    # Off: the method as published. On: what the authors' code did, so that a gap to their numbers
    # can be split into what the method does and what their code did (shared/spec/hyper-morl.md).
    authors_deviations: bool = setting(False, help="reproduce the authors' code's deviations: in PSL one exploration "
                                       "noise for all K policies, the observation statistics fed normalised "
                                       "observations, the last update at rate 0; terminal returns recorded "
                                       "as 0 in the objective statistics")  # fmt: skip

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        return {
            **super().defaults_for(problem),
            "preference_splits": 5 if problem.reward_dim == 2 else 4,
            "envs_per_preference": 8 if "Humanoid" in problem.name else 4,
        }
