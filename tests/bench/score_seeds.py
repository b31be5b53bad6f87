"""Parse every shared seed plan, score it against the gold parses and print figures and timings.

usage: .venv/bin/python tests/bench/score_seeds.py [--quiet] [--min KEY=VALUE ...]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("WORKPLANS_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SEEDS = os.path.join(SHARED, "seeds")
GOLD = os.path.join(SHARED, "gold")
SCORER = os.path.join(SHARED, "tools", "score_import.py")


def pairs_available():
    return os.path.isdir(SEEDS) and os.path.isdir(GOLD) and os.path.isfile(SCORER)


REPEATS = 5


def _timed(func, *args):
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


def parse_seeds(out_dir):
    """Write one prediction per seed into out_dir; returns [(gold, pred, seconds)]."""
    sys.path.insert(0, ROOT)
    from django.conf import settings

    if not settings.configured:  # the parser's messages go through gettext: their source text will do
        settings.configure(USE_I18N=False)
    from imports.parsing import parse_file

    done = []
    for name in sorted(os.listdir(SEEDS)):
        stem = os.path.splitext(name)[0]
        gold = os.path.join(GOLD, stem + ".json")
        if not os.path.isfile(gold):
            continue
        path = os.path.join(SEEDS, name)
        doc = parse_file(path)  # also warms up: library imports are not parse time
        seconds = statistics.median(_timed(parse_file, path) for _ in range(REPEATS))
        pred = os.path.join(out_dir, stem + ".json")
        with open(pred, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, ensure_ascii=False, indent=1)
        done.append((gold, pred, seconds))
    return done


def run(extra_args=()):
    """(exit code, scorer output, timings)."""
    with tempfile.TemporaryDirectory() as out_dir:
        done = parse_seeds(out_dir)
        args = [a for g, p, _ in done for a in (g, p)]
        result = subprocess.run([sys.executable, SCORER, *args, *extra_args], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr, [(os.path.basename(g), s) for g, _, s in done]


def overall(output):
    """The scorer's overall figures as a dict."""
    line = next(row for row in output.splitlines() if row.startswith("overall "))
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:] if "=" in kv and kv[0] != "F")}


def main(argv):
    if not pairs_available():
        print(f"skipped: shared seeds, gold files or scorer not found under {SHARED}")
        return 0
    code, output, timings = run(argv)
    print(output.rstrip())
    print()
    for name, seconds in timings:
        size = os.path.getsize(os.path.join(SEEDS, os.path.splitext(name)[0] + ".txt")) / 1024
        print(f"parse time {name:32s} {size:5.1f} KB {seconds * 1000:7.1f} ms (median of {REPEATS})")
    print("parse time total %.1f ms" % (sum(s for _, s in timings) * 1000))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
