"""Attainment is direction-aware: "at least" targets are met at or above, "at most" targets
at or below, "equal" targets exactly; nothing reported is neither met nor missed."""

from decimal import Decimal

import pytest

from indicators.services import attained


@pytest.mark.parametrize(
    "comparator, target, value, expected",
    [
        # 每千人口医师数达到 3.09: at least
        (">=", "3.09", "3.10", True),
        (">=", "3.09", "3.09", True),  # the boundary meets
        (">=", "3.09", "3.0899", False),
        (">=", "0", "0", True),
        # 孕产妇死亡率控制在 7/10万以内: at most
        ("<=", "7", "6.8", True),
        ("<=", "7", "7", True),  # the boundary meets
        ("<=", "7", "7.0001", False),
        ("<=", "0", "0", True),
        # an exact target
        ("=", "100", "100.0000", True),
        ("=", "100", "99.9999", False),
        ("=", "100", "100.0001", False),
        # nothing reported yet
        (">=", "3.09", None, None),
        ("<=", "7", None, None),
    ],
)
def test_it_judges_attainment_by_direction(comparator, target, value, expected):
    assert attained(comparator, Decimal(target), None if value is None else Decimal(value)) is expected


@pytest.mark.parametrize(
    "comparator, value, expected",
    [
        (">=", "3.09", "met"),
        (">=", "3.08", "missed"),
        ("<=", "7", "met"),
        ("<=", "7.1", "missed"),
        ("=", "7", "met"),
        ("=", "7.0001", "missed"),
        ("=", None, None),
    ],
)
def test_the_dashboard_counts_agree_with_the_rule(db, plan, staff_a, comparator, value, expected):
    """The SQL the dashboard counts with (indicators.services.attainment_counts: attained_q
    over each indicator's latest value) gives the same answer as attained()."""
    import datetime

    from dashboards.services import _attainment_counts, scoped_tasks
    from indicators.models import Indicator, Reading
    from tests.conftest import make_task

    task = make_task(plan, None, "1", lead=staff_a.agency)
    target = Decimal("3.09") if comparator == ">=" else Decimal("7")
    indicator = Indicator.objects.create(task=task, name="指标", comparator=comparator, target=target)
    if value is not None:
        Reading.objects.create(
            indicator=indicator, value=Decimal(value), as_of=datetime.date(2026, 6, 1), reporter=staff_a
        )
    met, missed, unreported = _attainment_counts(scoped_tasks(None, plan.year))
    assert {"met": (1, 0, 0), "missed": (0, 1, 0), None: (0, 0, 1)}[expected] == (met, missed, unreported)
    python = attained(comparator, target, None if value is None else Decimal(value))
    assert {True: "met", False: "missed", None: None}[python] == expected


def test_the_counts_judge_the_latest_reading_a_correction_included(db, plan, staff_a):
    import datetime

    from indicators.models import Indicator, Reading
    from indicators.services import attainment_counts, correct_reading
    from tests.conftest import make_task

    # given a target met in June and missed in September (the latest)
    task = make_task(plan, None, "1", lead=staff_a.agency)
    indicator = Indicator.objects.create(task=task, name="指标", comparator=">=", target=Decimal("10"))
    Reading.objects.create(indicator=indicator, value=12, as_of=datetime.date(2026, 6, 30), reporter=staff_a)
    september = Reading.objects.create(indicator=indicator, value=8, as_of=datetime.date(2026, 9, 30), reporter=staff_a)
    indicators = Indicator.objects.filter(pk=indicator.pk)
    assert attainment_counts(indicators) == (0, 1, 0)
    # when September's value is corrected
    correct_reading(september.pk, staff_a, value="11", as_of="", reason="录入错误", today=datetime.date(2026, 10, 8))
    # then the correction is what counts
    assert attainment_counts(indicators) == (1, 0, 0)
