"""Hyper-MORL (Shu et al., IJCAI 2024): a hypernetwork maps a preference to a whole policy.

``agent`` trains it (warm-up, then Pareto set learning on the PPO core), ``config`` holds the
authors' settings per problem, ``hypernet`` the network ω → θ(ω)."""

from morl.agents.hyper_morl.agent import HyperMORL
from morl.agents.hyper_morl.config import HyperMORLConfig

__all__ = ["HyperMORL", "HyperMORLConfig"]
