"""End-to-end training throughput on MO-HalfCheetah-v2: Hyper-MORL vs Stable-Baselines3 PPO.

In one run on this machine:

* Hyper-MORL with the authors' settings (rollout + PPO update, no evaluation): env-steps/s of a
  warm-up iteration (1 policy × 4 envs × 2048 steps) and of a Pareto-set-learning iteration
  (6 policies × 4 envs × 2048 steps, one batched forward pass for all 24 envs, 10 epochs × 32
  mini-batches per preference), combined with the budget's split (15 % warm-up) into the rate
  of a whole run;
* the same with 8 envs per preference and 1024 steps (the same samples per iteration);
* Stable-Baselines3 PPO ("MlpPolicy", default settings, one env) on the problem scalarised with
  the equal preference;
* the raw physics rate (``mujoco.rollout``, all cores, see ``env_throughput.py``);

and prints the ratios. Every rate is the best of ``--iterations`` timed iterations (the one least
disturbed by other load on a shared machine), for both sides of a ratio alike.
Usage: python benchmarks/train_throughput.py [--iterations 4] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import mujoco
import torch

import morl
from morl.agents.config import HyperMORLConfig
from morl.agents.hyper_morl import HyperMORL
from morl.agents.ppo import ppo_update

sys.path.insert(0, str(Path(__file__).parent))
from env_throughput import time_raw

PROBLEM = "MO-HalfCheetah-v2"


def hyper_morl_rates(iterations: int, **overrides: int) -> tuple[float, float]:
    """(warm-up, PSL) env-steps/s of rollout + update: the best of ``iterations`` each."""
    config = HyperMORLConfig.for_problem(PROBLEM, **overrides)
    agent = HyperMORL(PROBLEM, config)
    torch.set_num_threads(config.torch_threads)  # as HyperMORL.learn does
    agent._plan(config.total_steps)
    rates = []
    for phase in ("warmup", "psl"):
        if phase == "psl":
            agent._start_psl()
        k = 1 if phase == "warmup" else agent.sampler.num_preferences
        collector = agent._collector(k, None)
        best = 0.0
        for i in range(iterations + 1):  # the first iteration warms up caches and workers
            start = time.perf_counter()
            prefs = agent._stage_preferences()
            rollout = collector.collect(agent.layout, agent.parameters_for(prefs), prefs, agent.generator)
            ppo_update(agent.layout, agent._trainable(prefs), agent.optimizer, rollout, config.ppo, agent.generator)
            if i > 0:
                best = max(best, rollout.env_steps / (time.perf_counter() - start))
        collector.close()
        rates.append(best)
    return rates[0], rates[1]


def whole_run_rate(warmup_rate: float, psl_rate: float, warmup_fraction: float = 0.15) -> float:
    return 1.0 / (warmup_fraction / warmup_rate + (1.0 - warmup_fraction) / psl_rate)


def sb3_rate(iterations: int) -> float:
    """SB3 PPO env-steps/s of one rollout + update cycle (2048 steps): the best of ``iterations``."""
    from stable_baselines3 import PPO

    env = morl.make(PROBLEM, preference=[0.5, 0.5])
    model = PPO("MlpPolicy", env, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=model.n_steps)  # warm-up: first rollout and update
    best = 0.0
    for _ in range(iterations):
        start = time.perf_counter()
        model.learn(total_timesteps=model.n_steps, reset_num_timesteps=False)
        best = max(best, model.n_steps / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=4, help="timed iterations per measurement (best kept)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args()
    print(
        f"morl {morl.__version__}, mujoco {mujoco.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), python {platform.python_version()}, {os.cpu_count()} cores"
    )
    threads = torch.get_num_threads()
    warm, psl = hyper_morl_rates(args.iterations)
    warm8, psl8 = hyper_morl_rates(args.iterations, envs_per_preference=8, steps_per_env=1024)
    torch.set_num_threads(threads)  # SB3 with torch's default
    sb3 = sb3_rate(args.iterations)
    raw = time_raw(f"morl/{PROBLEM}", 64, 200, os.cpu_count() or 1, 3)
    rows = {
        "hyper_morl_warmup": warm,
        "hyper_morl_psl": psl,
        "hyper_morl_run": whole_run_rate(warm, psl),
        "hyper_morl_8envs_warmup": warm8,
        "hyper_morl_8envs_psl": psl8,
        "hyper_morl_8envs_run": whole_run_rate(warm8, psl8),
        "sb3_ppo": sb3,
        "raw_physics": raw,
    }
    print(f"{PROBLEM}: training env-steps/s (rollout + update, all cores)")
    for name, value in rows.items():
        print(f"  {name:26s} {value:10.0f}   x{value / sb3:5.1f} SB3   {value / raw:5.2f} of raw physics")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
