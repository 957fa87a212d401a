"""The ``morl`` command line: ``morl envs``, ``morl demo``.

User errors (an unknown problem id, a bad argument) print one line on stderr and exit with
status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import morl
from morl.envs.registration import PROBLEM_IDS, get_problem


def _cmd_envs(args: argparse.Namespace) -> int:
    print(f"{'id':24s} {'m':>2s} {'obs':>4s} {'act':>4s} {'horizon':>7s}  objectives")
    for problem_id in PROBLEM_IDS:
        env = morl.make_vec(problem_id, 1, workers=1)
        problem = get_problem(problem_id)
        obs_dim, act_dim = env.single_observation_space.shape[0], env.single_action_space.shape[0]
        print(
            f"{problem_id:24s} {problem.reward_dim:2d} {obs_dim:4d} {act_dim:4d} "
            f"{problem.max_episode_steps:7d}  {', '.join(problem.objective_names)}"
        )
        env.close()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Roll out a uniformly random policy on each problem through the vector env and print the
    undiscounted return vector of each finished episode (the mean over ``--envs`` episodes)."""
    problems = [get_problem(p).id for p in (args.problems or PROBLEM_IDS)]
    print(f"random policy, {args.envs} episodes per problem, seed {args.seed}, morl {morl.__version__}")
    for problem_id in problems:
        env = morl.make_vec(problem_id, args.envs, seed=args.seed, workers=args.workers)
        rng = np.random.default_rng(args.seed)
        env.reset()
        done = np.zeros(args.envs, dtype=bool)
        returns = np.zeros((args.envs, env.reward_dim))
        lengths = np.zeros(args.envs, dtype=np.int64)
        steps = 0
        start = time.perf_counter()
        low, high = env.single_action_space.low, env.single_action_space.high
        while not done.all():
            actions = rng.uniform(low, high, size=env.action_space.shape)
            _, _, _, _, info = env.step(actions)
            steps += args.envs
            if "_episode" in info:
                first = info["_episode"] & ~done
                returns[first] = info["episode"]["r"][first]
                lengths[first] = info["episode"]["l"][first]
                done |= info["_episode"]
        rate = steps / (time.perf_counter() - start)
        env.close()
        mean = ", ".join(
            f"{name}={value:.1f}" for name, value in zip(env.objective_names, returns.mean(axis=0), strict=True)
        )
        print(f"{problem_id:24s} return [{mean}]  mean length {lengths.mean():.0f}  ({rate:.0f} env-steps/s)")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the metrics table of a saved front result (and optionally plot it)."""
    from morl.evaluation import FrontResult

    result = FrontResult.load(args.result)
    print(format_metrics(result))
    if args.plot:
        from morl.plotting import plot_front

        plot_front(result, args.plot)
        print(f"front plot written to {args.plot}")
    return 0


def format_metrics(result: Any) -> str:
    """A small table: the protocol, then one line per indicator."""
    metrics = result.metrics
    lines = [f"protocol: {result.protocol.describe()}", f"preferences: {len(result.preferences)}"]
    rows = [
        ("hypervolume", f"{metrics.hypervolume:.6g}"),
        ("sparsity", f"{metrics.sparsity:.6g}"),
        ("expected utility", "n/a" if metrics.expected_utility is None else f"{metrics.expected_utility:.6g}"),
        ("non-dominated points", str(metrics.num_non_dominated)),
        ("evaluation env steps", str(result.env_steps)),
        ("training env steps", "n/a" if result.training_env_steps is None else str(result.training_env_steps)),
    ]
    if metrics.igd_plus is not None:
        rows.insert(4, ("IGD+", f"{metrics.igd_plus:.6g}"))
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="morl", description="Multi-objective robot control.")
    parser.add_argument("--version", action="version", version=f"morl {morl.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    envs = sub.add_parser("envs", help="list the benchmark problems")
    envs.set_defaults(func=_cmd_envs)
    demo = sub.add_parser("demo", help="roll out a random policy on the problems and print return vectors")
    demo.add_argument("--problems", nargs="*", help="problem ids (default: all seven)")
    demo.add_argument("--envs", type=int, default=8, help="episodes per problem, run in parallel")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--workers", type=int, default=None, help="processes stepping the physics")
    demo.set_defaults(func=_cmd_demo)
    evaluate = sub.add_parser("evaluate", help="print the metrics table of a saved front result (JSON)")
    evaluate.add_argument("result", help="a front result saved with FrontResult.save")
    evaluate.add_argument("--plot", help="also write the front plot to this PNG file")
    evaluate.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError, PermissionError) as error:
        print(f"morl {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
