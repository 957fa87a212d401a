"""A problem's fingerprint names its definition: physics arrays and code revision."""

from __future__ import annotations

import dataclasses
import re

import pytest

import morl
from morl.envs.fingerprint import model_digest, same_definition
from morl.envs.models import build_model


def test_every_problem_has_a_distinct_stable_fingerprint() -> None:
    names = [morl.fingerprint(p) for p in morl.PROBLEM_IDS]
    assert len(set(names)) == len(names)
    for problem_id, name in zip(morl.PROBLEM_IDS, names, strict=True):
        assert re.fullmatch(r"MO-[A-Za-z0-9]+-v\d@[0-9a-f]{12}", name)
        assert name.startswith(problem_id.removeprefix("morl/") + "@")
        assert morl.fingerprint(problem_id) == morl.fingerprint(problem_id.removeprefix("morl/")) == name


def test_a_physics_change_changes_the_digest() -> None:
    model = build_model("hopper")
    before = model_digest(model)
    assert model_digest(build_model("hopper")) == before  # a fresh compile: same name
    model.body_mass[1] *= 1.0 + 1e-6
    assert model_digest(model) != before
    margin = build_model("ant")
    digest = model_digest(margin)
    margin.geom_margin[:] *= 2.0
    assert model_digest(margin) != digest


def test_last_bit_differences_do_not_rename() -> None:
    model = build_model("walker2d")
    before = model_digest(model)
    model.body_inertia[2, 0] *= 1.0 + 1e-14
    assert model_digest(model) == before


def test_a_code_revision_changes_the_fingerprint() -> None:
    problem = morl.get_problem("MO-Humanoid-v2")
    assert problem.revision == 2  # the clamped energy term (morl 0.4.0)
    bumped = dataclasses.replace(problem, revision=3)
    assert morl.fingerprint(bumped) != morl.fingerprint(problem)


def test_same_definition() -> None:
    here = morl.fingerprint("MO-Ant-v2")
    assert same_definition(here, "MO-Ant-v2")
    assert not same_definition(None, "MO-Ant-v2")  # a record from before fingerprints (morl < 0.4.0)
    assert not same_definition("MO-Ant-v2@000000000000", "MO-Ant-v2")


def test_unknown_problem() -> None:
    with pytest.raises(ValueError, match="problem_id='MO-Spider-v1' is unknown"):
        morl.fingerprint("MO-Spider-v1")
