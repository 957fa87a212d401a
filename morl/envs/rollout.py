"""Whole rollouts inside the worker processes: no per-step round trip to the caller.

:class:`MOVectorEnv` steps the physics in worker processes but computes the policy, the
observations and the rewards in the caller, so every env step costs one message each way. While
collecting on-policy experience the policy is fixed for the whole rollout, so each process can
instead run its rows' policies itself for all T steps and hand back the finished arrays once:
:class:`RolloutEngine` splits the env rows into slices, slice 0 in the calling process and each
other slice in a worker process that owns a complete vector env of its rows (physics, objectives,
resets, each row's random generator), and a :class:`RolloutRequest` carries what a rollout needs:
the actors' weights (shipped once per rollout), the observation statistics, the exploration noise
of every step and, for a preference-conditioned network, each row's preference draws.

**Results do not depend on the number of processes.** Every random number is drawn by the
caller per (step, row) before the rollout (noise, preference draws); each row's resets use that
row's own generator, as in one vector env; the actor's matrix products run one row at a time in a
stacked ``matmul`` (a BLAS product's rounding can depend on how many rows it is given); and the objectives
and observations are elementwise per row. 1, 2 or 3 processes give bit-identical rollouts (tested).

**Observation statistics are frozen during a rollout**: every step's observation is normalised
with the statistics the rollout started with; the caller updates the statistics afterwards with
the rollout's observations, step by step in the same order as a per-step update would (so the
statistics after the rollout are those of a per-step update). Inside one rollout the actor
therefore sees the same normalisation the update will use for those samples.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import multiprocessing.connection
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from morl.cores import available_cores
from morl.envs.vector import MOVectorEnv
from morl.envs.workers import SPIN_SECONDS, await_message, spawn_worker, split_rows, stop_workers

# (W (K, in, out), b (K, 1, out)) per layer, float32: K actors of the same shape
ActorLayers = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RolloutRequest:
    """Everything a rollout of ``steps`` steps of N env rows needs, indexed by row.

    ``layers``: the K actors' weights; ``row_policy`` (N,): which actor drives each row.
    ``obs_mean``/``obs_std`` (N, obs_dim): each row's normalisation, ``clip((o - mean) / std,
    ±obs_clip)`` (std = sqrt(var + eps), computed by the caller). ``noise`` (steps, N, action_dim)
    float32: added to the actor's output. With ``preferences`` (N, m), the actor's input is the
    normalised observation followed by the row's current preference, and ``preference_draws``
    (steps, N, m) holds the preference a row takes when its episode ends at that step.
    """

    steps: int
    layers: ActorLayers
    row_policy: np.ndarray
    obs_mean: np.ndarray
    obs_std: np.ndarray
    obs_clip: float
    noise: np.ndarray
    preferences: np.ndarray | None = None
    preference_draws: np.ndarray | None = None

    def rows(self, lo: int, hi: int) -> RolloutRequest:
        """The request of rows ``lo:hi`` (the actors' weights are shared)."""
        prefs, draws = self.preferences, self.preference_draws
        return RolloutRequest(
            self.steps, self.layers, self.row_policy[lo:hi], self.obs_mean[lo:hi], self.obs_std[lo:hi], self.obs_clip,
            self.noise[:, lo:hi], None if prefs is None else prefs[lo:hi],
            None if draws is None else draws[:, lo:hi],
        )  # fmt: skip


@dataclass
class RolloutBatch:
    """What a rollout of T steps of N rows produced (arrays indexed [step, row]).

    ``inputs`` (T, N, in) float32: the actor inputs of each step (normalised observation, and the
    row's preference when conditioned), exactly what the actor was given; ``first_obs`` and
    ``last_obs`` (N, obs_dim): the raw observations before the first step and after the last (after
    an episode end, the first observation of the next episode); ``obs_mean``/``obs_m2`` (N,
    obs_dim): each row's mean and sum of squared deviations of its T raw observations after each
    step (what the observation statistics take; the raw observations themselves stay in the
    worker: they would triple what crosses the pipe); ``actions`` (T, N, A) float32; ``rewards`` (T, N,
    m) float32; ``terminated``/``truncated`` (T, N). ``ends``: the (step, row) of every episode end
    in step-then-row order, with ``final_obs`` (E, obs_dim) the last raw observation and
    ``episode_returns`` (E, m) the undiscounted return of each. ``preferences`` (T, N, m): the
    preference of each row at each step (conditioned only), ``last_preferences`` (N, m) after the
    last step.
    """

    inputs: np.ndarray
    first_obs: np.ndarray
    last_obs: np.ndarray
    obs_mean: np.ndarray
    obs_m2: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    end_step: np.ndarray
    end_row: np.ndarray
    final_obs: np.ndarray
    episode_returns: np.ndarray
    preferences: np.ndarray | None = None
    last_preferences: np.ndarray | None = None


def actor_forward(layers: ActorLayers, x: np.ndarray) -> np.ndarray:
    """Actor outputs for rows ``x`` (G, n, in) float32, group g through the layers' g-th weights
    (W (G, in, out), b (G, 1, out)). Each row is its own (1, in) @ (in, out) product in a stacked
    ``matmul``, so its rounding cannot depend on the other rows (one BLAS product over n rows
    rounds a row differently depending on n and on its position)."""
    last = len(layers) - 1
    x = x[:, :, None, :]  # (G, n, 1, in)
    for i, (weight, bias) in enumerate(layers):
        x = np.matmul(x, weight[:, None])
        x += bias[:, None]
        if i < last:
            np.tanh(x, out=x)
    return x[:, :, 0, :]


def actor_inputs(raw: np.ndarray, mean: np.ndarray, std: np.ndarray, clip: float,
                 preferences: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Rows of raw observations as the actor sees them: ``clip((o - mean) / std, ±clip)``,
    followed by the row's preference when conditioned (float64; the caller casts). One definition
    for the rollout and for the caller's later value pass over the same observations."""
    x = np.minimum(np.maximum((raw - mean) / std, -clip), clip)  # np.clip's values (nonzero bounds), half its overhead
    return x if preferences is None else np.concatenate([x, preferences], axis=1)


class SliceRollout:
    """The env rows ``lo:hi`` of a batch, as a vector env of their own, and their rollouts."""

    def __init__(self, problem_id: str, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.env = MOVectorEnv(problem_id, hi - lo, workers=1)

    def reset(self, seed: int | None = None) -> None:
        """Row ``i`` of the whole batch gets ``seed + i``, as in one vector env."""
        self.env.reset(seed=None if seed is None else [seed + i for i in range(self.lo, self.hi)])

    def rollout(self, request: RolloutRequest) -> dict[str, Any]:
        env, T, n = self.env, request.steps, self.hi - self.lo
        obs_dim, action_dim, m = env.single_observation_space.shape[0], env.single_action_space.shape[0], env.reward_dim
        prefs = None if request.preferences is None else request.preferences.astype(np.float64, copy=True)
        in_dim = obs_dim + (0 if prefs is None else m)
        out: dict[str, Any] = {
            "inputs": np.empty((T, n, in_dim), dtype=np.float32),
            "actions": np.empty((T, n, action_dim), dtype=np.float32),
            "rewards": np.empty((T, n, m), dtype=np.float32),
            "terminated": np.empty((T, n), dtype=bool),
            "truncated": np.empty((T, n), dtype=bool),
            "preferences": None if prefs is None else np.empty((T, n, m)),
        }
        # episode ends: steps, rows, final observations, returns (empty first entries for concatenation)
        ends: tuple[list[np.ndarray], ...] = (
            [np.zeros(0, np.int64)],
            [np.zeros(0, np.int64)],
            [np.zeros((0, obs_dim))],
            [np.zeros((0, m))],
        )
        # Rows of equal-sized contiguous policy groups (the usual layout) go through one batched
        # product per layer; otherwise one product per policy.
        policies, counts = np.unique(request.row_policy, return_counts=True)
        contiguous = np.array_equal(request.row_policy, np.repeat(policies, counts))
        batched = contiguous and len(set(counts.tolist())) == 1
        groups = [([(w[k : k + 1], b[k : k + 1]) for w, b in request.layers], np.flatnonzero(request.row_policy == k))
                  for k in policies]  # fmt: skip
        stacked = [(w[policies], b[policies]) for w, b in request.layers]  # gathered once per rollout
        raw = env.observe()
        out["first_obs"] = raw
        observed = np.empty((T, n, obs_dim))  # stays here: only its per-row moments are returned
        for t in range(T):
            if prefs is not None:
                out["preferences"][t] = prefs
            inputs = out["inputs"][t]
            inputs[:] = actor_inputs(raw, request.obs_mean, request.obs_std, request.obs_clip, prefs)
            actions = out["actions"][t]
            if batched:
                grouped = inputs.reshape(len(policies), -1, in_dim)
                actions[:] = actor_forward(stacked, grouped).reshape(n, action_dim)
            else:
                for layers, rows in groups:
                    actions[rows] = actor_forward(layers, inputs[rows][None])[0]
            actions += request.noise[t]
            raw, rewards, terminated, truncated, info = env.step(actions.astype(np.float64))
            out["rewards"][t], out["terminated"][t], out["truncated"][t] = rewards, terminated, truncated
            ended = terminated | truncated
            if ended.any():
                rows_ended = np.flatnonzero(ended)
                found = (np.full(len(rows_ended), t), rows_ended, info["final_obs"][rows_ended],
                         info["morl_episode"]["r"][rows_ended])  # fmt: skip
                for collected, part in zip(ends, found, strict=True):
                    collected.append(part)
                if prefs is not None and request.preference_draws is not None:
                    prefs[ended] = request.preference_draws[t][ended]
            observed[t] = raw
        for name, collected in zip(("end_step", "end_row", "final_obs", "episode_returns"), ends, strict=True):
            out[name] = np.concatenate(collected)
        out["last_obs"] = raw
        out["obs_mean"] = observed.mean(axis=0)
        out["obs_m2"] = np.square(observed - out["obs_mean"]).sum(axis=0)
        out["last_preferences"] = prefs
        return out

    def observe(self) -> np.ndarray:
        return self.env.observe()

    def get_state(self) -> dict[str, Any]:
        return self.env.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.env.set_state(state)

    def close(self) -> None:
        self.env.close()


class RolloutEngine:
    """N env rows of one problem in slices over processes, each running whole rollouts.

    ``workers``: processes (the calling one included; default: the number of CPU cores, at most
    one per row). Without a per-step message a process pays off even for one or two envs.
    ``seed``: row i's first reset is seeded with ``seed + i`` (as :func:`morl.make_vec`).
    :meth:`get_state` / :meth:`set_state` use :meth:`MOVectorEnv.get_state`'s format for the whole
    batch, so a state saved with any number of processes continues with any other.
    """

    def __init__(self, problem_id: str, num_envs: int, *, seed: int | None = None, workers: int | None = None,
                 state: dict[str, Any] | None = None) -> None:  # fmt: skip
        if workers is None:
            workers = available_cores()
        if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers={workers!r} must be a positive integer (processes running rollouts)")
        self.num_envs = int(num_envs)
        slices = split_rows(self.num_envs, min(int(workers), self.num_envs))
        if len(slices) > 1 and os.name != "posix":
            slices = [(0, self.num_envs)]
        self.slices = slices
        self._local = SliceRollout(problem_id, *slices[0])
        self.single_observation_space = self._local.env.single_observation_space
        self.single_action_space = self._local.env.single_action_space
        self.reward_dim = self._local.env.reward_dim
        self._spin = SPIN_SECONDS if len(slices) <= available_cores() else 0.0
        self._conns: list[mp.connection.Connection] = []
        self._procs: list[Any] = []
        self._interrupted = False
        try:
            for lo, hi in slices[1:]:
                conn, proc = spawn_worker("morl.envs._rollout_worker", [problem_id, str(lo), str(hi), str(self._spin)])
                self._conns.append(conn)
                self._procs.append(proc)
            for conn in self._conns:
                self._reply(conn)
            if state is None:
                self._call("reset", [seed] * len(slices))
            else:
                self.set_state(state)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return len(self.slices)

    def _reply(self, conn: mp.connection.Connection) -> Any:
        try:
            await_message(conn, self._spin)
            status, value = conn.recv()
        except (EOFError, OSError):
            raise RuntimeError("a rollout worker process died") from None
        if status != "ok":
            raise RuntimeError(f"rollout worker failed: {value}")
        return value

    def _call(self, command: str, args: list[Any] | None = None) -> list[Any]:
        """``command(args[s])`` (or ``command()``) on every slice s, the remote ones started
        first; their results in slice order."""
        if self._interrupted:
            raise RuntimeError("the rollout engine was interrupted mid-command (e.g. by Ctrl-C); its envs are "
                               "in no consistent state: close it and continue from a checkpoint")  # fmt: skip
        per_slice = args if args is not None else [None] * len(self.slices)
        self._interrupted = True  # until every slice has answered
        for conn, arg in zip(self._conns, per_slice[1:], strict=True):
            conn.send((command, arg))
        local = getattr(self._local, command)(*(() if per_slice[0] is None else (per_slice[0],)))
        results = [local, *(self._reply(conn) for conn in self._conns)]
        self._interrupted = False
        return results

    def observe(self) -> np.ndarray:
        """The current raw observation of every row."""
        return np.concatenate(self._call("observe"))

    def rollout(self, request: RolloutRequest) -> RolloutBatch:
        parts = self._call("rollout", [request.rows(lo, hi) for lo, hi in self.slices])
        merged: dict[str, Any] = {}
        for name in ("inputs", "actions", "rewards", "terminated", "truncated", "preferences"):
            merged[name] = None if parts[0][name] is None else np.concatenate([p[name] for p in parts], axis=1)
        for name in ("first_obs", "last_obs", "obs_mean", "obs_m2", "last_preferences"):
            merged[name] = None if parts[0][name] is None else np.concatenate([p[name] for p in parts])
        step = np.concatenate([p["end_step"] for p in parts])
        row = np.concatenate([p["end_row"] + lo for p, (lo, _) in zip(parts, self.slices, strict=True)])
        order = np.lexsort((row, step))  # step, then row: the order one vector env reports them in
        return RolloutBatch(
            end_step=step[order], end_row=row[order],
            final_obs=np.concatenate([p["final_obs"] for p in parts])[order],
            episode_returns=np.concatenate([p["episode_returns"] for p in parts])[order],
            **merged,
        )  # fmt: skip

    def get_state(self) -> dict[str, Any]:
        """The batch's state in :meth:`MOVectorEnv.get_state`'s format (rows of all slices)."""
        return merge_states(self._call("get_state"))

    def set_state(self, state: dict[str, Any]) -> None:
        self._call("set_state", split_state(state, self.slices, self.num_envs))

    def close(self) -> None:
        """Stop the workers (killed at once if a command was interrupted: they may be busy with
        it for a while, and its result is not wanted)."""
        if self._interrupted:
            for proc in self._procs:
                proc.kill()
        stop_workers(self._conns, self._procs)
        self._conns, self._procs = [], []
        self._local.close()


def merge_states(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Slices' vector env states, rows concatenated in slice order, as one batch's state."""
    merged: dict[str, Any] = {}
    for name in states[0]:
        if name == "rngs":
            merged[name] = json.dumps([rng for s in states for rng in json.loads(s[name])])
        else:
            merged[name] = np.concatenate([np.asarray(s[name]) for s in states])
    return merged


def split_state(state: dict[str, Any], slices: list[tuple[int, int]], num_envs: int) -> list[dict[str, Any]]:
    """One batch's vector env state cut into the states of ``slices``."""
    rngs = json.loads(state["rngs"])
    if len(rngs) != num_envs:
        raise ValueError(f"state has {len(rngs)} random generators; expected {num_envs}")
    parts = []
    for lo, hi in slices:
        part: dict[str, Any] = {name: np.asarray(value)[lo:hi] for name, value in state.items() if name != "rngs"}
        part["rngs"] = json.dumps(rngs[lo:hi])
        parts.append(part)
    return parts


def rollout_worker_main(argv: list[str]) -> None:
    """Entry point of a rollout worker process (see :class:`RolloutEngine`)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes us
    problem_id, lo, hi, spin, conn_fd = argv
    conn = mp.connection.Connection(int(conn_fd))
    try:
        runner = SliceRollout(problem_id, int(lo), int(hi))
        conn.send(("ok", None))
        while True:
            await_message(conn, float(spin))
            message = conn.recv()
            if message == "close":
                break
            command, arg = message
            if command not in ("reset", "rollout", "observe", "get_state", "set_state"):
                raise ValueError(f"unknown command {command!r}")
            try:
                result = getattr(runner, command)(*(() if arg is None else (arg,)))
            except Exception as error:  # a bad request: report it, stay alive
                conn.send(("error", repr(error)))
                continue
            conn.send(("ok", result))
        runner.close()
    except (KeyboardInterrupt, EOFError, OSError):
        pass
    except Exception as error:
        conn.send(("error", repr(error)))
    finally:
        conn.close()
