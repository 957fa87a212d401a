"""Reproduce Hyper-MORL's published hypervolume on one problem with the authors' settings (or run
another agent, ``--agent pgmorl``, at the same full budget and protocol, beside it).

Runs ``morl train hyper-morl`` with the problem's default config (the authors' settings and full
budget), evaluates the final front on the paper protocol (200 / 406 preferences, one
deterministic undiscounted episode each, reference point at the origin), and compares the
hypervolume with the authors' table (9 seeds, MuJoCo 2.0; numbers on MuJoCo 3+/4 are expected to
shift). Prints and writes ``benchmarks/results/reproduce-<problem>-seed<S>.json`` with the
wall-clock time.

Usage: python benchmarks/reproduce.py MO-Swimmer-v2 [--agent hyper-morl] [--seed 0] [--steps N] [--out DIR]
       [--authors-deviations] [--stop-at N]

``--stop-at N`` trains on the full budget's schedule (warm-up length, learning-rate decay) but stops
after the iteration that reaches N env steps: the first N steps of a full run, recorded as
``reproduce-...-stop<N>`` (never a reproduction; resuming it with a larger N continues the run).
The run directory defaults to ~/morl-runs/reproduce-<problem>-seed<S> (``reproduce-<agent>-...``
for another agent; outside the work tree, so a later session on the same machine finds it); a
killed run resumes when started again with the same arguments. The record names the git commit,
the versions and the command. Another agent's record (``reproduce-<agent>-<problem>-seed<S>.json``)
puts our Hyper-MORL result of the same problem and seed beside it when that exists; the authors'
range is Hyper-MORL's (their paper's table), quoted for reference.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from reproduction import PUBLISHED

import morl
from morl.agents import AGENTS, get_agent
from morl.evaluation import FrontResult
from morl.versions import provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", choices=sorted(PUBLISHED))
    parser.add_argument("--agent", default="hyper-morl", choices=sorted(AGENTS), help="the agent (default hyper-morl)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="override the paper budget (then not a reproduction)")
    parser.add_argument("--out", help="run directory (default runs/reproduce-<problem>-seed<S>)")
    parser.add_argument(
        "--eval-interval", type=int, help="iterations between evaluations (default 10); does not change training"
    )
    parser.add_argument("--stop-at", type=int, help="stop after the iteration reaching this many env steps "
                        "(the full budget's schedule, cut short)")  # fmt: skip
    parser.add_argument("--authors-deviations", action="store_true",
                        help="hyper-morl as the authors' code ran it (its four deviations; run and record named "
                        "reproduce-authors-code-...), to set beside the method's run of the same seed")  # fmt: skip
    args = parser.parse_args()
    if args.authors_deviations and args.agent != "hyper-morl":
        parser.error(f"--authors-deviations is a hyper-morl setting, not one of {args.agent}")

    overrides: dict[str, int | bool] = {"seed": args.seed}
    if args.authors_deviations:
        overrides["authors_deviations"] = True
    if args.eval_interval:
        overrides["eval_interval"] = args.eval_interval
    if args.steps:
        overrides["total_steps"] = args.steps
    cls = get_agent(args.agent)
    config = cls.config_class.for_problem(args.problem, **overrides)
    variant = "authors-code-" if args.authors_deviations else ""
    name = ("" if args.agent == "hyper-morl" else f"{args.agent}-") + f"{variant}{args.problem}-seed{args.seed}"
    if args.steps and args.steps != morl.get_problem(args.problem).paper_budget:
        name += f"-steps{args.steps}"  # a reduced budget: never a reproduction, never its name
    # a reduced budget trains in its own directory (the paper budget's would refuse its total_steps);
    # a --stop-at run shares the full run's, so that a larger N continues it
    out = Path(args.out or Path.home() / "morl-runs" / f"reproduce-{name}")
    stop_at = args.stop_at
    if stop_at is not None:
        if stop_at <= 0:
            parser.error(f"--stop-at={stop_at}: expected a positive number of env steps")
        name += f"-stop{stop_at}"
    agent = cls(args.problem, config)
    if agent.restore(out):
        print(f"resuming {out} at {agent.env_steps:,} env steps")

    def stop(trained: object, info: dict[str, object]) -> bool:
        del info
        return stop_at is None or agent.env_steps < stop_at

    agent.learn(out_dir=out, callback=stop)
    train_seconds = agent.run.wall_time  # training and its periodic evaluations, summed over resumes
    eval_start = time.time()
    result: FrontResult = agent.evaluate()
    eval_seconds = time.time() - eval_start
    published = PUBLISHED[args.problem]
    hv = result.metrics.hypervolume
    verdict = published.verdict(hv)
    results = Path(__file__).parent / "results"
    # provenance first: the commit, versions, command, machine (now that torch is loaded: its SIMD
    # level) and the problem's definition head both files
    header = {**provenance(), "fingerprint": morl.fingerprint(args.problem)}
    summary = {
        **header,
        "agent": args.agent,
        "authors_deviations": args.authors_deviations,
        "problem": args.problem,
        "seed": args.seed,
        "total_steps": config.total_steps,
        "paper_budget": config.total_steps == morl.get_problem(args.problem).paper_budget and stop_at is None,
        "stopped_at": stop_at,
        "hypervolume": hv,
        "sparsity": result.metrics.sparsity,
        "expected_utility": result.metrics.expected_utility,
        "num_non_dominated": result.metrics.num_non_dominated,
        "authors_hv": {"mean": published.mean, "std": published.std, "min": published.low, "max": published.high},
        "verdict": f"{verdict} the authors' range" + ("" if args.agent == "hyper-morl" else " (of Hyper-MORL)"),
        "train_wall_clock_s": train_seconds,  # includes the periodic evaluations
        "final_eval_wall_clock_s": eval_seconds,
        "authors_wall_clock_h": published.hours,
        "training_env_steps": agent.env_steps,
        "parameters": agent.parameter_count(),  # what the result costs to keep (the papers' "training parameters")
        "trajectory": agent.run.history,  # the periodic evaluations: env steps, wall-clock, metrics
        "evaluation_env_steps_during_training": agent.run.eval_env_steps,
        "protocol": result.protocol.describe(),
    }
    ours = results / f"reproduce-{args.problem}-seed{args.seed}.json"
    hyper = json.loads(ours.read_text()) if ours.is_file() else {}
    if (args.agent != "hyper-morl" or args.authors_deviations) and hyper.get("fingerprint") == summary["fingerprint"]:
        keys = ("hypervolume", "sparsity", "expected_utility", "num_non_dominated", "train_wall_clock_s", "git_commit")
        summary["hyper_morl_same_seed"] = {k: hyper.get(k) for k in keys}
    print(json.dumps(summary, indent=1))
    results.mkdir(exist_ok=True)
    (results / f"reproduce-{name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    # the front file loads with FrontResult.load; its provenance follows its format
    front = result.to_dict()
    front = {"format": front["format"], "format_version": front["format_version"], **header, **front}
    (results / f"reproduce-{name}-front.json").write_text(json.dumps(front, indent=1) + "\n")


if __name__ == "__main__":
    main()
