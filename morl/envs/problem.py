"""The definition of a problem: everything that makes a robot model a multi-objective task.

A :class:`Problem` is data plus three pure functions of batched state arrays (observation,
objectives, termination). The gymnasium env and the vector env both call
:meth:`Problem.transition`, so there is exactly one definition of each problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np

from morl.envs.state import State


@dataclass(frozen=True)
class ModelConstants:
    """Constants of the compiled model that the objective formulas need."""

    dt: float  # model timestep x frame skip: the duration of one env step
    body_mass: np.ndarray  # (nbody,)
    ctrl_low: np.ndarray  # (nu,) the actuators' control range, which MuJoCo clamps to
    ctrl_high: np.ndarray  # (nu,)


ObservationFn = Callable[[State], np.ndarray]
ObjectivesFn = Callable[[State, State, np.ndarray, ModelConstants], tuple[np.ndarray, dict[str, np.ndarray]]]
TerminationFn = Callable[[State], np.ndarray]


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    ``objectives(before, after, ctrl, constants)`` returns the (B, m) objective vectors and a dict
    of the (B,) terms they are made of (reported in ``info``). ``ctrl`` is the control actually
    sent to MuJoCo: the clipped action, or the raw action where the problem does not clip
    (Humanoid), which is what the original energy terms used.
    """

    name: str  # e.g. "MO-Hopper-v2"
    robot: str
    frame_skip: int
    max_episode_steps: int
    objective_names: tuple[str, ...]
    reward_low: tuple[float, ...]
    reward_high: tuple[float, ...]
    observation: ObservationFn
    objectives: ObjectivesFn
    terminated: TerminationFn
    clip_actions: bool = True
    extra_fields: tuple[str, ...] = ()
    reset_noise: float = 0.0
    paper_budget: int = 0  # total env steps of the original experiments
    paper_gamma: float = 0.995
    # Bumped whenever the observation, objective or termination code changes (it goes into the
    # problem's fingerprint, see morl.envs.fingerprint; the model's physics is hashed directly).
    revision: int = 1
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        m = len(self.objective_names)
        if len(self.reward_low) != m or len(self.reward_high) != m:
            raise ValueError(f"{self.name}: reward bounds must have one entry per objective ({m})")
        if self.frame_skip < 1 or self.max_episode_steps < 1:
            raise ValueError(f"{self.name}: frame_skip and max_episode_steps must be >= 1")

    @property
    def id(self) -> str:
        """The gymnasium id, ``morl/<name>``."""
        return f"morl/{self.name}"

    @property
    def reward_dim(self) -> int:
        return len(self.objective_names)

    def constants(self, model: mujoco.MjModel) -> ModelConstants:
        return ModelConstants(
            dt=float(model.opt.timestep) * self.frame_skip,
            body_mass=model.body_mass.copy(),
            ctrl_low=model.actuator_ctrlrange[:, 0].copy(),
            ctrl_high=model.actuator_ctrlrange[:, 1].copy(),
        )

    def control(self, actions: np.ndarray, ctrl_low: np.ndarray, ctrl_high: np.ndarray) -> np.ndarray:
        """Controls sent to MuJoCo for a batch of actions (clipped to the control range if the
        problem clips; MuJoCo clamps the control itself otherwise)."""
        actions = np.asarray(actions, dtype=np.float64)
        if self.clip_actions:
            return np.minimum(np.maximum(actions, ctrl_low), ctrl_high)  # np.clip's values, half its overhead
        return actions.copy()

    def initial_state(self, model: mujoco.MjModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """qpos, qvel of a reset: qpos0 and zero velocity, plus uniform noise where the problem
        has it (Humanoid), drawn from ``rng`` in the original order (qpos first)."""
        qpos = model.qpos0.copy()
        qvel = np.zeros(model.nv)
        if self.reset_noise > 0.0:
            c = self.reset_noise
            qpos = qpos + rng.uniform(low=-c, high=c, size=model.nq)
            qvel = qvel + rng.uniform(low=-c, high=c, size=model.nv)
        return qpos, qvel

    def transition(
        self, before: State, after: State, ctrl: np.ndarray, constants: ModelConstants
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Observation, objective vectors (float64), terminated flags and info terms of a batch of
        steps from ``before`` to ``after`` under ``ctrl``."""
        rewards, terms = self.objectives(before, after, ctrl, constants)
        return self.observation(after), rewards, self.terminated(after), {**terms, **self.positions(after)}

    def positions(self, state: State) -> dict[str, np.ndarray]:
        """Where the robot is, as gymnasium's MuJoCo envs report it in ``info``: the root's x
        (qpos[0] on all seven robots), and y for the robots free in the plane (Ant, Humanoid)."""
        found = {"x_position": state.qpos[:, 0].copy()}
        if self.robot in ("ant", "humanoid"):
            found["y_position"] = state.qpos[:, 1].copy()
        return found


def sum_of_squares(ctrl: np.ndarray) -> np.ndarray:
    """Σ a² per batch row: the energy term of every problem."""
    return np.square(ctrl).sum(axis=1)  # the method: the same reduction without np.sum's wrapper


def forward_velocity(before: State, after: State, constants: ModelConstants, index: int = 0) -> np.ndarray:
    """(q_after - q_before) / dt of one coordinate of qpos, over the whole frame-skipped step."""
    return (after.qpos[:, index] - before.qpos[:, index]) / constants.dt


def never(state: State) -> np.ndarray:
    return np.zeros(state.batch_size, dtype=bool)
