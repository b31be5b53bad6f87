"""Three agencies over a year with known events: the ranking, and every point's reason."""

from decimal import Decimal as Dec

import pytest

from assessment import services
from assessment.choices import SchemeState
from tests.assessment.scenario import YEAR_END, build_year


@pytest.fixture
def year(plan, section, agency_a, agency_b, commission, staff_a, supervisor, leader, admin_user):
    return build_year(plan, section, agency_a, agency_b, commission, staff_a, supervisor, leader, admin_user)


def expected_items(year):
    a, b, c = year.agency_a.pk, year.agency_b.pk, year.agency_c.pk
    return sorted(
        [
            # A, lead of T1
            (a, "lead", "report_on_time", "1.00", "第1期（2026年第1季度）报告按时报送"),
            (a, "lead", "report_on_time", "1.00", "第2期（2026年第2季度）报告按时报送"),
            (a, "lead", "closed_on_time", "3.00", "按期完成并销号（完成时限2026-06-30，2026-06-28报送完成）"),
            (a, "lead", "indicator_attained", "2.00", "指标“签约覆盖率”达标：96%（目标不低于 95%）"),
            # B, co-owner of T1 (half weight)
            (b, "co_owner", "closed_on_time", "1.50", "按期完成并销号（完成时限2026-06-30，2026-06-28报送完成）"),
            (b, "co_owner", "indicator_attained", "1.00", "指标“签约覆盖率”达标：96%（目标不低于 95%）"),
            # B, lead of T2
            (b, "lead", "report_late", "-1.00", "第1期（2026年第1季度）报告逾期2个工作日报送"),
            (b, "lead", "report_on_time", "1.00", "第2期（2026年第2季度）报告按时报送"),
            (b, "lead", "report_returned", "-1.00", "第2期（2026年第2季度）报告被督查室退回：佐证材料不足，请补充"),
            (b, "lead", "report_missing", "-2.00", "第3期（2026年第3季度）报告截至2026-09-25未报送"),
            (b, "lead", "report_missing", "-2.00", "第4期（2026年第4季度）报告截至2026-12-25未报送"),
            (b, "lead", "delay_in_time", "0.00", "到期前申请延期获批（原时限2026-06-30，批准至2026-09-30）"),
            (b, "lead", "overdue_year_end", "-3.00", "完成时限2026-09-30，至年底仍未完成"),
            (b, "lead", "notice_yellow", "-1.00", "黄色督办单 督办〔2026〕1号"),
            (b, "lead", "notice_red", "-2.00", "红色督办单 督办〔2026〕2号"),
            # C, co-owner of T2
            (c, "co_owner", "overdue_year_end", "-1.50", "完成时限2026-09-30，至年底仍未完成"),
            # C, lead of T3
            (c, "lead", "report_on_time", "1.00", "第1期（2026年第1季度）报告按时报送"),
            (c, "lead", "report_on_time", "1.00", "第2期（2026年第2季度）报告按时报送"),
            (c, "lead", "report_on_time", "1.00", "第3期（2026年第3季度）报告按时报送"),
            (c, "lead", "report_on_time", "1.00", "第4期（2026年第4季度）报告按时报送"),
            (c, "lead", "delay_late", "-1.00", "2026-04-02申请延期，原时限2026-03-31已过"),
            (c, "lead", "notice_blue", "0.00", "蓝色督办单 督办〔2026〕3号"),
            (c, "lead", "indicator_missed", "-2.00", "指标“孕产妇死亡率”未达标：8/10万（目标不高于 7/10万）"),
            (c, "lead", "closed_on_time", "3.00", "按期完成并销号（完成时限2026-12-31，2026-12-20报送完成）"),
            # C, the leader's evaluation
            (c, "agency", "evaluation", "1.00", "leader评价：主动作为，成效明显"),
        ]
    )


def as_rows(items):
    return sorted((s.item.agency_id, s.item.role, s.item.block, str(s.item.weighted), s.item.reason) for s in items)


def test_it_scores_every_event_of_the_year_with_its_reason(year):
    # when
    outcome = services.result(year.plan, until=YEAR_END)
    # then: every point, and nothing else (no unit-head return, no cancelled notice, no
    # report owed after a task was finished)
    assert as_rows(outcome.items) == expected_items(year)


def test_it_ranks_the_three_agencies(year):
    # when
    ranking = services.standings(year.plan, until=YEAR_END)
    # then: A 7; C 4 as lead, −1.5 as co-owner, +1 from the leader; B −11 as lead, +2.5 as co-owner
    assert [(s.rank, s.agency_name, s.points, s.lead_points, s.co_points, s.evaluation_points) for s in ranking] == [
        (1, "医政医管处", Dec("7.00"), Dec("7.00"), Dec("0"), Dec("0")),
        (2, "规划发展处", Dec("3.50"), Dec("4.00"), Dec("-1.50"), Dec("1.00")),
        (3, "疾病预防控制处", Dec("-8.50"), Dec("-11.00"), Dec("2.50"), Dec("0")),
    ]


def test_it_counts_only_what_happened_by_the_day_asked(year):
    # when: the ranking as it stood on 30 June
    outcome = services.result(year.plan, until=YEAR_END.replace(month=6, day=30))
    # then: no year-end items, no Q3 report yet, the indicators not judged yet
    blocks = {s.item.block for s in outcome.items}
    assert "overdue_year_end" not in blocks
    assert "indicator_attained" not in blocks
    assert not [s for s in outcome.items if "第3期" in s.item.reason]


def test_a_cycle_shows_its_own_items(year):
    # when: the third quarter
    outcome = services.result(year.plan, until=YEAR_END, cycle_start=YEAR_END.replace(month=7, day=1))
    # then
    assert as_rows(outcome.items) == sorted(
        [
            (year.agency_b.pk, "lead", "report_missing", "-2.00", "第3期（2026年第3季度）报告截至2026-09-25未报送"),
            (year.agency_c.pk, "lead", "report_on_time", "1.00", "第3期（2026年第3季度）报告按时报送"),
            (year.agency_c.pk, "lead", "notice_blue", "0.00", "蓝色督办单 督办〔2026〕3号"),
        ]
    )


def test_the_frozen_year_reads_its_stored_result_and_never_changes(year, admin_user, staff_a):
    # given: the year frozen
    services.freeze(year.scheme.pk, admin_user, version=year.scheme.version, until=YEAR_END)
    before = services.standings(year.plan)
    # when: something changes afterwards (a late notice to A)
    from tests.assessment.scenario import notice

    notice(year.t1, year.agency_a, "red", 9, YEAR_END, admin_user)
    # then: the ranking and the items are those stored at the freeze
    year.scheme.refresh_from_db()
    assert year.scheme.state == SchemeState.FROZEN
    assert services.standings(year.plan) == before
    assert [s.rank for s in before] == [1, 2, 3]
    assert as_rows(services.result(year.plan).items) == expected_items(year)
