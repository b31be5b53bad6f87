"""`make bench`: the province-scale benchmarks at one size, then one table of every figure.

usage: .venv/bin/python tests/bench/run.py [--tasks 5000|50000|500000] [--only NAME ...] [--all]
       make bench TASKS=500000        (make bench BENCH_ARGS="--only reminders")

Runs each bench script in its own process with `--tasks N` (each keeps a database per size,
generated once with COPY and reused while current), collects the figures they record
(report.record: median, p95, queries, the reference measured in the same run and the ratio to
it) and prints them together. A script that fails is reported and makes the run fail, after
the others have run. `--all` adds the older benches that have sizes of their own (the seed
scores, adversarial input, supervision, escalation, outputs).

PostgreSQL on 127.0.0.1:5432 (trust auth, as .ci/run and `make load` use) unless DATABASE_URL
says otherwise; a script given DATABASE_URL uses that one database for every size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import report  # noqa: E402

# (name, script, takes --tasks): the figures the province-scale issue asks for, in this order.
CORE = [
    ("parser", "bench_import.py", False),
    ("staff pages", "bench_staff_pages.py", True),
    ("api", "bench_api.py", True),
    ("dashboards", "bench_dashboards.py", True),
    ("reminders", "bench_reminders.py", True),
]
MORE = [
    ("seed scores", "score_seeds.py", False),
    ("adversarial input", "bench_adversarial.py", False),
    ("supervision", "bench_supervision.py", True),
    ("escalation", "bench_escalation.py", True),
    ("outputs", "bench_outputs.py", True),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50_000, help="the size: 5000, 50000 or 500000 tasks")
    parser.add_argument("--only", nargs="*", default=None, help="run these benches only (names as printed)")
    parser.add_argument("--all", action="store_true", help="also the older benches with sizes of their own")
    args = parser.parse_args()

    benches = CORE + (MORE if args.all else [])
    if args.only:
        wanted = {name.lower() for name in args.only}
        benches = [b for b in benches if b[0] in wanted or b[1].removesuffix(".py") in wanted]
        if not benches:
            parser.error(f"no bench called {', '.join(args.only)}; choose from {', '.join(b[0] for b in CORE + MORE)}")

    fd, results = tempfile.mkstemp(prefix="bench-", suffix=".jsonl")
    os.close(fd)
    env = {**os.environ, "BENCH_RESULTS": results, "PYTHONUNBUFFERED": "1"}
    failed, started = [], time.perf_counter()
    try:
        for name, script, sized in benches:
            command = [sys.executable, os.path.join(HERE, script), *(["--tasks", str(args.tasks)] if sized else [])]
            print(f"\n===== {name}: {' '.join(command[1:])}", flush=True)
            began = time.perf_counter()
            code = subprocess.call(command, env=env)
            print(f"===== {name}: exit {code} after {time.perf_counter() - began:.0f} s", flush=True)
            if code:
                failed.append(f"{name} (exit {code})")
        rows = report.read(results)
    finally:
        os.unlink(results)

    print(f"\n===== summary at {args.tasks:,} tasks ({time.perf_counter() - started:.0f} s in all)")
    print(report.table(rows))
    missed = [f"{r['group']}: {r['name']}" for r in rows if r["met"] is False]
    if missed:
        print("\ntargets not met: " + "; ".join(missed))
    if failed:
        print("\nfailed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
