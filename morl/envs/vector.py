"""A batched vector env for the benchmark problems: (num_envs, m) rewards, same-step autoreset.

Why not gymnasium's ``SyncVectorEnv``/``AsyncVectorEnv``: their reward buffers are (n,) and
cannot hold vector rewards, and they step one Python env at a time. Here the physics of all envs
is stepped in slices across processes over shared memory, and the observation, objectives and
termination of the whole batch are computed at once in numpy by the problem's one definition.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from morl.cores import available_cores
from morl.envs.base import check_actions, make_spaces
from morl.envs.catalog import get_problem
from morl.envs.simulator import Simulator
from morl.envs.workers import SlicedPhysics

# With fewer envs than this per process, a worker's message round trip costs more than the
# physics it takes over (HalfCheetah, 4 envs: 0.69 s per 8192 steps on 2 processes, 0.49 s on 1).
MIN_ENVS_PER_PROCESS = 8


class MOVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` copies of one problem, stepped together.

    ``reward_space`` is the space of one env's reward vector, (m,), as MO-Gymnasium's vector envs
    have it (its wrappers read ``reward_space.shape[0]``); ``batched_reward_space`` is (num_envs, m).

    ``step(actions)`` with actions of shape (num_envs, action_dim) returns
    ``obs (num_envs, obs_dim) float64, rewards (num_envs, m) float32, terminated (num_envs,),
    truncated (num_envs,), info``.

    **Autoreset.** ``autoreset_mode`` (``make_vec(..., autoreset_mode=...)``): ``"same_step"``
    (the default, what morl's agents and the original MORL codes use) as below; ``"next_step"``
    (gymnasium's and MO-Gymnasium's default: the step after an episode ends returns the reset
    observation, a zero reward and no termination, and ignores that env's action; no
    ``final_obs`` or ``morl_episode`` keys, so gymnasium's vector observation wrappers work on it);
    ``"disabled"`` (ended envs are reset by ``reset(options={"reset_mask": ...})``).

    **Same-step autoreset.** When env i terminates or reaches the time limit, it is reset
    inside the same ``step`` call: ``obs[i]`` is already the first observation of its next
    episode, ``rewards[i]``/``terminated[i]``/``truncated[i]`` belong to the transition that ended
    the episode, and ``info["final_obs"][i]`` holds the episode's last observation (needed to
    bootstrap the value at a truncation). ``info["_final_obs"]`` is the boolean mask of the envs
    that ended. These keys are present only on steps where some episode ended. ``final_obs`` is a
    dense (num_envs, obs_dim) array (rows of envs that did not end are copies of ``obs``), not
    gymnasium's object array. ``info`` also holds the objective terms of every env as (num_envs,)
    arrays.

    **Episode statistics.** As gymnasium's vector envs, this env puts no ``info["episode"]``:
    that key belongs to the ``RecordEpisodeStatistics`` wrappers (gymnasium's, MO-Gymnasium's
    ``MORecordEpisodeStatistics``), which refuse to run over an env that already fills it. The
    env's own statistics, which need no wrapper, are ``info["morl_episode"]``: ``"r"``
    (num_envs, m) the undiscounted return vectors of the episodes that ended and ``"l"`` their
    lengths, valid where ``info["_morl_episode"]`` is true (same-step autoreset, on the steps
    where ``final_obs`` is given). MO-Gymnasium 1.3.2's ``MORecordEpisodeStatistics`` assumes
    next-step autoreset: over this env's default it records each env's first episode exactly but
    drops the first reward (and step) of every later one; use ``autoreset_mode="next_step"``
    with it, or ``morl_episode``.

    **Equivalence.** Env i seeded with ``seed + i`` produces exactly the transitions of
    ``gymnasium.make(id)`` reset with ``seed + i`` and reset again (without a seed) after each
    episode, for the same actions.

    **Parallelism.** ``workers`` processes step the physics (the calling one included; default:
    the number of CPU cores, but at least 8 envs per process). Worker processes are stopped by
    ``close()``; they also exit on their own when this process exits.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012
    single_observation_space: spaces.Box
    single_action_space: spaces.Box

    def __init__(self, problem_id: str, num_envs: int, *, seed: int | None = None, workers: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP) -> None:  # fmt: skip
        self.problem = get_problem(problem_id)
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} must be a positive integer")
        if workers is None:  # all cores, but no process for fewer than a few envs
            workers = min(available_cores(), max(1, num_envs // MIN_ENVS_PER_PROCESS))
        if not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"workers={workers!r} must be a positive integer (processes stepping the physics)")
        self.num_envs = int(num_envs)
        probe = Simulator(self.problem)
        self._constants = self.problem.constants(probe.model)
        self._model = probe.model
        self._ctrl_low, self._ctrl_high = probe.model.actuator_ctrlrange.T.copy()
        obs_space, act_space, reward_space = make_spaces(self.problem, probe)
        self.single_observation_space = obs_space
        self.single_action_space = act_space
        self.single_reward_space = reward_space
        self.observation_space = batch_space(obs_space, self.num_envs)
        self.action_space = batch_space(act_space, self.num_envs)
        # MO-Gymnasium's vector convention (its wrappers read reward_space.shape[0] as m): the
        # space of one env's reward; the batch's is batched_reward_space.
        self.reward_space = reward_space
        self.batched_reward_space = spaces.Box(
            low=np.tile(reward_space.low, (self.num_envs, 1)),
            high=np.tile(reward_space.high, (self.num_envs, 1)),
            dtype=np.float32,
        )
        self.reward_dim = self.problem.reward_dim
        self.objective_names = self.problem.objective_names
        self.spec = None
        self.render_mode = None
        self._physics = SlicedPhysics(self.problem, self.num_envs, int(workers))
        self._buffers = self._physics.buffers.arrays
        self._state = self._physics.buffers.state
        self._initial_seed = seed
        self._rngs: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(self.num_envs)]
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._returns = np.zeros((self.num_envs, self.reward_dim))
        self._autoreset = np.zeros(self.num_envs, dtype=bool)  # NEXT_STEP: rows to reset on the next step
        self._needs_reset = True
        self.closed = False

    @property
    def workers(self) -> int:
        """Processes stepping the physics, the calling one included."""
        return self._physics.num_processes

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the worker processes (the calling process steps its own slice and is
        not listed): to watch their CPU, or to see that ``close`` ended them."""
        return self._physics.worker_pids

    def _seed(self, seed: int | Sequence[int | None] | None) -> None:
        if seed is None:
            return
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, (int, np.integer)) else list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"seed has {len(seeds)} entries; expected an int or one seed per env ({self.num_envs})")
        for i, s in enumerate(seeds):
            if s is not None:
                self._rngs[i] = seeding.np_random(int(s))[0]

    def _reset_rows(self, mask: np.ndarray) -> None:
        qpos, qvel = self._buffers["reset_qpos"], self._buffers["reset_qvel"]
        for i in np.flatnonzero(mask):
            qpos[i], qvel[i] = self.problem.initial_state(self._model, self._rngs[i])
        self._buffers["reset_mask"][:] = mask
        self._physics.run("reset")
        self._elapsed[mask] = 0
        self._returns[mask] = 0.0

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset all envs (or those in ``options["reset_mask"]``). ``seed``: an int (env i gets
        ``seed + i``) or one seed per env; the ``seed`` given to the constructor is used by the
        first reset when none is passed here."""
        if self.closed:
            raise RuntimeError("reset() on a closed MOVectorEnv: its worker processes are stopped")
        if seed is None and self._initial_seed is not None:
            seed, self._initial_seed = self._initial_seed, None
        self._seed(seed)
        mask = np.ones(self.num_envs, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"options['reset_mask'] has shape {mask.shape}; expected ({self.num_envs},)")
        self._reset_rows(mask)
        self._autoreset[mask] = False
        self._needs_reset = False
        return self.problem.observation(self._state), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self.closed:
            raise RuntimeError("step() on a closed MOVectorEnv: its worker processes are stopped")
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = check_actions(actions, (self.num_envs, self._model.nu), self.problem)
        ctrl = self.problem.control(actions, self._ctrl_low, self._ctrl_high)
        # NEXT_STEP: envs whose episode ended on the last step (never any with same-step autoreset)
        resetting = self._autoreset.copy() if self._autoreset.any() else None
        if resetting is not None:
            ctrl[resetting] = 0.0  # their action is ignored; the ended state is not driven further
        before = self._state.copy()
        self._buffers["ctrl"][:] = ctrl
        self._physics.run("step")
        obs, rewards64, terminated, terms = self.problem.transition(before, self._state, ctrl, self._constants)
        rewards = rewards64.astype(np.float32)
        info: dict[str, Any] = dict(terms)
        if resetting is None:  # the usual step: every env stepped (whole-array updates, no masks)
            self._elapsed += 1
            self._returns += rewards
            truncated = self._elapsed >= self.problem.max_episode_steps
        else:  # gymnasium's next-step autoreset: this step only resets them
            self._reset_rows(resetting)
            obs[resetting] = self.problem.observation(self._state)[resetting]
            rewards[resetting] = 0.0
            terminated[resetting] = False
            for term in info.values():
                term[resetting] = 0.0
            for name, value in self.problem.positions(self._state).items():
                info[name][resetting] = value[resetting]  # where the reset put them
            stepped = ~resetting
            self._elapsed[stepped] += 1
            self._returns[stepped] += rewards[stepped]
            truncated = stepped & (self._elapsed >= self.problem.max_episode_steps)
        done = terminated | truncated
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = done.copy()
        elif self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            info["final_obs"] = obs.copy()
            info["_final_obs"] = done.copy()
            # not "episode": that key is RecordEpisodeStatistics' (which refuses an env filling it)
            info["morl_episode"] = {"r": self._returns.copy(), "l": self._elapsed.copy()}
            info["_morl_episode"] = done.copy()
            self._reset_rows(done)
            obs[done] = self.problem.observation(self._state)[done]
        return obs, rewards, terminated, truncated, info

    def observe(self) -> np.ndarray:
        """The observation of every env's current state: what the last ``reset`` or ``step``
        returned (with same-step autoreset, the first observation of an ended env's next
        episode), recomputed from the state, e.g. after :meth:`set_state`."""
        if self._needs_reset:
            raise RuntimeError("call reset() before observe()")
        return self.problem.observation(self._state)

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue this batch exactly: each simulation's full integration
        state (MuJoCo's, warm start included), the state arrays the problem reads, each env's
        random generator, step counter and running return. Plain arrays and a JSON string, so a
        checkpoint can hold it (see :meth:`set_state`)."""
        if self._needs_reset:
            raise RuntimeError("get_state() before reset(): there is no state to save")
        self._physics.run("save")
        arrays = {name: self._buffers[name].copy() for name in (*self._state_names(), "full_state")}
        rngs = json.dumps([rng.bit_generator.state for rng in self._rngs])
        return {**arrays, "elapsed": self._elapsed.copy(), "returns": self._returns.copy(), "rngs": rngs,
                "autoreset": self._autoreset.copy()}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s output (of a batch of the same problem and size):
        the next ``step`` gives what the saved batch's next step would have, bit for bit."""
        if self.closed:
            raise RuntimeError("set_state() on a closed MOVectorEnv")
        for name in (*self._state_names(), "full_state"):
            value = np.asarray(state[name], dtype=np.float64)
            if value.shape != self._buffers[name].shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}; expected {self._buffers[name].shape}")
            self._buffers[name][:] = value
        rngs = json.loads(state["rngs"])
        if len(rngs) != self.num_envs:
            raise ValueError(f"state has {len(rngs)} random generators; expected {self.num_envs}")
        self._physics.run("load")
        for rng, saved in zip(self._rngs, rngs, strict=True):
            rng.bit_generator.state = saved
        self._elapsed[:] = np.asarray(state["elapsed"], dtype=np.int64)
        self._returns[:] = np.asarray(state["returns"], dtype=np.float64)
        self._autoreset[:] = np.asarray(state["autoreset"], dtype=bool)
        self._initial_seed = None
        self._needs_reset = False

    def _state_names(self) -> tuple[str, ...]:
        return ("qpos", "qvel", *self._state.extras)

    def close_extras(self, **kwargs: Any) -> None:
        self._physics.close()

    def __del__(self) -> None:
        physics = getattr(self, "_physics", None)
        if physics is not None:
            physics.close()


def make_vec(problem_id: str, num_envs: int = 1, *, seed: int | None = None, workers: int | None = None,
             autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP, **unused: Any) -> MOVectorEnv:  # fmt: skip
    """A :class:`MOVectorEnv` of ``num_envs`` copies of ``problem_id`` (see its docstring for the
    autoreset modes). ``seed`` seeds the first reset (env i gets ``seed + i``).

    Also the ``vector_entry_point`` of every registered id, so ``gymnasium.make_vec(id, n)``
    returns this fast vector env; gymnasium passes the id's ``max_episode_steps``, which the
    problem already defines (a different value is refused)."""
    limit = unused.pop("max_episode_steps", None)
    problem = get_problem(problem_id)
    if limit is not None and limit != problem.max_episode_steps:
        raise ValueError(
            f"max_episode_steps={limit!r}: {problem.id} has a fixed horizon of {problem.max_episode_steps}"
        )
    if unused:
        raise TypeError(f"make_vec() got unexpected arguments {sorted(unused)}")
    return MOVectorEnv(problem_id, num_envs, seed=seed, workers=workers, autoreset_mode=autoreset_mode)


_MODE_NAMES = {"same_step": AutoresetMode.SAME_STEP, "next_step": AutoresetMode.NEXT_STEP,
               "disabled": AutoresetMode.DISABLED}  # fmt: skip


def _autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    if isinstance(mode, AutoresetMode):
        return mode
    if isinstance(mode, str):
        if mode.lower().replace("-", "_") in _MODE_NAMES:
            return _MODE_NAMES[mode.lower().replace("-", "_")]
        for member in AutoresetMode:  # gymnasium's own spelling, "NextStep"
            if mode == member.value:
                return member
    raise ValueError(f"autoreset_mode={mode!r} must be an AutoresetMode or one of {sorted(_MODE_NAMES)}")
