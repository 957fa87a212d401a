"""The hypernetwork: preference ω → parameters θ(ω) of a whole actor-critic.

θ(ω) = f(ω)·W + b with f an MLP m→128→128→d (ReLU). W starts at 0 and b at the warm-up policy,
so at the start every preference yields the warm-up policy, and training moves the policies
apart along a d-dimensional manifold in parameter space.
"""

from __future__ import annotations

import torch
from torch import nn


class HyperNetwork(nn.Module):
    def __init__(self, num_objectives: int, num_params: int, embedding_dim: int = 10, hidden: int = 128) -> None:
        super().__init__()
        self.embedding = nn.Sequential(
            nn.Linear(num_objectives, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, embedding_dim),
        )  # fmt: skip
        self.W = nn.Parameter(torch.zeros(embedding_dim, num_params))
        self.b = nn.Parameter(torch.zeros(num_params))

    def forward(self, preferences: torch.Tensor) -> torch.Tensor:
        """(K, m) preferences → (K, P) parameter vectors."""
        return self.embedding(preferences) @ self.W + self.b
