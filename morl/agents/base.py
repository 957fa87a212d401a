"""The agent protocol: one contract for every MORL agent, and the training loop they share.

Every agent has a ``problem_id``, a frozen validated ``config``, ``env_steps``,
``learn(total_steps=None, *, out_dir=None, progress=True, callback=None)``, ``evaluate()``,
``policy_for(ω)``, ``save(dir)`` and ``load(dir)``; population agents add ``pareto_set()``. The
CLI, the benchmarks and the tests use this and nothing private, so a new agent is a module and a
registry line.

:meth:`Agent.learn` is written once, here: plan the run for the budget, then iterations of
``_train_iteration`` (collect → update, the agent's part), evaluation at the config's cadence,
logs, an atomic checkpoint after every iteration, the user's callback. Resuming lives here too: a
run directory that holds a checkpoint of the same agent, problem and config is continued; another
config is refused, naming the fields that differ.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from morl.agents.checkpoint import (
    CHECKPOINT,
    checkpoint_path,
    definition_mismatch,
    has_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from morl.agents.settings import AgentConfig
from morl.agents.threads import torch_threads
from morl.cores import available_cores
from morl.envs.catalog import get_problem
from morl.envs.registration import make as make_env
from morl.evaluation import PDMORL_PROTOCOL, FrontResult, PolicySource, evaluate_front
from morl.policy import PreferencePolicy
from morl.preferences import evaluation_preferences, simplex_grid
from morl.run_files import DirectoryLock, atomic_write_text, remove_stale_temporaries, writable_directory

A = TypeVar("A", bound="Agent")
Callback = Callable[["Agent", dict[str, Any]], Any]


@dataclass
class RunState:
    """Where a run stands, common to every agent (saved with each checkpoint)."""

    iteration: int = 0  # training iterations done
    iterations: int = 0  # planned (0: not planned yet)
    env_steps: int = 0  # training env steps done
    planned_steps: int = 0  # training env steps of the whole plan (<= total_steps)
    total_steps: int = 0  # the budget the run was planned for
    eval_env_steps: int = 0  # env steps spent evaluating (not part of the budget)
    wall_time: float = 0.0  # seconds of training and evaluation
    history: list[dict[str, float]] = field(default_factory=list)  # metrics at each evaluation


@dataclass(frozen=True)
class Iteration:
    """What one training iteration reports to the loop."""

    env_steps: int
    stats: dict[str, float]
    episode_returns: list[np.ndarray]
    label: str = ""


def update_threads(config: AgentConfig) -> int:
    """The torch threads of an update: the config's ``update_threads``, 0 meaning all the cores this
    process may use (:func:`morl.cores.available_cores`)."""
    return config.update_threads or available_cores()


class Agent(ABC):
    """Base of every MORL agent. Subclasses set ``name``, ``summary``, ``config_class`` and
    implement the hooks below the public methods."""

    name: ClassVar[str]
    summary: ClassVar[str]
    config_class: ClassVar[type[AgentConfig]]
    # Whether an interrupted run continues from its last checkpoint (False: it starts over)
    resumes: ClassVar[bool] = True

    def __init__(self, problem_id: str, config: AgentConfig | None = None) -> None:
        self.problem = get_problem(problem_id)
        self.problem_id = self.problem.id
        if config is None:
            config = self.config_class.for_problem(self.problem_id)
        if not isinstance(config, self.config_class):
            raise TypeError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.m = self.problem.reward_dim
        probe = make_env(self.problem_id)
        self.obs_dim = int(probe.observation_space.shape[0])  # type: ignore[index]
        self.action_dim = int(probe.action_space.shape[0])  # type: ignore[index]
        self.action_low = np.asarray(probe.action_space.low, dtype=np.float64)  # type: ignore[attr-defined]
        self.action_high = np.asarray(probe.action_space.high, dtype=np.float64)  # type: ignore[attr-defined]
        probe.close()
        self.run = RunState()
        self._setup()

    # ------------------------------------------------------------------------------ protocol
    @property
    def env_steps(self) -> int:
        """Training env steps so far (evaluation episodes are counted apart, in ``run``)."""
        return self.run.env_steps

    @property
    def finished(self) -> bool:
        return self.run.iterations > 0 and self.run.iteration >= self.run.iterations

    def learn(
        self: A,
        total_steps: int | None = None,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        progress: bool = True,
        callback: Callback | None = None,
    ) -> A:
        """Train for ``total_steps`` env steps (default: the config's budget).

        The budget is planned on the first call into whole iterations (``run.planned_steps``,
        at most the budget; the progress bar ends there); later calls continue the same plan.
        With ``out_dir``: a checkpoint after every iteration, the front (JSON + PNG) at every
        evaluation, TensorBoard and JSONL logs; a directory holding a checkpoint of this agent,
        problem and config is resumed. ``callback(agent, info)`` runs after every iteration
        (``info``: iteration, env_steps, the training statistics, the metrics when evaluated);
        returning False stops cleanly after the checkpoint, and a later ``learn`` continues.
        """
        out = Path(out_dir) if out_dir is not None else None
        lock = None
        if out is not None:
            writable_directory(out)
            lock = DirectoryLock(out)
            lock.acquire()  # one process per run directory
        try:
            if out is not None:
                remove_stale_temporaries(out)  # of writes a kill interrupted
                self._attach(out)
            self.prepare(total_steps)
            if out is not None:
                atomic_write_text(out / "config.json", self.config.to_json())
            if not self.finished:
                self._train(out, progress, callback)
        finally:
            if lock is not None:
                lock.release()
        return self

    def prepare(self, total_steps: int | None = None) -> RunState:
        """Plan ``total_steps`` (default: the config's budget) if this run is not planned yet,
        and return the run state: ``planned_steps`` (the whole iterations that fit the budget)
        and ``iterations`` say up front what ``learn`` will do. A planned run refuses another
        budget."""
        budget = self._budget(total_steps)
        if self.run.iterations == 0:
            self.run.iterations, self.run.planned_steps = self._plan(budget)
            self.run.total_steps = budget
        elif budget != self.run.total_steps:
            raise ValueError(
                f"total_steps={budget} differs from this run's budget {self.run.total_steps}; "
                "a run continues with the budget it was planned for"
            )
        return self.run

    def _train(self, out: Path | None, progress: bool, callback: Callback | None) -> None:
        from morl.training_log import MetricsWriter, Progress

        # Logs keep each iteration once: rows after the checkpoint (of iterations a kill lost)
        # are dropped, and TensorBoard purges its events past that step.
        writer = MetricsWriter(out, resume_step=self.run.env_steps) if out is not None else None
        bar = Progress(self.run.planned_steps, self.run.env_steps, enabled=progress)
        try:
            with torch_threads(self.config.torch_threads):
                while not self.finished:
                    if not self._one_iteration(writer, bar, out, callback):
                        break
        finally:
            self._release()
            bar.close()
            if writer is not None:
                writer.close()

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> FrontResult:
        """The front on the paper protocol (:func:`morl.evaluation.evaluate_front`): the papers'
        preference set (or the config's ``eval_splits`` grid) unless ``preferences`` is given;
        ``kwargs`` go to ``evaluate_front`` (episodes, seed, discount, ...). With
        ``protocol="pd-morl"``: PD-MORL's own 1001 preferences and its seeds 0, 11, 22 unless given."""
        if kwargs.get("protocol") == PDMORL_PROTOCOL:
            kwargs.setdefault("seed", 0)  # None preferences: evaluate_front takes PD-MORL's own grid
        elif preferences is None:
            preferences = self.default_preferences()
        return self._evaluate_front(self, preferences, **kwargs)

    def _evaluate_front(self, source: PolicySource, preferences: np.ndarray | None, **kwargs: Any) -> FrontResult:
        """:func:`evaluate_front` with this run's defaults (workers, seed, training env steps)."""
        kwargs.setdefault("workers", self.config.workers or None)
        kwargs.setdefault("seed", self.config.seed)
        kwargs.setdefault("training_env_steps", self.env_steps)
        # The forward passes are small: torch's extra threads would only spin beside the physics
        # workers (HalfCheetah's 200 episodes: 4.2 s with 2 threads, 2.7 s with 1).
        with torch_threads(self.config.torch_threads):
            return evaluate_front(source, self.problem_id, preferences, **kwargs)

    def default_preferences(self) -> np.ndarray:
        splits = self.config.eval_splits
        return simplex_grid(self.m, splits) if splits else evaluation_preferences(self.m)

    @abstractmethod
    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy for ``preference`` (validated, normalised to sum to 1)."""

    @abstractmethod
    def parameter_count(self) -> int:
        """The learned numbers that make up the agent's result, the Pareto set it hands out: a
        hypernetwork, a conditioned network, or every member's network of a population or an
        archive (actor and critic: what training updates; no optimiser state, target networks or
        normaliser statistics). The bench reports it beside the hypervolume, since a set in one
        small model and a set in a hundred networks are different things to ship."""

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``directory/checkpoint.pt`` atomically: the header (agent, problem, config,
        versions), the run state and the agent's state. Loads with ``weights_only=True``."""
        header = {"agent": self.name, "problem_id": self.problem_id, "config": self.config.to_json()}
        files = self._write_files(Path(directory))  # first: the checkpoint names them
        state = {"run": json.dumps(asdict(self.run)), **self._get_state(), **files}
        save_checkpoint(directory, header, state)
        self._files_committed(Path(directory), files)

    @classmethod
    def load(cls: type[A], directory: str | os.PathLike[str], *, problem_id: str | None = None) -> A:
        """Load a saved agent of this class (``morl.load`` picks the class from the checkpoint).
        With ``problem_id``, refuse a checkpoint of another problem."""
        payload = read_checkpoint(directory, agent=cls.name)
        saved = payload["problem_id"]
        if problem_id is not None and get_problem(problem_id).id != saved:
            raise ValueError(f"{str(directory)!r} is a checkpoint for {saved}, not {get_problem(problem_id).id}")
        try:
            config = cls.config_class.from_dict(json.loads(payload["config"]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{str(directory)!r} holds an invalid {cls.name} config ({error})") from None
        mismatch = definition_mismatch(payload, str(directory))
        if mismatch is not None:  # usable, but its numbers belong to another problem definition
            warnings.warn(f"{mismatch}: its returns are not comparable with this definition's", stacklevel=2)
        agent = cls(saved, config)
        agent._restore_payload(payload, directory)
        return agent

    def restore(self, directory: str | os.PathLike[str]) -> bool:
        """Continue the run saved in ``directory`` if it holds a checkpoint of this agent,
        problem and config (returns True), else leave this agent as it is (False). Refuses a
        checkpoint of another agent, problem or config, naming what differs."""
        if not has_checkpoint(directory):
            return False
        payload = read_checkpoint(directory)
        self._check_same_run(payload, directory)
        if self.run.iteration or self.run.env_steps:
            raise ValueError(
                f"this agent has already trained {self.env_steps} env steps; restore into a new agent "
                f"or use {type(self).__name__}.load({str(directory)!r})"
            )
        self._restore_payload(payload, directory)
        return True

    # ------------------------------------------------------------------------------ hooks
    @abstractmethod
    def _setup(self) -> None:
        """Build the networks, optimisers and random generators from the config."""

    @abstractmethod
    def _plan(self, budget: int) -> tuple[int, int]:
        """Plan ``budget`` env steps: (iterations, env steps they take). ValueError if too small."""

    @abstractmethod
    def _train_iteration(self) -> Iteration:
        """One iteration: collect experience and update (opening envs on first use)."""

    def _release(self) -> None:  # noqa: B027 - optional hook
        """Close what ``_train_iteration`` opened (envs, worker processes) when learn ends."""

    @abstractmethod
    def _get_state(self) -> dict[str, Any]:
        """The agent's state for a checkpoint: tensors, plain containers, JSON strings."""

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned."""

    def _write_files(self, directory: Path) -> dict[str, Any]:
        """State too large to rewrite with every checkpoint (a replay buffer) is written into
        files beside it, first, under names no older checkpoint uses; returns what the
        checkpoint records about them (plain strings)."""
        return {}

    def _files_committed(self, directory: Path, files: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """The checkpoint naming ``files`` is written: remove the files it no longer names."""

    def _read_files(self, directory: Path, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Load what :meth:`_write_files` wrote, as the checkpoint's ``state`` records it."""

    def _evaluation_due(self) -> bool:
        done = self.run.iteration
        return done % self.config.eval_interval == 0 or done == self.run.iterations

    def _training_front(self) -> FrontResult:
        """The front logged during training (at the evaluation cadence): :meth:`evaluate`, unless
        the agent measures its front as part of training anyway (PGMORL's archive)."""
        return self.evaluate()

    def _parameters_changed(self) -> None:  # noqa: B027 - optional hook
        """Called after every update: drop caches derived from the parameters."""

    # ------------------------------------------------------------------------------ the loop
    def _budget(self, total_steps: int | None) -> int:
        if total_steps is None:
            return self.config.total_steps
        if not isinstance(total_steps, (int, np.integer)) or isinstance(total_steps, bool):
            raise TypeError(f"total_steps={total_steps!r} must be a positive integer (env steps)")
        if total_steps < 1:
            raise ValueError(f"total_steps={total_steps!r} must be a positive integer (env steps)")
        return int(total_steps)

    def _check_same_run(self, payload: dict[str, Any], directory: str | os.PathLike[str]) -> None:
        where = str(Path(directory) / CHECKPOINT) if Path(directory).is_dir() else str(directory)
        if payload["agent"] != self.name:
            raise ValueError(
                f"{where!r} holds a run of agent {payload['agent']!r}, not {self.name!r}; use a new out_dir"
            )
        if payload["problem_id"] != self.problem_id:
            raise ValueError(f"{where!r} is a checkpoint for {payload['problem_id']}, not {self.problem_id}")
        try:
            saved = self.config_class.from_dict(json.loads(payload["config"]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where!r} holds an invalid {self.name} config ({error})") from None
        mismatch = definition_mismatch(payload, where)
        if mismatch is not None:
            raise ValueError(f"{mismatch}; a run cannot change problem definitions midway: use a new out_dir")
        if saved != self.config:
            changed = "; ".join(self.config.differences(saved))
            raise ValueError(
                f"{where!r} holds a run with another config (here vs there: {changed}); "
                "resume it with the same settings or use a new out_dir"
            )

    def _attach(self, out: Path) -> None:
        """Resume the run in ``out`` (a fresh agent), or check it is this agent's own run."""
        if not has_checkpoint(out):
            return
        if self.run.iteration == 0 and self.run.env_steps == 0:
            self.restore(out)
            return
        payload = read_checkpoint(out)
        self._check_same_run(payload, out)
        there = json.loads(payload["state"]["run"])["iteration"]
        if there != self.run.iteration:
            raise ValueError(
                f"{str(out)!r} holds this run at iteration {there}, this agent is at {self.run.iteration}; "
                "use a new out_dir"
            )

    def _restore_payload(self, payload: dict[str, Any], directory: str | os.PathLike[str]) -> None:
        try:
            state = payload["state"]
            self.run = RunState(**json.loads(state["run"]))
            self._set_state(state)
            self._read_files(checkpoint_path(directory).parent, state)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
            raise ValueError(f"{str(directory)!r} is a damaged {self.name} checkpoint ({error!r})") from None
        self._parameters_changed()

    def _one_iteration(self, writer: Any, bar: Any, out: Path | None, callback: Callback | None) -> bool:
        """Train, evaluate when due, log, checkpoint, call back. False: the callback asked to stop."""
        start = time.perf_counter()
        step = self._train_iteration()
        self._parameters_changed()
        self.run.iteration += 1
        self.run.env_steps += step.env_steps
        record: dict[str, Any] = {f"train/{k}": v for k, v in step.stats.items()}
        record["train/steps_per_second"] = step.env_steps / max(time.perf_counter() - start, 1e-9)
        if step.episode_returns:
            mean_return = np.mean(step.episode_returns, axis=0)
            for j, name in enumerate(self.problem.objective_names):
                record[f"train/episode_return/{name}"] = float(mean_return[j])
        result = self._training_front() if self._evaluation_due() else None
        self.run.wall_time += time.perf_counter() - start
        if result is not None:
            self.run.eval_env_steps += result.env_steps
            metrics = {k: v for k, v in result.metrics.as_dict().items() if v is not None}
            self.run.history.append({"env_steps": self.run.env_steps, "wall_time": self.run.wall_time, **metrics})
        if writer is not None:
            writer.write(self.run.env_steps, record)
            if result is not None:
                writer.write_front(self.run.env_steps, result)
        if out is not None:
            if result is not None:
                from morl.plotting import plot_front

                result.save(out / "front.json")
                plot_front(result, out / "front.png")
            self.save(out)
        bar.update(self.run.env_steps, step.label, None if result is None else result.metrics.hypervolume)
        if callback is None:
            return True
        info = {"iteration": self.run.iteration, "iterations": self.run.iterations, "env_steps": self.run.env_steps,
                "stats": step.stats, "metrics": None if result is None else result.metrics.as_dict(),
                "front": result}  # fmt: skip
        return callback(self, info) is not False
