"""``mb-gpi-ls``: MORL-Baselines' GPI-LS for continuous actions (Alegre et al., AAMAS 2023).

A TD3-style actor-critic conditioned on the preference, trained on weights chosen by GPI linear
support: each iteration asks the linear support for the corner weight where GPI promises the
largest improvement (evaluating the current agent on the eval env), trains
``timesteps_per_iteration`` steps on it and its neighbours, then evaluates the new support
(``GPILSContinuousAction``, its defaults: 20 gradient updates per step, prioritised replay).
The loop is MORL-Baselines' ``train`` for ``weight_selection_algo="gpi-ls"``, one of its
iterations per morl iteration, with the linear support kept here between them. When the linear
support has no weight left, MORL-Baselines stops training; so does this run (its last iteration
trains nothing and ``train/converged`` is 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from morl.agents.peers.base import morl_baselines
from morl.agents.peers.conditioned import ConditionedPeer, ConditionedPeerConfig
from morl.agents.settings import setting


@dataclass(frozen=True)
class GPILSConfig(ConditionedPeerConfig):
    """MORL-Baselines' GPI-LS (continuous actions) defaults."""

    buffer_size: int = setting(400_000, low=1, help="replay buffer transitions (MORL-Baselines: 400k)")
    learning_starts: int = setting(100, low=0, help="random-action steps before updates start")
    gradient_updates: int = setting(20, low=1, help="updates per env step (MORL-Baselines: 20)")
    num_q_nets: int = setting(2, low=1, help="critics (the minimum is used)")
    delay_policy_update: int = setting(2, low=1, help="critic updates per actor update")
    policy_noise: float = setting(0.2, low=0.0, help="exploration and target-smoothing noise")
    noise_clip: float = setting(0.5, low=0.0, help="clip of the target-smoothing noise")
    per: bool = setting(True, help="prioritised replay")
    steps_per_iteration: int = setting(10_000, low=1, help="env steps per linear-support iteration "
                                       "(MORL-Baselines' timesteps_per_iter)")  # fmt: skip
    selection_episodes: int = setting(5, low=1, help="episodes per weight when the linear support evaluates")


class MBGPILS(ConditionedPeer):
    name = "mb-gpi-ls"
    summary = "MORL-Baselines' GPI-LS (peer, needs morl[peers]): conditioned TD3 on GPI linear-support weights"
    config_class = GPILSConfig
    config: GPILSConfig

    def _setup(self) -> None:
        super()._setup()
        self._support: Any = None  # the linear support, alive with the live agent

    def _build(self) -> Any:
        module = morl_baselines("multi_policy.gpi_pd.gpi_pd_continuous_action")
        support = morl_baselines("multi_policy.linear_support.linear_support")
        cfg = self.config
        env, _ = self._envs()
        self._support = support.LinearSupport(num_objectives=self.m, epsilon=None)
        return module.GPILSContinuousAction(
            env,
            learning_rate=cfg.learning_rate,
            gamma=cfg.gamma,
            tau=cfg.tau,
            buffer_size=cfg.buffer_size,
            net_arch=cfg.net_arch,
            batch_size=cfg.batch_size,
            num_q_nets=cfg.num_q_nets,
            delay_policy_update=cfg.delay_policy_update,
            learning_starts=cfg.learning_starts,
            gradient_updates=cfg.gradient_updates,
            policy_noise=cfg.policy_noise,
            noise_clip=cfg.noise_clip,
            per=cfg.per,
            log=False,
            seed=cfg.seed,
            device="cpu",
        )

    def _train_chunk(self, live: Any, eval_env: Any) -> dict[str, float]:
        from morl_baselines.common.evaluation import policy_evaluation_mo

        cfg, support = self.config, self._support
        live.set_weight_support(support.get_weight_support())
        use_gpi, live.use_gpi = live.use_gpi, True
        weight = support.next_weight(algo="gpi-ls", gpi_agent=live, env=eval_env, rep_eval=cfg.selection_episodes)
        live.use_gpi = use_gpi
        if weight is None:  # nothing left to improve: MORL-Baselines ends training here
            self.run.iterations = self.run.iteration + 1
            return {"converged": 1.0}
        support_set = support.get_weight_support() + support.get_corner_weights(top_k=4) + [weight]
        live.train_iteration(total_timesteps=cfg.steps_per_iteration, weight=weight, weight_support=support_set,
                             change_weight_every_episode=True, eval_env=eval_env)  # fmt: skip
        for w in support_set:
            support.add_solution(policy_evaluation_mo(live, eval_env, w, rep=cfg.selection_episodes)[3], w)
        return {"converged": 0.0, "support_size": float(len(support.get_weight_support())),
                "weight_0": float(np.asarray(weight)[0])}  # fmt: skip
