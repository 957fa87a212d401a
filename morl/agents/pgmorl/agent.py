"""PGMORL (Xu et al., ICML 2020), batched: the baseline that defined the benchmark.

An evolutionary MORL algorithm over PPO policies. A warm-up trains one fresh policy per weight of
an even simplex grid; then each generation the prediction model (:mod:`.prediction`)
forecasts what training each population member with each candidate weight would give, and
:func:`~morl.agents.pgmorl.selection.select_tasks` picks the n (policy, weight) tasks that most
improve HV − α·SP of the archive. Every policy evaluated after every iteration (``eval_num``
deterministic episodes, the mean) enters the Pareto archive (unbounded, non-dominated, no negative
objective); the archive is the result.

**Batched.** The authors train each task in its own process. Here the n tasks of a stage are rows
of one parameter tensor θ (n, P): they collect together on one vector env of n × E envs with one
batched forward pass per step, and update in one PPO update with per-task advantage
normalisation and per-task gradient clipping (each row gets exactly its own task's gradient,
:func:`~morl.agents.ppo.ppo_update`), with per-row Adam moments; each task keeps its own
observation and objective normalisers (grouped statistics). A task started from an archive
policy continues that policy's parameters, Adam moments and normalisers, as the authors' copied
sample does. What batching changes: the rows of a stage share Adam's step count (its bias
correction, within 1e-3 of 1 after the warm-up's steps at the authors' settings), and when the
selection finds fewer than n candidates, its picks are repeated to fill the n rows (the authors
then ran fewer tasks).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.base import Agent, Iteration, update_threads
from morl.agents.pgmorl.prediction import OptimizationGraph
from morl.agents.pgmorl.selection import (
    PerformanceBuffers,
    Task,
    archive_indices,
    candidate_weights,
    select_tasks,
)
from morl.agents.ppo.core import (
    Collector,
    CollectorSlot,
    PPOSettings,
    adam,
    compile_update,
    plan_rollout,
    ppo_update,
    restore_running_state,
    running_state,
)
from morl.agents.ppo.networks import TargetNetworkLayout, actor_arrays
from morl.agents.settings import AgentConfig, setting
from morl.agents.threads import torch_threads
from morl.envs.problem import Problem
from morl.evaluation import FrontResult, evaluate_front, front_result
from morl.normalization import RunningMeanStd
from morl.policy import PreferencePolicy
from morl.preferences import simplex_grid, validate_preference
from morl.versions import versions

MIN_ITERATIONS = 20  # small budgets: the rollout is shortened until this many iterations fit
MIN_GENERATIONS = 3  # ... and warm-up and generation lengths scaled down until this many fit

# The authors' per-problem settings: (warm-up iterations, iterations per generation).
_ITERATIONS = {"Swimmer": (40, 10), "HalfCheetah": (80, 20), "Walker2d": (80, 20)}
_DEFAULT_ITERATIONS = (200, 40)


@dataclass(frozen=True)
class PGMORLConfig(PPOSettings, AgentConfig):
    """PGMORL's settings (the authors' per problem by :meth:`for_problem`) and the PPO core's."""

    num_tasks: int = setting(6, low=1, help="tasks (policy, weight) trained per generation (6 for m=2, 15 for m=3)")
    warmup_splits: int = setting(5, low=1, help="simplex-grid splits of the warm-up weights: 6 weights for m=2 "
                                 "(5), 15 for m=3 (4)")  # fmt: skip
    envs_per_task: int = setting(4, low=1, help="envs per task (the authors' processes: 4, 8 for Humanoid)")
    warmup_iter: int = setting(80, low=1, help="warm-up iterations (40 Swimmer, 80 HalfCheetah/Walker2d, 200 others)")
    update_iter: int = setting(20, low=1, help="iterations per generation (10 Swimmer, 20 HalfCheetah/Walker2d, "
                               "40 others)")  # fmt: skip
    sparsity_weight: float = setting(1.0, low=0.0, help="alpha of HV - alpha*SP in task selection (1; 1e6 for m=3)")
    weight_candidates: int = setting(7, low=2, help="candidate weights per policy (m=2: over +-pi/4; m=3: the "
                                     "centre and grid weights within pi/4)")  # fmt: skip
    buffers: int = setting(100, low=1, help="m=2: performance buffers over [0, pi/2] (m=3: 210 directions)")
    buffer_size: int = setting(2, low=1, help="policies each performance buffer keeps")
    # The authors' scripts pass --eval-num 6 for Humanoid (its resets are noisy: scripts/humanoid-v2.py)
    # and --eval-num 1 for every other problem.
    eval_num: int = setting(1, low=1, help="deterministic episodes scoring each archive entry, the mean (the "
                            "authors' eval_num: 6 for Humanoid, 1 otherwise)")  # fmt: skip
    advantage_normalization: str = setting("per_policy", choices=("joint", "per_policy"),
                                           help="per task, as independent PPO runs (the authors')")  # fmt: skip
    grad_clip: str = setting("per_policy", choices=("joint", "per_policy"),
                             help="per task, as independent PPO runs (the authors')")  # fmt: skip

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        warmup, update = next((v for k, v in _ITERATIONS.items() if k in problem.name), _DEFAULT_ITERATIONS)
        m2 = problem.reward_dim == 2
        humanoid = "Humanoid" in problem.name
        return {
            **super().defaults_for(problem),
            "num_tasks": 6 if m2 else 15,
            "warmup_splits": 5 if m2 else 4,
            "envs_per_task": 8 if humanoid else 4,
            "warmup_iter": warmup,
            "update_iter": update,
            "sparsity_weight": 1.0 if m2 else 1e6,
            "eval_num": 6 if humanoid else 1,
            "gamma": 0.99 if humanoid else 0.995,
        }


@dataclass
class Plan:
    """How a budget is spent: the warm-up, then ``generations`` of ``update_iter`` iterations and
    a last, shorter one of ``last_iter`` (0: none), each iteration ``steps`` steps of every env.

    The shorter last generation is the authors' (their loop runs ``min(update_iter, iterations
    left)``): without it a paper budget loses up to a generation of training, 16 of 976 iterations
    per task on Ant and Hopper, and its learning rate decays over fewer iterations than theirs.
    """

    warmup_iter: int = 0
    update_iter: int = 0
    generations: int = 0
    steps: int = 0
    last_iter: int = 0  # 0 in checkpoints without the field (released 0.4.0 and before): whole generations only


@dataclass
class PolicyRecord:
    """One evaluated policy: everything needed to evaluate it, export it and continue training
    it (its parameters and Adam moments, its normalisers), and where it stands."""

    theta: np.ndarray  # (P,) float32
    exp_avg: np.ndarray  # (P,) Adam's first moment
    exp_avg_sq: np.ndarray  # (P,) Adam's second moment
    adam_step: int
    obs_stats: RunningMeanStd
    ret_stats: RunningMeanStd
    objs: np.ndarray  # (m,) evaluated return vector: the mean of episode_returns
    episode_returns: np.ndarray  # (eval_num, m) the return vector of each evaluation episode
    weight: np.ndarray  # (m,) the weight it was trained with
    node: int  # its node in the optimisation graph, -1 if none

    def meta(self) -> dict[str, Any]:
        """Everything but the parameter-sized arrays, as JSON-ready values."""
        return {"adam_step": self.adam_step, "obs_stats": self.obs_stats.state(), "ret_stats": self.ret_stats.state(),
                "objs": self.objs.tolist(), "episode_returns": self.episode_returns.tolist(),
                "weight": self.weight.tolist(), "node": self.node}  # fmt: skip

    @classmethod
    def from_parts(cls, theta: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
                   meta: dict[str, Any]) -> PolicyRecord:  # fmt: skip
        return cls(
            theta=theta.copy(),
            exp_avg=exp_avg.copy(),
            exp_avg_sq=exp_avg_sq.copy(),
            adam_step=int(meta["adam_step"]),
            obs_stats=RunningMeanStd.from_state(meta["obs_stats"]),
            ret_stats=RunningMeanStd.from_state(meta["ret_stats"]),
            objs=np.asarray(meta["objs"], dtype=np.float64),
            # checkpoints written before episode returns were kept: their one episode
            episode_returns=np.asarray(meta.get("episode_returns", [meta["objs"]]), dtype=np.float64),
            weight=np.asarray(meta["weight"], dtype=np.float64),
            node=int(meta["node"]),
        )


@dataclass
class Row:
    """A task being trained: its weight and the graph node its lineage last reached."""

    weight: np.ndarray
    node: int


class PGMORL(Agent):
    """``PGMORL(problem_id, config).learn()`` → ``pareto_set()``, ``policy_for(ω)``."""

    name = "pgmorl"
    summary = "prediction-guided evolution of PPO policies (Xu et al. 2020), tasks batched on one vector env"
    config_class = PGMORLConfig
    config: PGMORLConfig

    def _setup(self) -> None:
        cfg = self.config
        self.layout = TargetNetworkLayout(self.obs_dim, self.action_dim, self.m)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.warmup_weights = simplex_grid(self.m, cfg.warmup_splits)
        self.buffers = PerformanceBuffers(self.m, cfg.buffers, cfg.buffer_size)
        self.plan = Plan()
        self.graph = OptimizationGraph()
        self.records: dict[int, PolicyRecord] = {}
        self.next_id = 0
        self.archive: list[int] = []
        self.population: list[int] = []
        self.rows: list[Row] = []
        self.stage_start = -1  # the iteration at which the current rows were loaded
        self.pending: list[tuple[int, list[float]]] = []  # the next generation's (source, weight)
        self.theta = torch.nn.Parameter(torch.zeros(0, self.layout.num_params))
        self.optimizer = adam([self.theta], cfg)
        self.obs_stats = RunningMeanStd.grouped(1, (self.obs_dim,))
        self.ret_stats = RunningMeanStd.grouped(1, (self.m,))
        self._slot = CollectorSlot()

    # ----------------------------------------------------------------------------- planning
    def _plan(self, budget: int) -> tuple[int, int]:
        cfg = self.config
        warm_rows, rows, e = len(self.warmup_weights), cfg.num_tasks, cfg.envs_per_task
        steps = plan_rollout(cfg.steps_per_env, max(warm_rows, rows) * e, budget, MIN_ITERATIONS)
        if cfg.minibatches > steps * e:
            raise ValueError(f"minibatches={cfg.minibatches} exceeds the {steps * e} samples per task and iteration "
                             f"({steps} steps x {e} envs at total_steps={budget}); use fewer mini-batches")  # fmt: skip
        per_warmup, per_task_iteration = warm_rows * e * steps, rows * e * steps
        warmup, update = cfg.warmup_iter, cfg.update_iter
        needed = warmup * per_warmup + MIN_GENERATIONS * update * per_task_iteration
        if needed > budget:  # a small budget: both stages shortened alike
            scale = budget / needed
            warmup, update = max(1, math.floor(warmup * scale)), max(1, math.floor(update * scale))
        generations = (budget - warmup * per_warmup) // (update * per_task_iteration)
        if generations < 1:
            raise ValueError(
                f"total_steps={budget} is too small: the warm-up takes {warmup * per_warmup} steps and one "
                f"generation {update * per_task_iteration} ({rows} tasks x {e} envs x {steps} steps x {update})"
            )
        used = warmup * per_warmup + generations * update * per_task_iteration
        last = (budget - used) // per_task_iteration  # fewer than update: the remainder, as the authors' loop
        self.plan = Plan(warmup, update, int(generations), steps, int(last))
        return warmup + generations * update + last, used + last * per_task_iteration

    def _stage(self, iteration: int) -> tuple[int, int, int]:
        """(stage index: 0 warm-up, g >= 1 generation g; iteration within it; its length)."""
        plan = self.plan
        if iteration < plan.warmup_iter:
            return 0, iteration, plan.warmup_iter
        generation, index = divmod(iteration - plan.warmup_iter, plan.update_iter)
        return 1 + generation, index, plan.last_iter if generation == plan.generations else plan.update_iter

    # ----------------------------------------------------------------------------- stages
    def _load_rows(self, records: list[PolicyRecord | None], weights: np.ndarray, nodes: list[int]) -> None:
        """New θ rows, Adam and normalisers for a stage: continued from ``records`` (a fresh
        policy where None)."""
        rows = len(weights)
        theta = torch.stack([
            self.layout.initial(self.generator) if r is None else torch.from_numpy(r.theta.copy()) for r in records
        ])  # fmt: skip
        self.theta = torch.nn.Parameter(theta)
        self.optimizer = adam([self.theta], self.config)
        if any(r is not None for r in records):
            state = self.optimizer.state[self.theta]
            zeros = np.zeros(self.layout.num_params, dtype=np.float32)
            state["exp_avg"] = torch.from_numpy(np.stack([zeros if r is None else r.exp_avg for r in records]))
            state["exp_avg_sq"] = torch.from_numpy(np.stack([zeros if r is None else r.exp_avg_sq for r in records]))
            state["step"] = torch.tensor(float(max(0 if r is None else r.adam_step for r in records)))
        self.obs_stats = RunningMeanStd.grouped(rows, (self.obs_dim,))
        self.ret_stats = RunningMeanStd.grouped(rows, (self.m,))
        for i, record in enumerate(records):
            if record is not None:
                self.obs_stats.set_row(i, record.obs_stats)
                self.ret_stats.set_row(i, record.ret_stats)
        self.rows = [Row(np.asarray(w, dtype=np.float64), int(n)) for w, n in zip(weights, nodes, strict=True)]
        self._slot.discard()  # the last stage's envs: the new tasks start fresh episodes

    def _start_warmup(self) -> None:
        """Fresh policies on the warm-up grid, evaluated and entered as the graph's roots."""
        weights = self.warmup_weights
        self._load_rows([None] * len(weights), weights, [-1] * len(weights))
        objs = self._evaluate_rows().mean(axis=1)
        for row, value in zip(self.rows, objs, strict=True):
            row.node = self.graph.insert(row.weight, value, -1)

    def _start_generation(self) -> None:
        tasks = self.pending or self._select()
        sources = [self.records[source] for source, _ in tasks]
        self._load_rows(list(sources), np.asarray([w for _, w in tasks]), [r.node for r in sources])
        self.pending = []

    def _select(self) -> list[tuple[int, list[float]]]:
        """The next generation's tasks: prediction-guided selection from the population, repeated
        to fill ``num_tasks`` rows when fewer candidates exist."""
        candidates: list[Task] = []
        for member in self.population:
            node = self.records[member].node
            used = [self.graph.weights[s] for s in self.graph.successors(node)]
            # m >= 3: the grid of step delta_weight / 2, delta_weight the warm-up grid's step
            # (authors' population_3d.py): 2 x 4 = 8 splits, 45 weights
            weights = candidate_weights(self.graph.weights[node], used, self.rng, self.config.weight_candidates,
                                        grid_splits=2 * self.config.warmup_splits)  # fmt: skip
            if len(weights):
                predicted = self.graph.predict(node, weights)
                candidates.extend(Task(member, w, p) for w, p in zip(weights, predicted, strict=True))
        archive = np.asarray([self.records[i].objs for i in self.archive]).reshape(-1, self.m)
        picked = select_tasks(candidates, archive, self.config.num_tasks, self.config.sparsity_weight)
        if not picked:  # no population member yet (each policy has an objective below 1e-7): the archive's go on
            picked = [Task(i, self.records[i].weight, self.records[i].objs) for i in self.archive]
        tasks = [picked[i % len(picked)] for i in range(self.config.num_tasks)]
        return [(t.source, [float(x) for x in t.weight]) for t in tasks]

    # ----------------------------------------------------------------------------- training
    def _collector(self) -> Collector:
        def make(in_flight: dict[str, Any] | None) -> Collector:
            seed = self.config.seed + 7919 * (self.stage_start + 1)
            return Collector(self.problem_id, len(self.rows), self.config.envs_per_task, self.config.ppo, seed=seed,
                             workers=self.config.workers or None, obs_stats=self.obs_stats,
                             return_stats=self.ret_stats, in_flight=in_flight)  # fmt: skip

        return self._slot.open(make)

    def _train_iteration(self) -> Iteration:
        iteration = self.run.iteration
        stage, index, length = self._stage(iteration)
        if self.stage_start != iteration - index:  # the first iteration of a stage
            self.stage_start = iteration - index
            if stage == 0:
                self._start_warmup()
            else:
                self._start_generation()
        lr = self.config.learning_rate * (1.0 - iteration / self.run.iterations)  # over the global iteration
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        weights = np.asarray([row.weight for row in self.rows])
        rollout = self._collector().collect(self.layout, self.theta.detach(), weights, self.generator,
                                            steps=self.plan.steps)  # fmt: skip
        with torch_threads(update_threads(self.config)):
            stats = ppo_update(self.layout, lambda: self.theta, self.optimizer, rollout, self.config.ppo,
                               self.generator, compiled=compile_update(self.config.compiled_update,
                                                                       self.run.total_steps))  # fmt: skip
        stats["learning_rate"] = lr
        start = time.perf_counter()
        self._record_offspring(node=(index + 1) % self.plan.update_iter == 0 or index + 1 == length)
        stats["evaluation_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        if index + 1 == length and iteration + 1 < self.run.iterations:
            self.pending = self._select()  # chosen now, so that the checkpoint holds them
        stats["selection_seconds"] = time.perf_counter() - start
        stats["archive_size"] = float(len(self.archive))
        stats["population_size"] = float(len(self.population))
        label = "warm-up" if stage == 0 else f"generation {stage}/{self.plan.generations + bool(self.plan.last_iter)}"
        return Iteration(rollout.env_steps, stats, rollout.episode_returns, f"{label} {index + 1}/{length}")

    def _record_offspring(self, node: bool) -> None:
        """Evaluate every row's policy (``eval_num`` deterministic episodes, the mean): all
        enter the archive unless dominated or with a negative objective (:func:`archive_indices`);
        with ``node``, they also become optimisation-graph nodes and enter the population (every
        ``update_iter`` iterations and at the end of a stage)."""
        episode_returns = self._evaluate_rows()
        objs = episode_returns.mean(axis=1)
        state = self.optimizer.state.get(self.theta, {})
        step = int(state["step"]) if "step" in state else 0
        theta = self.theta.detach().numpy()
        fresh: list[int] = []
        for i, row in enumerate(self.rows):
            record = PolicyRecord(
                theta=theta[i].copy(),
                exp_avg=state["exp_avg"][i].numpy().copy(),
                exp_avg_sq=state["exp_avg_sq"][i].numpy().copy(),
                adam_step=step,
                obs_stats=self.obs_stats.row(i),
                ret_stats=self.ret_stats.row(i),
                objs=objs[i],
                episode_returns=episode_returns[i],
                weight=row.weight.copy(),
                node=-1,
            )
            if node:
                row.node = record.node = self.graph.insert(row.weight, objs[i], row.node)
            self.records[self.next_id] = record
            fresh.append(self.next_id)
            self.next_id += 1
        candidates = self.archive + fresh
        values = np.asarray([self.records[i].objs for i in candidates])
        self.archive = [candidates[i] for i in sorted(archive_indices(values).tolist())]
        if node:
            members = self.population + fresh
            kept = self.buffers.select(np.asarray([self.records[i].objs for i in members]))
            self.population = [members[i] for i in kept]
        keep = set(self.archive) | set(self.population) | {source for source, _ in self.pending}
        self.records = {k: v for k, v in self.records.items() if k in keep}

    def _evaluate_rows(self) -> np.ndarray:
        """The return vectors (K, eval_num, m) of ``eval_num`` deterministic episodes of each
        row's policy (the authors' ``eval_num``: 6 on Humanoid, whose resets are noisy, 1
        elsewhere); counted as evaluation steps."""
        policies = [self._export(self.theta[i].detach().numpy(), self.obs_stats.row(i), row.weight)
                    for i, row in enumerate(self.rows)]  # fmt: skip
        weights = np.asarray([row.weight for row in self.rows])
        with torch_threads(self.config.torch_threads):
            result = evaluate_front(policies, self.problem_id, weights, episodes=self.config.eval_num,
                                    seed=self.config.seed)  # fmt: skip
        self.run.eval_env_steps += result.env_steps
        return np.asarray(result.episode_returns, dtype=np.float64).reshape(len(policies), self.config.eval_num, self.m)

    def _release(self) -> None:
        self._slot.close()

    # ----------------------------------------------------------------------------- using it
    def _export(self, theta: np.ndarray, obs_stats: RunningMeanStd, weight: np.ndarray) -> PreferencePolicy:
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weight / weight.sum(),
            weights=actor_arrays(self.layout, torch.from_numpy(np.asarray(theta, dtype=np.float32))),
            obs_mean=obs_stats.mean.copy(),
            obs_var=obs_stats.var.copy(),
            metadata={"agent": self.name, "env_steps": self.env_steps, "versions": versions()},
        )

    def _archive_records(self) -> list[PolicyRecord]:
        if not self.archive:
            raise ValueError("the archive is empty: call learn() first")
        return [self.records[i] for i in self.archive]

    def pareto_set(self) -> list[tuple[np.ndarray, PreferencePolicy]]:
        """(weight it was trained with, standalone policy) of every archive member, each behind
        the observation normaliser it was trained with."""
        return [(r.weight.copy(), self._export(r.theta, r.obs_stats, r.weight)) for r in self._archive_records()]

    def archive_returns(self) -> np.ndarray:
        """The return vectors (n, m) the archive members were evaluated at during training."""
        return np.asarray([r.objs for r in self._archive_records()])

    def parameter_count(self) -> int:
        """Every archive member's actor-critic: the archive is the result."""
        return len(self.archive) * self.layout.num_params

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The archive member whose evaluated return vector G maximises ω·G."""
        weights = validate_preference(preference, self.m)
        records = self._archive_records()
        best = records[int(np.argmax(np.asarray([r.objs for r in records]) @ weights))]
        return self._export(best.theta, best.obs_stats, best.weight)

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> FrontResult:
        """Without ``preferences``: every archive member on the paper protocol (``eval_num``
        deterministic episodes each, the mean, as the archive was scored: 6 on Humanoid; env i
        seeded with seed + i), the front their non-dominated returns. With ``preferences``: the
        member :meth:`policy_for` picks for each. ``episodes=`` overrides ``eval_num``."""
        kwargs.setdefault("episodes", self.config.eval_num)
        if preferences is not None:
            return super().evaluate(preferences, **kwargs)
        members = self._archive_records()
        policies = [self._export(r.theta, r.obs_stats, r.weight) for r in members]
        return self._evaluate_front(policies, np.asarray([r.weight for r in members]), **kwargs)

    def _training_front(self) -> FrontResult:
        """The archive's own returns, measured as its members entered it (no further episodes):
        each member's ``eval_num`` episodes, so the protocol records that episode count."""
        records = self._archive_records()
        return front_result(self.problem_id, np.asarray([r.weight for r in records]),
                            np.asarray([r.episode_returns for r in records]), seed=self.config.seed,
                            training_env_steps=self.env_steps)  # fmt: skip

    # ----------------------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        ids = sorted(self.records)
        records = [self.records[i] for i in ids]

        def stack(name: str, dtype: Any = np.float64) -> torch.Tensor:
            return torch.from_numpy(np.asarray([getattr(r, name) for r in records], dtype=dtype).reshape(len(ids), -1))

        return {
            "plan": json.dumps(asdict(self.plan)),
            "graph": json.dumps(self.graph.state()),
            "lists": json.dumps(self._lists()),
            "record_ids": torch.tensor(ids, dtype=torch.int64),
            "record_theta": stack("theta", np.float32),
            "record_exp_avg": stack("exp_avg", np.float32),
            "record_exp_avg_sq": stack("exp_avg_sq", np.float32),
            "record_meta": json.dumps([r.meta() for r in records]),
            "theta": self.theta.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            **running_state(self.obs_stats, self.ret_stats, self.generator, self._slot, numpy_rng=self.rng),
        }

    def _lists(self) -> dict[str, Any]:
        """The run's bookkeeping as JSON-ready values (ids of the archive, population, pending tasks)."""
        rows = [[r.weight.tolist(), r.node] for r in self.rows]
        return {"archive": self.archive, "population": self.population, "next_id": self.next_id,
                "stage_start": self.stage_start, "pending": self.pending, "rows": rows}  # fmt: skip

    def _set_state(self, state: dict[str, Any]) -> None:
        self.plan = Plan(**json.loads(state["plan"]))
        self.graph = OptimizationGraph.from_state(json.loads(state["graph"]))
        lists = json.loads(state["lists"])
        self.archive, self.population = [int(i) for i in lists["archive"]], [int(i) for i in lists["population"]]
        self.next_id, self.stage_start = int(lists["next_id"]), int(lists["stage_start"])
        self.pending = [(int(s), [float(x) for x in w]) for s, w in lists["pending"]]
        self.rows = [Row(np.asarray(w, dtype=np.float64), int(n)) for w, n in lists["rows"]]
        ids = state["record_ids"].tolist()
        meta = json.loads(state["record_meta"])
        theta, avg, avg_sq = (state[k].numpy() for k in ("record_theta", "record_exp_avg", "record_exp_avg_sq"))
        if not len(ids) == len(meta) == len(theta):
            raise ValueError(f"{len(ids)} record ids, {len(meta)} records, {len(theta)} parameter rows")
        self.records = {int(i): PolicyRecord.from_parts(theta[k], avg[k], avg_sq[k], r)
                        for k, (i, r) in enumerate(zip(ids, meta, strict=True))}  # fmt: skip
        missing = (set(self.archive) | set(self.population) | {s for s, _ in self.pending}) - set(self.records)
        if missing:
            raise ValueError(f"policies {sorted(missing)} are referenced but not saved")
        self.theta = torch.nn.Parameter(state["theta"].clone())
        self.optimizer = adam([self.theta], self.config)
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_stats, self.ret_stats = restore_running_state(state, self.generator, self._slot, numpy_rng=self.rng)
