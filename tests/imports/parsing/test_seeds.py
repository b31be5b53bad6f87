"""The shared seed plans parse to at least the scorer figures reached so far."""

import importlib.util
import os

import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "score_seeds.py")

# The acceptance floors the parser was first held to, raised where it already does better
# (all 1.000 and name similarity 0.83 when this was set). Timing lives in tests/bench.
FLOORS = {
    "task_f1": 0.99,
    "heading_acc": 0.95,
    "section_f1": 0.97,
    "owner_f1": 0.97,
    "lead_acc": 0.97,
    "indicator_f1": 0.92,
    "indicator_name_sim": 0.75,
    "indicator_due_acc": 0.9,
    "milestone_r": 1.0,
    "meta_acc": 0.9,
}


def _bench():
    spec = importlib.util.spec_from_file_location("score_seeds", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_scores_the_shared_seeds_above_the_floor():
    bench = _bench()
    if not bench.pairs_available():
        pytest.skip(f"shared seeds/gold/scorer not available at {bench.SHARED}")
    code, output, _timings = bench.run(["--quiet"])
    assert code == 0, output
    figures = bench.overall(output)
    low = {k: figures.get(k) for k, floor in FLOORS.items() if figures.get(k, 0.0) < floor}
    assert not low, output
