"""The MORL-Baselines peers with one preference-conditioned actor (CAPQL, GPI-LS).

Both deploy ``π(s, ω)``: an MLP (ReLU) over the raw observation with the preference appended, a
tanh output scaled to the action bounds; no observation normaliser. GPI-LS uses generalised
policy improvement only to choose the weights it trains on (MORL-Baselines: "In the continuous
action case, GPI is only used to select weights"), so its deployed policy is this actor too.
``policy_for(ω)`` hands that actor out as a :class:`~morl.policy.PreferencePolicy`, and
``evaluate()`` runs it on the paper protocol's preferences (the deterministic mean action).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Iteration
from morl.agents.peers.base import PeerAgent, PeerConfig, StepCounter, count_parameters, make_env, tensors
from morl.agents.settings import setting
from morl.policy import PreferencePolicy, layers_from_state, numbered_modules
from morl.preferences import validate_preference
from morl.versions import versions


@dataclass(frozen=True)
class ConditionedPeerConfig(PeerConfig):
    """What CAPQL and GPI-LS share: the network sizes, the replay and the iteration length."""

    hidden_size: int = setting(256, low=1, help="units per hidden layer of actor and critics (MORL-Baselines: 256)")
    hidden_layers: int = setting(2, low=1, help="hidden layers of actor and critics (MORL-Baselines: 2)")
    buffer_size: int = setting(1_000_000, low=1, help="replay buffer transitions")
    batch_size: int = setting(128, low=1, help="mini-batch size (MORL-Baselines: 128)")
    tau: float = setting(0.005, low=0.0, high=1.0, help="target network Polyak rate")
    learning_starts: int = setting(1000, low=0, help="random-action steps before updates start")
    steps_per_iteration: int = setting(10_000, low=1, help="env steps between checkpoints (one train() call)")

    @property
    def net_arch(self) -> list[int]:
        return [self.hidden_size] * self.hidden_layers


class ConditionedPeer(PeerAgent):
    """A MORL-Baselines agent with one conditioned actor ``policy`` and critics ``q_nets``."""

    config: ConditionedPeerConfig

    def _setup(self) -> None:
        self._live = None
        self._env: StepCounter | None = None
        self._eval_env: StepCounter | None = None
        self.actor: dict[str, torch.Tensor] | None = None  # the actor's state after the last iteration
        self.parameters = 0  # actor + critics of the live agent (saved: a loaded agent has no critics)

    def _plan(self, budget: int) -> tuple[int, int]:
        per = self.config.steps_per_iteration
        if budget < per:
            raise ValueError(f"total_steps={budget} is too small: one iteration is steps_per_iteration={per} steps")
        return budget // per, (budget // per) * per

    def _envs(self) -> tuple[StepCounter, StepCounter]:
        self._env, self._eval_env = make_env(self.problem_id), make_env(self.problem_id)
        self._env.reset(seed=self.config.seed)  # later resets continue this env's seeded stream
        self._env.action_space.seed(self.config.seed)
        self._eval_env.reset(seed=self.config.seed + 10_000)
        return self._env, self._eval_env

    def _peer_iteration(self) -> Iteration:
        live = self._live_agent()
        assert self._env is not None and self._eval_env is not None
        stats = self._train_chunk(live, self._eval_env)
        steps, finished = self._env.drain()
        selection, _ = self._eval_env.drain()
        self._snapshot()
        stats["selection_env_steps"] = float(selection)
        return Iteration(steps, stats, finished)

    @abstractmethod
    def _train_chunk(self, live: Any, eval_env: StepCounter) -> dict[str, float]:
        """Train ``live`` for one iteration's env steps; returns statistics to log."""

    def _snapshot(self) -> None:
        live = self._live
        self.actor = tensors(live.policy.state_dict())
        self.parameters = count_parameters(live.policy, *live.q_nets)

    def _close_live(self) -> None:
        for env in (self._env, self._eval_env):
            if env is not None:
                env.close()
        self._env = self._eval_env = None

    # ----------------------------------------------------------------------------- using it
    def parameter_count(self) -> int:
        """The actor and the critics training updates (target networks excluded)."""
        if self.actor is None:
            raise ValueError("nothing has trained yet: call learn() first")
        return self.parameters

    def policy_for(self, preference: Any) -> PreferencePolicy:
        weights = validate_preference(preference, self.m)
        if self.actor is None:
            raise ValueError("nothing has trained yet: call learn() first")
        layers = layers_from_state(self.actor, [*numbered_modules(self.actor, "latent_pi."), "mean"])
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weights,
            weights=layers,
            obs_mean=None,
            obs_var=None,
            activation="relu",
            squash="tanh",
            action_low=self.action_low,
            action_high=self.action_high,
            preference_input=True,
            metadata={"agent": self.name, "env_steps": self.env_steps, "versions": versions()},
        )

    # ----------------------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {"actor": self.actor, "parameters": json.dumps(self.parameters)}

    def _set_state(self, state: dict[str, Any]) -> None:
        actor = state["actor"]
        if actor is not None and not all(isinstance(v, torch.Tensor) for v in actor.values()):
            raise ValueError("the actor state holds something other than tensors")
        self.actor = actor
        self.parameters = int(json.loads(state["parameters"]))


def reference_point(m: int) -> np.ndarray:
    """What MORL-Baselines' ``train`` asks for its wandb logging (unused with logging off)."""
    return np.zeros(m)
