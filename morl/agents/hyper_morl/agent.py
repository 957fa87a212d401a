"""Hyper-MORL: one hypernetwork for the whole Pareto set (Shu et al., IJCAI 2024).

A warm-up stage trains one policy with PPO on the equal preference; its log-std is reset and it
becomes the hypernetwork's bias b (with W = 0, every preference starts as the warm-up policy);
then each Pareto-set-learning (PSL) iteration samples K perturbed preferences, collects experience
for all K generated policies together on one vector env, and updates the hypernetwork with PPO on
the mean of the K policies' losses. The loop itself (iterations, evaluation, checkpoints,
resuming) is :class:`morl.agents.base.Agent`'s.

Deviations of the authors' code that are *not* reproduced by default (see
``shared/spec/hyper-morl.md``): the observation normaliser sees raw observations only; terminal
discounted returns are recorded in the objective statistics; the last update of a stage has a
non-zero learning rate; each preference gets its own exploration noise. ``authors_deviations=True``
reproduces the four in Pareto set learning (terminal returns in both stages), to tell how much of
a gap to the authors' numbers their code made; their warm-up schedule's off-by-one is not
reproduced (the spec does not say which way it is off). Evaluation episodes are not counted in the
training budget; both counts are reported.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Agent, Iteration, update_threads
from morl.agents.hyper_morl.config import HyperMORLConfig
from morl.agents.hyper_morl.hypernet import HyperNetwork
from morl.agents.ppo.core import (
    AuthorsCode,
    Collector,
    CollectorSlot,
    adam,
    compile_update,
    plan_rollout,
    ppo_update,
    restore_running_state,
    running_state,
)
from morl.agents.ppo.networks import NumpyLayers, TargetNetworkLayout, actor_arrays, numpy_layers, numpy_mlp
from morl.agents.threads import torch_threads
from morl.normalization import RunningMeanStd, normalize_observations
from morl.policy import PreferencePolicy
from morl.preferences import PerturbedPreferenceSampler, validate_preference
from morl.versions import versions

# A budget is planned so that Pareto set learning has at least this many iterations (the rollout
# length is halved from steps_per_env until it does): small budgets still learn a front.
MIN_PSL_ITERATIONS = 10


@dataclass
class Plan:
    """How a budget is spent: warm-up and PSL iterations of ``steps`` steps per env."""

    warmup_iterations: int = 0
    psl_iterations: int = 0
    steps: int = 0


class HyperMORL(Agent):
    """``HyperMORL(problem_id, config).learn()`` → ``policy_for(preference)`` for any preference."""

    name = "hyper-morl"
    summary = "a hypernetwork maps a preference to a whole policy; PPO, warm-up then Pareto set learning"
    config_class = HyperMORLConfig
    config: HyperMORLConfig

    def _setup(self) -> None:
        cfg = self.config
        self.layout = TargetNetworkLayout(self.obs_dim, self.action_dim, self.m)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        with torch.random.fork_rng():
            torch.manual_seed(cfg.seed)
            self.hypernet = HyperNetwork(self.m, self.layout.num_params, cfg.embedding_dim)
        self.warmup_theta = torch.nn.Parameter(self.layout.initial(self.generator))
        self.obs_stats = RunningMeanStd.zeros((self.obs_dim,))
        self.ret_stats = RunningMeanStd.zeros((self.m,))
        self.sampler = PerturbedPreferenceSampler(self.m, cfg.preference_splits)
        self.plan = Plan()
        self.phase = "warmup"  # warmup | psl
        self.optimizer = self._make_optimizer()
        self._slot = CollectorSlot()
        # the actors of the last predict_batch: (preferences, layers, std)
        self._theta_cache: tuple[bytes, NumpyLayers, np.ndarray] | None = None

    # ----------------------------------------------------------------------------- parameters
    def _make_optimizer(self) -> torch.optim.Adam:
        params = [self.warmup_theta] if self.phase == "warmup" else list(self.hypernet.parameters())
        return adam(params, self.config)

    def _parameters_changed(self) -> None:
        self._theta_cache = None

    def parameters_for(self, preferences: np.ndarray) -> torch.Tensor:
        """θ (K, P) of the policies for (K, m) preferences (no gradient)."""
        with torch.no_grad():
            if self.phase == "warmup":
                return self.warmup_theta.detach().unsqueeze(0).expand(len(preferences), -1)
            return self.hypernet(torch.as_tensor(preferences, dtype=torch.float32))

    # ----------------------------------------------------------------------------- training
    def _plan(self, budget: int) -> tuple[int, int]:
        cfg = self.config
        k, e = self.sampler.num_preferences, cfg.envs_per_preference
        steps = plan_rollout(cfg.steps_per_env, k * e, int((1.0 - cfg.warmup_fraction) * budget), MIN_PSL_ITERATIONS)
        if cfg.minibatches > steps * e:
            raise ValueError(
                f"minibatches={cfg.minibatches} exceeds the {steps * e} samples per preference and iteration "
                f"({steps} steps x {e} envs at total_steps={budget}); use fewer mini-batches"
            )
        per_warmup, per_psl = steps * e, steps * e * k
        warmup = round(cfg.warmup_fraction * budget / per_warmup) if cfg.warmup_fraction > 0 else 0
        psl = (budget - warmup * per_warmup) // per_psl
        if psl < 1:
            raise ValueError(
                f"total_steps={budget} is too small: one Pareto-set-learning iteration needs {per_psl} steps "
                f"({k} preferences x {e} envs x {steps} steps) after a warm-up of {warmup * per_warmup}"
            )
        self.plan = Plan(warmup, psl, steps)
        return warmup + psl, warmup * per_warmup + psl * per_psl

    def _start_psl(self) -> None:
        """θ_warm-up with log-std reset to 0 becomes b; W stays 0."""
        with torch.no_grad():
            theta = self.warmup_theta.detach().clone()
            seg = self.layout.segments["log_std"]
            theta[seg.offset : seg.offset + seg.size] = 0.0
            self.hypernet.b.copy_(theta)
            self.hypernet.W.zero_()
        self.phase = "psl"
        self.optimizer = self._make_optimizer()
        self._slot.discard()  # the warm-up's envs; PSL collects on K times as many
        self._parameters_changed()

    def _stage(self) -> tuple[int, int]:
        """(index of this iteration within its stage, iterations of the stage)."""
        if self.phase == "warmup":
            return self.run.iteration, self.plan.warmup_iterations
        return self.run.iteration - self.plan.warmup_iterations, self.plan.psl_iterations

    def _collector_now(self) -> Collector:
        def make(in_flight: dict[str, Any] | None) -> Collector:
            warmup = self.phase == "warmup"
            seed = self.config.seed + 7919 * (self.run.iteration + 1) + (0 if warmup else 104729)
            # The normalisation statistics are shared: they carry over stages and resumes.
            authors = self.config.authors_deviations
            return Collector(
                self.problem_id, 1 if warmup else self.sampler.num_preferences, self.config.envs_per_preference,
                self.config.ppo, seed=seed, workers=self.config.workers or None, obs_stats=self.obs_stats,
                return_stats=self.ret_stats, in_flight=in_flight,
                authors_code=AuthorsCode(shared_noise=authors and not warmup, stats_from_inputs=authors and not warmup,
                                         zero_terminal_returns=authors),
            )  # fmt: skip

        return self._slot.open(make)

    def _release(self) -> None:
        self._slot.close()

    def _trainable(self, preferences: np.ndarray) -> Callable[[], torch.Tensor]:
        """θ (K, P) with gradients: the warm-up policy's own vector, or the hypernetwork's output."""
        if self.phase == "warmup":
            return lambda: self.warmup_theta.unsqueeze(0)
        return functools.partial(self.hypernet, torch.as_tensor(preferences, dtype=torch.float32))

    def _train_iteration(self) -> Iteration:
        """collect → advantages → update, one iteration of the current stage."""
        if self.phase == "warmup" and self.run.iteration >= self.plan.warmup_iterations:
            self._start_psl()
        index, iterations = self._stage()
        # Linear decay to 0 over the stage, evaluated at the start of each iteration, so the last
        # update still has a positive rate (the authors' last PSL update ran at rate 0).
        late = 1 if self.config.authors_deviations and self.phase == "psl" else 0
        lr = self.config.learning_rate * (1.0 - (index + late) / iterations)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.phase == "warmup":
            preferences = np.full((1, self.m), 1.0 / self.m)
        else:
            preferences = self.sampler.sample(self.rng)
        collector = self._collector_now()
        rollout = collector.collect(self.layout, self.parameters_for(preferences), preferences, self.generator,
                                    steps=self.plan.steps)  # fmt: skip
        with torch_threads(update_threads(self.config)):
            stats = ppo_update(self.layout, self._trainable(preferences), self.optimizer, rollout, self.config.ppo,
                               self.generator, compiled=compile_update(self.config.compiled_update,
                                                                       self.run.total_steps))  # fmt: skip
        stats["learning_rate"] = lr
        return Iteration(rollout.env_steps, stats, rollout.episode_returns, f"{self.phase} {index + 1}/{iterations}")

    def _evaluation_due(self) -> bool:
        """In Pareto set learning only: every ``eval_interval`` iterations and at the end."""
        done = self.run.iteration - self.plan.warmup_iterations
        return done > 0 and (done % self.config.eval_interval == 0 or self.run.iteration == self.run.iterations)

    # ----------------------------------------------------------------------------- using it
    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy for ``preference`` (validated, normalised to sum to 1)."""
        weights = validate_preference(preference, self.m)
        theta = self.parameters_for(weights[None])[0]
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weights,
            weights=actor_arrays(self.layout, theta),
            obs_mean=self.obs_stats.mean.copy(),  # frozen: later training does not change this policy
            obs_var=self.obs_stats.var.copy(),
            metadata={"agent": self.name, "env_steps": self.env_steps, "versions": versions()},
        )

    def parameter_count(self) -> int:
        """The hypernetwork's (the warm-up's single θ is only its starting point)."""
        return sum(p.numel() for p in self.hypernet.parameters())

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation per row, each from the policy of that row's preference
        (one batched forward pass, in numpy; the actors' weights are cached while the preferences
        and the parameters stay the same: training clears the cache)."""
        key = np.ascontiguousarray(preferences, dtype=np.float64).tobytes()
        if self._theta_cache is None or self._theta_cache[0] != key:
            theta = self.parameters_for(np.asarray(preferences)).contiguous()
            std = torch.exp(self.layout.view(theta, "log_std")).numpy()
            self._theta_cache = (key, numpy_layers(self.layout.unpack(theta, "actor")), std)
        _, actor, std = self._theta_cache
        x = normalize_observations(obs, self.obs_stats).astype(np.float32)[:, None, :]
        actions = numpy_mlp(actor, x)[:, 0]
        if not deterministic:
            noise = torch.randn(actions.shape, generator=self.generator).numpy()
            actions = actions + std * noise
        return actions.astype(np.float64)

    # ----------------------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "plan": json.dumps(asdict(self.plan)),
            "hypernet": self.hypernet.state_dict(),
            "warmup_theta": self.warmup_theta.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            **running_state(self.obs_stats, self.ret_stats, self.generator, self._slot, numpy_rng=self.rng),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        if state["phase"] not in ("warmup", "psl"):
            raise ValueError(f"phase={state['phase']!r}")
        self.phase = state["phase"]
        self.plan = Plan(**json.loads(state["plan"]))
        self.hypernet.load_state_dict(state["hypernet"])
        with torch.no_grad():
            self.warmup_theta.copy_(state["warmup_theta"])
        self.optimizer = self._make_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_stats, self.ret_stats = restore_running_state(state, self.generator, self._slot, numpy_rng=self.rng)
