"""What the MORL-Baselines adapters share: the import, the envs, the run rules and the state.

The adapters run MORL-Baselines' own training code (real ``morl_baselines`` classes, their
defaults) on morl's problems, made through gymnasium's registry as any gymnasium user would
(``mo_gymnasium.make("morl/MO-Swimmer-v2")``), and evaluate what comes out on morl's protocol.
Three rules follow from MORL-Baselines keeping its training state in memory only (replay
buffers, optimisers, PGMORL's population and prediction model, GPI-LS's linear support; its own
``save`` writes pickles):

- Checkpoints hold what evaluating needs (the actors, normaliser statistics, the returns the
  archive was evaluated at), as tensors and JSON, loadable with ``weights_only=True``.
- **An unfinished run does not resume**: a run directory with an unfinished peer run starts that
  run over (with a warning); a finished one is kept. ``morl bench`` re-runs therefore restart
  interrupted peer runs.
- The env steps an algorithm spends on its own evaluations (PGMORL's archive updates, GPI-LS's
  weight selection) are outside the budget, as in MORL-Baselines, and reported per iteration as
  ``train/selection_env_steps``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import io
import json
import warnings
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium
import numpy as np
import torch

from morl.agents.base import Agent, Iteration
from morl.agents.checkpoint import has_checkpoint, read_checkpoint
from morl.agents.settings import AgentConfig, setting

TESTED_VERSION = "1.3.0"  # the MORL-Baselines release these adapters are written and tested against


def morl_baselines(module: str) -> ModuleType:
    """Import ``morl_baselines.<module>``, with an ImportError that says how to install it."""
    try:
        found = importlib.import_module(f"morl_baselines.{module}")
    except ImportError as error:
        raise ImportError(
            f"the MORL-Baselines peers need morl-baselines=={TESTED_VERSION}: pip install 'morl[peers]' ({error})"
        ) from error
    installed = importlib.metadata.version("morl-baselines")
    if installed != TESTED_VERSION:
        warnings.warn(
            f"morl-baselines {installed} is installed; the peer adapters are tested with {TESTED_VERSION}",
            UserWarning,
            stacklevel=2,
        )
    return found


@dataclass(frozen=True)
class PeerConfig(AgentConfig):
    """The run settings every agent has; ``workers`` and ``update_threads`` are not used (the
    peers step their envs in the training process and update with ``torch_threads``)."""

    gamma: float = setting(0.99, low=0.0, high=1.0, low_open=True, help="discount")
    learning_rate: float = setting(3e-4, low=0.0, low_open=True, help="Adam step size (MORL-Baselines' default)")
    verbose: bool = setting(False, help="let MORL-Baselines print its progress (off: its prints are dropped)")


class StepCounter(gymnasium.Wrapper):
    """Counts the steps of an env and records the vector return of every finished episode."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.steps = 0
        self.finished: list[np.ndarray] = []
        self._return: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> Any:
        self._return = None
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        reward = np.asarray(reward, dtype=np.float64)
        self._return = reward.copy() if self._return is None else self._return + reward
        if terminated or truncated:
            self.finished.append(self._return)
            self._return = None
        return obs, reward, terminated, truncated, info

    def drain(self) -> tuple[int, list[np.ndarray]]:
        """(steps, finished episode returns) since the last drain."""
        steps, finished = self.steps, self.finished
        self.steps, self.finished = 0, []
        return steps, finished


def make_env(problem_id: str) -> StepCounter:
    """The problem as a gymnasium user gets it from the registry (time limit included), counted."""
    import mo_gymnasium

    return StepCounter(mo_gymnasium.make(problem_id))


def count_parameters(*modules: torch.nn.Module) -> int:
    return sum(int(p.numel()) for module in modules for p in module.parameters())


def tensors(state: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """A detached copy of a state dict's entries under ``prefix`` (the live networks train on)."""
    return {k: v.detach().clone().cpu() for k, v in state.items() if k.startswith(prefix)}


class PeerAgent(Agent):
    """Base of the MORL-Baselines adapters (see the module docstring for the rules they share)."""

    config: PeerConfig
    _live: Any  # the MORL-Baselines agent training in this process (None until built)
    resumes = False  # MORL-Baselines' training state lives in memory only (see the module docstring)

    def restore(self, directory: Any) -> bool:
        """A finished run is restored; an unfinished one is left to be started over."""
        if has_checkpoint(directory):
            payload = read_checkpoint(directory)
            self._check_same_run(payload, directory)
            run = json.loads(payload["state"]["run"])
            if run["iterations"] == 0 or run["iteration"] < run["iterations"]:
                warnings.warn(
                    f"{str(Path(directory))!r} holds an unfinished {self.name} run at {run['env_steps']} env steps; "
                    "MORL-Baselines keeps its training state in memory only, so the run starts over",
                    UserWarning,
                    stacklevel=2,
                )
                return False
        return super().restore(directory)

    def _train_iteration(self) -> Iteration:
        quiet = not self.config.verbose
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            return self._peer_iteration()

    @abstractmethod
    def _peer_iteration(self) -> Iteration:
        """One iteration of the MORL-Baselines agent (its prints dropped unless ``verbose``)."""

    @property
    def live(self) -> Any:
        """The MORL-Baselines agent training in this process: None before the first iteration and
        after the run finished (a run stopped by its callback keeps it, to be inspected or closed
        with :meth:`close`)."""
        return self._live

    def close(self) -> None:
        """Close the live MORL-Baselines agent's envs and drop it (nothing to do without one)."""
        if self._live is not None:
            self._close_live()
            self._live = None

    def _live_agent(self) -> Any:
        """The MORL-Baselines agent of this run, built on the first iteration."""
        if self._live is None:
            if self.run.iteration > 0:
                raise RuntimeError(
                    f"this {self.name} run was loaded at iteration {self.run.iteration}; MORL-Baselines' training "
                    "state is not saved, so it cannot continue: start a new run"
                )
            # MORL-Baselines draws from the global streams (random, numpy, torch): seed them as its scripts do
            morl_baselines("common.evaluation").seed_everything(self.config.seed)
            self._live = self._build()
        return self._live

    @abstractmethod
    def _build(self) -> Any:
        """Create the MORL-Baselines agent (wandb logging off, CPU)."""

    def _release(self) -> None:
        """Nothing to close between iterations: a finished run drops its MORL-Baselines agent."""
        if self.finished:
            self.close()

    @abstractmethod
    def _close_live(self) -> None:
        """Close the envs of the live agent."""
