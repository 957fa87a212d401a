"""Where a Hyper-MORL iteration's time goes on MO-HalfCheetah-v2, and the bounds that sets on
issue 31's goals (warm-up ≥ 0.7 of the PSL rate; a 200k-step run end to end ≥ 12× SB3 PPO).

In one run on this machine, with the authors' settings and the compiled update:

* **iterations**: each warm-up iteration (1 policy × 4 envs × 2048 steps) and Pareto-set-learning
  iteration (6 × 4 × 2048) split into collection (the rollout engine's rollout plus GAE, the
  normaliser updates and the batched value pass: ``Collector.collect``) and the PPO update
  (``ppo_update``: 10 epochs × 32 mini-batches), as seconds per env step; the median of the
  timed iterations of each kind: ``--iterations`` of PSL, and all of the warm-up's (4: the run is
  planned at 2 M steps with a 2 % warm-up to reach PSL soon); the first of each kind is not
  timed (it starts processes and compiles);
* **engine steps**: one process of the rollout engine running 2 envs (a warm-up process) and 12
  envs (a PSL process) for 2048 steps, against the same process stepping the same simulations
  with nothing but ``mj_step`` (the physics alone): the rest is the per-step Python of the
  actor, the objectives, the resets and the bookkeeping, paid once per step of a process
  whatever its number of envs;
* **bounds**: the warm-up / PSL rate ratio that today's collection allows with a free warm-up
  update, and with an update as cheap per sample as PSL's; the 200k-step run's composition (its
  plan, its mini-batch steps, the env steps of its evaluations) and the largest ratio to SB3 PPO
  it could reach if every env step, training and evaluation, ran at the raw physics rate and
  learning cost nothing.

Usage: python benchmarks/iteration_profile.py [--iterations 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

import morl
import morl.agents.hyper_morl.agent as hyper_module
from morl.agents import get_agent
from morl.agents.ppo.core import Collector
from morl.cores import available_cores
from morl.envs.models import build_model
from morl.envs.rollout import RolloutRequest, SliceRollout
from morl.versions import provenance

sys.path.insert(0, str(Path(__file__).parent))
from env_throughput import time_raw
from train_throughput import machine_line, sb3_rate

PROBLEM = "MO-HalfCheetah-v2"
SHORT_RUN = 200_000


def iteration_split(iterations: int) -> dict[str, dict[str, float]]:
    """Median seconds per env step of collection and update, per stage, of a compiled run."""
    seconds: dict[str, list[float]] = defaultdict(list)
    agent: Any = None
    collect, update = Collector.collect, hyper_module.ppo_update

    def timed_collect(self: Collector, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        rollout = collect(self, *args, **kwargs)
        seconds[f"collect_{agent.phase}"].append((time.perf_counter() - start) / rollout.env_steps)
        return rollout

    def timed_update(layout: Any, params: Any, optimizer: Any, rollout: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        stats = update(layout, params, optimizer, rollout, *args, **kwargs)
        seconds[f"update_{agent.phase}"].append((time.perf_counter() - start) / rollout.env_steps)
        return stats

    cls = get_agent("hyper-morl")
    config = cls.config_class.for_problem(PROBLEM, total_steps=2_000_000, warmup_fraction=0.02,
                                          eval_interval=1_000_000, compiled_update="on")  # fmt: skip
    agent = cls(PROBLEM, config)
    Collector.collect = timed_collect  # type: ignore[method-assign]
    hyper_module.ppo_update = timed_update  # type: ignore[assignment]
    try:
        agent.learn(progress=False, callback=lambda a, info: len(seconds["update_psl"]) < iterations + 1)
    finally:
        Collector.collect = collect  # type: ignore[method-assign]
        hyper_module.ppo_update = update
    # the first of each kind starts the processes and compiles: not timed
    return {
        stage: {part: statistics.median(seconds[f"{part}_{stage}"][1:]) for part in ("collect", "update")}
        for stage in ("warmup", "psl")
    }


def engine_step(envs: int, steps: int = 2048) -> dict[str, float]:
    """Seconds per step of one rollout-engine process with ``envs`` envs, and of ``mj_step`` alone
    on as many simulations (the same controls' scale: a random actor's)."""
    problem = morl.get_problem(PROBLEM)
    part = SliceRollout(PROBLEM, 0, envs)
    part.reset(seed=0)
    obs_dim, action_dim = part.env.single_observation_space.shape[0], part.env.single_action_space.shape[0]
    rng = np.random.default_rng(0)
    sizes = [obs_dim, 64, 64, action_dim]
    layers = [(rng.normal(0.0, 0.3, (1, a, b)).astype(np.float32), np.zeros((1, 1, b), np.float32))
              for a, b in itertools.pairwise(sizes)]  # fmt: skip
    request = RolloutRequest(
        steps=steps, layers=layers, row_policy=np.zeros(envs, dtype=np.int64), obs_mean=np.zeros((envs, obs_dim)),
        obs_std=np.ones((envs, obs_dim)), obs_clip=10.0,
        noise=rng.normal(0.0, 1.0, (steps, envs, action_dim)).astype(np.float32),
    )  # fmt: skip
    part.rollout(request)
    start = time.perf_counter()
    part.rollout(request)
    engine = (time.perf_counter() - start) / steps
    part.close()
    model = build_model(problem.robot)
    datas = [mujoco.MjData(model) for _ in range(envs)]
    controls = rng.uniform(-1.0, 1.0, (steps, envs, model.nu))
    start = time.perf_counter()
    for t in range(steps):
        for row, data in enumerate(datas):
            data.ctrl[:] = controls[t, row]
            mujoco.mj_step(model, data, problem.frame_skip)
    physics = (time.perf_counter() - start) / steps
    return {"envs": envs, "step_us": engine * 1e6, "physics_us": physics * 1e6, "rest_us": (engine - physics) * 1e6}


def short_run_plan() -> dict[str, Any]:
    """A 200k-step run's plan (the problem's defaults) and the env steps of its evaluations."""
    cls = get_agent("hyper-morl")
    config = cls.config_class.for_problem(PROBLEM, total_steps=SHORT_RUN)
    agent = cls(PROBLEM, config)
    agent.prepare()
    plan = agent.plan
    evaluations = plan.psl_iterations // config.eval_interval + (plan.psl_iterations % config.eval_interval > 0)
    episode = morl.get_problem(PROBLEM).max_episode_steps
    preferences = len(agent.default_preferences())
    samples = plan.steps * config.envs_per_preference
    return {
        "warmup_iterations": plan.warmup_iterations,
        "psl_iterations": plan.psl_iterations,
        "steps_per_env": plan.steps,
        "training_env_steps": agent.run.planned_steps,
        "minibatch_steps": (plan.warmup_iterations + plan.psl_iterations) * config.epochs * config.minibatches,
        "samples_per_minibatch_per_policy": samples // config.minibatches,
        "evaluations": evaluations,
        "evaluation_env_steps_at_most": evaluations * preferences * episode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per stage (median kept)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args()
    header = machine_line()
    print(header)
    produced_by = provenance()  # the commit as the run starts
    split = iteration_split(args.iterations)
    engine = [engine_step(2), engine_step(12)]
    plan = short_run_plan()
    raw = time_raw(f"morl/{PROBLEM}", 64, 200, available_cores(), 3)
    sb3 = sb3_rate(args.iterations)

    warm, psl = split["warmup"], split["psl"]
    psl_per_step = psl["collect"] + psl["update"]
    bounds = {
        "warmup_over_psl_now": psl_per_step / (warm["collect"] + warm["update"]),
        "warmup_over_psl_free_update": psl_per_step / warm["collect"],
        "warmup_over_psl_update_as_psl": psl_per_step / (warm["collect"] + psl["update"]),
        "short_run_over_sb3_at_raw_physics": plan["training_env_steps"]
        / ((plan["training_env_steps"] + plan["evaluation_env_steps_at_most"]) / raw)
        / sb3,
    }
    print(f"{PROBLEM}, authors' settings, compiled update: µs per env step (medians of timed iterations)")
    for stage, parts in split.items():
        total = parts["collect"] + parts["update"]
        print(f"  {stage:7s} collection {parts['collect'] * 1e6:6.1f}   update {parts['update'] * 1e6:6.1f}   "
              f"= {total * 1e6:6.1f} ({1 / total:,.0f} env-steps/s)")  # fmt: skip
    print("one rollout-engine process, µs per step of all its envs")
    for row in engine:
        print(f"  {row['envs']:2d} envs: {row['step_us']:7.1f} = physics {row['physics_us']:7.1f} "
              f"+ the rest {row['rest_us']:6.1f} ({row['rest_us'] / row['envs']:5.1f} per env)")  # fmt: skip
    print(f"a {SHORT_RUN:,}-step run: {plan}")
    print(f"raw physics {raw:,.0f} env-steps/s, SB3 PPO {sb3:,.0f}")
    print("bounds:")
    print(f"  warm-up / PSL now {bounds['warmup_over_psl_now']:.2f}; with a free warm-up update "
          f"{bounds['warmup_over_psl_free_update']:.2f}; with its update as cheap per sample as PSL's "
          f"{bounds['warmup_over_psl_update_as_psl']:.2f}")  # fmt: skip
    print(f"  {SHORT_RUN:,}-step run / SB3 PPO if all its env steps ran at raw physics and learning were free: "
          f"{bounds['short_run_over_sb3_at_raw_physics']:.1f}")  # fmt: skip
    if args.out:
        record = {**produced_by, "machine_line": header, "fingerprint": morl.fingerprint(PROBLEM),
                  "split_seconds_per_env_step": split, "engine_step": engine, "short_run": plan, "raw_physics": raw,
                  "sb3_ppo_one_env": sb3, "bounds": bounds}  # fmt: skip
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
