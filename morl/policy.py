"""A standalone policy for one preference: ``predict(obs)`` in any gymnasium loop.

It holds any agent's actor (an MLP of any depth, tanh or ReLU hidden layers, optionally a tanh
output scaled to the action bounds as SAC's, optionally the preference appended to the input as a
conditioned network's) with its observation normaliser (frozen statistics), and runs in numpy: no
torch needed to use it. It saves to a single ``.npz`` file read with ``allow_pickle=False``, so
loading a file never executes code from it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from morl import portable_math
from morl.normalization import CLIP, EPSILON
from morl.run_files import atomic_write_bytes

FORMAT = "morl.policy"
FORMAT_VERSION = 2
ACTIVATIONS = ("tanh", "relu")
SQUASHES = ("none", "tanh")


def _layer_count(weights: dict[str, np.ndarray]) -> int:
    count = 0
    while f"actor.{count}.weight" in weights:
        count += 1
    return count


def layers_from_state(state: dict[str, Any], modules: list[str]) -> dict[str, np.ndarray]:
    """``actor.{i}.weight``/``bias`` (float64 arrays) from a torch state dict's linear
    ``modules`` in order (e.g. an SB3 or MORL-Baselines actor)."""
    layers = {}
    for i, name in enumerate(modules):
        layers[f"actor.{i}.weight"] = state[f"{name}.weight"].double().numpy()
        layers[f"actor.{i}.bias"] = state[f"{name}.bias"].double().numpy()
    return layers


def numbered_modules(state: dict[str, Any], prefix: str) -> list[str]:
    """The modules ``prefix<k>`` holding a ``weight`` in ``state`` (an ``nn.Sequential``'s linear
    layers), by index."""
    names = {key.rsplit(".", 1)[0] for key in state if key.startswith(prefix) and key.endswith(".weight")}
    return sorted(names, key=lambda name: int(name[len(prefix) :].split(".")[0]))


def actor_forward(
    obs: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray]],
    obs_mean: np.ndarray | None,
    obs_var: np.ndarray | None,
    preference: np.ndarray | None,
    activation: str,
) -> np.ndarray:
    """The actor's output (..., action_dim) for raw observations ``obs`` (..., obs_dim), in float64.

    Each layer is (weight (in, out), bias (out,)) for all rows, or with leading axes that broadcast
    against the observations' (a stack: observations (policies, rows, obs_dim), weights
    (policies, 1, in, out)); the statistics and the appended ``preference`` likewise. Every step is
    element-wise or a fixed-order product per row (:func:`morl.portable_math.linear`), so a row's
    result does not depend on the other rows: a stack of policies computes each row bit for bit as
    its own policy would.
    """
    x = obs
    if obs_mean is not None and obs_var is not None:
        x = np.clip((obs - obs_mean) / np.sqrt(obs_var + EPSILON), -CLIP, CLIP)
    if preference is not None:
        x = np.concatenate([x, np.broadcast_to(preference, (*x.shape[:-1], preference.shape[-1]))], axis=-1)
    last = len(layers) - 1
    for i, (weight, bias) in enumerate(layers):
        # Fixed-order arithmetic, not BLAS: the same action bits on every machine (portable_math).
        x = portable_math.linear(x, weight, bias)
        if i < last:
            x = portable_math.tanh(x) if activation == "tanh" else np.maximum(x, 0.0)
    return x


def squash_to_bounds(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A tanh-squashed output scaled to the action bounds (SAC's actors)."""
    return low + 0.5 * (portable_math.tanh(x) + 1.0) * (high - low)


class PreferencePolicy:
    """The actor of the policy for ``preference`` on ``problem_id``.

    ``predict(obs, deterministic=True)`` takes one observation (obs_dim,) or a batch
    (n, obs_dim) of raw observations and returns float32 actions of the matching shape: the mean
    action when deterministic, else a sample from the Gaussian policy (from this policy's own
    RNG, see ``seed``; only for actors with a state-independent ``log_std``). Without squashing,
    actions are not clipped: the env clips them as the problem defines.

    ``weights`` holds ``actor.{i}.weight`` (out, in) and ``actor.{i}.bias`` for i = 0..L-1 and,
    optionally, ``log_std``. ``obs_mean``/``obs_var`` (None: no normalisation) normalise the
    observation as training did: ``clip((o - μ) / sqrt(σ² + 1e-8), ±10)``. With
    ``preference_input`` the preference is appended to the normalised observation.
    """

    def __init__(
        self,
        *,
        problem_id: str,
        preference: np.ndarray,
        weights: dict[str, np.ndarray],
        obs_mean: np.ndarray | None,
        obs_var: np.ndarray | None,
        activation: str = "tanh",
        squash: str = "none",
        action_low: np.ndarray | None = None,
        action_high: np.ndarray | None = None,
        preference_input: bool = False,
        metadata: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        self.problem_id = problem_id
        self.preference = np.asarray(preference, dtype=np.float64)
        self.weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        self.obs_mean = None if obs_mean is None else np.asarray(obs_mean, dtype=np.float64)
        self.obs_var = None if obs_var is None else np.asarray(obs_var, dtype=np.float64)
        self.activation, self.squash, self.preference_input = activation, squash, bool(preference_input)
        self.action_low = None if action_low is None else np.asarray(action_low, dtype=np.float64)
        self.action_high = None if action_high is None else np.asarray(action_high, dtype=np.float64)
        self.metadata = dict(metadata or {})
        self._check()
        self._rng = np.random.default_rng(seed)

    def _check(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation={self.activation!r} must be one of {ACTIVATIONS}")
        if self.squash not in SQUASHES:
            raise ValueError(f"squash={self.squash!r} must be one of {SQUASHES}")
        layers = _layer_count(self.weights)
        if layers == 0:
            raise ValueError("policy weights lack 'actor.0.weight'; expected actor.{i}.weight/bias for each layer")
        fan_in = None
        for i in range(layers):
            weight, bias = self.weights[f"actor.{i}.weight"], self.weights.get(f"actor.{i}.bias")
            if weight.ndim != 2 or bias is None or bias.shape != (weight.shape[0],):
                raise ValueError(f"layer actor.{i} has weight {weight.shape} and bias "
                                 f"{None if bias is None else bias.shape}; expected (out, in) and (out,)")  # fmt: skip
            if fan_in is not None and weight.shape[1] != fan_in:
                raise ValueError(f"layer actor.{i} takes {weight.shape[1]} inputs; the layer before gives {fan_in}")
            fan_in = weight.shape[0]
        if "log_std" in self.weights and self.weights["log_std"].shape != (self.action_dim,):
            raise ValueError(f"log_std has shape {self.weights['log_std'].shape}; expected ({self.action_dim},)")
        extra = len(self.preference) if self.preference_input else 0
        if self.obs_dim < 1 or self.weights["actor.0.weight"].shape[1] != self.obs_dim + extra:
            raise ValueError(f"the first layer takes {self.weights['actor.0.weight'].shape[1]} inputs; "
                             f"expected the observation plus {extra} preference entries")  # fmt: skip
        for name, stats in (("obs_mean", self.obs_mean), ("obs_var", self.obs_var)):
            if (stats is None) != (self.obs_mean is None) or (stats is not None and stats.shape != (self.obs_dim,)):
                raise ValueError(f"{name} has shape {None if stats is None else stats.shape}; expected "
                                 f"({self.obs_dim},), given together with the other statistic")  # fmt: skip
        if self.squash == "tanh":
            for name, bound in (("action_low", self.action_low), ("action_high", self.action_high)):
                if bound is None or bound.shape != (self.action_dim,):
                    raise ValueError(f"squash='tanh' needs {name} of shape ({self.action_dim},)")

    @property
    def num_layers(self) -> int:
        return _layer_count(self.weights)

    @property
    def obs_dim(self) -> int:
        extra = len(self.preference) if self.preference_input else 0
        return int(self.weights["actor.0.weight"].shape[1]) - extra

    @property
    def action_dim(self) -> int:
        return int(self.weights[f"actor.{self.num_layers - 1}.weight"].shape[0])

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        array = np.asarray(obs, dtype=np.float64)
        single = array.ndim == 1
        batch = array[None] if single else array
        if batch.ndim != 2 or batch.shape[1] != self.obs_dim:
            raise ValueError(f"obs has shape {array.shape}; expected ({self.obs_dim},) or (n, {self.obs_dim})")
        if not deterministic and "log_std" not in self.weights:
            raise ValueError("this policy has no state-independent log_std to sample with; use deterministic=True")
        x = actor_forward(batch, self._layers(), self.obs_mean, self.obs_var,
                          self.preference if self.preference_input else None, self.activation)  # fmt: skip
        if not deterministic:
            x = x + np.exp(self.weights["log_std"]) * self._rng.standard_normal(x.shape)
        if self.squash == "tanh":
            assert self.action_low is not None and self.action_high is not None
            x = squash_to_bounds(x, self.action_low, self.action_high)
        actions = x.astype(np.float32)
        return actions[0] if single else actions

    __call__ = predict

    def _layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight (in, out), bias) of each actor layer, as :func:`actor_forward` takes them."""
        return [(self.weights[f"actor.{i}.weight"].T, self.weights[f"actor.{i}.bias"]) for i in range(self.num_layers)]

    def architecture(self) -> tuple[object, ...]:
        """What two policies must share to run as one :class:`PolicyStack`: layer shapes,
        activation, squashing, preference input and the preference's length, and whether
        observations are normalised."""
        shapes = tuple(self.weights[f"actor.{i}.weight"].shape for i in range(self.num_layers))
        return (shapes, self.activation, self.squash, self.preference_input, len(self.preference),
                self.obs_mean is not None)  # fmt: skip

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to ``path`` (an .npz file), atomically."""
        meta = {**self.metadata, "format": FORMAT, "format_version": FORMAT_VERSION, "problem_id": self.problem_id}
        meta.update(activation=self.activation, squash=self.squash, preference_input=self.preference_input)
        arrays: dict[str, np.ndarray] = {f"w/{k}": v for k, v in self.weights.items()}
        arrays["preference"] = self.preference
        optional = {"obs_mean": self.obs_mean, "obs_var": self.obs_var, "action_low": self.action_low,
                    "action_high": self.action_high}  # fmt: skip
        arrays.update({k: v for k, v in optional.items() if v is not None})
        arrays["metadata"] = np.array(json.dumps(meta))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str], seed: int | None = None) -> PreferencePolicy:
        """Read a policy file (format versions 1 and 2); any damage is a ValueError naming the file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"policy file {str(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["metadata"]))
                if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                    raise ValueError(f"expected format {FORMAT!r}")
                if meta.get("format_version") not in (1, FORMAT_VERSION):
                    raise ValueError(f"format_version {meta.get('format_version')!r}; this morl reads 1 and 2")

                def optional(key: str) -> np.ndarray | None:
                    return data[key] if key in data.files else None

                return cls(
                    problem_id=str(meta["problem_id"]),
                    preference=data["preference"],
                    weights={k[2:]: data[k] for k in data.files if k.startswith("w/")},
                    obs_mean=optional("obs_mean"),
                    obs_var=optional("obs_var"),
                    activation=str(meta.get("activation", "tanh")),
                    squash=str(meta.get("squash", "none")),
                    action_low=optional("action_low"),
                    action_high=optional("action_high"),
                    preference_input=bool(meta.get("preference_input", False)),
                    metadata=meta,
                    seed=seed,
                )
        except (OSError, ValueError, KeyError, TypeError, EOFError, json.JSONDecodeError) as error:
            raise ValueError(f"{str(path)!r} is not a valid morl policy file ({error})") from None
        except Exception as error:  # zipfile.BadZipFile and other damage of the archive itself
            raise ValueError(f"{str(path)!r} is not a valid morl policy file ({type(error).__name__})") from None


class PolicyStack:
    """Several :class:`PreferencePolicy` of one architecture, run as one deterministic actor:
    row ``r`` of the observations goes through policy ``r // rows_per_policy``.

    Why: an evaluation steps every policy of a population on one batched env, and asking each
    policy for its few rows costs one pass of fixed-order arithmetic per policy and step, most of
    it Python overhead (PGMORL's evaluation of its offspring spent three quarters of a short run
    there). Stacked, the step is one pass over arrays that hold every policy (rows grouped by
    policy; the stack keeps its own copy of the weights, one per policy, not one per row); since
    every operation is element-wise or a per-row product in a fixed order (:func:`actor_forward`),
    each row's action is bit for bit the one its own policy's ``predict`` gives.
    """

    def __init__(self, policies: Sequence[PreferencePolicy], rows_per_policy: int = 1) -> None:
        if not policies:
            raise ValueError("policies is empty; expected at least one PreferencePolicy")
        integer = isinstance(rows_per_policy, (int, np.integer)) and not isinstance(rows_per_policy, bool)
        if not integer or rows_per_policy < 1:
            raise ValueError(f"rows_per_policy={rows_per_policy!r} must be a positive integer")
        rows_per_policy = int(rows_per_policy)
        first = policies[0].architecture()
        for i, policy in enumerate(policies):
            if policy.architecture() != first:
                raise ValueError(f"policies[{i}] has architecture {policy.architecture()}; policies[0] has {first}")
        self.policies, self.rows_per_policy = list(policies), rows_per_policy
        head = policies[0]
        self.obs_dim, self.activation, self.squash = head.obs_dim, head.activation, head.squash

        def grouped(arrays: list[Any]) -> np.ndarray:  # every entry an array: the architecture says which exist
            """(policies, 1, ...): one entry per policy, broadcast over its rows."""
            return np.stack(arrays)[:, None]

        self._layers = [
            (
                grouped([p.weights[f"actor.{i}.weight"].T for p in policies]),
                grouped([p.weights[f"actor.{i}.bias"] for p in policies]),
            )
            for i in range(head.num_layers)
        ]
        normalised = head.obs_mean is not None
        self._mean = grouped([p.obs_mean for p in policies]) if normalised else None
        self._var = grouped([p.obs_var for p in policies]) if normalised else None
        self._preference = grouped([p.preference for p in policies]) if head.preference_input else None
        squashed = self.squash == "tanh"
        self._low = grouped([p.action_low for p in policies]) if squashed else None
        self._high = grouped([p.action_high for p in policies]) if squashed else None

    @classmethod
    def of(cls, policies: Sequence[Any], rows_per_policy: int = 1) -> PolicyStack | None:
        """The stack of ``policies`` when they can run as one (distinct plain
        :class:`PreferencePolicy` objects of one architecture), else None: the caller asks each
        policy in turn. Repeated objects (a population's few members serving many preferences) are
        asked in turn: a stack would copy one member's weights once per preference."""
        plain = all(type(p) is PreferencePolicy for p in policies)
        distinct = len({id(p) for p in policies}) == len(policies)
        if not policies or not plain or not distinct or len({p.architecture() for p in policies}) != 1:
            return None
        return cls(policies, rows_per_policy)

    @property
    def num_rows(self) -> int:
        return len(self.policies) * self.rows_per_policy

    def predict(self, obs: Any) -> np.ndarray:
        """Deterministic float32 actions (num_rows, action_dim) for observations (num_rows, obs_dim)."""
        batch = np.asarray(obs, dtype=np.float64)
        if batch.shape != (self.num_rows, self.obs_dim):
            raise ValueError(f"obs has shape {batch.shape}; expected ({self.num_rows}, {self.obs_dim}): one row per "
                             f"row of the stack")  # fmt: skip
        grouped = batch.reshape(len(self.policies), self.rows_per_policy, self.obs_dim)
        x = actor_forward(grouped, self._layers, self._mean, self._var, self._preference, self.activation)
        if self._low is not None and self._high is not None:
            x = squash_to_bounds(x, self._low, self._high)
        return x.reshape(self.num_rows, -1).astype(np.float32)
