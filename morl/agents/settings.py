"""Frozen, validated settings dataclasses: the base of the PPO settings and of every agent's config.

Each field is declared once with :func:`setting` (its default, its range or choices, one line of
help), and :class:`Settings.__post_init__` checks every field of every subclass against its
declaration: the type (a ``bool`` is not an ``int``, a ``str`` is not a ``float``), finiteness and
the range. So a field shared by several agents (the PPO settings) is validated in one place, and
a bad value fails where it is made, naming the field, the value and what is expected, instead of
surfacing hours later as NaN weights.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from morl.envs.catalog import get_problem
from morl.envs.problem import Problem

S = TypeVar("S", bound="Settings")
C = TypeVar("C", bound="AgentConfig")


def setting(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[str, ...] | None = None,
    help: str = "",
) -> Any:
    """A dataclass field with its valid range (``low``/``high``, open or closed ends) or its
    ``choices``, and a help line (shown by ``morl train AGENT --help``)."""
    meta = {"low": low, "high": high, "low_open": low_open, "high_open": high_open, "choices": choices, "help": help}
    return dataclasses.field(default=default, metadata=meta)


_TYPES: dict[type, dict[str, type]] = {}


def _field_types(cls: type) -> dict[str, type]:
    """The resolved annotation of each field (annotations are strings under PEP 563), cached."""
    if cls not in _TYPES:
        _TYPES[cls] = {name: hint for name, hint in typing.get_type_hints(cls).items() if not name.startswith("_")}
    return _TYPES[cls]


def _expected(kind: type, meta: typing.Mapping[str, Any]) -> str:
    """The words for what a field accepts, e.g. 'a positive integer', 'a float in (0, 1]'."""
    low, high = meta.get("low"), meta.get("high")
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    if kind is int and high is None and low in (0, 1):
        return "a positive integer" if low == 1 else "a non-negative integer"
    noun = {int: "an integer", float: "a finite number", bool: "a bool", str: "a string"}[kind]
    if low is not None and high is not None:
        left, right = ("(" if meta["low_open"] else "["), (")" if meta["high_open"] else "]")
        return f"{noun} in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{noun} {'>' if meta['low_open'] else '>='} {low:g}"
    if high is not None:
        return f"{noun} {'<' if meta['high_open'] else '<='} {high:g}"
    return noun


@dataclass(frozen=True)
class Settings:
    """Base of the settings dataclasses: validation, JSON round trip, field-wise comparison."""

    def __post_init__(self) -> None:
        types = _field_types(type(self))
        for f in fields(self):
            kind = types[f.name]
            value = getattr(self, f.name)
            expected = _expected(kind, f.metadata)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                object.__setattr__(self, f.name, value)  # an int is a fine float; store it as one
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise TypeError(f"{f.name}={value!r} must be {expected} (got {type(value).__name__})")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name}={value!r} must be {expected}")
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                raise ValueError(f"{f.name}={value!r} must be {expected}")
            low, high = f.metadata.get("low"), f.metadata.get("high")
            if low is not None and (value < low or (f.metadata["low_open"] and value == low)):
                raise ValueError(f"{f.name}={value!r} must be {expected}")
            if high is not None and (value > high or (f.metadata["high_open"] and value == high)):
                raise ValueError(f"{f.name}={value!r} must be {expected}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls: type[S], values: typing.Mapping[str, Any]) -> S:
        """Build from a mapping (e.g. parsed JSON): unknown names are refused with the known
        ones listed; a whole float for an int field (JSON has one number type) is accepted."""
        if not isinstance(values, typing.Mapping):
            raise TypeError(f"{cls.__name__}.from_dict expects a mapping of field names to values, got {values!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown} for {cls.__name__}; known: {sorted(known)}")
        types = _field_types(cls)
        converted = {}
        for name, value in values.items():
            if types[name] is int and isinstance(value, float) and value.is_integer():
                value = int(value)
            converted[name] = value
        return cls(**converted)

    def differences(self, other: Settings) -> list[str]:
        """``name: mine vs theirs`` for each field whose value differs (for a refused resume)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{k}={mine.get(k)!r} vs {theirs.get(k)!r}" for k in sorted(set(mine) | set(theirs))
                if mine.get(k) != theirs.get(k)]  # fmt: skip

    @classmethod
    def field_help(cls) -> list[tuple[str, type, Any, str]]:
        """(name, type, default, help) of every field, for building command-line options."""
        types = _field_types(cls)
        return [(f.name, types[f.name], f.default, f.metadata.get("help", "")) for f in fields(cls)]


@dataclass(frozen=True)
class AgentConfig(Settings):
    """What every agent's config has: the budget, the seed, resources and the evaluation cadence.

    :meth:`for_problem` gives an agent's defaults for a problem (its paper budget, per-problem
    settings); overrides are applied on top and validated like everything else.
    """

    total_steps: int = setting(1_000_000, low=1, help="environment steps of training")
    seed: int = setting(0, low=0, help="seed of every random stream of the run")
    workers: int = setting(0, low=0, help="processes stepping the physics (0: all cores this process may use)")
    # 1 by default: the physics workers use the other cores, and idle OpenMP threads spinning
    # beside them slowed collection from 14k to 10.7k env-steps/s on 2 cores.
    torch_threads: int = setting(1, low=0, help="torch threads while collecting (0: leave torch's setting)")
    # The update runs while the physics workers sit idle: all cores (1.5 -> 1.1 s per PSL update
    # of Hyper-MORL on MO-HalfCheetah-v2, 2 cores).
    update_threads: int = setting(0, low=0, help="torch threads for the update (0: all cores this process may use)")
    eval_interval: int = setting(10, low=1, help="training iterations between evaluations (and one at the end)")
    eval_splits: int = setting(0, low=0, help="evaluation grid splits (0: the papers' set, 200 for m=2, 406 for m=3)")

    @classmethod
    def for_problem(cls: type[C], problem_id: str, **overrides: Any) -> C:
        """The defaults for ``problem_id`` (see :meth:`defaults_for`), with ``overrides`` applied."""
        return cls.from_dict({**cls.defaults_for(get_problem(problem_id)), **overrides})

    @classmethod
    def defaults_for(cls, problem: Problem) -> dict[str, Any]:
        """Per-problem defaults; the base: the paper budget of the problem."""
        return {"total_steps": problem.paper_budget}
