"""The removal manifest: one row per removed or review record, as Parquet and as CSV.

A rights holder reads the CSV; a pipeline joins the Parquet. Both carry the strongest match
(work, signal, score, evidence), the audit id of the stored verdict, any error, and the shard
the record came from. Rows are ordered by shard, then by position in the shard, so two runs of
the same job write the same manifest.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clearance.safe_text import printable
from clearance.verdict import Verdict

COLUMNS = ("key", "action", "work_id", "signal", "score", "evidence", "audit_id", "error", "shard")
SCHEMA = pa.schema([(c, pa.float64() if c == "score" else pa.string()) for c in COLUMNS])


def row(verdict: Verdict, shard_id: str) -> dict[str, Any]:
    top = verdict.matches[0] if verdict.matches else None
    return {"key": verdict.id, "action": verdict.action.value, "work_id": top.work_id if top else None,
            "signal": top.signal if top else None, "score": verdict.score,
            "evidence": top.evidence if top else None, "audit_id": verdict.audit_id,
            "error": verdict.error, "shard": printable(shard_id)}


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    """PATH (Parquet) and PATH with ``.csv`` (same rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in COLUMNS}, schema=SCHEMA), path)
    with path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
