"""The PPO core shared by the PPO-based agents: batched over a leading preference axis.

K policies (one per preference, parameters θ (K, P) from any source) collect experience together
on one vector env of K × E envs, with one batched forward pass per step. Rewards are vectors; the
critic has one value per objective; GAE runs per objective with bootstrapping at truncation; the
advantage is scalarised with each policy's preference on de-normalised values. The update sums
the K policies' losses (÷K), so gradients flow into whatever produced θ (a hypernetwork, or a
plain parameter vector for a single policy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

import morl
from morl.agents.networks import TargetNetworkLayout, mlp
from morl.agents.normalization import ReturnNormalizer, RunningMeanStd, normalize_observations

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class PPOSettings:
    """The PPO hyper-parameters (PGMORL's and Hyper-MORL's defaults)."""

    steps_per_env: int = 2048
    envs_per_preference: int = 4
    epochs: int = 10
    minibatches: int = 32
    gamma: float = 0.995
    gae_lambda: float = 0.95
    clip: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    max_grad_norm: float = 0.5


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    episode_end: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation per objective, over time axis 0.

    rewards, values, next_values: (T, N, m); terminated, episode_end: (T, N). ``next_values[t]``
    is the value of the state after step t: of the next observation, or of the final observation
    when the episode was truncated at t (bootstrapping: truncation is not termination). At a
    termination the next value is 0; at any episode end the λ-chain stops.
    Returns (advantages, returns = advantages + values), both (T, N, m).
    """
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1:])
    not_terminal = (1.0 - terminated.astype(np.float64))[..., None]
    continues = (1.0 - episode_end.astype(np.float64))[..., None]
    for t in range(len(rewards) - 1, -1, -1):
        delta = rewards[t] + gamma * not_terminal[t] * next_values[t] - values[t]
        running = delta + gamma * lam * continues[t] * running
        advantages[t] = running
    return advantages, advantages + values


def gaussian_log_prob(actions: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the action axis. log_std: (K, A)."""
    log_std = log_std.unsqueeze(1)
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - 0.5 * LOG_2PI).sum(dim=-1)


@dataclass
class Rollout:
    """Experience of K policies, arrays shaped (K, T·E, ...) for the update."""

    obs: torch.Tensor  # (K, B, obs_dim), normalised
    actions: torch.Tensor  # (K, B, A)
    log_probs: torch.Tensor  # (K, B)
    values: torch.Tensor  # (K, B, m), normalised scale
    returns: torch.Tensor  # (K, B, m), normalised scale
    advantages: torch.Tensor  # (K, B), scalarised, jointly normalised
    episode_returns: list[np.ndarray]  # undiscounted return vectors of episodes that ended
    env_steps: int


class Collector:
    """Runs K policies on one vector env of K × E envs; owns the shared normalisers."""

    def __init__(self, problem_id: str, num_policies: int, settings: PPOSettings, seed: int,
                 workers: int | None = None, obs_stats: RunningMeanStd | None = None,
                 return_stats: RunningMeanStd | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.K, self.E = num_policies, settings.envs_per_preference
        self.env = morl.make_vec(problem_id, self.K * self.E, seed=seed, workers=workers)
        obs_dim = self.env.single_observation_space.shape[0]
        self.m = self.env.reward_dim
        self.obs_stats = obs_stats if obs_stats is not None else RunningMeanStd.zeros((obs_dim,))
        self.returns = ReturnNormalizer(self.K * self.E, self.m, settings.gamma, stats=return_stats)
        self._obs = self._observe(self.env.reset()[0])

    def _observe(self, raw: np.ndarray) -> np.ndarray:
        self.obs_stats.update(raw)
        return normalize_observations(raw, self.obs_stats)

    def collect(
        self, layout: TargetNetworkLayout, theta: torch.Tensor, preferences: np.ndarray, generator: torch.Generator
    ) -> Rollout:
        """T steps of every env; ``theta`` (K, P), ``preferences`` (K, m).

        Only the actor runs per step. θ is fixed during collection, so the values and the log-
        probabilities of all T·E samples of each policy are computed afterwards in one batched
        pass (the values of final observations at truncations when they occur).
        """
        K, E, T, m = self.K, self.E, self.settings.steps_per_env, self.m
        obs_dim = self._obs.shape[1]
        obs_buf = np.zeros((T, K * E, obs_dim), dtype=np.float32)
        act_buf = np.zeros((T, K * E, layout.action_dim), dtype=np.float32)
        rew_buf = np.zeros((T, K * E, m))
        term_buf = np.zeros((T, K * E), dtype=bool)
        end_buf = np.zeros((T, K * E), dtype=bool)
        bootstraps: list[tuple[int, np.ndarray, np.ndarray]] = []  # (t, truncated rows, their values)
        finished: list[np.ndarray] = []
        theta = theta.detach()
        with torch.no_grad():
            actor, critic = layout.unpack(theta, "actor"), layout.unpack(theta, "critic")
            log_std = layout.view(theta, "log_std")
            std = torch.exp(log_std).unsqueeze(1)  # (K, 1, A)
            for t in range(T):
                obs_buf[t] = self._obs
                mean = mlp(actor, torch.from_numpy(obs_buf[t]).view(K, E, obs_dim))
                actions = mean + std * torch.randn(mean.shape, generator=generator)
                act_buf[t] = actions.view(K * E, -1).numpy()
                raw_obs, rewards, terminated, truncated, info = self.env.step(act_buf[t].astype(np.float64))
                ended = terminated | truncated
                rew_buf[t] = self.returns(rewards.astype(np.float64), ended)
                term_buf[t], end_buf[t] = terminated, ended
                if ended.any():
                    finished.extend(info["episode"]["r"][ended])
                    cut = truncated & ~terminated
                    if cut.any():  # truncation is not termination: bootstrap from the final observation
                        final = normalize_observations(info["final_obs"], self.obs_stats)
                        final_t = torch.as_tensor(final, dtype=torch.float32).view(K, E, obs_dim)
                        bootstraps.append((t, cut, mlp(critic, final_t).view(K * E, m).double().numpy()[cut]))
                self._obs = self._observe(raw_obs)
            last = torch.as_tensor(self._obs, dtype=torch.float32).view(K, E, obs_dim)
            last_values = mlp(critic, last).view(K * E, m).double().numpy()

            def per_policy(array: np.ndarray) -> torch.Tensor:
                # (T, K·E, ...) -> (K, T·E, ...)
                shaped = array.reshape(T, K, E, *array.shape[2:]).swapaxes(0, 1).reshape(K, T * E, *array.shape[2:])
                return torch.as_tensor(np.ascontiguousarray(shaped), dtype=torch.float32)

            def per_step(tensor: torch.Tensor) -> np.ndarray:
                # (K, T·E, ...) -> (T, K·E, ...), the inverse of per_policy
                array = tensor.double().numpy()
                tail = array.shape[2:]
                return array.reshape(K, T, E, *tail).swapaxes(0, 1).reshape(T, K * E, *tail)

            obs_all, act_all = per_policy(obs_buf), per_policy(act_buf)
            values_all = mlp(critic, obs_all)  # (K, T·E, m)
            log_probs = gaussian_log_prob(act_all, mlp(actor, obs_all), log_std)

        values = per_step(values_all)
        next_values = np.concatenate([values[1:], last_values[None]], axis=0)
        for t, cut, final_values in bootstraps:
            next_values[t][cut] = final_values
        adv_vec, returns = gae(rew_buf, values, next_values, term_buf, end_buf, self.settings.gamma,
                               self.settings.gae_lambda)  # fmt: skip
        # Scalarise on de-normalised vectors: A = ω·(R - V) in the objectives' own units.
        weights = np.repeat(preferences, E, axis=0)  # (K·E, m)
        scalar = np.einsum("tnm,nm->tn", adv_vec * self.returns.scale, weights)
        scalar = (scalar - scalar.mean()) / (scalar.std() + 1e-5)  # jointly over all K preferences
        return Rollout(
            obs=obs_all,
            actions=act_all,
            log_probs=log_probs,
            values=values_all.float(),
            returns=per_policy(returns),
            advantages=per_policy(scalar),
            episode_returns=finished,
            env_steps=T * K * E,
        )

    def close(self) -> None:
        self.env.close()


def ppo_update(
    layout: TargetNetworkLayout,
    params: Callable[[], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    settings: PPOSettings,
    generator: torch.Generator,
) -> dict[str, float]:
    """``epochs`` × ``minibatches`` PPO steps. ``params()`` recomputes θ (K, P) with gradients
    (one hypernetwork forward per mini-batch); each step's loss is the mean over the K policies."""
    batch = rollout.obs.shape[1]
    size = max(1, batch // settings.minibatches)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    totals = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
    updates = 0
    for _ in range(settings.epochs):
        order = torch.randperm(batch, generator=generator)
        for start in range(0, batch - size + 1, size):
            index = order[start : start + size]
            parts = layout.split(params())  # one split per mini-batch, shared by actor and critic
            obs = rollout.obs[:, index]
            mean, log_std = mlp(layout.layers(parts, "actor"), obs), parts["log_std"]
            log_prob = gaussian_log_prob(rollout.actions[:, index], mean, log_std)
            log_ratio = log_prob - rollout.log_probs[:, index]
            ratio = torch.exp(log_ratio)
            adv = rollout.advantages[:, index]
            surrogate = torch.min(ratio * adv, torch.clamp(ratio, 1 - settings.clip, 1 + settings.clip) * adv)
            policy_loss = -surrogate.mean()
            values = mlp(layout.layers(parts, "critic"), obs)
            old_values, target = rollout.values[:, index], rollout.returns[:, index]
            clipped = old_values + torch.clamp(values - old_values, -settings.clip, settings.clip)
            value_loss = torch.max((values - target).square(), (clipped - target).square()).mean()
            entropy = (log_std + 0.5 * (1.0 + LOG_2PI)).sum(dim=-1).mean()
            loss = policy_loss + settings.value_coef * value_loss - settings.entropy_coef * entropy
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                totals["policy_loss"] += float(policy_loss)
                totals["value_loss"] += float(value_loss)
                totals["entropy"] += float(entropy)
                totals["approx_kl"] += float(((ratio - 1) - log_ratio).mean())
                totals["clip_fraction"] += float(((ratio - 1).abs() > settings.clip).float().mean())
            updates += 1
    return {k: v / max(1, updates) for k, v in totals.items()}
