"""``python -m morl.bench.worker RUN_JSON``: one bench run in its own process.

The bench starts runs as plain subprocesses rather than a ``multiprocessing`` pool: a pool's
spawned children re-import the caller's main module, which breaks scripts without an
``if __name__ == "__main__"`` guard and interactive sessions; a subprocess needs neither.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from morl.bench.plan import register_described_agent, run_from_description
from morl.bench.runner import run_one


def main() -> int:
    spec = json.loads(sys.argv[1])
    register_described_agent(spec["run"])  # an agent from outside morl, by its path
    run_one(run_from_description(spec["run"]), Path(spec["out"]), spec["share"], spec["command"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
