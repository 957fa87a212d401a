"""``mb-capql``: MORL-Baselines' CAPQL (Lu, Herman & Yu, ICLR 2023) on morl's problems.

A SAC-style actor-critic conditioned on the preference: each step draws a preference near a
random direction, the critics learn vector Q-values, the actor maximises ω·Q plus entropy
(``morl_baselines.multi_policy.capql.CAPQL``, its defaults). One iteration is one
``CAPQL.train(steps_per_iteration, reset_num_timesteps=False)`` call: the step counter and the
replay buffer carry on, the episode in progress is reset at the call (as MORL-Baselines does at
every ``train`` call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from morl.agents.peers.base import morl_baselines
from morl.agents.peers.conditioned import ConditionedPeer, ConditionedPeerConfig, reference_point
from morl.agents.settings import setting


@dataclass(frozen=True)
class CAPQLConfig(ConditionedPeerConfig):
    """MORL-Baselines' CAPQL defaults."""

    alpha: float = setting(0.2, low=0.0, help="entropy temperature")
    num_q_nets: int = setting(2, low=1, help="critics (the minimum is used)")
    gradient_updates: int = setting(1, low=1, help="updates per env step")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.learning_starts < self.batch_size:  # CAPQL samples a batch without replacement
            raise ValueError(f"learning_starts={self.learning_starts} must be >= batch_size={self.batch_size}: "
                             "CAPQL's first update samples a batch from the replay buffer")  # fmt: skip


class MBCAPQL(ConditionedPeer):
    name = "mb-capql"
    summary = "MORL-Baselines' CAPQL (peer, needs morl[peers]): a preference-conditioned SAC"
    config_class = CAPQLConfig
    config: CAPQLConfig

    def _build(self) -> Any:
        module = morl_baselines("multi_policy.capql.capql")
        cfg = self.config
        env, _ = self._envs()
        return module.CAPQL(
            env,
            learning_rate=cfg.learning_rate,
            gamma=cfg.gamma,
            tau=cfg.tau,
            buffer_size=cfg.buffer_size,
            net_arch=cfg.net_arch,
            batch_size=cfg.batch_size,
            num_q_nets=cfg.num_q_nets,
            alpha=cfg.alpha,
            learning_starts=cfg.learning_starts,
            gradient_updates=cfg.gradient_updates,
            log=False,
            seed=cfg.seed,
            device="cpu",
        )

    def _train_chunk(self, live: Any, eval_env: Any) -> dict[str, float]:
        # num_eval_weights_for_front only sizes a logging grid it computes anyway (2.4 s at its 100)
        live.train(self.config.steps_per_iteration, eval_env, reference_point(self.m),
                   num_eval_weights_for_front=self.m, reset_num_timesteps=False)  # fmt: skip
        return {}
