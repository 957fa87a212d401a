"""Preference-conditioned PPO: one actor-critic whose input is [observation, ω].

The natural ablation of Hyper-MORL's hypernetwork: the same target-network widths (2×64 tanh,
an m-valued critic, a state-independent log-std), the same PPO core and settings, the same data
per iteration (as many envs as Hyper-MORL's PSL stage: K preferences × envs per preference), but
the preference enters as an input instead of generating the weights. Each env row draws its
preference uniformly from the simplex at the start of each of its episodes; the advantage of a
step is scalarised with the preference of its row (on de-normalised returns and values, as
Hyper-MORL's). No warm-up stage: the whole budget trains the conditioned network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Agent, Iteration, update_threads
from morl.agents.ppo.core import (
    Collector,
    CollectorSlot,
    PPOSettings,
    RowPreferences,
    adam,
    compile_update,
    plan_rollout,
    ppo_update,
    restore_running_state,
    running_state,
)
from morl.agents.ppo.networks import TargetNetworkLayout, actor_arrays, numpy_layers, numpy_mlp
from morl.agents.settings import AgentConfig, setting
from morl.agents.threads import torch_threads
from morl.envs.problem import Problem
from morl.normalization import RunningMeanStd, normalize_observations
from morl.policy import PreferencePolicy
from morl.preferences import PerturbedPreferenceSampler, validate_preference
from morl.versions import versions

MIN_ITERATIONS = 10


@dataclass(frozen=True)
class ConditionedPPOConfig(PPOSettings, AgentConfig):
    """PPO settings (PGMORL's/Hyper-MORL's), the run settings, and the number of envs."""

    num_envs: int = setting(24, low=1, help="envs collecting together, each row with its own preference "
                            "(default: Hyper-MORL's PSL batch, 24 for m=2, 60 for m=3, 48 for Humanoid)")  # fmt: skip
    learning_rate: float = setting(3e-4, low=0.0, low_open=True,
                                   help="Adam step size (PGMORL's per-policy rate), linear decay to 0")  # fmt: skip

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        grid = PerturbedPreferenceSampler(problem.reward_dim).num_preferences
        envs_per_preference = 8 if "Humanoid" in problem.name else 4
        return {**super().defaults_for(problem), "num_envs": grid * envs_per_preference}


class ConditionedPPO(Agent):
    """One network π(a | s, ω), V(s, ω) ∈ R^m for all preferences."""

    name = "conditioned-ppo"
    summary = "one actor-critic with the preference as input, PPO with a random preference per episode"
    config_class = ConditionedPPOConfig
    config: ConditionedPPOConfig

    def _setup(self) -> None:
        cfg = self.config
        self.layout = TargetNetworkLayout(self.obs_dim + self.m, self.action_dim, self.m)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.preference_rng = np.random.default_rng(cfg.seed)
        self.theta = torch.nn.Parameter(self.layout.initial(self.generator).unsqueeze(0))  # (1, P)
        self.optimizer = adam([self.theta], cfg)
        self.obs_stats = RunningMeanStd.zeros((self.obs_dim,))
        self.ret_stats = RunningMeanStd.zeros((self.m,))
        self.steps = 0  # rollout length of the plan
        self._slot = CollectorSlot()

    def _plan(self, budget: int) -> tuple[int, int]:
        cfg = self.config
        steps = plan_rollout(cfg.steps_per_env, cfg.num_envs, budget, MIN_ITERATIONS)
        if cfg.minibatches > steps * cfg.num_envs:
            raise ValueError(f"minibatches={cfg.minibatches} exceeds the {steps * cfg.num_envs} samples per "
                             f"iteration ({steps} steps x {cfg.num_envs} envs); use fewer mini-batches")  # fmt: skip
        iterations = budget // (steps * cfg.num_envs)
        if iterations < 1:
            raise ValueError(f"total_steps={budget} is too small: one iteration needs {steps * cfg.num_envs} "
                             f"steps ({cfg.num_envs} envs x {steps} steps)")  # fmt: skip
        self.steps = steps
        return iterations, iterations * steps * cfg.num_envs

    def _train_iteration(self) -> Iteration:
        cfg = self.config

        def make(in_flight: dict[str, Any] | None) -> Collector:
            current = None if in_flight is None else in_flight["row_preferences"]
            rows = RowPreferences(cfg.num_envs, self.m, self.preference_rng, current=current)
            seed = cfg.seed + 7919 * (self.run.iteration + 1)
            return Collector(self.problem_id, 1, cfg.num_envs, cfg.ppo, seed=seed, workers=cfg.workers or None,
                             obs_stats=self.obs_stats, return_stats=self.ret_stats, row_preferences=rows,
                             in_flight=in_flight)  # fmt: skip

        collector = self._slot.open(make)
        lr = cfg.learning_rate * (1.0 - self.run.iteration / self.run.iterations)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        rollout = collector.collect(self.layout, self.theta.detach(), None, self.generator, steps=self.steps)
        with torch_threads(update_threads(cfg)):
            stats = ppo_update(
                self.layout,
                lambda: self.theta,
                self.optimizer,
                rollout,
                cfg.ppo,
                self.generator,
                compiled=compile_update(cfg.compiled_update, self.run.total_steps),
            )
        stats["learning_rate"] = lr
        label = f"iteration {self.run.iteration + 1}/{self.run.iterations}"
        return Iteration(rollout.env_steps, stats, rollout.episode_returns, label)

    def _release(self) -> None:
        self._slot.close()

    def parameter_count(self) -> int:
        """One actor-critic for every preference."""
        return int(self.theta.numel())

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy for ``preference``: the network with ω fixed as its input."""
        weights = validate_preference(preference, self.m)
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weights,
            weights=actor_arrays(self.layout, self.theta[0]),
            obs_mean=self.obs_stats.mean.copy(),
            obs_var=self.obs_stats.var.copy(),
            preference_input=True,
            metadata={"agent": self.name, "env_steps": self.env_steps, "versions": versions()},
        )

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation per row, each conditioned on that row's preference (one
        forward pass, in numpy)."""
        x = np.concatenate([normalize_observations(obs, self.obs_stats), preferences], axis=1)
        theta = self.theta.detach()
        actions = numpy_mlp(numpy_layers(self.layout.unpack(theta, "actor")), x.astype(np.float32)[None])[0]
        if not deterministic:
            std = torch.exp(self.layout.view(theta, "log_std"))[0].numpy()
            actions = actions + std * torch.randn(actions.shape, generator=self.generator).numpy()
        return actions.astype(np.float64)

    def _get_state(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "theta": self.theta.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            **running_state(
                self.obs_stats, self.ret_stats, self.generator, self._slot, preference_rng=self.preference_rng
            ),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        with torch.no_grad():
            self.theta.copy_(state["theta"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_stats, self.ret_stats = restore_running_state(state, self.generator, self._slot,
                                                               preference_rng=self.preference_rng)  # fmt: skip
