"""The documentation: every object the API reference lists has a docstring of its own, and the
README's front door stays short and points at pages that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCED = re.findall(r"^::: (\S+)$", (REPO / "docs" / "api.md").read_text(encoding="utf-8"), re.MULTILINE)


def test_the_reference_lists_the_public_api() -> None:
    for name in ("morl.make", "morl.make_vec", "morl.envs.vector.MOVectorEnv", "morl.evaluation.evaluate_front",
                 "morl.pareto.FrontMetrics", "morl.pretrained", "morl.load", "morl.agents.hyper_morl.HyperMORL",
                 "morl.agents.hyper_morl.config.HyperMORLConfig"):  # fmt: skip
        assert name in REFERENCED


@pytest.mark.parametrize("name", REFERENCED)
def test_each_referenced_object_has_its_own_docstring(name: str) -> None:
    module, _, attribute = name.rpartition(".")
    obj = getattr(importlib.import_module(module), attribute)
    doc = obj.__doc__ or ""
    # a dataclass without a docstring gets its signature as one: that is not documentation
    assert doc.strip() and not doc.startswith(f"{obj.__name__}("), f"{name} has no docstring"


def test_the_readme_is_a_front_door() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "make demo" in text and "make test" in text
    for link in re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)", text):
        assert (REPO / link).is_file(), link


@pytest.mark.slow
def test_the_readme_s_twenty_lines_run_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first code a newcomer copies runs against today's API: the README's Python block,
    executed as printed except for its training budget (300k env steps, 1-3 minutes; cut to 4k
    steps with one gradient step per iteration, ~15 s), in a scratch directory (it writes
    runs/cheetah and a policy file)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r"## In 20 lines\n\n```python\n(.*?)```", text, flags=re.S)
    assert code.count("total_steps=300_000") == 1, "the budget this test shortens moved"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    short = code.replace("total_steps=300_000", "total_steps=4_096, epochs=1, minibatches=1, eval_interval=1000")
    exec(compile(short, "README.md", "exec"), namespace)
    assert (tmp_path / "runs" / "cheetah" / "front.json").is_file() and (tmp_path / "cheetah-0.3.npz").is_file()
    assert namespace["same_agent"].env_steps == namespace["agent"].env_steps > 0  # type: ignore[attr-defined]
