"""``mb-pgmorl``: MORL-Baselines' PGMORL (Xu et al., ICML 2020) on morl's problems.

``morl_baselines.multi_policy.pgmorl.PGMORL`` with its defaults (population 6, 4 envs of 2,048
steps per task and iteration, γ 0.995), driven one of its iterations at a time: the loop is
MORL-Baselines' ``train`` (evaluate all, warm-up iterations, evaluate; then generations of task
selection, ``evolutionary_iterations`` iterations, evaluate), with the warm-up and generation
lengths scaled down alike when the budget is smaller than the warm-up plus three generations
(MORL-Baselines would otherwise train past the budget: it runs at least warm-up + one generation).

**The observation normaliser.** MORL-Baselines trains every policy behind gymnasium's
``NormalizeObservation`` (one per env, shared by the population), and evaluates its archive
without it, on raw observations, with sampled actions; the returns its archive keeps are those.
Here every archive member is exported with the normaliser statistics of the training envs
(merged over the envs) at the evaluation where it entered the archive, and evaluated on morl's
protocol (deterministic mean action).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Iteration
from morl.agents.peers.base import (
    PeerAgent,
    PeerConfig,
    StepCounter,
    count_parameters,
    make_env,
    morl_baselines,
    tensors,
)
from morl.agents.pgmorl.agent import MIN_GENERATIONS
from morl.agents.settings import setting
from morl.evaluation import FrontResult
from morl.normalization import RunningMeanStd
from morl.policy import PreferencePolicy, layers_from_state, numbered_modules
from morl.preferences import validate_preference
from morl.versions import versions

STATS = "_morl_obs_stats"  # attribute of an archive member: the normaliser statistics it entered with


@dataclass(frozen=True)
class MBPGMORLConfig(PeerConfig):
    """MORL-Baselines' PGMORL defaults."""

    gamma: float = setting(0.995, low=0.0, high=1.0, low_open=True, help="discount (MORL-Baselines: 0.995)")
    num_envs: int = setting(4, low=1, help="envs shared by the population")
    pop_size: int = setting(6, low=4, help="tasks trained per iteration (its prediction model needs >= 4)")
    steps_per_env: int = setting(2048, low=8, help="steps per env and task in one iteration")
    warmup_iterations: int = setting(80, low=1, help="warm-up iterations (scaled down for small budgets)")
    evolutionary_iterations: int = setting(20, low=1, help="iterations per generation (scaled down alike)")
    num_weight_candidates: int = setting(7, low=1, help="candidate weights per policy")
    num_performance_buffer: int = setting(100, low=1, help="performance buffers")
    performance_buffer_size: int = setting(2, low=1, help="policies per performance buffer")
    delta_weight: float = setting(0.2, low=0.0, high=1.0, low_open=True, help="spacing of the weight grid")
    sparsity_coef: float = setting(-1.0, help="coefficient of sparsity in task selection (MORL-Baselines: -1)")
    hidden_size: int = setting(64, low=1, help="units per hidden layer (MORL-Baselines: 64)")
    num_minibatches: int = setting(32, low=1, help="PPO mini-batches per epoch")
    update_epochs: int = setting(10, low=1, help="PPO epochs per iteration")


@dataclass
class Member:
    """An archive member as exported: its actor, weight, statistics and MORL-Baselines' return."""

    actor: dict[str, torch.Tensor]
    weight: np.ndarray
    obs_mean: np.ndarray
    obs_var: np.ndarray
    returns: np.ndarray  # what MORL-Baselines' own evaluation measured (raw observations, sampled actions)


class MBPGMORL(PeerAgent):
    name = "mb-pgmorl"
    summary = "MORL-Baselines' PGMORL (peer, needs morl[peers]): evolutionary PPO population, archive result"
    config_class = MBPGMORLConfig
    config: MBPGMORLConfig

    def _setup(self) -> None:
        self._live = None
        self._eval_env: StepCounter | None = None
        self._evaluations: list[np.ndarray] = []  # MORL-Baselines' evaluations before training
        self.members: list[Member] = []
        self.parameters_per_member = 0
        self.warmup = self.generation = 0  # the plan's iterations per stage

    # ----------------------------------------------------------------------------- planning
    def _per_iteration(self) -> int:
        cfg = self.config
        return cfg.pop_size * cfg.num_envs * cfg.steps_per_env

    def _plan(self, budget: int) -> tuple[int, int]:
        cfg, per = self.config, self._per_iteration()
        warmup, generation = cfg.warmup_iterations, cfg.evolutionary_iterations
        needed = (warmup + MIN_GENERATIONS * generation) * per
        if needed > budget:
            scale = budget / needed
            warmup, generation = max(1, math.floor(warmup * scale)), max(1, math.floor(generation * scale))
        generations = (budget - warmup * per) // (generation * per)
        if generations < 1:
            raise ValueError(f"total_steps={budget} is too small: one iteration takes {per} steps "
                             f"({cfg.pop_size} tasks x {cfg.num_envs} envs x {cfg.steps_per_env}), "
                             "and the warm-up and one generation need two")  # fmt: skip
        self.warmup, self.generation = warmup, generation
        iterations = warmup + generations * generation
        return iterations, iterations * per

    # ----------------------------------------------------------------------------- training
    def _build(self) -> Any:
        module = morl_baselines("multi_policy.pgmorl.pgmorl")
        cfg = self.config
        weights = module.generate_weights(cfg.delta_weight, self.m)  # MORL-Baselines gives task i weight i
        if cfg.pop_size > len(weights):
            raise ValueError(f"pop_size={cfg.pop_size} exceeds the {len(weights)} warm-up weights delta_weight="
                             f"{cfg.delta_weight} spaces on the {self.m}-objective simplex; use a smaller pop_size "
                             "or delta_weight")  # fmt: skip
        self._eval_env = make_env(self.problem_id)
        self._eval_env.reset(seed=cfg.seed + 10_000)
        live = module.PGMORL(
            self.problem_id,
            origin=np.zeros(self.m),
            num_envs=cfg.num_envs,
            pop_size=cfg.pop_size,
            warmup_iterations=self.warmup,
            steps_per_iteration=cfg.steps_per_env,
            evolutionary_iterations=self.generation,
            num_weight_candidates=cfg.num_weight_candidates,
            num_performance_buffer=cfg.num_performance_buffer,
            performance_buffer_size=cfg.performance_buffer_size,
            delta_weight=cfg.delta_weight,
            sparsity_coef=cfg.sparsity_coef,
            gamma=cfg.gamma,
            seed=cfg.seed,
            log=False,
            net_arch=[cfg.hidden_size, cfg.hidden_size],
            num_minibatches=cfg.num_minibatches,
            update_epochs=cfg.update_epochs,
            learning_rate=cfg.learning_rate,
            device="cpu",
        )
        self._evaluations = [np.zeros(self.m) for _ in live.agents]
        self._evaluate_all(live, add_to_prediction=False)  # MORL-Baselines' train() starts so
        live.start_time = time.time()
        return live

    def _evaluate_all(self, live: Any, add_to_prediction: bool = True) -> None:
        assert self._eval_env is not None
        live._PGMORL__eval_all_agents(eval_env=self._eval_env, evaluations_before_train=self._evaluations,
                                      ref_point=np.zeros(self.m), add_to_prediction=add_to_prediction)  # fmt: skip
        stats = self._obs_stats(live)
        for individual in live.archive.individuals:  # the archive's own copies, made as they entered it
            if not hasattr(individual, STATS):
                setattr(individual, STATS, stats)  # the statistics it entered the archive with

    def _obs_stats(self, live: Any) -> tuple[np.ndarray, np.ndarray]:
        """The observation statistics of the training envs, merged (count-weighted)."""
        merged: RunningMeanStd | None = None
        for env in live.env.envs:
            wrapper = env
            while not hasattr(wrapper, "obs_rms"):
                wrapper = wrapper.env
            rms = wrapper.obs_rms
            mean, var = np.asarray(rms.mean, dtype=np.float64), np.asarray(rms.var, dtype=np.float64)
            if merged is None:
                merged = RunningMeanStd(mean, var, float(rms.count))
            else:
                merged.update_moments(mean, var, rms.count)
        assert merged is not None
        return merged.mean, merged.var

    def _peer_iteration(self) -> Iteration:
        live = self._live_agent()
        k, warmup, generation = self.run.iteration, self.warmup, self.generation
        if k >= warmup and (k - warmup) % generation == 0:
            live._PGMORL__task_weight_selection(ref_point=np.zeros(self.m))
        before = live.global_step
        live._PGMORL__train_all_agents(iteration=k, max_iterations=self.run.iterations)
        done = k + 1
        if done == warmup or (done > warmup and (done - warmup) % generation == 0):
            self._evaluate_all(live)
        assert self._eval_env is not None
        selection, _ = self._eval_env.drain()
        self._snapshot(live)
        stats = {"selection_env_steps": float(selection), "archive_size": float(len(self.members))}
        label = "warm-up" if k < warmup else f"generation {1 + (k - warmup) // generation}"
        return Iteration(int(live.global_step - before), stats, [], label)

    def _snapshot(self, live: Any) -> None:
        """Export the archive (actors, weights, statistics) for checkpoints and evaluation."""
        members = []
        for individual, returns in zip(live.archive.individuals, live.archive.evaluations, strict=True):
            mean, var = getattr(individual, STATS)
            actor = tensors(individual.networks.state_dict(), prefix="actor_")
            weight = individual.weights.detach().cpu().double().numpy()
            members.append(Member(actor, weight, mean, var, np.asarray(returns, dtype=np.float64)))
        self.members = members
        self.parameters_per_member = count_parameters(live.networks[0])

    def _close_live(self) -> None:
        self._live.env.close()
        if self._eval_env is not None:
            self._eval_env.close()
            self._eval_env = None

    # ----------------------------------------------------------------------------- using it
    def _export(self, member: Member) -> PreferencePolicy:
        actor = member.actor
        layers = layers_from_state(actor, numbered_modules(actor, "actor_mean."))
        layers["log_std"] = actor["actor_logstd"].double().numpy().reshape(-1)
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=member.weight,
            weights=layers,
            obs_mean=member.obs_mean,
            obs_var=member.obs_var,
            activation="tanh",
            action_low=self.action_low,
            action_high=self.action_high,
            metadata={"agent": self.name, "env_steps": self.env_steps, "versions": versions()},
        )

    def _require_members(self) -> list[Member]:
        if not self.members:
            raise ValueError("the archive is empty: call learn() first")
        return self.members

    def pareto_set(self) -> list[tuple[np.ndarray, PreferencePolicy]]:
        """(weight it was trained with, standalone policy) of every archive member."""
        return [(m.weight.copy(), self._export(m)) for m in self._require_members()]

    def parameter_count(self) -> int:
        """Every archive member's actor-critic: the archive is the result."""
        return len(self._require_members()) * self.parameters_per_member

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The archive member whose MORL-Baselines return vector G maximises ω·G."""
        weights = validate_preference(preference, self.m)
        members = self._require_members()
        return self._export(members[int(np.argmax(np.asarray([m.returns for m in members]) @ weights))])

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> FrontResult:
        """Without ``preferences``: every archive member on the paper protocol, each behind its
        normaliser; the front is their non-dominated returns. With ``preferences``: the member
        :meth:`policy_for` picks for each."""
        if preferences is not None:
            return super().evaluate(preferences, **kwargs)
        members = self._require_members()
        policies = [self._export(m) for m in members]
        return self._evaluate_front(policies, np.asarray([m.weight for m in members]), **kwargs)

    # ----------------------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        plan = {"warmup": self.warmup, "generation": self.generation, "per_member": self.parameters_per_member}
        members = [{"actor": m.actor, "weight": torch.from_numpy(m.weight), "obs_mean": torch.from_numpy(m.obs_mean),
                    "obs_var": torch.from_numpy(m.obs_var), "returns": torch.from_numpy(m.returns)}
                   for m in self.members]  # fmt: skip
        return {"plan": json.dumps(plan), "members": members}

    def _set_state(self, state: dict[str, Any]) -> None:
        plan = json.loads(state["plan"])
        self.warmup, self.generation = int(plan["warmup"]), int(plan["generation"])
        self.parameters_per_member = int(plan["per_member"])
        self.members = [Member(dict(m["actor"]), m["weight"].numpy(), m["obs_mean"].numpy(), m["obs_var"].numpy(),
                               m["returns"].numpy()) for m in state["members"]]  # fmt: skip
