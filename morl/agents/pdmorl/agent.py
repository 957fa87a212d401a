"""PD-MORL (Basaklar et al., ICLR 2023): one preference-conditioned TD3 for the whole front.

A single actor π(s, ω) and twin vector critics Q1, Q2(s, a, ω) ∈ R^m are trained by TD3 over
the whole preference simplex (:mod:`.td3`, :mod:`.losses`). Ten envs (by default) each explore
their own contiguous slice of a fine preference grid, drawing a preference from it at every
episode start; every transition is stored with its preference and, after the random warm-up,
with three hindsight copies under random preferences (:func:`.replay.her_preferences`). An
angle term in both losses pulls Q(s, a, ω) towards the direction I(ω) that an interpolator
(:mod:`.interpolator`) draws through the returns of the key preferences; those returns come from
the **key warm start** (one fixed-preference TD3 per key, trained first, here all keys at once
as a stacked network) and are replaced whenever the main policy does better at a key.

Budget: the key warm start is part of the run's env-step budget (``key_fraction`` of it; the
authors' ratio by default: 3 × 2M key steps beside 10M, 3 × 1M for Swimmer), so a comparison at
equal budgets counts every step the algorithm takes.

The authors' bugs, fixed (README, "PD-MORL"): a time-limit truncation is not a termination (the
value bootstraps through it); evaluation runs on its own random streams (the authors reseeded
the global generators in every interpolator evaluation, so replay indices, HER preferences and
target noise repeated after each one); one interpolator normalisation (L1, the one the authors'
rebuilt interpolator used for almost all of their training) throughout.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from morl.agents.base import Agent, Iteration, update_threads
from morl.agents.checkpoint import to_arrays, to_tensors
from morl.agents.pdmorl.interpolator import KeyInterpolator, key_preferences
from morl.agents.pdmorl.replay import ReplayBuffer, her_preferences
from morl.agents.pdmorl.td3 import TD3, TD3Settings
from morl.agents.settings import AgentConfig, setting
from morl.agents.threads import torch_threads
from morl.envs.problem import Problem
from morl.envs.vector import MOVectorEnv, make_vec
from morl.evaluation import evaluate_front
from morl.policy import PreferencePolicy
from morl.preferences import simplex_grid, validate_preference
from morl.versions import versions

MIN_ITERATIONS = 10  # small budgets: iterations are shortened until the main stage has this many
MIN_KEY_ITERATIONS = 5  # ... and the key warm start this many
KEY_NOISE, KEY_NOISE_CLIP = 0.05, 0.05  # the key warm start's acting-preference noise

# The authors' per-problem settings (settings.py): main policy delay, and the key warm start's
# steps per key, buffer, random warm-up and policy delay. Hopper-v3 and Humanoid, which the
# authors did not run, take Hopper's and HalfCheetah's.
_AUTHORS = {
    "Swimmer": (10, 1_000_000, 1_000_000, 10_000, 5),
    "Hopper": (20, 2_000_000, 1_000_000, 10_000, 10),
}
_DEFAULT = (10, 2_000_000, 500_000, 25_000, 2)
MAIN_STEPS = 10_000_000  # the authors': 1M steps in each of 10 envs


@dataclass(frozen=True)
class PDMORLConfig(AgentConfig):
    """PD-MORL's settings (the authors' per problem by :meth:`for_problem`)."""

    num_envs: int = setting(10, low=1, help="envs of the main stage, each exploring its own slice of the preferences")
    hidden: int = setting(400, low=1, help="width of the two hidden layers of actor and critics")
    learning_rate: float = setting(3e-4, low=0.0, low_open=True, help="Adam step size of actor and critics")
    gamma: float = setting(0.995, low=0.0, high=1.0, high_open=True, help="discount of the main stage")
    tau: float = setting(0.005, low=0.0, high=1.0, low_open=True, help="Polyak rate of the target networks")
    batch_size: int = setting(256, low=1, help="transitions per update (main stage)")
    buffer_size: int = setting(2_000_000, low=1, help="replay capacity of the main stage (FIFO)")
    her_copies: int = setting(3, low=0, help="hindsight copies of each transition, each with a random preference")
    random_steps: int = setting(10_000, low=0, help="steps of each env with uniform random actions "
                                "(at most a tenth of each env's steps)")  # fmt: skip
    learning_starts: int = setting(1536, low=1, help="transitions in the buffer before updates start")
    updates_per_step: float = setting(1.0, low=0.0, low_open=True, help="gradient updates per env step "
                                      "(update-to-data ratio; the authors' 1)")  # fmt: skip
    policy_delay: int = setting(10, low=1, help="critic updates per actor update (10; 20 for Hopper)")
    exploration_noise: float = setting(0.1, low=0.0, help="Gaussian action noise, times the half-range of the box")
    policy_noise: float = setting(0.2, low=0.0, help="target policy smoothing noise (not scaled by the box)")
    noise_clip: float = setting(0.5, low=0.0, help="clip of the target policy smoothing noise")
    grad_clip: float = setting(100.0, low=0.0, low_open=True, help="gradient-norm clip of actor and critics")
    critic_angle: float = setting(1.0, low=0.0, help="weight of the angle term (degrees) in the critic loss")
    actor_angle: float = setting(10.0, low=0.0, help="weight of the angle term (degrees) in the actor loss")
    interp_episodes: int = setting(3, low=1, help="episodes per key preference when updating the interpolator")
    steps_per_iteration: int = setting(1000, low=1, help="steps of every env per iteration (checkpoint cadence; "
                                       "shortened for small budgets)")  # fmt: skip
    key_fraction: float = setting(0.375, low=0.0, high=1.0, high_open=True,
                                  help="share of the budget for the key warm start (the authors' ratio: 0.375, "
                                  "3/13 for Swimmer; 0: the interpolator starts from the keys themselves)")  # fmt: skip
    key_envs: int = setting(1, low=1, help="envs per key preference in the key warm start")
    key_batch_size: int = setting(100, low=1, help="transitions per update in the key warm start")
    key_gamma: float = setting(0.99, low=0.0, high=1.0, high_open=True, help="discount of the key warm start")
    key_buffer_size: int = setting(500_000, low=1, help="replay capacity per key (500k; 1M Swimmer, Hopper)")
    key_random_steps: int = setting(25_000, low=0, help="random-action steps per key env (25k; 10k Swimmer, Hopper)")
    key_policy_delay: int = setting(2, low=1, help="critic updates per actor update for keys (2; 5 Swimmer, "
                                    "10 Hopper)")  # fmt: skip
    key_eval_interval: int = setting(50_000, low=1, help="env steps per key between evaluations of the key "
                                     "policies (the authors': 100 episodes)")  # fmt: skip
    key_eval_episodes: int = setting(10, low=1, help="episodes per evaluation of a key policy")
    device: str = setting("cpu", choices=("cpu", "cuda"), help="where the networks train (cuda: an NVIDIA GPU)")

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        delay, key_steps, key_buffer, key_random, key_delay = next(
            (v for k, v in _AUTHORS.items() if k in problem.name), _DEFAULT
        )
        keys = problem.reward_dim + 1
        return {
            **super().defaults_for(problem),
            "total_steps": MAIN_STEPS + keys * key_steps,
            "key_fraction": keys * key_steps / (MAIN_STEPS + keys * key_steps),
            "policy_delay": delay,
            "key_buffer_size": key_buffer,
            "key_random_steps": key_random,
            "key_policy_delay": key_delay,
        }


@dataclass
class Plan:
    """How a budget is spent: ``key_iterations`` of the key warm start (``key_steps`` steps of
    every key env each), then ``main_iterations`` of ``main_steps`` steps of every env."""

    key_iterations: int = 0
    key_steps: int = 0
    key_random: int = 0  # steps of each key env with random actions
    key_eval_every: int = 1  # key iterations between evaluations of the key policies
    key_capacity: int = 0
    main_iterations: int = 0
    main_steps: int = 0
    main_random: int = 0
    main_capacity: int = 0


def exploration_grid(m: int, parts: int) -> list[np.ndarray]:
    """The authors' exploration slices: a fine sorted preference grid (step 0.001 for m = 2,
    0.01 for m = 3) split into ``parts`` contiguous slices, one per env."""
    grid = simplex_grid(m, 1000 if m == 2 else 100)
    grid = grid[np.lexsort(grid.T[::-1])]
    return np.array_split(grid, parts)


def _shorten(steps: int, rows: int, budget: int, minimum: int) -> int:
    """Halve ``steps`` (per env per iteration) until ``minimum`` iterations fit the budget."""
    while steps > 1 and budget // (steps * rows) < minimum:
        steps //= 2
    return steps


class PDMORL(Agent):
    """PD-MORL: preference-driven TD3 with hindsight preferences and the interpolator's angle term."""

    name = "pd-morl"
    summary = "one preference-conditioned TD3 (twin vector critics), HER preferences, angle-guided (PD-MORL)"
    config_class = PDMORLConfig
    config: PDMORLConfig

    # ------------------------------------------------------------------------------ setup
    def _setup(self) -> None:
        cfg = self.config
        self.keys = key_preferences(self.m)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' but torch sees no CUDA GPU here; use device='cpu'")
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.main = self._learner(key=False)
        self.key: TD3 | None = None
        self.buffer: ReplayBuffer | None = None
        self.interpolator: KeyInterpolator | None = None
        self.key_best = np.full((len(self.keys), self.m), np.nan)
        self.plan = Plan()
        self.slices = exploration_grid(self.m, cfg.num_envs)
        self.counters = {"stage_steps": 0, "interp_round": 0, "evaluations": 0, "interp_env_steps": 0,
                         "key_env_steps_evaluated": 0, "updates": 0}  # fmt: skip
        self.debt = 0.0  # updates owed (fractional update-to-data ratios)
        self._env: MOVectorEnv | None = None
        self._in_flight: dict[str, Any] | None = None  # the envs' state while they are closed
        self._obs = np.zeros(0)
        self._prefs = np.zeros(0)
        self._episodes = np.zeros(0, dtype=np.int64)

    def _learner(self, key: bool, generator: torch.Generator | None = None) -> TD3:
        """The main stage's TD3 (one group) or the key warm start's (one group per key)."""
        groups = len(self.keys) if key else 1
        return TD3(groups, self.obs_dim, self.m, self.action_low, self.action_high, self._settings(key),
                   generator or self.generator, self.config.device)  # fmt: skip

    def _settings(self, key: bool) -> TD3Settings:
        cfg = self.config
        return TD3Settings(
            hidden=cfg.hidden,
            learning_rate=cfg.learning_rate,
            gamma=cfg.key_gamma if key else cfg.gamma,
            tau=cfg.tau,
            policy_noise=cfg.policy_noise,
            noise_clip=cfg.noise_clip,
            delay=cfg.key_policy_delay if key else cfg.policy_delay,
            grad_clip=cfg.grad_clip,
            critic_angle=cfg.critic_angle,
            actor_angle=cfg.actor_angle,
        )

    def _plan(self, budget: int) -> tuple[int, int]:
        cfg = self.config
        key_budget = math.floor(budget * cfg.key_fraction)
        main_budget = budget - key_budget
        steps = _shorten(cfg.steps_per_iteration, cfg.num_envs, main_budget, MIN_ITERATIONS)
        main_iterations = main_budget // (steps * cfg.num_envs)
        if main_iterations < 1:
            raise ValueError(f"total_steps={budget} is too small: the main stage gets {main_budget} steps, "
                             f"fewer than its {cfg.num_envs} envs")  # fmt: skip
        per_env = main_iterations * steps
        plan = Plan(main_iterations=main_iterations, main_steps=steps, main_random=min(cfg.random_steps, per_env // 10),
                    main_capacity=min(cfg.buffer_size, per_env * cfg.num_envs * (1 + cfg.her_copies)))  # fmt: skip
        if key_budget > 0:
            rows = len(self.keys) * cfg.key_envs
            key_steps = _shorten(cfg.steps_per_iteration, rows, key_budget, MIN_KEY_ITERATIONS)
            plan.key_iterations = key_budget // (key_steps * rows)
            if plan.key_iterations < 1:
                raise ValueError(f"total_steps={budget} is too small: the key warm start gets {key_budget} steps, "
                                 f"fewer than its {rows} envs; lower key_fraction")  # fmt: skip
            plan.key_steps = key_steps
            per_key_env = plan.key_iterations * key_steps
            plan.key_random = min(cfg.key_random_steps, per_key_env // 10)
            plan.key_eval_every = max(1, round(cfg.key_eval_interval / (key_steps * cfg.key_envs)))
            plan.key_capacity = min(cfg.key_buffer_size, per_key_env * cfg.key_envs)
        self.plan = plan
        iterations = plan.key_iterations + plan.main_iterations
        env_steps = plan.key_iterations * plan.key_steps * len(self.keys) * cfg.key_envs
        return iterations, env_steps + main_iterations * steps * cfg.num_envs

    @property
    def stage(self) -> str:
        """``"key"`` during the key warm start, ``"main"`` after it."""
        return "key" if self.run.iteration < self.plan.key_iterations else "main"

    # ------------------------------------------------------------------------------ training
    def _train_iteration(self) -> Iteration:
        with torch_threads(update_threads(self.config)):
            if self.stage == "key":
                return self._key_iteration()
            if self.buffer is None or self.buffer.name != "main":
                self._start_main()
            return self._main_iteration()

    def _open(self, rows: int, seed: int) -> MOVectorEnv:
        """The stage's envs: continued from the in-flight state if a run was interrupted."""
        if self._env is None:
            self._env = make_vec(self.problem_id, rows, seed=seed, workers=self.config.workers or None)
            if self._in_flight is not None:
                self._env.set_state(self._in_flight["env"])
                self._obs = self._in_flight["obs"].copy()
                self._prefs = self._in_flight["prefs"].copy()
                self._episodes = self._in_flight["episodes"].astype(np.int64)
            else:
                self._obs, _ = self._env.reset()
                self._prefs = np.zeros((rows, self.m))
                self._episodes = np.zeros(rows, dtype=np.int64)
            self._in_flight = None  # the open envs hold it now
        return self._env

    def _close_env(self, keep: bool) -> None:
        if self._env is not None:
            self._in_flight = self._flight_state() if keep else None
            self._env.close()
            self._env = None
        elif not keep:
            self._in_flight = None

    def _flight_state(self) -> dict[str, Any] | None:
        if self._env is None:
            return self._in_flight
        return {"env": self._env.get_state(), "obs": self._obs.copy(), "prefs": self._prefs.copy(),
                "episodes": self._episodes.copy()}  # fmt: skip

    def _release(self) -> None:
        self._close_env(keep=True)

    def _act(self, learner: TD3, groups: int, random_steps: int) -> np.ndarray:
        """Uniform random actions during the random warm-up, else the live actor plus Gaussian
        noise (``exploration_noise`` × the box's half-range), clipped to the box."""
        rows = len(self._obs)
        low, high = self.action_low, self.action_high
        if self.counters["stage_steps"] < random_steps:
            return self.rng.uniform(low, high, size=(rows, len(low)))
        obs = self._obs.reshape(groups, rows // groups, -1)
        actions = learner.act(obs, self._prefs.reshape(groups, rows // groups, -1)).reshape(rows, -1)
        noise = self.rng.normal(0.0, self.config.exploration_noise * (high - low) / 2, size=actions.shape)
        return np.clip(actions + noise, low, high)

    def _step(self, actions: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, Any]]:
        """One env step: the transitions (buffer fields), which envs ended, and the step's
        info. Moves ``_obs`` on (to the next episode's first observation where one ended)."""
        assert self._env is not None
        obs, rewards, terminated, truncated, info = self._env.step(actions)
        done = terminated | truncated
        next_obs = np.where(done[:, None], info["final_obs"], obs) if done.any() else obs
        rows = {"obs": self._obs, "action": actions, "reward": rewards, "next_obs": next_obs,
                "terminated": terminated, "pref": self._prefs}  # fmt: skip
        self._obs = obs
        return rows, done, info

    def _updates(self, learner: TD3, new_steps: int, batch_size: int, main: bool) -> dict[str, float]:
        """The updates owed for ``new_steps`` env steps (``updates_per_step`` each), once the
        buffer holds ``learning_starts`` transitions. Returns the last update's losses."""
        assert self.buffer is not None
        if self.buffer.size < self.config.learning_starts:
            return {}
        self.debt += new_steps * self.config.updates_per_step
        count = int(self.debt)
        self.debt -= count
        stats: dict[str, float] = {}
        for _ in range(count):
            batch = self.buffer.sample(batch_size, self.rng)
            direction = None
            if main and self.interpolator is not None:
                target = self.interpolator(batch.pref[0].numpy())
                direction = torch.from_numpy(target.astype(np.float32))[None]
            stats.update(learner.update(batch, direction, self.generator))
        self.counters["updates"] += count
        return stats

    def _key_iteration(self) -> Iteration:
        cfg, plan = self.config, self.plan
        groups, per_key = len(self.keys), cfg.key_envs
        if self.key is None:  # the stage starts
            self.key = self._learner(key=True)
            self.buffer = ReplayBuffer(groups, plan.key_capacity, self.obs_dim, self.action_dim, self.m, "key")
            self.counters["stage_steps"] = 0
        self._open(groups * per_key, cfg.seed + 1)
        keys = np.repeat(self.keys, per_key, axis=0)
        stats: dict[str, float] = {}
        returns: list[np.ndarray] = []
        for _ in range(plan.key_steps):
            noise = np.clip(self.rng.normal(0.0, KEY_NOISE, size=keys.shape), -KEY_NOISE_CLIP, KEY_NOISE_CLIP)
            noisy = np.abs(keys + noise)
            self._prefs = noisy / noisy.sum(axis=1, keepdims=True)
            actions = self._act(self.key, groups, plan.key_random)
            rows, done, info = self._step(actions)
            assert self.buffer is not None
            self.buffer.add(**{k: v.reshape(groups, per_key, *v.shape[1:]) for k, v in rows.items()})
            if done.any():
                returns.extend(info["morl_episode"]["r"][done])
            self.counters["stage_steps"] += 1
            stats.update(self._updates(self.key, per_key, cfg.key_batch_size, main=False))
        index = self.run.iteration + 1  # key iterations done after this one
        if index % plan.key_eval_every == 0 or index == plan.key_iterations:
            self._evaluate_keys()
        if not np.isnan(self.key_best).any():
            stats["key_score_min"] = float(np.min(np.einsum("km,km->k", self.keys, self.key_best)))
        label = f"key warm start {index}/{plan.key_iterations}"
        return Iteration(plan.key_steps * groups * per_key, stats, returns, label)

    def _evaluation_seed(self) -> int:
        """Evaluations inside training run on their own seeds (the authors reseeded the global
        generators, so every stream of training repeated after each evaluation)."""
        self.counters["evaluations"] += 1
        return 1_000_003 * (self.config.seed + 1) + 9_973 * self.counters["evaluations"]

    def _evaluate_keys(self) -> None:
        """Each key policy on its own key (deterministic, ``key_eval_episodes``); the best mean
        return vector under the key's preference so far is kept."""
        assert self.key is not None
        policies = [self._policy(self.key, g, w) for g, w in enumerate(self.keys)]
        result = evaluate_front(policies, self.problem_id, self.keys, episodes=self.config.key_eval_episodes,
                                seed=self._evaluation_seed(), workers=1)  # fmt: skip
        self.counters["key_env_steps_evaluated"] += result.env_steps
        for k, (w, new) in enumerate(zip(self.keys, result.returns, strict=True)):
            if np.isnan(self.key_best[k, 0]) or w @ new > w @ self.key_best[k]:
                self.key_best[k] = new

    def _start_main(self) -> None:
        """End of the key warm start: the interpolator from the keys' best returns (from the
        keys themselves without a warm start), the main stage's buffer and envs."""
        cfg = self.config
        self._close_env(keep=False)
        self.key = None
        returns = self.keys if np.isnan(self.key_best).any() else self.key_best
        self.interpolator = KeyInterpolator(self.keys, returns)
        self.buffer = ReplayBuffer(1, self.plan.main_capacity, self.obs_dim, self.action_dim, self.m, "main")
        self.counters["stage_steps"] = 0
        self.debt = 0.0
        self._open(cfg.num_envs, cfg.seed + 2)
        self._prefs = np.stack([self._slice_preference(i) for i in range(cfg.num_envs)])

    def _slice_preference(self, row: int) -> np.ndarray:
        grid = self.slices[row]
        return grid[self.rng.integers(len(grid))]

    def _main_iteration(self) -> Iteration:
        cfg, plan = self.config, self.plan
        self._open(cfg.num_envs, cfg.seed + 2)
        assert self.buffer is not None
        copies = cfg.her_copies
        stats: dict[str, float] = {}
        returns: list[np.ndarray] = []
        for _ in range(plan.main_steps):
            actions = self._act(self.main, 1, plan.main_random)
            rows, done, info = self._step(actions)
            if copies and self.counters["stage_steps"] >= plan.main_random:  # hindsight preferences
                relabelled = her_preferences(self.rng, len(actions) * copies, self.m)
                rows = {k: np.concatenate([v, np.repeat(v, copies, axis=0)]) for k, v in rows.items()}
                rows["pref"][len(actions) :] = relabelled
            self.buffer.add(**rows)
            self.counters["stage_steps"] += 1
            if done.any():
                returns.extend(info["morl_episode"]["r"][done])
                for row in np.flatnonzero(done):
                    self._prefs[row] = self._slice_preference(int(row))
                self._episodes[done] += 1
                if self._episodes.min() > self.counters["interp_round"]:  # the slowest env ended one
                    self.counters["interp_round"] = int(self._episodes.min())
                    stats["interpolator_updates"] = stats.get("interpolator_updates", 0.0) + self._update_interpolator()
            stats.update(self._updates(self.main, cfg.num_envs, cfg.batch_size, main=True))
        index = self.run.iteration + 1 - plan.key_iterations
        label = f"iteration {index}/{plan.main_iterations}"
        return Iteration(plan.main_steps * cfg.num_envs, stats, returns, label)

    def _update_interpolator(self) -> float:
        """The deterministic main policy at each key (``interp_episodes`` each); a key's return
        is replaced where the new one is better for it. Returns how many were replaced."""
        assert self.interpolator is not None
        policies = [self._policy(self.main, 0, w) for w in self.keys]
        result = evaluate_front(policies, self.problem_id, self.keys, episodes=self.config.interp_episodes,
                                seed=self._evaluation_seed(), workers=1)  # fmt: skip
        self.counters["interp_env_steps"] += result.env_steps
        return float(sum(self.interpolator.offer(k, r) for k, r in enumerate(result.returns)))

    def _evaluation_due(self) -> bool:
        """No front evaluations during the key warm start (the main policy is not trained yet)."""
        if self.run.iteration <= self.plan.key_iterations and self.run.iteration != self.run.iterations:
            return False
        done = self.run.iteration - self.plan.key_iterations
        return done % self.config.eval_interval == 0 or self.run.iteration == self.run.iterations

    # ------------------------------------------------------------------------------ policies
    def _policy(self, learner: TD3, group: int, preference: np.ndarray, provenance: bool = False) -> PreferencePolicy:
        """The actor of ``group`` as a standalone policy; ``provenance`` adds the versions (two
        git calls), which only a policy handed to the user needs, not the evaluations inside
        training."""
        metadata: dict[str, Any] = {"agent": self.name, "env_steps": self.env_steps}
        if provenance:
            metadata["versions"] = versions()
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=preference,
            weights=learner.actor.net.copy_arrays(group),
            obs_mean=None,
            obs_var=None,
            activation="relu",
            squash="tanh",
            action_low=self.action_low,
            action_high=self.action_high,
            preference_input=True,
            metadata=metadata,
        )

    def parameter_count(self) -> int:
        """The main stage's actor and twin vector critic, one network each for every preference
        (the key learners only start it; target networks excluded)."""
        return sum(p.numel() for p in (*self.main.actor_parameters, *self.main.critic_parameters))

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy for ``preference``: the actor with ω fixed as its input."""
        return self._policy(self.main, 0, validate_preference(preference, self.m), provenance=True)

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation per row, each conditioned on that row's preference."""
        if not deterministic:
            raise ValueError("PD-MORL's actor is deterministic; use deterministic=True")
        return self.main.act(np.asarray(obs)[None], np.asarray(preferences)[None])[0]

    # ------------------------------------------------------------------------------ state
    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "plan": json.dumps(asdict(self.plan)),
            "main": self.main.state(),
            "interpolator": self.interpolator.to_json() if self.interpolator is not None else "",
            "key_best": torch.from_numpy(self.key_best.copy()),
            "counters": json.dumps({**self.counters, "debt": self.debt}),
            "rng": json.dumps(self.rng.bit_generator.state),
            "torch_rng": self.generator.get_state(),
        }
        if self.key is not None:
            state["key"] = self.key.state()
        flight = self._flight_state()
        if flight is not None:
            state["in_flight"] = to_tensors(flight)
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.plan = Plan(**json.loads(state["plan"]))
        self.main.load(state["main"])
        self.interpolator = KeyInterpolator.from_json(state["interpolator"]) if state["interpolator"] else None
        self.key_best = state["key_best"].numpy().copy()
        counters = json.loads(state["counters"])
        self.debt = float(counters.pop("debt"))
        self.counters.update(counters)
        self.rng.bit_generator.state = json.loads(state["rng"])
        self.generator.set_state(state["torch_rng"])
        if "key" in state:
            self.key = self._learner(key=True, generator=torch.Generator())
            self.key.load(state["key"])
        self._in_flight = to_arrays(state["in_flight"]) if "in_flight" in state else None

    def _write_files(self, directory: Path) -> dict[str, Any]:
        if self.buffer is None:
            return {}
        return {"replay": self.buffer.save_files(directory)}

    def _files_committed(self, directory: Path, files: dict[str, Any]) -> None:
        ReplayBuffer.prune(directory, [files["replay"]] if "replay" in files else [])

    def _read_files(self, directory: Path, state: dict[str, Any]) -> None:
        if "replay" not in state:
            return
        meta = json.loads(state["replay"])
        groups = len(self.keys) if meta["name"] == "key" else 1
        self.buffer = ReplayBuffer(groups, int(meta["capacity"]), self.obs_dim, self.action_dim, self.m, meta["name"])
        self.buffer.load_files(directory, state["replay"])
