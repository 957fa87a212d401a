"""The README's "pick a trade-off" figures, from the model shipped for MO-HalfCheetah-v2.

Writes ``docs/img/zoo-halfcheetah-front.png`` (the shipped model's front on the paper protocol,
200 preferences) and ``docs/img/zoo-halfcheetah-<label>.png`` (a strip of frames of one
deterministic episode for each of two preferences, with its return vector in the title).
Needs an OpenGL context for the frames: ``MUJOCO_GL=egl python docs/make_zoo_figures.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import morl
from morl.plotting import plot_front

OUT = Path(__file__).parent / "img"
PROBLEM = "MO-HalfCheetah-v2"
PREFERENCES = {"fast": [0.9, 0.1], "frugal": [0.2, 0.8]}
FRAMES = 6  # frames shown in each strip, evenly spaced over the episode


def strip(model: morl.zoo.PretrainedParetoSet, label: str, preference: list[float]) -> None:
    policy = model.policy_for(preference)
    env = morl.make(PROBLEM, render_mode="rgb_array", width=240, height=180)
    obs, _ = env.reset(seed=0)
    total, frames, step = np.zeros(2), [], 0  # frames: (step, image) every 10 steps
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy.predict(obs))
        total += reward
        step += 1
        if step % 10 == 0:
            frames.append((step, env.render()))
        if terminated or truncated:
            break
    env.close()
    names = env.unwrapped.objective_names  # type: ignore[attr-defined]
    shown = [frames[i] for i in np.linspace(len(frames) // 8, len(frames) - 1, FRAMES).astype(int)]
    fig, axes = plt.subplots(1, FRAMES, figsize=(2.0 * FRAMES, 1.9))
    for ax, (at, frame) in zip(axes, shown, strict=True):
        ax.imshow(frame)
        ax.set_axis_off()
        ax.set_title(f"step {at}", fontsize=8)
    text = ", ".join(f"{n} {v:.0f}" for n, v in zip(names, total, strict=True))
    fig.suptitle(f"preference {preference}: return {text}", fontsize=9)
    fig.tight_layout()
    fig.savefig(OUT / f"zoo-halfcheetah-{label}.png", dpi=80)
    plt.close(fig)
    print(label, preference, total)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    model = morl.pretrained(PROBLEM)
    result = model.evaluate()
    plot_front(
        result, OUT / "zoo-halfcheetah-front.png", title=f"shipped {PROBLEM} model: HV {result.metrics.hypervolume:.3g}"
    )
    for label, preference in PREFERENCES.items():
        strip(model, label, preference)


if __name__ == "__main__":
    main()
