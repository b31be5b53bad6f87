"""The figures every benchmark reports, in one shape, for `make bench`'s summary (run.py).

Each bench script measures a page or a job beside a *reference* measured in the same run (the
hand-written SQL for the same figures, the write floor of a job, the decode floor of the
parser), interleaved so that whatever else the machine is doing weighs on both, and calls
`record()` once per figure. `record()` prints nothing; it appends one JSON line to the file
named by BENCH_RESULTS (set by run.py) so that the runner can print one table for the whole
run. Run alone, a script still prints its own report.

Sizes: `--tasks N` picks the data set; `database_url(name, tasks)` gives each size its own
database (kept between runs), so that 5,000, 50,000 and 500,000 can sit side by side.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable

SIZES = (5_000, 50_000, 500_000)


def database_url(name: str, tasks: int) -> str:
    """DATABASE_URL when set (the caller's choice wins), else a local database for this size."""
    return os.environ.get("DATABASE_URL") or f"postgres://postgres@127.0.0.1:5432/{name}_{tasks}"


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p95: fraction=0.95) of a non-empty list."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def interleave(subject: Callable[[], object], reference: Callable[[], object], runs: int, warmup: int = 1):
    """Time `subject` and `reference` alternately, `runs` times each after `warmup` rounds.

    Returns (subject ms, reference ms) lists. Alternating keeps the two comparable when other
    work on the machine comes and goes.
    """
    for _ in range(warmup):
        subject()
        reference()
    mine, theirs = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subject()
        mine.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        reference()
        theirs.append((time.perf_counter() - started) * 1000)
    return mine, theirs


def record(
    group: str,
    name: str,
    *,
    samples: list[float],
    reference: list[float] | None = None,
    reference_name: str = "",
    queries: int | None = None,
    unit: str = "ms",
    higher_is_better: bool = False,
    target: str = "",
    met: bool | None = None,
    tasks: int | None = None,
    note: str = "",
) -> dict:
    """One figure: its samples (ms for timings; MB/s etc. with `unit` and `higher_is_better`),
    the reference's samples, the queries it ran, and the target it is held to.

    The ratio is always "how many times the reference it costs": median / reference median
    for times, reference / median for rates (a parser at 2 MB/s beside a 600 MB/s decode
    floor costs 300×).
    """
    median = statistics.median(samples)
    row = {
        "group": group,
        "name": name,
        "tasks": tasks,
        "unit": unit,
        "median": median,
        "p95": percentile(samples, 0.95) if not higher_is_better else min(samples),
        "runs": len(samples),
        "queries": queries,
        "reference_name": reference_name,
        "reference": statistics.median(reference) if reference else None,
        "ratio": None,
        "target": target,
        "met": met,
        "note": note,
    }
    if reference and row["reference"] and median:
        row["ratio"] = row["reference"] / median if higher_is_better else median / row["reference"]
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row


def read(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def table(rows: list[dict]) -> str:
    """The summary run.py prints: one line per figure, grouped as recorded."""

    def cell(value, unit):
        if value is None:
            return "—"
        return f"{value:,.1f} {unit}" if unit == "ms" else f"{value:,.2f} {unit}"

    header = (
        f"{'figure':<44} {'tasks':>8} {'median':>12} {'p95/worst':>12} {'queries':>7} "
        f"{'reference':>14} {'ratio':>7}  target"
    )
    out = [header, "-" * len(header)]
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            out.append(f"[{group}]")
        verdict = "" if row["met"] is None else (" MET" if row["met"] else " NOT MET")
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        reference = cell(row["reference"], row["unit"])
        out.append(
            f"  {row['name'][:42]:<42} {row['tasks'] or '':>8} {cell(row['median'], row['unit']):>12} "
            f"{cell(row['p95'], row['unit']):>12} {'' if row['queries'] is None else row['queries']:>7} "
            f"{reference:>14} {ratio:>7}  {row['target']}{verdict}"
            + (f"  (reference: {row['reference_name']})" if row["reference_name"] else "")
        )
    return "\n".join(out)
