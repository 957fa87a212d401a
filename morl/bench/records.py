"""A bench's records on disk: ``DIR/records/<agent>__<problem>__seed<S>.json``, one per run.

Read in two ways, by one function: the report reads them strictly (a damaged or foreign file is
an error naming it: a table silently missing a run would mislead), the runner leniently (before
resuming, it only needs the readable records' problem definitions; a damaged one is rewritten
when its run runs again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RECORD_FORMAT = "morl.bench_record"


def read_records(out: str | os.PathLike[str], *, strict: bool) -> list[dict[str, Any]]:
    """The records in ``out/records``, in file-name order. Strict: FileNotFoundError when there is
    none, ValueError naming a file that is not valid JSON or not a bench record. Lenient: such
    files are skipped, and a bench without records has none."""
    folder = Path(out) / "records"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if strict and not paths:
        raise FileNotFoundError(f"no bench records in {str(folder)!r}: run `morl bench run ... --out {out}` first")
    records = []
    for path in paths:
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            if strict:
                raise ValueError(f"{str(path)!r} is not valid JSON ({error})") from None
            continue
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            if strict:
                raise ValueError(f"{str(path)!r} is not a morl bench record")
            continue
        records.append(record)
    return records
