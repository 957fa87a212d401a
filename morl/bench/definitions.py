"""One problem definition per bench: a report never averages runs of two definitions.

A bench record names the definition its numbers came from (``fingerprint``; records written before
morl 0.4.0 have none and ran on today's-compiler physics). Two records of one problem with
different fingerprints measured different problems under one name, so the report refuses to put
them in one table, and a bench refuses to add runs of today's definition to a directory that holds
another's: its report would mix them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from morl.envs.fingerprint import fingerprint
from morl.envs.fingerprint import named_definition as _named


def definitions(records: list[dict[str, Any]], where: str) -> dict[str, str | None]:
    """problem -> the one fingerprint its finished records share; a ValueError naming the records
    of each definition when a problem has two."""
    seen: dict[str, dict[str | None, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record.get("status") == "finished":
            label = f"{record['agent']} seed {record['seed']}"
            seen[record["problem"]][record.get("fingerprint")].append(label)
    found: dict[str, str | None] = {}
    for problem, groups in seen.items():
        if len(groups) > 1:
            parts = "; ".join(f"{_named(f)}: {', '.join(runs)}" for f, runs in groups.items())
            raise ValueError(f"{where} mixes definitions of {problem} ({parts}); report each definition "
                             "from its own directory")  # fmt: skip
        found[problem] = next(iter(groups))
    return found


def check_resumable(records: list[dict[str, Any]], problems: set[str], where: str) -> None:
    """A ValueError when ``records`` hold finished runs of one of ``problems`` on another definition
    than this morl's: new runs beside them would be reported as one problem."""
    for problem, recorded in definitions(records, where).items():
        if problem in problems and recorded != fingerprint(problem):
            raise ValueError(f"{where} holds finished runs of {problem} on {_named(recorded)}; this morl defines it "
                             f"as {fingerprint(problem)!r}: bench into a new --out")  # fmt: skip


def describe(found: dict[str, str | None]) -> str:
    """One sentence for a report's preamble: each problem's definition, flagged when it is not
    this morl's."""
    parts = []
    for problem, recorded in sorted(found.items()):
        today = fingerprint(problem)
        parts.append(f"{recorded}" if recorded == today else f"{problem}: {_named(recorded)}, not this morl's {today}")
    return "Problem definitions: " + "; ".join(parts) + "."
