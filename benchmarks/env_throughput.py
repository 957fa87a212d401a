"""Environment throughput: single gymnasium env, our vector env, and raw MuJoCo physics.

For each problem, in one run on this machine:

* ``single``: ``gymnasium.make(id)`` stepped with random actions (reset on episode end);
* ``vec16``/``vec64``: ``morl.make_vec(id, n, workers=W)`` with random actions;
* ``raw16``/``raw64``: the same transitions as ``vec16``/``vec64`` (the states those envs visited
  and the controls they were given, recorded from single envs with the same seeds, which the test
  suite shows to give identical transitions) replayed by ``mujoco.rollout`` with W threads,
  ``frame_skip`` sub-steps each: the rate of the physics alone, with no Python in the loop;
* ``vecN/raw`` = vector env rate / raw physics rate of the same work (1.0 = the vector env costs
  nothing beyond physics).

Every rate is the best of ``--repeats`` timings (as ``timeit`` does): on a shared machine the
fastest run is the one least disturbed by other load, for both sides of a ratio alike.

If MO-Gymnasium is installed, its ``MOSyncVectorEnv`` over its nearest problem is timed too.

Usage: python benchmarks/env_throughput.py [--steps 200] [--workers 2] [--problems ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import time

import gymnasium as gym
import mujoco
import numpy as np
from mujoco import rollout

import morl
from morl.cores import available_cores

SEED = 0


def random_actions(space: gym.spaces.Box, steps: int, num_envs: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    return rng.uniform(space.low, space.high, size=(steps, num_envs, space.shape[0])).astype(np.float32)


def time_single(problem_id: str, steps: int, repeats: int) -> float:
    env = gym.make(problem_id)
    actions = random_actions(env.action_space, steps, 1)[:, 0]
    best = 0.0
    for _ in range(repeats):
        env.reset(seed=SEED)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        best = max(best, steps / (time.perf_counter() - start))
    env.close()
    return best


def time_vector(problem_id: str, num_envs: int, steps: int, workers: int, repeats: int) -> float:
    env = morl.make_vec(problem_id, num_envs, seed=SEED, workers=workers)
    actions = random_actions(env.single_action_space, steps, num_envs)
    env.reset()
    for action in actions[: max(1, steps // 10)]:  # warm up caches and worker processes
        env.step(action)
    best = 0.0
    for _ in range(repeats):
        env.reset(seed=SEED)  # the same transitions each time (and as the raw replay)
        start = time.perf_counter()
        for action in actions:
            env.step(action)
        best = max(best, num_envs * steps / (time.perf_counter() - start))
    env.close()
    return best


@functools.cache
def record_transitions(problem_id: str, num_envs: int, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Physics states before each step, warm starts, and the controls, of ``num_envs`` envs seeded
    like the vector env and given the same actions."""
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    problem = morl.get_problem(problem_id)
    probe = gym.make(problem_id)
    actions = random_actions(probe.action_space, steps, num_envs)
    states, warmstarts, controls = [], [], []
    for i in range(num_envs):
        env = gym.make(problem_id)
        raw = env.unwrapped
        env.reset(seed=SEED + i)
        state = np.empty(mujoco.mj_stateSize(raw.model, spec))
        for t in range(steps):
            mujoco.mj_getState(raw.model, raw.data, state, spec)
            states.append(state.copy())
            warmstarts.append(raw.data.qacc_warmstart.copy())
            low, high = raw.model.actuator_ctrlrange.T
            a = actions[t, i].astype(np.float64)
            controls.append(np.clip(a, low, high) if problem.clip_actions else a)
            _, _, terminated, truncated, _ = env.step(actions[t, i])
            if terminated or truncated:
                env.reset()
        env.close()
    return np.array(states), np.array(warmstarts), np.array(controls)


def time_raw(problem_id: str, num_envs: int, steps: int, threads: int, repeats: int) -> float:
    problem = morl.get_problem(problem_id)
    states, warmstarts, controls = record_transitions(problem_id, num_envs, steps)
    model = morl.envs.models.build_model(problem.robot)
    datas = [mujoco.MjData(model) for _ in range(max(1, threads))]
    control = np.repeat(controls[:, None, :], problem.frame_skip, axis=1)
    best = 0.0
    with rollout.Rollout(nthread=threads) as runner:
        runner.rollout(model, datas, states[:64], control[:64], initial_warmstart=warmstarts[:64])
        for _ in range(repeats):
            start = time.perf_counter()
            runner.rollout(model, datas, states, control, initial_warmstart=warmstarts)
            best = max(best, len(states) / (time.perf_counter() - start))
    return best


MO_GYMNASIUM_NEAREST = {
    "morl/MO-Swimmer-v2": "mo-swimmer-v5",
    "morl/MO-HalfCheetah-v2": "mo-halfcheetah-v5",
    "morl/MO-Walker2d-v2": "mo-walker2d-v5",
    "morl/MO-Ant-v2": "mo-ant-2obj-v5",
    "morl/MO-Hopper-v2": "mo-hopper-2obj-v5",
    "morl/MO-Hopper-v3": "mo-hopper-v5",
    "morl/MO-Humanoid-v2": "mo-humanoid-v5",
}


def time_mo_gymnasium(problem_id: str, num_envs: int, steps: int) -> float | None:
    try:
        import mo_gymnasium as mo_gym
        from mo_gymnasium.wrappers.vector import MOSyncVectorEnv
    except ImportError:
        return None
    name = MO_GYMNASIUM_NEAREST[problem_id]
    env = MOSyncVectorEnv([lambda: mo_gym.make(name) for _ in range(num_envs)])
    actions = random_actions(env.single_action_space, steps, num_envs)
    env.reset(seed=SEED)
    start = time.perf_counter()
    for action in actions:
        env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return num_envs * steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="vector steps per measurement")
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement; the best is kept")
    parser.add_argument("--problems", nargs="*", default=list(morl.PROBLEM_IDS))
    parser.add_argument("--out", help="also write the results as JSON to this file")
    args = parser.parse_args()

    print(
        f"morl {morl.__version__}, mujoco {mujoco.__version__}, gymnasium {gym.__version__}, "
        f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} cores, "
        f"workers/threads {args.workers}"
    )
    columns = ("single", "vec16", "raw16", "vec16/raw", "vec64", "raw64", "vec64/raw", "mo-gym16")
    header = f"{'problem':24s} " + " ".join(f"{c:>9s}" for c in columns)
    print("env-steps/s (all cores together)")
    print(header)
    rows = []
    for problem_id in args.problems:
        single = time_single(problem_id, args.steps * 5, args.repeats)
        # Vector and raw timings alternate, so that a burst of outside load hits both alike.
        vec16 = raw16 = vec64 = raw64 = 0.0
        for _ in range(args.repeats):
            vec16 = max(vec16, time_vector(problem_id, 16, args.steps * 2, args.workers, 1))
            raw16 = max(raw16, time_raw(problem_id, 16, args.steps * 2, args.workers, 1))
            vec64 = max(vec64, time_vector(problem_id, 64, args.steps, args.workers, 1))
            raw64 = max(raw64, time_raw(problem_id, 64, args.steps, args.workers, 1))
        mo = time_mo_gymnasium(problem_id, 16, args.steps)
        row = {
            "problem": problem_id,
            "single": single,
            "vec16": vec16,
            "raw16": raw16,
            "vec16_over_raw": vec16 / raw16,
            "vec64": vec64,
            "raw64": raw64,
            "vec64_over_raw": vec64 / raw64,
            "mo_gymnasium_vec16": mo,
        }
        rows.append(row)
        numbers = [single, vec16, raw16, vec16 / raw16, vec64, raw64, vec64 / raw64]
        values = [f"{v:9.2f}" if v < 10 else f"{v:9.0f}" for v in numbers]
        values.append(f"{mo:9.0f}" if mo is not None else f"{'n/a':>9s}")
        print(f"{problem_id:24s} " + " ".join(values), flush=True)
    if args.out:
        meta = {
            "morl": morl.__version__,
            "mujoco": mujoco.__version__,
            "workers": args.workers,
            "cores": os.cpu_count(),
            "steps": args.steps,
            "repeats": args.repeats,
            "fingerprint": {p: morl.fingerprint(p) for p in args.problems},  # the definitions measured
        }
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
