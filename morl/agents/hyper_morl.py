"""Hyper-MORL: one hypernetwork for the whole Pareto set (Shu et al., IJCAI 2024).

Training reads top to bottom in :meth:`HyperMORL.learn`: a warm-up stage trains one policy with
PPO on the equal preference; its log-std is reset and it becomes the hypernetwork's bias b (with
W = 0, every preference starts as the warm-up policy); then each Pareto-set-learning iteration
samples K perturbed preferences, collects experience for all K generated policies together on one
vector env, and updates the hypernetwork with PPO on the mean of the K policies' losses.

Deviations of the authors' code that are *not* reproduced (see ``shared/spec/hyper-morl.md``): the
observation normaliser sees raw observations only; terminal discounted returns are recorded in the
objective statistics; the last update of a stage has a non-zero learning rate; each preference
gets its own exploration noise. Evaluation episodes are not counted in the training budget; both
counts are reported.
"""

from __future__ import annotations

import functools
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import morl
from morl.agents.config import HyperMORLConfig
from morl.agents.hypernet import HyperNetwork
from morl.agents.networks import TargetNetworkLayout, actor_forward
from morl.agents.normalization import RunningMeanStd, normalize_observations
from morl.agents.ppo import Collector, ppo_update
from morl.envs.registration import get_problem
from morl.evaluation import FrontResult, evaluate_front
from morl.io import atomic_write_bytes, atomic_write_text
from morl.policy import PreferencePolicy
from morl.preferences import PerturbedPreferenceSampler, evaluation_preferences, simplex_grid, validate_preference

FORMAT = "morl.hyper_morl"
FORMAT_VERSION = 1
CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainingState:
    """Where training stands: everything a resumed run needs besides the networks."""

    phase: str = "warmup"  # warmup | psl | done
    iteration: int = 0  # within the phase
    env_steps: int = 0
    eval_env_steps: int = 0
    warmup_iterations: int = 0
    psl_iterations: int = 0
    total_steps: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


class HyperMORL:
    """``HyperMORL(problem_id, config).learn()`` → ``policy_for(preference)`` for any preference."""

    def __init__(self, problem_id: str, config: HyperMORLConfig | None = None) -> None:
        self.problem = get_problem(problem_id)
        self.problem_id = self.problem.id
        self.config = config or HyperMORLConfig.for_problem(problem_id)
        probe = morl.make(self.problem_id)
        self.obs_dim = int(probe.observation_space.shape[0])  # type: ignore[index]
        self.action_dim = int(probe.action_space.shape[0])  # type: ignore[index]
        probe.close()
        self.m = self.problem.reward_dim
        self.layout = TargetNetworkLayout(self.obs_dim, self.action_dim, self.m)
        seed = self.config.seed
        self.generator = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.hypernet = HyperNetwork(self.m, self.layout.num_params, self.config.embedding_dim)
        self.warmup_theta = torch.nn.Parameter(self.layout.initial(self.generator))
        self.obs_stats = RunningMeanStd.zeros((self.obs_dim,))
        self.ret_stats = RunningMeanStd.zeros((self.m,))
        self.optimizer = self._make_optimizer("warmup")
        self.state = TrainingState()
        self.sampler = PerturbedPreferenceSampler(self.m, self.config.preference_splits)
        self._theta_cache: tuple[bytes, torch.Tensor] | None = None  # θ of the last predict_batch

    # ----------------------------------------------------------------------------- parameters
    def _make_optimizer(self, phase: str) -> torch.optim.Adam:
        params = [self.warmup_theta] if phase == "warmup" else list(self.hypernet.parameters())
        return torch.optim.Adam(params, lr=self.config.learning_rate, eps=self.config.adam_eps)

    def _parameters_changed(self) -> None:
        self._theta_cache = None

    def parameters_for(self, preferences: np.ndarray) -> torch.Tensor:
        """θ (K, P) of the policies for (K, m) preferences (no gradient)."""
        with torch.no_grad():
            if self.state.phase == "warmup":
                return self.warmup_theta.detach().unsqueeze(0).expand(len(preferences), -1)
            return self.hypernet(torch.as_tensor(preferences, dtype=torch.float32))

    @property
    def env_steps(self) -> int:
        return self.state.env_steps

    # ----------------------------------------------------------------------------- training
    def learn(
        self,
        total_steps: int | None = None,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        progress: bool = True,
    ) -> HyperMORL:
        """Train until ``total_steps`` environment steps (default: the config's budget), resuming
        where a loaded agent stopped. With ``out_dir``: a checkpoint after every iteration, the
        front (JSON + PNG) at every evaluation, TensorBoard and JSONL logs."""
        from morl.logging import MetricsWriter, Progress

        cfg = self.config
        budget = int(total_steps or cfg.total_steps)
        if self.state.phase == "warmup" and self.state.iteration == 0:
            self._plan(budget)
        elif budget != self.state.total_steps:
            raise ValueError(
                f"total_steps={budget} differs from the resumed run's budget {self.state.total_steps}; "
                "a run resumes with the budget it started with"
            )
        out = Path(out_dir) if out_dir is not None else None
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / "config.json", cfg.to_json())
        writer = MetricsWriter(out) if out is not None else None
        bar = Progress(self.state.total_steps, self.state.env_steps, enabled=progress)
        workers = cfg.workers or None
        threads = torch.get_num_threads()
        if cfg.torch_threads:
            torch.set_num_threads(cfg.torch_threads)
        try:
            if self.state.phase == "warmup":
                self._run_stage(self.state.warmup_iterations, 1, writer, bar, out, workers)
                self._start_psl()
                if out is not None:
                    self.save(out)
            if self.state.phase == "psl":
                self._run_stage(self.state.psl_iterations, self.sampler.num_preferences, writer, bar, out, workers)
                self.state.phase = "done"
                if out is not None:
                    self.save(out)
        finally:
            torch.set_num_threads(threads)
            bar.close()
            if writer is not None:
                writer.close()
        return self

    def _plan(self, budget: int) -> None:
        cfg = self.config
        per_warmup = cfg.steps_per_env * cfg.envs_per_preference
        per_psl = per_warmup * self.sampler.num_preferences
        warmup = round(cfg.warmup_fraction * budget / per_warmup) if cfg.warmup_fraction > 0 else 0
        psl = (budget - warmup * per_warmup) // per_psl
        if psl < 1:
            raise ValueError(
                f"total_steps={budget} is too small: one Pareto-set-learning iteration needs {per_psl} steps "
                f"({self.sampler.num_preferences} preferences x {cfg.envs_per_preference} envs x "
                f"{cfg.steps_per_env} steps) after a warm-up of {warmup * per_warmup}"
            )
        self.state.total_steps = budget
        self.state.warmup_iterations = warmup
        self.state.psl_iterations = psl
        if warmup == 0:
            self._start_psl()

    def _collector(self, num_policies: int, workers: int | None) -> Collector:
        seed = self.config.seed + 7919 * (self.state.iteration + 1) + (0 if self.state.phase == "warmup" else 104729)
        # The normalisation statistics are shared: they carry over stages and resumes.
        return Collector(self.problem_id, num_policies, self.config.ppo, seed=seed, workers=workers,
                         obs_stats=self.obs_stats, return_stats=self.ret_stats)  # fmt: skip

    def _learning_rate(self, iteration: int, iterations: int) -> float:
        # Linear decay to 0 over the stage, evaluated at the start of each iteration, so the last
        # update still has a positive rate (the authors' last update ran at rate 0).
        return self.config.learning_rate * (1.0 - iteration / iterations)

    def _start_psl(self) -> None:
        """θ_warm-up with log-std reset to 0 becomes b; W stays 0."""
        with torch.no_grad():
            theta = self.warmup_theta.detach().clone()
            seg = self.layout.segments["log_std"]
            theta[seg.offset : seg.offset + seg.size] = 0.0
            self.hypernet.b.copy_(theta)
            self.hypernet.W.zero_()
        self.state.phase, self.state.iteration = "psl", 0
        self.optimizer = self._make_optimizer("psl")
        self._parameters_changed()

    def _stage_preferences(self) -> np.ndarray:
        """This iteration's preferences: the equal one in the warm-up, K perturbed ones in PSL."""
        if self.state.phase == "warmup":
            return np.full((1, self.m), 1.0 / self.m)
        return self.sampler.sample(self.rng)

    def _trainable(self, preferences: np.ndarray) -> Callable[[], torch.Tensor]:
        """θ (K, P) with gradients: the warm-up policy's own vector, or the hypernetwork's output."""
        if self.state.phase == "warmup":
            return lambda: self.warmup_theta.unsqueeze(0)
        return functools.partial(self.hypernet, torch.as_tensor(preferences, dtype=torch.float32))

    def _run_stage(self, iterations: int, num_policies: int, writer: Any, bar: Any, out: Path | None,
                   workers: int | None) -> None:  # fmt: skip
        """collect → advantages → update → log, for the remaining iterations of the current stage."""
        collector = self._collector(num_policies, workers)
        try:
            while self.state.iteration < iterations:
                start = time.perf_counter()
                lr = self._learning_rate(self.state.iteration, iterations)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                preferences = self._stage_preferences()
                rollout = collector.collect(self.layout, self.parameters_for(preferences), preferences, self.generator)
                stats = ppo_update(self.layout, self._trainable(preferences), self.optimizer, rollout,
                                   self.config.ppo, self.generator)  # fmt: skip
                done = self.state.iteration + 1
                evaluate = self.state.phase == "psl" and (done % self.config.eval_interval == 0 or done == iterations)
                self._end_iteration(rollout, stats, lr, start, writer, bar, out, evaluate=evaluate)
        finally:
            collector.close()

    def _end_iteration(self, rollout: Any, stats: dict[str, float], lr: float, start: float, writer: Any,
                       bar: Any, out: Path | None, evaluate: bool = False) -> None:  # fmt: skip
        self._parameters_changed()
        self.state.iteration += 1
        self.state.env_steps += rollout.env_steps
        elapsed = time.perf_counter() - start
        record: dict[str, Any] = {f"train/{k}": v for k, v in stats.items()}
        record.update({"train/learning_rate": lr, "train/steps_per_second": rollout.env_steps / elapsed})
        if rollout.episode_returns:
            mean_return = np.mean(rollout.episode_returns, axis=0)
            for j, name in enumerate(self.problem.objective_names):
                record[f"train/episode_return/{name}"] = float(mean_return[j])
        hv = None
        result = None
        if evaluate:
            result = self.evaluate()
            self.state.eval_env_steps += result.env_steps
            hv = result.metrics.hypervolume
            self.state.history.append(
                {
                    "env_steps": self.state.env_steps,
                    **{k: v for k, v in result.metrics.as_dict().items() if v is not None},
                }
            )
        if writer is not None:
            writer.write(self.state.env_steps, record)
            if result is not None:
                writer.write_front(self.state.env_steps, result)
        if out is not None:
            if result is not None:
                from morl.plotting import plot_front

                result.save(out / "front.json")
                plot_front(result, out / "front.png")
            self.save(out)
        bar.update(self.state.env_steps, f"{self.state.phase} {self.state.iteration}", hv)

    # ----------------------------------------------------------------------------- using it
    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy for ``preference`` (validated, normalised to sum to 1)."""
        weights = validate_preference(preference, self.m)
        theta = self.parameters_for(weights[None])[0].numpy().astype(np.float64)
        arrays = {}
        for name, seg in self.layout.segments.items():
            if name.startswith("actor") or name == "log_std":
                arrays[name] = theta[seg.offset : seg.offset + seg.size].reshape(seg.shape)
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weights,
            weights=arrays,
            obs_mean=self.obs_stats.mean.copy(),  # frozen: later training does not change this policy
            obs_var=self.obs_stats.var.copy(),
            metadata={"agent": "hyper-morl", "env_steps": self.state.env_steps, "versions": _versions()},
        )

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation per row, each from the policy of that row's preference
        (one batched forward pass; θ is cached while the preferences and the parameters stay the
        same: training clears the cache)."""
        key = np.ascontiguousarray(preferences, dtype=np.float64).tobytes()
        if self._theta_cache is None or self._theta_cache[0] != key:
            self._theta_cache = (key, self.parameters_for(np.asarray(preferences)).contiguous())
        theta = self._theta_cache[1]
        x = torch.as_tensor(normalize_observations(obs, self.obs_stats), dtype=torch.float32).unsqueeze(1)
        with torch.no_grad():
            mean, log_std = actor_forward(self.layout, theta, x)
            actions = mean[:, 0]
            if not deterministic:
                actions = actions + torch.exp(log_std) * torch.randn(actions.shape, generator=self.generator)
        return actions.numpy().astype(np.float64)

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> FrontResult:
        """The front on the paper protocol (or ``preferences``/``kwargs`` of :func:`evaluate_front`)."""
        if preferences is None:
            splits = self.config.eval_splits
            preferences = simplex_grid(self.m, splits) if splits else evaluation_preferences(self.m)
        kwargs.setdefault("workers", self.config.workers or None)
        kwargs.setdefault("seed", self.config.seed)
        return evaluate_front(self, self.problem_id, preferences, training_env_steps=self.state.env_steps, **kwargs)  # type: ignore[arg-type]

    # ----------------------------------------------------------------------------- persistence
    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``directory/checkpoint.pt`` atomically: weights, optimiser, normalisation
        statistics, RNG states, config, problem id, versions, progress. Loads with
        ``torch.load(weights_only=True)``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "problem_id": self.problem_id,
            "config": self.config.to_json(),
            "versions": _versions(),
            "state": json.dumps(self.state.__dict__),
            "hypernet": self.hypernet.state_dict(),
            "warmup_theta": self.warmup_theta.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            "obs_stats": json.dumps(self.obs_stats.state()),
            "ret_stats": json.dumps(self.ret_stats.state()),
            "numpy_rng": json.dumps(self.rng.bit_generator.state),
            "torch_rng": self.generator.get_state(),
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        atomic_write_bytes(directory / CHECKPOINT, buffer.getvalue())

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, problem_id: str | None = None) -> HyperMORL:
        """Load a saved agent. With ``problem_id``, refuse a checkpoint of another problem."""
        path = Path(directory)
        path = path / CHECKPOINT if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"no Hyper-MORL checkpoint at {str(path)!r}")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many kinds for a damaged or foreign file
            raise ValueError(
                f"{str(path)!r} is not a readable Hyper-MORL checkpoint ({type(error).__name__})"
            ) from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{str(path)!r} is not a Hyper-MORL checkpoint (expected format {FORMAT!r})")
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} has format_version {payload.get('format_version')!r}; expected {FORMAT_VERSION}"
            )
        saved_problem = payload["problem_id"]
        if problem_id is not None and get_problem(problem_id).id != saved_problem:
            raise ValueError(f"{str(path)!r} is a checkpoint for {saved_problem}, not {get_problem(problem_id).id}")
        try:
            agent = cls(saved_problem, HyperMORLConfig.from_dict(json.loads(payload["config"])))
            agent.state = TrainingState(**json.loads(payload["state"]))
            agent.hypernet.load_state_dict(payload["hypernet"])
            with torch.no_grad():
                agent.warmup_theta.copy_(payload["warmup_theta"])
            agent.optimizer = agent._make_optimizer("warmup" if agent.state.phase == "warmup" else "psl")
            agent.optimizer.load_state_dict(payload["optimizer"])
            agent.obs_stats = RunningMeanStd.from_state(json.loads(payload["obs_stats"]))
            agent.ret_stats = RunningMeanStd.from_state(json.loads(payload["ret_stats"]))
            agent.rng.bit_generator.state = json.loads(payload["numpy_rng"])
            agent.generator.set_state(payload["torch_rng"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{str(path)!r} is a damaged Hyper-MORL checkpoint ({error})") from None
        return agent


def _versions() -> dict[str, str]:
    import mujoco

    return {"morl": str(morl.__version__), "mujoco": str(mujoco.__version__), "torch": str(torch.__version__)}
