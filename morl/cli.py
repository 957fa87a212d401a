"""The ``morl`` command line: ``morl envs | agents | demo | train AGENT | evaluate | sample``.

It parses and calls the library: resuming, validation and training live there.

User errors (an unknown problem id, a bad argument) print one line on stderr and exit with
status 2; no traceback.
"""

from __future__ import annotations

import _thread
import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from morl.agents import load as load_agent
from morl.envs.catalog import PROBLEM_IDS, get_problem
from morl.envs.registration import make as make_env
from morl.envs.vector import make_vec
from morl.evaluation import run_episode
from morl.preferences import parse_preference
from morl.run_files import writable_directory
from morl.versions import MORL_VERSION
from morl.zoo import pretrained


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block), like the library's errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(low: int, what: str) -> Any:
    """An argparse type: an integer >= ``low``, else an error saying it must be ``what``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be {what}")
        return value

    return parse


_positive_int = _integer(1, "a positive integer")


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 (the system picks a free one) to 65535."""
    value = _integer(0, "a port number from 0 (a free one) to 65535")(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} must be a port number from 0 (a free one) to 65535")
    return value


_seed = _integer(0, "a non-negative integer seed")


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-empty path")
    return text


def _cmd_envs(args: argparse.Namespace) -> int:
    print(f"{'id':24s} {'m':>2s} {'obs':>4s} {'act':>4s} {'horizon':>7s}  objectives")
    for problem_id in PROBLEM_IDS:
        env = make_vec(problem_id, 1, workers=1)
        problem = get_problem(problem_id)
        obs_dim, act_dim = env.single_observation_space.shape[0], env.single_action_space.shape[0]
        print(
            f"{problem_id:24s} {problem.reward_dim:2d} {obs_dim:4d} {act_dim:4d} "
            f"{problem.max_episode_steps:7d}  {', '.join(problem.objective_names)}"
        )
        env.close()
    return 0


def _cmd_random_rollout(args: argparse.Namespace) -> int:
    """Roll out a uniformly random policy on each problem through the vector env and print the
    undiscounted return vector of each finished episode (the mean over ``--envs`` episodes)."""
    problems = [get_problem(p).id for p in (args.problems or PROBLEM_IDS)]
    print(f"random policy, {args.envs} episodes per problem, seed {args.seed}, morl {MORL_VERSION}")
    for problem_id in problems:
        env = make_vec(problem_id, args.envs, seed=args.seed, workers=args.workers)
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
            if "_morl_episode" in info:
                first = info["_morl_episode"] & ~done
                returns[first] = info["morl_episode"]["r"][first]
                lengths[first] = info["morl_episode"]["l"][first]
                done |= info["_morl_episode"]
        rate = steps / (time.perf_counter() - start)
        env.close()
        mean = ", ".join(
            f"{name}={value:.1f}" for name, value in zip(env.objective_names, returns.mean(axis=0), strict=True)
        )
        print(f"{problem_id:24s} return [{mean}]  mean length {lengths.mean():.0f}  ({rate:.0f} env-steps/s)")
    return 0


def _train(agent_name: str, problem_id: str, overrides: dict[str, Any], out: Any, quiet: bool) -> Any:
    """Train ``agent_name`` into ``out``; the library resumes a run of the same config there.

    The run directory's lock is taken before anything else: a directory another process trains
    is refused (BlockingIOError, main's one line) before a word about the run in it is printed,
    rather than after "resuming from ..." and the plan. ``learn`` takes the same lock again
    (re-entrant within this thread) and it is held until the training ends."""
    from morl.agents import get_agent
    from morl.run_files import DirectoryLock

    with DirectoryLock(out):
        cls = get_agent(agent_name)
        agent = cls(problem_id, cls.config_class.for_problem(problem_id, **overrides))
        if agent.restore(out):
            print(f"resuming from {out / 'checkpoint.pt'} at {agent.env_steps:,} env steps")
        cfg = agent.config
        run = agent.prepare()
        print(f"{agent_name} on {problem_id}: {cfg.total_steps:,} env steps, seed {cfg.seed}, output {out}")
        print(f"plan: {run.planned_steps:,} env steps in {run.iterations} whole iterations")
        agent.learn(out_dir=out, progress=not quiet)
    return agent


def _final_front(agent: Any, out: Any) -> Any:
    """The front of the finished run (written by its last evaluation, or evaluated now)."""
    from morl.evaluation import FrontResult

    path = out / "front.json"
    if path.exists():
        return FrontResult.load(path)
    result = agent.evaluate()
    result.save(path)
    return result


def _cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from morl.agents import get_agent

    problem = get_problem(args.problem)
    out = Path(args.out)
    writable_directory(out, "--out")
    fields = {name for name, *_ in get_agent(args.agent).config_class.field_help()}
    overrides = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    if args.steps is not None:
        overrides["total_steps"] = args.steps
    agent = _train(args.agent, problem.id, overrides, out, args.quiet)
    print(format_metrics(_final_front(agent, out)))
    print(f"checkpoint, front.json, front.png and TensorBoard logs in {out}")
    return 0


def _cmd_bench_report(args: argparse.Namespace) -> int:
    """``morl bench report DIR``: the bench's tables and figures, written beside its records."""
    from morl.bench.report import report

    print(report(args.dir, explorers=args.explorers))
    print(f"report written to {os.path.join(args.dir, 'report.md')}, with report.html and report.tex beside it")
    return 0


def _cmd_bench_status(args: argparse.Namespace) -> int:
    """``morl bench status DIR``: where each run of the bench stands."""
    from morl.bench.status import bench_status, format_status

    print(format_status(args.dir, bench_status(args.dir)))
    return 0


def _cmd_bench_run(args: argparse.Namespace) -> int:
    """``morl bench run``: every run of agents × problems × seeds not finished yet (resumable)."""
    from morl.bench.plan import merge_overrides, parse_overrides, plan_runs, read_overrides
    from morl.bench.runner import bench

    for name in ("agents", "problems", "out"):
        if not getattr(args, name):
            raise ValueError(f"--{name} is required to run a bench")
    if (args.steps is None) == (not args.paper_budget):
        raise ValueError("give --steps N (one budget for every run) or --paper-budget (each problem's authors' budget)")
    seeds = list(range(args.seeds))
    overrides = merge_overrides(read_overrides(args.overrides) if args.overrides else {}, parse_overrides(args.set))
    runs = plan_runs(args.agents.split(","), args.problems.split(","), seeds, args.steps, overrides)
    command = "morl " + " ".join(sys.argv[1:])
    if args.ray:
        from morl.bench.plan import resources
        from morl.bench.ray_runner import bench_on_ray

        cpus = args.cpus_per_run or resources(args.jobs)["workers"]
        bench_on_ray(runs, args.out, address=args.ray, cpus_per_run=cpus, command=command)
    else:
        if args.cpus_per_run:
            raise ValueError("--cpus-per-run is for --ray; locally, --jobs shares the cores among the runs")
        bench(runs, args.out, jobs=args.jobs, command=command)
    print(f"records in {os.path.join(args.out, 'records')}; `morl bench report {args.out}` tabulates them")
    return 0


def _cmd_agents(args: argparse.Namespace) -> int:
    from morl.agents import agent_entry

    agents = _loadable_agents()
    _trainable(agents)  # says which outside agent `morl train` would leave out, and why
    width = max(len(name) for name, _ in agents)
    for name, cls in agents:
        entry = agent_entry(name)
        print(f"{name:<{width}}  {cls.summary}" + (f"  [{entry}]" if entry else ""))
    return 0


def _loadable_agents(warn: bool = True) -> list[tuple[str, Any]]:
    """(name, class) of every agent; one from outside morl that does not load (its package broken
    or missing) is left out, with a warning on stderr, rather than taking the whole CLI down."""
    from morl.agents import AGENTS, agent_entry

    found = []
    for name in AGENTS:
        try:
            found.append((name, AGENTS[name]))
        except Exception as error:
            if agent_entry(name) is None:
                raise  # morl's own: a broken installation, not an outside agent's problem
            if warn:
                print(f"morl: agent {name!r} left out: {error}", file=sys.stderr)
    return found


# A quick preset for the demo: fewer samples per update and a higher learning rate than the
# authors' settings, so that a visible front emerges in a few minutes on two cores.
DEMO_PRESET: dict[str, Any] = {
    "total_steps": 300_000, "steps_per_env": 128, "envs_per_preference": 4, "epochs": 5, "minibatches": 4,
    "learning_rate": 1e-3, "warmup_fraction": 0.1, "eval_interval": 10,
}  # fmt: skip


def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job: train Hyper-MORL on a default problem, evaluate its front on the paper
    protocol, save the plots, and sample the policy of one preference."""
    from pathlib import Path

    from morl.plotting import plot_front, plot_preference_curves

    problem = get_problem(args.problem)
    out = Path(args.out)
    writable_directory(out, "--out")
    overrides = {**DEMO_PRESET, "seed": args.seed}
    if args.steps is not None:
        overrides["total_steps"] = args.steps
    agent = _train("hyper-morl", problem.id, overrides, out, args.quiet)
    result = _final_front(agent, out)
    print(format_metrics(result))
    plot_front(result, out / "front.png")
    if result.returns.shape[1] == 2:
        plot_preference_curves(result, out / "preference_curves.png")
    preference = [1.0 / agent.m] * agent.m
    if args.preference:
        preference = parse_preference(args.preference, name="--preference")
    policy = agent.policy_for(preference)
    policy.save(out / "policy.npz")
    from morl.explore import write_explorer

    write_explorer(agent, out / "explorer.html", seed=args.seed, preference=policy.preference.tolist(),
                   label=f"the demo's {agent.name} run")  # fmt: skip
    env = make_env(problem.id)
    total = run_episode(env, policy, seed=args.seed)
    env.close()
    names = problem.objective_names
    print(f"sampled preference {np.round(policy.preference, 3).tolist()}: return [" +
          ", ".join(f"{n}={v:.1f}" for n, v in zip(names, total, strict=True)) + "]")  # fmt: skip
    print(f"outputs in {out}: checkpoint.pt, front.json, front.png, policy.npz, explorer.html (open it in a "
          "browser: pick a trade-off by looking), TensorBoard logs")  # fmt: skip
    return 0


def _pretrained(path: str) -> Any:
    """The shipped model a ``pretrained:PROBLEM`` argument names; None for any other path."""
    from morl.zoo import PRETRAINED

    return pretrained(path[len(PRETRAINED) :]) if path.startswith(PRETRAINED) else None


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a trained agent's front (a run directory) or print a saved front result (JSON)."""
    from pathlib import Path

    from morl.evaluation import FrontResult

    path = Path(args.path)
    model = _pretrained(args.path)
    if model is not None:
        result = _evaluate_with(model, args)
        print(format_metrics(result))
        if args.plot:
            from morl.plotting import plot_front

            plot_front(result, args.plot)
            print(f"front plot written to {args.plot}")
        return 0
    if path.is_dir():
        from morl.plotting import plot_front
        from morl.run_files import DirectoryLock

        agent = load_agent(path)
        if not os.access(path, os.W_OK):  # before the evaluation, not after it
            raise PermissionError(f"run directory {str(path)!r} is not writable (front.json is written there)")
        with DirectoryLock(path):  # not while a training writes the same directory
            result = _evaluate_with(agent, args)
            result.save(path / "front.json")
        plot = Path(args.plot) if args.plot else path / "front.png"
        plot_front(result, plot)
        print(format_metrics(result))
        print(f"front written to {path / 'front.json'}, plot to {plot}")
        return 0
    result = FrontResult.load(path)
    if args.protocol is not None and args.protocol != result.protocol.name:
        raise ValueError(
            f"--protocol {args.protocol}: {str(path)!r} is a saved result, measured with protocol "
            f"{result.protocol.name!r}; --protocol applies to a run directory or pretrained:PROBLEM"
        )
    print(format_metrics(result))
    if args.plot:
        from morl.plotting import plot_front

        plot_front(result, args.plot)
        print(f"front plot written to {args.plot}")
    return 0


def _evaluate_with(model: Any, args: argparse.Namespace) -> Any:
    """``model.evaluate`` on the protocol ``--protocol`` names (the paper's by default). PD-MORL's
    preferences are passed explicitly: a model's own default set is the paper protocol's."""
    from morl.evaluation import PDMORL_PROTOCOL, pdmorl_preferences

    if args.protocol == PDMORL_PROTOCOL:
        prefs = pdmorl_preferences(model.m)
        return model.evaluate(prefs, episodes=args.episodes, seed=args.seed, protocol=PDMORL_PROTOCOL)
    return model.evaluate(episodes=args.episodes, seed=args.seed)


def _cmd_sample(args: argparse.Namespace) -> int:
    """Run the policy for one preference in a plain gymnasium loop and print its return vector."""
    from pathlib import Path

    from morl.policy import PreferencePolicy

    path = Path(args.path)
    model = _pretrained(args.path)
    if model is not None or path.is_dir():
        agent = model if model is not None else load_agent(path)
        if args.preference is None:
            raise ValueError("--preference is required to sample from a trained agent or a pretrained model")
        policy = agent.policy_for(parse_preference(args.preference, name="--preference"))
    else:
        policy = PreferencePolicy.load(path)
        if args.preference is not None:
            raise ValueError(f"{str(path)!r} is the policy of one preference; --preference applies to a run directory")
    if args.save_policy:
        policy.save(args.save_policy)
        print(f"policy written to {args.save_policy}")
    render = "rgb_array" if args.video else None
    if args.video and not args.video.endswith(".gif"):
        raise ValueError(f"--video {args.video!r}: only animated GIF (.gif) is supported")
    env = make_env(policy.problem_id, render_mode=render, width=320, height=240)
    names = env.unwrapped.objective_names  # type: ignore[attr-defined]
    print(f"{policy.problem_id}, preference {np.round(policy.preference, 4).tolist()}")
    returns: list[np.ndarray] = []
    video = _EveryOtherFrame(env) if args.video else None
    for episode in range(args.episodes):
        keep = video if episode == 0 else None
        total = run_episode(env, policy, seed=args.seed + episode, observe=keep)
        returns.append(total)
        print(
            f"episode {episode}: return [" + ", ".join(f"{n}={v:.2f}" for n, v in zip(names, total, strict=True)) + "]"
        )
    if args.episodes > 1:
        mean = np.mean(returns, axis=0)
        print("mean return [" + ", ".join(f"{n}={v:.2f}" for n, v in zip(names, mean, strict=True)) + "]")
    env.close()
    if video is not None:
        _write_gif(video.frames, args.video, fps=int(env.metadata.get("render_fps", 30)))
        print(f"video of episode 0 written to {args.video}")
    return 0


def _cmd_explore(args: argparse.Namespace) -> int:
    """Write the explorer page of a trained set, or serve it."""
    from morl.explore import serve, write_explorer

    if args.serve == bool(args.out):
        raise ValueError("give --out FILE.html (a page that opens offline) or --serve (any preference on demand)")
    if args.port is not None and not args.serve:
        raise ValueError(f"--port {args.port}: a port is for --serve; --out writes a file")
    preference = parse_preference(args.preference, name="--preference") if args.preference else None
    if args.serve:
        serve(args.source, port=8000 if args.port is None else args.port, grid=args.grid, seed=args.seed,
              preference=preference,
              ready=lambda url: print(f"serving {url} (127.0.0.1 only; Ctrl-C stops)", flush=True))  # fmt: skip
        print("server stopped")
        return 0
    path = write_explorer(args.source, args.out, grid=args.grid, seed=args.seed, preference=preference)
    print(f"explorer written to {path} ({path.stat().st_size / 2**20:.1f} MB); open it in a browser")
    return 0


class _EveryOtherFrame:
    """An ``observe`` hook for :func:`run_episode` that renders on every second call only: the GIF
    plays at half the env's frame rate, and rendering (~0.1 s a frame in software OpenGL) is most
    of a video's time."""

    def __init__(self, env: Any) -> None:
        self.env, self.calls = env, 0
        self.frames: list[Any] = []

    def __call__(self) -> None:
        if self.calls % 2 == 0:
            self.frames.append(self.env.render())
        self.calls += 1


def _write_gif(frames: list[Any], path: str, fps: int) -> None:
    """Frames at half the env's rate as an animated GIF, in one palette (the first frame's): the
    scene changes little, and quantising each frame on its own took six times as long."""
    import io as _io

    from PIL import Image

    from morl.run_files import atomic_write_bytes

    images = [Image.fromarray(np.asarray(frame)) for frame in frames]
    palette = images[0].quantize(colors=255)
    indexed = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    buffer = _io.BytesIO()
    indexed[0].save(buffer, format="GIF", save_all=True, append_images=indexed[1:], duration=int(2000 / fps), loop=0)
    atomic_write_bytes(path, buffer.getvalue())


def format_metrics(result: Any) -> str:
    """A small table: the protocol, then one line per indicator."""
    metrics = result.metrics
    lines = [f"protocol: {result.protocol.describe()}", f"preferences: {len(result.preferences)}"]
    rows: list[tuple[str, str]] = []
    if result.repetition_metrics is not None:  # the protocol's own numbers first (PD-MORL's)
        rep = result.repetition_metrics
        rows += [
            ("HV mean ± std", f"{rep.hypervolume_mean:.6g} ± {rep.hypervolume_std:.6g}"),
            ("sparsity mean ± std", f"{rep.sparsity_mean:.6g} ± {rep.sparsity_std:.6g}"),
        ]
    rows += [
        ("hypervolume", f"{metrics.hypervolume:.6g}"),
        ("sparsity", f"{metrics.sparsity:.6g}"),
        ("expected utility", "n/a" if metrics.expected_utility is None else f"{metrics.expected_utility:.6g}"),
        ("non-dominated points", str(metrics.num_non_dominated)),
        ("evaluation env steps", str(result.env_steps)),
        ("training env steps", "n/a" if result.training_env_steps is None else str(result.training_env_steps)),
    ]
    if metrics.igd_plus is not None:
        rows.insert(len(rows) - 2, ("IGD+", f"{metrics.igd_plus:.6g}"))
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first token that is not an option (the top level has
    only --help and --version, which take no value)."""
    return next((token for token in argv if not token.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line. With ``argv``, ``morl train``'s per-agent options are built only when
    ``argv`` is a ``train`` command: they need every agent's class, and importing the agents
    (torch, scipy) cost two to three seconds that ``morl envs``, ``morl explore`` or ``morl --help``
    had no use for. Without ``argv``: the whole parser."""
    parser = _Parser(prog="morl", description="Multi-objective robot control.")
    parser.add_argument("--version", action="version", version=f"morl {MORL_VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    envs = sub.add_parser("envs", help="list the benchmark problems")
    envs.set_defaults(func=_cmd_envs)
    demo = sub.add_parser("demo", help="train Hyper-MORL quickly on a default problem, evaluate, plot, sample")
    demo.add_argument("--problem", default="MO-HalfCheetah-v2")
    demo.add_argument(
        "--steps", type=_positive_int, help=f"training env steps (default {DEMO_PRESET['total_steps']:,})"
    )
    demo.add_argument("--seed", type=_seed, default=0)
    demo.add_argument(
        "--out", type=_path, default="runs/demo", help="output directory (resumes if it holds the same run)"
    )
    demo.add_argument("--preference", help="the preference to sample (default: equal weights)")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=_cmd_demo)
    rollout = sub.add_parser("random-rollout", help="roll out a random policy on the problems, print return vectors")
    rollout.add_argument("--problems", nargs="*", help="problem ids (default: all seven)")
    rollout.add_argument("--envs", type=_positive_int, default=8, help="episodes per problem, run in parallel")
    rollout.add_argument("--seed", type=_seed, default=0)
    rollout.add_argument("--workers", type=int, default=None, help="processes stepping the physics")
    rollout.set_defaults(func=_cmd_random_rollout)
    bench = sub.add_parser("bench", help="compare agents x problems x seeds on one budget: run, report, status")
    actions = bench.add_subparsers(dest="action", required=True, metavar="run|report|status")
    run = actions.add_parser("run", help="run (or resume) a bench: agents x problems x seeds on one budget")
    run.add_argument("--agents", help="comma-separated agent names (see `morl agents`)")
    run.add_argument("--problems", help="comma-separated problem ids, e.g. MO-Swimmer-v2,MO-HalfCheetah-v2")
    run.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..N-1 (default 3)")
    run.add_argument("--steps", type=_positive_int, help="env steps per run, the same for every run")
    run.add_argument("--paper-budget", action="store_true", help="each problem's authors' budget instead")
    run.add_argument("--set", action="append", default=[], metavar="AGENT.FIELD=VALUE",
                       help="a config override for one agent, e.g. pgmorl.update_iter=10 (repeatable)")  # fmt: skip
    run.add_argument("--overrides", type=_path, metavar="FILE",
                       help="per-agent config overrides from a TOML or JSON file, a table per agent "
                       "([pgmorl] update_iter = 10); --set wins over it")  # fmt: skip
    run.add_argument("--jobs", type=_positive_int, default=1, help="runs at a time, each with its share of the cores")
    run.add_argument("--out", type=_path, help="the bench directory (runs/, records/, report.md)")
    run.add_argument("--ray", metavar="local|auto|ADDRESS",
                       help="run each run as a Ray task: a Ray instance started here (local), the cluster this "
                       "machine joined (auto) or the head at ADDRESS (needs morl[ray])")  # fmt: skip
    run.add_argument("--cpus-per-run", type=_positive_int,
                       help="with --ray: CPUs each run requests (default: this machine's cores / --jobs)")  # fmt: skip
    run.set_defaults(func=_cmd_bench_run)
    report = actions.add_parser("report", help="write DIR/report.md (with report.html and report.tex) and print it")
    report.add_argument("dir", type=_path, help="the bench directory")
    report.add_argument("--no-explorers", dest="explorers", action="store_false",
                        help="no explorer pages (DIR/explorers/, each agent's best seed per problem)")  # fmt: skip
    report.set_defaults(func=_cmd_bench_report)
    status = actions.add_parser("status", help="each run's state: finished, running, interrupted, pending, failed")
    status.add_argument("dir", type=_path, help="the bench directory")
    status.set_defaults(func=_cmd_bench_status)

    evaluate = sub.add_parser("evaluate", help="evaluate a trained run's front, or print a saved front result")
    evaluate.add_argument("path", help="a run directory (checkpoint), a front result JSON file, or "
                          "pretrained:PROBLEM (the model shipped for PROBLEM)")  # fmt: skip
    evaluate.add_argument("--plot", type=_path, help="write the front plot to this PNG file")
    evaluate.add_argument("--episodes", type=_positive_int, default=1, help="episodes per preference (run directory)")
    evaluate.add_argument("--seed", type=_seed, default=0)
    # the choices are morl.evaluation.PROTOCOLS (not imported here: it would load pymoo for every command)
    evaluate.add_argument("--protocol", choices=("paper", "pd-morl"),
                          help="how a run directory or pretrained model is evaluated: paper (the default: the "
                          "papers' 200/406 preferences) or pd-morl (PD-MORL's: 1001 preferences, 3 repetitions "
                          "seeded SEED + 11e, i.e. 0/11/22, HV and sparsity as mean ± std)")  # fmt: skip
    evaluate.set_defaults(func=_cmd_evaluate)
    sample = sub.add_parser("sample", help="run the policy for one preference and print its return vector")
    sample.add_argument("path", help="a run directory, a policy file saved with --save-policy, or "
                        "pretrained:PROBLEM (the model shipped for PROBLEM)")  # fmt: skip
    sample.add_argument("--preference", help="comma-separated weights, e.g. 0.3,0.7")
    sample.add_argument("--episodes", type=_positive_int, default=1)
    sample.add_argument("--seed", type=_seed, default=0)
    sample.add_argument(
        "--video", type=_path, help="write episode 0 as an animated GIF (needs an OpenGL context, e.g. MUJOCO_GL=egl)"
    )
    sample.add_argument("--save-policy", type=_path, help="save the standalone policy (.npz) to this file")
    sample.set_defaults(func=_cmd_sample)
    explore = sub.add_parser("explore", help="a page to pick a trade-off by looking: the front, a preference "
                             "control and the robot's motion for it (offline HTML, or served)")  # fmt: skip
    explore.add_argument("source", help="a run directory, an agent's checkpoint file, or pretrained:PROBLEM")
    explore.add_argument("--out", type=_path, help="write the page to this HTML file (opens offline)")
    explore.add_argument("--serve", action="store_true", help="serve the page on 127.0.0.1, any preference on demand")
    explore.add_argument("--port", type=_port, help="with --serve: the port (default 8000; 0 picks a free one)")
    explore.add_argument("--grid", type=_integer(2, "an integer >= 2"),
                         help="preferences recorded per objective (default 21 for two objectives: steps of 0.05; "
                         "11 for three: the 0.1-step simplex)")  # fmt: skip
    explore.add_argument("--preference", help="the preference shown first, e.g. 0.3,0.7 (recorded if off the grid)")
    explore.add_argument("--seed", type=_seed, default=0, help="the episodes' reset seed")
    explore.set_defaults(func=_cmd_explore)
    agents = sub.add_parser("agents", help="list the agents, one line each")
    agents.set_defaults(func=_cmd_agents)
    _add_train_parser(sub, with_agents=argv is None or _command(argv) == "train")
    return parser


def _trainable(agents: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Those of ``agents`` whose config fits ``morl train``'s command line; an outside agent's
    that does not is left out, with a line on stderr saying why (morl's own always fit)."""
    from morl.agents import agent_entry

    fitting = []
    for name, cls in agents:
        if agent_entry(name) is not None:  # try it on a scratch parser
            try:
                _add_agent_parser(argparse.ArgumentParser().add_subparsers(), name, cls)
            except Exception as error:
                print(f"morl: agent {name!r} left out of `morl train`: {type(error).__name__}: {error}",
                      file=sys.stderr)  # fmt: skip
                continue
        fitting.append((name, cls))
    return fitting


def _add_train_parser(sub: Any, with_agents: bool) -> None:
    train = sub.add_parser("train", help="train an agent (see `morl agents`)")
    agents = train.add_subparsers(dest="agent", required=True, metavar="AGENT", parser_class=_Parser)
    for name, cls in _trainable(_loadable_agents()) if with_agents else ():
        _add_agent_parser(agents, name, cls)


_TRAIN_OPTIONS = frozenset({"problem", "steps", "out", "quiet", "agent", "func", "command"})  # the parser's own


def _add_agent_parser(agents: Any, name: str, cls: Any) -> None:
    """``morl train NAME``: the common options and one per field of the agent's config."""
    taken = sorted(_TRAIN_OPTIONS & {field for field, *_ in cls.config_class.field_help()})
    if taken:
        raise ValueError(f"its config's fields {taken} would shadow the command line's own options")
    parser = agents.add_parser(name, help=cls.summary, description=cls.summary)
    parser.add_argument("--problem", required=True, help="problem id, e.g. MO-HalfCheetah-v2")
    parser.add_argument("--steps", type=_positive_int, help="training env steps (default: the paper budget)")
    out_help = "output directory (checkpoint, front, logs); resumes a run of the same config"
    parser.add_argument("--out", type=_path, required=True, help=out_help)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    group = parser.add_argument_group("config (defaults: the agent's settings for the problem)")
    for field_name, kind, default, text in cls.config_class.field_help():
        if field_name == "total_steps":
            continue
        flag = f"--{field_name.replace('_', '-')}"
        if kind is bool:
            group.add_argument(flag, dest=field_name, action=argparse.BooleanOptionalAction, default=None,
                               help=f"{text} (default {default})")  # fmt: skip
        else:
            group.add_argument(flag, dest=field_name, type=kind, default=None, metavar=kind.__name__.upper(),
                               help=f"{text} (default {default})".replace("%", "%%"))  # fmt: skip
    parser.set_defaults(func=_cmd_train)


class _SwallowedInterrupts:
    """Deliver again, in the main thread, a Ctrl-C that CPython swallowed in a finaliser.

    An exception cannot leave a ``__del__`` or a weakref callback: CPython reports it through
    ``sys.unraisablehook`` ("Exception ignored in ...") and carries on. So a Ctrl-C whose
    KeyboardInterrupt was raised while a finaliser ran (an evaluation's vector env, a worker's
    connection or process object being collected mid-training) was lost, and a training went on
    to its end and exited 0. While this context is open, such a KeyboardInterrupt is raised anew
    in the main thread (``_thread.interrupt_main``, as if the signal arrived again) from a timer
    thread a moment later: from the hook itself it would be raised inside the hook, and lost
    again. One still owed when the context closes normally is raised there, so that none arrives
    after ``main`` has returned."""

    DELAY = 0.01  # seconds: the hook and the finaliser have returned by then

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owed = 0
        self._open = False
        self._previous = sys.unraisablehook

    def __enter__(self) -> None:
        self._previous, sys.unraisablehook = sys.unraisablehook, self._hook
        self._open = True

    def _hook(self, unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_type is None or not issubclass(unraisable.exc_type, KeyboardInterrupt):
            self._previous(unraisable)
            return
        with self._lock:
            self._owed += 1
        timer = threading.Timer(self.DELAY, self._deliver)
        timer.daemon = True
        timer.start()

    def _deliver(self) -> None:
        with self._lock:
            if self._open and self._owed:
                self._owed -= 1
                _thread.interrupt_main()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            sys.unraisablehook = self._previous
        finally:  # closed even if a delivered KeyboardInterrupt arrives just here: no timer fires after
            with self._lock:
                self._open = False
                owed, self._owed = self._owed, 0
        if owed and exc_type is None:
            raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    user_errors = (ValueError, TypeError, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError,
                   BlockingIOError)  # fmt: skip
    try:
        with _SwallowedInterrupts():
            return int(args.func(args))
    except user_errors as error:
        print(f"morl {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as error:  # the machine's: no OpenGL context for --video, disk full
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        where = f" ({error.filename})" if isinstance(error, OSError) and error.filename else ""
        print(f"morl {args.command}: error: {detail}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"morl {args.command}: interrupted; a run directory keeps its last checkpoint and resumes from it",
              file=sys.stderr)  # fmt: skip
        return 130


if __name__ == "__main__":
    sys.exit(main())
