"""End-to-end training throughput on MO-HalfCheetah-v2: every agent vs Stable-Baselines3 PPO.

In one run on this machine, through the agents' public API only (``learn`` with a per-iteration
callback that times each iteration and stops after a few):

* Hyper-MORL with the authors' settings (2048 steps × 4 envs per preference, 10 epochs × 32
  mini-batches): env-steps/s of warm-up iterations (1 policy × 4 envs) and of Pareto-set-learning
  iterations (6 policies × 4 envs, one batched forward pass for all 24 envs), combined with the
  budget's split (15 % warm-up) into the rate of a whole run (evaluation excluded; the warm-up
  fraction is lowered here only to reach PSL sooner, the iterations themselves are unchanged);
  Measured with the update's loss gradient compiled (``compiled_update="on"``, what a run of the
  paper's budgets does under ``"auto"``) and eagerly (``"off"``), and as a 200k-step run end to
  end (the problem's defaults, periodic evaluations included, eager under ``"auto"``: compiling
  would cost more than it saves), against SB3 PPO timed below;
* conditioned PPO (one network, 24 envs with a preference each, the same PPO settings);
* PGMORL with the authors' settings (6 tasks × 4 envs × 2048 steps, batched): env-steps/s of its
  iterations, each with its evaluation of the 6 policies (one episode each, part of the
  algorithm), and the task selection timed apart, combined with the paper plan (80 warm-up
  iterations, 26 generations of 20) into a whole-run rate (the selection is timed here on a
  young population; it grows with the population: the full-budget run's wall-clock says more);
* PD-MORL with the authors' settings (400-wide actor and twin critics, batch 256, one TD3 update
  per env step, 10 envs; the key warm start: 3 keys stacked, batch 100): env-steps/s of its key
  and main iterations once updates run (interpolator evaluations included), combined with the
  authors' split (37.5 % key warm start) into a whole-run rate; this is an update-bound
  off-policy learner, so its rate is about the updates per second;
* the ``sb3`` agent: SB3 PPO (defaults, VecNormalize) on morl's vector env with 4 envs;
* Stable-Baselines3 PPO ("MlpPolicy", default settings) on one scalarised env (``DummyVecEnv``);
* Stable-Baselines3 TD3 with PD-MORL's network widths, batch and update-to-data ratio (400-wide
  actor and twin critics, batch 256, one update per env step) on one scalarised env: the
  off-policy reference for PD-MORL's rate;
* the raw physics rate (``mujoco.rollout``, all cores, see ``env_throughput.py``);

and prints the ratios. Every rate is the best of ``--iterations`` timed iterations (the first of
each kind is not timed: it starts worker processes and warms caches), for both sides of a ratio
alike: the VM's speed varies between runs.
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
from typing import Any

import mujoco
import torch

import morl
from morl.agents import get_agent
from morl.agents.base import Agent
from morl.cores import available_cores
from morl.versions import provenance

sys.path.insert(0, str(Path(__file__).parent))
from env_throughput import time_raw

PROBLEM = "MO-HalfCheetah-v2"


class IterationTimer:
    """A learn() callback: env-steps/s of each iteration by kind, stopping after ``per_kind``
    timed iterations of every kind in ``kinds`` (the first of each kind is not timed)."""

    def __init__(self, kind: Any, kinds: tuple[str, ...], per_kind: int) -> None:
        self.kind, self.kinds, self.per_kind = kind, kinds, per_kind
        self.rates: dict[str, list[float]] = {k: [] for k in kinds}
        self.seen: dict[str, int] = dict.fromkeys(kinds, 0)
        self.last_time, self.last_steps = time.perf_counter(), 0

    def __call__(self, agent: Agent, info: dict[str, Any]) -> bool:
        now = time.perf_counter()
        kind = self.kind(agent)
        if self.seen[kind] > 0:  # the first iteration of a kind starts workers: not timed
            self.rates[kind].append((info["env_steps"] - self.last_steps) / (now - self.last_time))
        self.seen[kind] += 1
        self.last_time, self.last_steps = time.perf_counter(), info["env_steps"]
        return any(len(self.rates[k]) < self.per_kind for k in self.kinds)

    def best(self, kind: str) -> float:
        return max(self.rates[kind])


def agent_rates(name: str, iterations: int, kind: Any = lambda a: "run", kinds: tuple[str, ...] = ("run",),
                problem: str = PROBLEM, **overrides: Any) -> dict[str, float]:  # fmt: skip
    cls = get_agent(name)
    config = cls.config_class.for_problem(problem, eval_interval=1_000_000, **overrides)
    timer = IterationTimer(kind, kinds, iterations)
    cls(problem, config).learn(progress=False, callback=timer)
    return {k: timer.best(k) for k in kinds}


def end_to_end_rate(name: str, steps: int) -> float:
    """Env-steps/s of a whole short run as a user starts it (the problem's defaults at ``steps``,
    its periodic evaluations included; ``compiled_update="auto"`` keeps a run this short eager):
    training steps over the wall-clock of ``learn``."""
    cls = get_agent(name)
    agent = cls(PROBLEM, cls.config_class.for_problem(PROBLEM, total_steps=steps))
    start = time.perf_counter()
    agent.learn(progress=False)
    return agent.env_steps / (time.perf_counter() - start)


def pgmorl_rate(iterations: int) -> float:
    """PGMORL's whole-run env-steps/s on the paper plan: the best iteration rate (collection,
    update, the evaluation of its policies) and the mean selection time per generation."""
    cls = get_agent("pgmorl")
    config = cls.config_class.for_problem(PROBLEM, eval_interval=1_000_000, warmup_iter=2, update_iter=2)
    seconds: list[float] = []
    selections: list[float] = []
    last = [time.perf_counter()]

    def timer(agent: Agent, info: dict[str, Any]) -> bool:
        now = time.perf_counter()
        selection = info["stats"]["selection_seconds"]
        if info["iteration"] > 1:  # the first starts workers and evaluates the fresh policies
            seconds.append(now - last[0] - selection)
        if selection > 0.01:
            selections.append(selection)
        last[0] = time.perf_counter()
        return len(seconds) < iterations or not selections

    agent = cls(PROBLEM, config)
    agent.learn(progress=False, callback=timer)
    per_iteration = agent.plan.steps * config.envs_per_task * config.num_tasks
    paper = cls.config_class.for_problem(PROBLEM)
    paper_agent = cls(PROBLEM, paper)
    paper_agent.prepare()
    plan = paper_agent.plan
    total_iterations = plan.warmup_iter + plan.generations * plan.update_iter
    total_seconds = total_iterations * min(seconds) + plan.generations * float(sum(selections) / len(selections))
    return total_iterations * per_iteration / total_seconds


def pdmorl_rates(iterations: int) -> dict[str, float]:
    """PD-MORL's key and main iteration rates (100 steps of every env per iteration, updates
    from the first transitions on: the timed iterations are the steady state of a long run),
    each stage timed in its own run (the main stage's without a key warm start)."""
    common = {"total_steps": 1_000_000, "steps_per_iteration": 100, "random_steps": 0, "key_random_steps": 0,
              "learning_starts": 100}  # fmt: skip
    key = agent_rates("pd-morl", iterations, kind=lambda a: "key", kinds=("key",), **common)["key"]
    main = agent_rates("pd-morl", iterations, kind=lambda a: "main", kinds=("main",), key_fraction=0.0, **common)
    key_fraction = get_agent("pd-morl").config_class.for_problem(PROBLEM).key_fraction
    return {"key": key, "main": main["main"], "run": whole_run_rate(key, main["main"], warmup_fraction=key_fraction)}


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


def sb3_td3_rate(iterations: int, steps: int = 1000) -> float:
    """SB3 TD3 env-steps/s with one gradient step per env step (PD-MORL's widths and batch):
    the best of ``iterations`` chunks of ``steps`` steps, after a first untimed one."""
    from stable_baselines3 import TD3

    env = morl.make(PROBLEM, preference=[0.5, 0.5])
    model = TD3("MlpPolicy", env, seed=0, device="cpu", verbose=0, batch_size=256, learning_starts=256,
                policy_kwargs={"net_arch": [400, 400]}, train_freq=1, gradient_steps=1)  # fmt: skip
    model.learn(total_timesteps=steps)
    best = 0.0
    for _ in range(iterations):
        start = time.perf_counter()
        model.learn(total_timesteps=steps, reset_num_timesteps=False)
        best = max(best, steps / (time.perf_counter() - start))
    return best


def machine_line() -> str:
    """The versions and the machine a timing ran on, as the first line of its output."""
    threads = torch.get_num_threads()
    return (f"morl {morl.__version__}, mujoco {mujoco.__version__}, torch {torch.__version__} ({threads} threads), "
            f"python {platform.python_version()}, {os.cpu_count()} cores")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=4, help="timed iterations per measurement (best kept)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    header = machine_line()
    print(header)
    produced_by = provenance()  # the commit as the run starts
    hyper = agent_rates("hyper-morl", args.iterations, kind=lambda a: a.phase, kinds=("warmup", "psl"),
                        total_steps=2_000_000, warmup_fraction=0.02, compiled_update="on")  # fmt: skip
    eager = agent_rates("hyper-morl", args.iterations, kind=lambda a: a.phase, kinds=("warmup", "psl"),
                        total_steps=2_000_000, warmup_fraction=0.02, compiled_update="off")  # fmt: skip
    short_run = end_to_end_rate("hyper-morl", 200_000)
    conditioned = agent_rates("conditioned-ppo", args.iterations)
    pgmorl = pgmorl_rate(args.iterations)
    pdmorl = pdmorl_rates(args.iterations)
    sb3_agent = agent_rates("sb3", args.iterations)
    torch.set_num_threads(threads)  # SB3 alone with torch's default
    sb3 = sb3_rate(args.iterations)
    sb3_td3 = sb3_td3_rate(args.iterations)
    raw = time_raw(f"morl/{PROBLEM}", 64, 200, available_cores(), 3)
    rows = {
        "hyper_morl_warmup": hyper["warmup"],
        "hyper_morl_psl": hyper["psl"],
        "hyper_morl_run": whole_run_rate(hyper["warmup"], hyper["psl"]),
        "hyper_morl_warmup_eager": eager["warmup"],
        "hyper_morl_psl_eager": eager["psl"],
        "hyper_morl_run_eager": whole_run_rate(eager["warmup"], eager["psl"]),
        "hyper_morl_200k_end_to_end": short_run,
        "conditioned_ppo": conditioned["run"],
        "pgmorl_run": pgmorl,
        "pdmorl_key": pdmorl["key"],
        "pdmorl_main": pdmorl["main"],
        "pdmorl_run": pdmorl["run"],
        "sb3_agent_4envs": sb3_agent["run"],
        "sb3_ppo_one_env": sb3,
        "sb3_td3_one_env": sb3_td3,
        "raw_physics": raw,
    }
    print(f"{PROBLEM}: training env-steps/s (rollout + update, all cores)")
    for name, value in rows.items():
        print(f"  {name:26s} {value:10.0f}   x{value / sb3:5.1f} SB3   {value / raw:5.2f} of raw physics")
    print(f"  pgmorl / hyper-morl (whole runs): {rows['pgmorl_run'] / rows['hyper_morl_run']:.2f}")
    print(f"  hyper-morl warm-up / PSL (compiled update): {rows['hyper_morl_warmup'] / rows['hyper_morl_psl']:.2f}")
    print(f"  hyper-morl 200k-step run end to end / SB3 PPO: {rows['hyper_morl_200k_end_to_end'] / sb3:.1f}")
    print(f"  pd-morl main stage / SB3 TD3 (one update per env step each): {rows['pdmorl_main'] / sb3_td3:.2f}")
    if args.out:
        record = {**produced_by, "machine_line": header, "fingerprint": morl.fingerprint(PROBLEM), "rates": rows}
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
