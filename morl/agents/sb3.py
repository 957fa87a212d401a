"""SB3 multi-policy: what a practitioner without a MORL library does, as a baseline.

N Stable-Baselines3 agents (PPO by default, SAC with ``algo="sac"``), one per preference of an
even grid (N = Hyper-MORL's PSL grid size by default: 6 for m=2, 15 for m=3), each trained on the
problem scalarised with its preference, one after another, the budget split evenly. Real SB3
code, trained on morl's fast vector env through :class:`morl.agents.sb3_vec.ScalarizedVecEnv`, with
``VecNormalize`` (observations and rewards) as usual for MuJoCo.

Checkpoints hold each member's SB3 ``state_dict``\\ s (policy and optimisers), its step counters
and its ``VecNormalize`` statistics as tensors and JSON (never SB3's zip, whose cloudpickle runs
code on load); SAC's replay buffer of the member in training is saved as plain arrays.

``evaluate()`` evaluates every trained member on its own preference (the paper protocol's
episode settings) and the front is their non-dominated returns. ``policy_for(ω)`` returns the
member whose last evaluated return vector G maximises ω·G (before any evaluation: the member of
the nearest grid preference).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Agent, Iteration
from morl.agents.ppo.core import plan_rollout
from morl.agents.settings import AgentConfig, setting
from morl.envs.problem import Problem
from morl.evaluation import FrontResult
from morl.policy import PreferencePolicy, layers_from_state
from morl.preferences import PerturbedPreferenceSampler, simplex_grid, validate_preference
from morl.versions import versions

MIN_ITERATIONS = 10  # rollouts per member at least (PPO's n_steps is halved until it fits)


@dataclass(frozen=True)
class SB3MultiPolicyConfig(AgentConfig):
    """SB3's own defaults for its algorithms, plus how the population is laid out."""

    algo: str = setting("ppo", choices=("ppo", "sac"), help="the SB3 algorithm of every member")
    num_policies: int = setting(6, low=1, help="members, one per preference of an even simplex grid "
                                "(default: 6 for m=2, 15 for m=3)")  # fmt: skip
    envs_per_policy: int = setting(4, low=1, help="envs each member collects on (morl's vector env)")
    normalize: bool = setting(True, help="VecNormalize observations and rewards")
    learning_rate: float = setting(3e-4, low=0.0, low_open=True, help="SB3's default for PPO and SAC")
    gamma: float = setting(0.99, low=0.0, high=1.0, low_open=True, help="discount (SB3's default)")
    n_steps: int = setting(2048, low=8, help="PPO: rollout steps per env (the most: small budgets use fewer)")
    batch_size: int = setting(0, low=0, help="mini-batch size (0: PPO 64 per env, SB3's 64 on one env; SAC 256)")
    n_epochs: int = setting(10, low=1, help="PPO epochs per rollout")
    sac_steps_per_iteration: int = setting(1000, low=1, help="SAC: env steps per env between checkpoints")

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        grid = PerturbedPreferenceSampler(problem.reward_dim).num_preferences
        return {**super().defaults_for(problem), "num_policies": grid}


def member_weights(num_objectives: int, count: int) -> np.ndarray:
    """``count`` evenly spread preferences: the simplex grid of exactly ``count`` points when one
    exists (m=2: any count; m=3: 3, 6, 10, 15, ...), else the first ``count`` of a finer grid."""
    splits = 1
    while len(simplex_grid(num_objectives, splits)) < count:
        splits += 1
    grid = simplex_grid(num_objectives, splits)
    if len(grid) == count:
        return grid
    return grid[np.linspace(0, len(grid) - 1, count).round().astype(int)]


@dataclass
class Member:
    """One SB3 agent's saved state (everything but the live model)."""

    params: dict[str, Any]  # SB3 get_parameters(): policy and optimiser state_dicts
    counters: dict[str, Any]  # num_timesteps, n_updates, VecNormalize statistics
    extra: dict[str, torch.Tensor]  # SAC: log_ent_coef


class SB3MultiPolicy(Agent):
    """N independent SB3 agents, one per preference, trained one after another."""

    name = "sb3"
    summary = "N Stable-Baselines3 agents (PPO or SAC), one per preference of a grid, budget split evenly"
    config_class = SB3MultiPolicyConfig
    config: SB3MultiPolicyConfig

    def _setup(self) -> None:
        cfg = self.config
        self.weights = member_weights(self.m, cfg.num_policies)
        self.members: list[Member | None] = [None] * cfg.num_policies
        self.last_returns: np.ndarray | None = None  # (N, m) of the last evaluation; NaN: not evaluated
        self.per_member = 0  # iterations per member
        self.n_steps = 0  # PPO rollout length of the plan
        self._model: Any = None  # the live SB3 model of the member in training
        self._model_index = -1
        self._replay: dict[str, Any] | None = None  # SAC replay buffer loaded from a checkpoint

    # ----------------------------------------------------------------------------- planning
    def _steps_per_iteration(self) -> int:
        cfg = self.config
        per_env = self.n_steps if cfg.algo == "ppo" else cfg.sac_steps_per_iteration
        return per_env * cfg.envs_per_policy

    def _plan(self, budget: int) -> tuple[int, int]:
        cfg = self.config
        member_budget = budget // cfg.num_policies
        if cfg.algo == "ppo":
            self.n_steps = plan_rollout(cfg.n_steps, cfg.envs_per_policy, member_budget, MIN_ITERATIONS)
        self.per_member = member_budget // self._steps_per_iteration()
        if self.per_member < 1:
            raise ValueError(
                f"total_steps={budget} is too small: each of {cfg.num_policies} members needs at least "
                f"{self._steps_per_iteration()} steps for one iteration"
            )
        iterations = self.per_member * cfg.num_policies
        return iterations, iterations * self._steps_per_iteration()

    # ----------------------------------------------------------------------------- training
    def _member_seed(self, index: int) -> int:
        return self.config.seed * 1_000 + index

    def sb3_model(self, index: int) -> Any:
        """The Stable-Baselines3 model of member ``index`` on a fresh vector env, with its saved
        parameters, counters and normaliser if any (not a SAC replay buffer: that stays with the
        run's own training): SB3's own tools (``predict``, callbacks, ``save``) apply to it. The
        caller closes its env (``model.get_env().close()``)."""
        from stable_baselines3 import PPO, SAC
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.vec_env import VecNormalize

        from morl.agents.sb3_vec import ScalarizedVecEnv

        cfg = self.config
        env: Any = ScalarizedVecEnv(self.problem_id, self.weights[index], cfg.envs_per_policy,
                                    workers=cfg.workers or None)  # fmt: skip
        if cfg.normalize:
            env = VecNormalize(env, norm_obs=True, norm_reward=True, gamma=cfg.gamma)
        seed = self._member_seed(index)
        common: dict[str, Any] = {"learning_rate": cfg.learning_rate, "gamma": cfg.gamma, "seed": seed,
                                  "device": "cpu", "verbose": 0}  # fmt: skip
        if cfg.algo == "ppo":
            batch = cfg.batch_size or 64 * cfg.envs_per_policy
            model: Any = PPO("MlpPolicy", env, n_steps=self.n_steps, n_epochs=cfg.n_epochs,
                        batch_size=min(batch, self.n_steps * cfg.envs_per_policy), **common)  # fmt: skip
        else:
            buffer = max(1, self.per_member * self._steps_per_iteration() // cfg.envs_per_policy)
            model = SAC("MlpPolicy", env, buffer_size=buffer * cfg.envs_per_policy,
                        batch_size=cfg.batch_size or 256, **common)  # fmt: skip
        # SB3 makes a logger at every learn() unless it has one, and that logger makes a directory
        # under the temp dir (SB3-<timestamp>) even when it writes nothing: one per iteration.
        # A logger without outputs still collects the train/ values that _train_iteration reads.
        model.set_logger(Logger(folder=None, output_formats=[]))
        member = self.members[index]
        if member is not None:
            model.set_parameters(member.params, exact_match=True, device="cpu")
            model.num_timesteps = int(member.counters["num_timesteps"])
            model._n_updates = int(member.counters["n_updates"])
            if "log_ent_coef" in member.extra:
                with torch.no_grad():
                    model.log_ent_coef.copy_(member.extra["log_ent_coef"])
            if cfg.normalize:
                _set_rms(env.obs_rms, member.counters["obs_rms"])
                _set_rms(env.ret_rms, member.counters["ret_rms"])
        return model

    def _training_model(self, index: int) -> Any:
        """:meth:`sb3_model` for training: a resumed run's member also gets the replay buffer its
        checkpoint carried (once: it belongs to the member that was training when it was saved)."""
        model = self.sb3_model(index)
        if self._replay is not None and self.members[index] is not None:
            _set_replay(model.replay_buffer, self._replay)
            self._replay = None
        return model

    def _snapshot(self) -> None:
        """Store the live model's state in ``members`` (for checkpoints and export)."""
        model = self._model
        if model is None:
            return
        counters: dict[str, Any] = {"num_timesteps": int(model.num_timesteps), "n_updates": int(model._n_updates)}
        env = model.get_env()
        if self.config.normalize:
            counters["obs_rms"] = _rms_state(env.obs_rms)
            counters["ret_rms"] = _rms_state(env.ret_rms)
        extra = {}
        if getattr(model, "log_ent_coef", None) is not None:
            extra["log_ent_coef"] = model.log_ent_coef.detach().clone()
        params = _clone(model.get_parameters())  # a snapshot: the live model trains on
        self.members[self._model_index] = Member(params, counters, extra)

    def _train_iteration(self) -> Iteration:
        index = self.run.iteration // self.per_member
        if self._model_index != index:
            self._release()
            self._model, self._model_index = self._training_model(index), index
        model = self._model
        before = model.num_timesteps
        model.learn(total_timesteps=self._steps_per_iteration(), reset_num_timesteps=False, progress_bar=False)
        self._snapshot()  # after every completed learn(): checkpoints and exports read members
        if (self.run.iteration + 1) % self.per_member == 0:  # this member is done
            self._release()
        finished = model.get_env().unwrapped.drain_episodes()
        stats = {k.split("/", 1)[1]: float(v) for k, v in model.logger.name_to_value.items() if k.startswith("train/")}
        label = f"member {index + 1}/{self.config.num_policies} {np.round(self.weights[index], 2).tolist()}"
        return Iteration(int(model.num_timesteps - before), stats, finished, label)

    def _release(self) -> None:
        # No snapshot here: members hold the state of the last completed iteration, and a learn()
        # interrupted half-way must not overwrite it with a half-trained model.
        if self._model is not None:
            self._model.get_env().close()
            self._model, self._model_index = None, -1

    # ----------------------------------------------------------------------------- using it
    def pareto_set(self) -> list[tuple[np.ndarray, PreferencePolicy]]:
        """(preference, standalone policy) of every member that has trained."""
        return [(self.weights[i].copy(), self._export(i)) for i, member in enumerate(self.members) if member]

    def parameter_count(self) -> int:
        """Every trained member's SB3 policy (SAC's target critic excluded); members not
        trained yet count nothing."""
        self._snapshot()
        return sum(
            int(np.prod(tensor.shape))
            for member in self.members
            if member is not None
            for name, tensor in member.params["policy"].items()
            if "critic_target" not in name
        )

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The member whose last evaluated return vector G maximises ω·G (before any evaluation,
        the member trained for the grid preference nearest to ω), among those that have trained."""
        weights = validate_preference(preference, self.m)
        trained = [i for i, member in enumerate(self.members) if member is not None]
        if not trained:
            raise ValueError("no member has trained yet: call learn() first")
        if self.last_returns is not None and not np.isnan(self.last_returns[trained]).any():
            best = trained[int(np.argmax(self.last_returns[trained] @ weights))]
        else:
            best = trained[int(np.argmin(np.linalg.norm(self.weights[trained] - weights, axis=1)))]
        return self._export(best)

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> FrontResult:
        """Without ``preferences``: every trained member on its own preference, the front their
        non-dominated returns (and G of each member, for :meth:`policy_for`). With ``preferences``:
        the policy :meth:`policy_for` picks for each."""
        if preferences is not None:
            return super().evaluate(preferences, **kwargs)
        trained = [i for i, member in enumerate(self.members) if member is not None]
        if not trained:
            raise ValueError("no member has trained yet: call learn() first")
        policies = {i: self._export(i) for i in trained}
        grid = self.weights[trained]

        def member_of(weight: np.ndarray) -> PreferencePolicy:  # the member trained for this grid point
            return policies[trained[int(np.argmin(np.linalg.norm(grid - weight, axis=1)))]]

        result = self._evaluate_front(member_of, grid, **kwargs)
        self.last_returns = np.full((len(self.weights), self.m), np.nan)
        self.last_returns[trained] = result.returns
        return result

    def _export(self, index: int) -> PreferencePolicy:
        member = self.members[index]
        assert member is not None
        state = member.params["policy"]
        if self.config.algo == "ppo":
            names = ["mlp_extractor.policy_net.0", "mlp_extractor.policy_net.2", "action_net"]
            activation, squash = "tanh", "none"
        else:
            names = ["actor.latent_pi.0", "actor.latent_pi.2", "actor.mu"]
            activation, squash = "relu", "tanh"
        weights = layers_from_state(state, names)
        if "log_std" in state:
            weights["log_std"] = state["log_std"].double().numpy()
        obs = member.counters.get("obs_rms")
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=self.weights[index],
            weights=weights,
            obs_mean=None if obs is None else np.asarray(obs["mean"]),
            obs_var=None if obs is None else np.asarray(obs["var"]),
            activation=activation,
            squash=squash,
            action_low=self.action_low,
            action_high=self.action_high,
            metadata={
                "agent": self.name,
                "algo": self.config.algo,
                "member": index,
                "member_env_steps": member.counters["num_timesteps"],
                "versions": versions(),
            },
        )

    # ----------------------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "plan": json.dumps({"per_member": self.per_member, "n_steps": self.n_steps}),
            "last_returns": json.dumps(None if self.last_returns is None else self.last_returns.tolist()),
            "members": [
                None if m is None else {"params": m.params, "counters": json.dumps(m.counters), "extra": m.extra}
                for m in self.members
            ],
        }
        if self._model is not None and self.config.algo == "sac":
            state["replay"] = _replay_state(self._model.replay_buffer)
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        plan = json.loads(state["plan"])
        self.per_member, self.n_steps = int(plan["per_member"]), int(plan["n_steps"])
        returns = json.loads(state["last_returns"])
        self.last_returns = None if returns is None else np.asarray(returns, dtype=np.float64)
        members = state["members"]
        if len(members) != self.config.num_policies:
            raise ValueError(f"{len(members)} members saved; the config has {self.config.num_policies}")
        self.members = [None if m is None else Member(m["params"], json.loads(m["counters"]), m["extra"])
                        for m in members]  # fmt: skip
        self._replay = state.get("replay")


def _clone(value: Any) -> Any:
    """A deep copy of nested state dicts (tensors cloned, containers rebuilt)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _rms_state(rms: Any) -> dict[str, Any]:
    return {"mean": np.asarray(rms.mean).tolist(), "var": np.asarray(rms.var).tolist(), "count": float(rms.count)}


def _set_rms(rms: Any, state: dict[str, Any]) -> None:
    rms.mean = np.asarray(state["mean"], dtype=np.float64).reshape(np.shape(rms.mean))
    rms.var = np.asarray(state["var"], dtype=np.float64).reshape(np.shape(rms.var))
    rms.count = float(state["count"])


_REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def _replay_state(buffer: Any) -> dict[str, Any]:
    """The filled part of an SB3 replay buffer as tensors (loadable with weights_only)."""
    size = buffer.buffer_size if buffer.full else buffer.pos
    return {
        "pos": int(buffer.pos),
        "full": bool(buffer.full),
        **{name: torch.from_numpy(np.ascontiguousarray(getattr(buffer, name)[:size])) for name in _REPLAY_ARRAYS},
    }


def _set_replay(buffer: Any, state: dict[str, Any]) -> None:
    for name in _REPLAY_ARRAYS:
        values = state[name].numpy()
        getattr(buffer, name)[: len(values)] = values
    buffer.pos, buffer.full = int(state["pos"]), bool(state["full"])
