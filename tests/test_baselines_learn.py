"""The baselines learn: small budgets, fixed seeds, thresholds that fail if learning is broken."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from morl.agents.conditioned_ppo import ConditionedPPO, ConditionedPPOConfig
from morl.agents.pgmorl import PGMORL, PGMORLConfig
from morl.agents.sb3 import SB3MultiPolicy, SB3MultiPolicyConfig
from morl.pareto import hypervolume


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
    """MO-HalfCheetah-v2, two SB3 PPO members (speed, energy), 60k steps each, seed 3: the speed
    member runs faster than after its first iteration, and faster than the energy member (its
    near-zero initial actions are already frugal, so it has little to gain). SB3's PPO leaves the
    standing start on this budget for some seeds only: on morl 0.4's physics the speed member's
    return after 60k steps was 702, 502, 507, 837 for seeds 0-3 (500 after one iteration; seed 1,
    this test's seed on 0.3's physics where it reached 682, still 519 after 120k), so the test uses
    seed 3; a learner that does not learn stays at 500. About 30 s."""
    cfg = SB3MultiPolicyConfig.for_problem("MO-HalfCheetah-v2", total_steps=120_000, num_policies=2,
                                           eval_interval=1000, seed=3)  # fmt: skip
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


def _untrained_hypervolume(agent: PGMORL) -> float:
    """HV of the warm-up's fresh policies, as evaluated when they entered the graph."""
    roots = [agent.graph.objs[i] for i in range(len(agent.warmup_weights))]
    return hypervolume(np.asarray(roots), ref_point=np.zeros(agent.m))


@pytest.mark.slow
def test_pgmorl_improves_the_front_two_objectives() -> None:
    """MO-HalfCheetah-v2, 150k steps (27 warm-up iterations, 3 generations of 6, 128 steps), seed
    1. Measured when written (seeds 0-3): HV of the 6 fresh policies 1.17e6, 0.85e6, 0.56e6,
    1.06e6; of the archive at the end 2.30e6, 2.64e6, 2.12e6, 2.68e6 (about 23 s each). No fresh
    set reached 1.2e6; every trained one passed 2.1e6."""
    cfg = PGMORLConfig.for_problem("MO-HalfCheetah-v2", total_steps=150_000, steps_per_env=128, epochs=5,
                                   minibatches=4, learning_rate=1e-3, eval_interval=1000, seed=1)  # fmt: skip
    agent = PGMORL("MO-HalfCheetah-v2", cfg).learn(progress=False)
    trained = agent.evaluate()
    untrained = _untrained_hypervolume(agent)
    print("pgmorl HV", untrained, trained.metrics.hypervolume, len(agent.archive))
    assert trained.metrics.hypervolume > 1.5 * untrained
    assert trained.metrics.hypervolume > 1.8e6
    np.testing.assert_allclose(trained.returns, agent.archive_returns())  # deterministic resets: as recorded


@pytest.mark.slow
def test_pgmorl_improves_the_front_three_objectives() -> None:
    """MO-Hopper-v3, 200k steps (15 tasks, 16 warm-up iterations, 3 generations of 3), seed 0.
    Measured when written (seeds 0, 1): HV of the 15 fresh policies 1.6e5, 4.7e5; of the archive
    2.9e9, 3.0e8 (about 30 s each). A three-objective HV at this budget spreads over two orders of
    magnitude between seeds, and a change of rounding alone moves a seed within that spread: with
    morl 0.3.0 (per-row actor products in the rollout workers) seeds 0-4 gave 1.8e7, 3.1e8, 3.1e8,
    1.0e9, 2.6e9 (seed 0 was 3.0e8 one commit earlier). Hence the absolute bound 1e7, with the
    relative one (100x the fresh policies) the main check: a broken update stays near 1e5-1e6."""
    cfg = PGMORLConfig.for_problem("MO-Hopper-v3", total_steps=200_000, steps_per_env=128, epochs=5,
                                   minibatches=4, learning_rate=1e-3, eval_interval=1000, seed=0)  # fmt: skip
    agent = PGMORL("MO-Hopper-v3", cfg).learn(progress=False)
    trained = hypervolume(agent.archive_returns(), ref_point=np.zeros(3))
    untrained = _untrained_hypervolume(agent)
    print("pgmorl HV (m=3)", untrained, trained, len(agent.archive))
    assert trained > 100.0 * untrained
    assert trained > 1e7


@pytest.mark.slow
def test_pd_morl_improves_the_front() -> None:
    """MO-Swimmer-v2, 80k steps (15 % key warm start), 64-wide networks, seed 0. Measured when
    written (seeds 0, 1, 3): HV untrained 287, 0, 1.9e3; trained 5.8e3, 5.2e3, 5.4e3. A broken
    learner stays near the untrained fronts (none above 2e3). The slowest test of the suite (about
    165 s on the 2-core dev VM: ~0.75 TD3 updates per env step at ~2 ms each), and no shorter
    budget is safe: at 40k steps the same seeds reached 0, 2.1e3 and 8.6e3."""
    from morl.agents.pdmorl import PDMORL, PDMORLConfig

    cfg = PDMORLConfig.for_problem(
        "MO-Swimmer-v2", total_steps=80_000, hidden=64, batch_size=128, random_steps=1000, key_random_steps=1000,
        learning_starts=1000, key_fraction=0.15, key_eval_episodes=2, key_eval_interval=2000, eval_interval=1000,
        eval_splits=10, workers=1, seed=0,
    )  # fmt: skip
    agent = PDMORL("MO-Swimmer-v2", cfg)
    untrained = agent.evaluate()
    agent.learn(progress=False)
    trained = agent.evaluate()
    print("pd-morl HV", untrained.metrics.hypervolume, trained.metrics.hypervolume)
    assert trained.metrics.hypervolume > 2 * untrained.metrics.hypervolume
    assert trained.metrics.hypervolume > 4.0e3
