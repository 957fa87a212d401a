"""PGMORL (Xu et al., ICML 2020), batched: :mod:`.agent` (the agent and its config),
:mod:`.prediction` (the optimisation history and the prediction model), :mod:`.selection` (the
performance buffers and the prediction-guided task selection)."""

from morl.agents.pgmorl.agent import PGMORL, PGMORLConfig

__all__ = ["PGMORL", "PGMORLConfig"]
