"""The baselines learn: small budgets, fixed seeds, thresholds that fail if learning is broken."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from morl.agents.conditioned_ppo import ConditionedPPO, ConditionedPPOConfig
from morl.agents.sb3 import SB3MultiPolicy, SB3MultiPolicyConfig


@pytest.mark.slow
def test_conditioned_ppo_improves_the_front() -> None:
    """MO-HalfCheetah-v2, 150k steps, seed 1 (Hyper-MORL's learning-test settings). Measured when
    written (seed 0, 1, 2, 3): HV untrained 7.2e5, 5.9e5, 6.6e5, 1.6e5; trained 1.41e6, 2.05e6,
    1.36e6, 1.18e6 (about 15 s each). The thresholds hold for all four seeds, so a change of
    random streams does not fail them, while a broken learner would: no untrained front reached
    1e6."""
    cfg = ConditionedPPOConfig.for_problem(
        "MO-HalfCheetah-v2", total_steps=150_000, steps_per_env=128, epochs=5, minibatches=4, learning_rate=1e-3,
        eval_interval=1000, eval_splits=10, seed=1,
    )  # fmt: skip
    agent = ConditionedPPO("MO-HalfCheetah-v2", cfg)
    untrained = agent.evaluate()
    agent.learn(progress=False)
    trained = agent.evaluate()
    print("conditioned-ppo HV", untrained.metrics.hypervolume, trained.metrics.hypervolume)
    assert trained.metrics.hypervolume > 1.5 * untrained.metrics.hypervolume
    assert trained.metrics.hypervolume > 1.0e6


@pytest.mark.slow
def test_sb3_members_learn_their_own_trade_off() -> None:
    """MO-HalfCheetah-v2, two SB3 PPO members (speed, energy), 60k steps each, seed 1: the speed
    member runs faster than after its first iteration, and faster than the energy member. Measured
    when written: speed 500 after one iteration, 682 at the end; the energy member 501 (its
    near-zero initial actions are already frugal, so it has little to gain). About 35 s."""
    cfg = SB3MultiPolicyConfig.for_problem("MO-HalfCheetah-v2", total_steps=120_000, num_policies=2,
                                           eval_interval=1000, seed=1)  # fmt: skip
    agent = SB3MultiPolicy("MO-HalfCheetah-v2", cfg)
    first: dict[int, float] = {}

    def after_first_iteration(a: Any, info: dict[str, Any]) -> None:
        member = (info["iteration"] - 1) // a.per_member
        if (info["iteration"] - 1) % a.per_member == 0:
            w = a.weights[member]
            first[member] = float(a.evaluate(w[None]).returns[0] @ w)

    agent.learn(progress=False, callback=after_first_iteration)
    result = agent.evaluate()
    final = result.returns @ agent.weights.T
    print("sb3 first", first, "final", np.diag(final), result.returns)
    assert final[0, 0] > first[0] + 100.0
    assert result.returns[0, 0] > result.returns[1, 0] + 100.0
