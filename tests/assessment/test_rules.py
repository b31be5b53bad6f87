"""Table tests of the scoring rules (assessment.rules): every building block, the reasons
people read, the weights of lead and co-owners, caps, totals and shared ranks."""

import datetime
from decimal import Decimal

import pytest

from assessment import rules
from assessment.rules import Block, Fact, ItemRole, Setting

D = datetime.date
DUE = D(2026, 5, 25)


@pytest.mark.parametrize(
    "sent_on, late, days_late, today, block, reason",
    [
        (D(2026, 5, 20), False, 0, D(2026, 6, 1), Block.REPORT_ON_TIME, "第3期（2026年5月）报告按时报送"),
        (DUE, False, 0, DUE, Block.REPORT_ON_TIME, "第3期（2026年5月）报告按时报送"),
        (D(2026, 5, 27), True, 2, D(2026, 6, 1), Block.REPORT_LATE, "第3期（2026年5月）报告逾期2个工作日报送"),
        # Late by the flag even when resent before the due day (the first sending was late).
        (D(2026, 5, 24), True, 0, D(2026, 6, 1), Block.REPORT_LATE, "第3期（2026年5月）报告逾期1个工作日报送"),
        (None, False, 0, D(2026, 5, 26), Block.REPORT_MISSING, "第3期（2026年5月）报告截至2026-05-25未报送"),
        # Sent after the day the score is taken: missing on that day.
        (D(2026, 6, 3), True, 6, D(2026, 6, 1), Block.REPORT_MISSING, "第3期（2026年5月）报告截至2026-05-25未报送"),
        (None, False, 0, DUE, None, None),  # not due yet
    ],
)
def test_report_rules(sent_on, late, days_late, today, block, reason):
    fact = rules.report_fact(
        cycle_number=3,
        cycle_label="2026年5月",
        due_on=DUE,
        first_sent_on=sent_on,
        late=late,
        days_late=days_late,
        today=today,
        task_id=1,
    )
    assert (fact.block, fact.reason) == (block, reason) if block else fact is None


@pytest.mark.parametrize(
    "comment, reason",
    [
        ("佐证材料不足，请补充", "第3期（2026年5月）报告被督查室退回：佐证材料不足，请补充"),
        ("", "第3期（2026年5月）报告被督查室退回"),
        ("很" * 60, "第3期（2026年5月）报告被督查室退回：" + "很" * 39 + "…"),
    ],
)
def test_return_rule(comment, reason):
    fact = rules.return_fact(cycle_number=3, cycle_label="2026年5月", day=D(2026, 5, 28), comment=comment)
    assert fact.block == Block.REPORT_RETURNED
    assert fact.reason == reason


@pytest.mark.parametrize(
    "sent_on, due_on, scored",
    [
        (D(2026, 6, 30), D(2026, 6, 30), True),
        (D(2026, 3, 1), D(2026, 6, 30), True),
        (D(2026, 7, 1), D(2026, 6, 30), False),
    ],
)
def test_close_out_rule(sent_on, due_on, scored):
    fact = rules.close_out_fact(sent_on=sent_on, due_on=due_on)
    if scored:
        assert fact.block == Block.CLOSED_ON_TIME
        assert fact.reason == f"按期完成并销号（完成时限{due_on:%Y-%m-%d}，{sent_on:%Y-%m-%d}报送完成）"
    else:
        assert fact is None


@pytest.mark.parametrize(
    "today, due_on, status, completed_on, overdue",
    [
        (D(2026, 12, 31), D(2026, 6, 30), "in_progress", None, True),
        (D(2026, 12, 31), D(2026, 6, 30), "lagging", None, True),
        (D(2026, 12, 30), D(2026, 6, 30), "in_progress", None, False),  # the year is not over
        (D(2026, 12, 31), D(2026, 6, 30), "closed", D(2026, 11, 1), False),
        (D(2026, 12, 31), D(2026, 6, 30), "closed", D(2027, 1, 5), True),  # finished after the year
        (D(2026, 12, 31), D(2026, 6, 30), "done", None, False),  # waiting for its close-out
        (D(2026, 12, 31), D(2027, 3, 31), "in_progress", None, False),  # due next year
    ],
)
def test_overdue_at_year_end_rule(today, due_on, status, completed_on, overdue):
    fact = rules.overdue_fact(
        year_end=D(2026, 12, 31), today=today, due_on=due_on, status=status, completed_on=completed_on
    )
    if overdue:
        assert fact.block == Block.OVERDUE_AT_YEAR_END
        assert fact.reason == f"完成时限{due_on:%Y-%m-%d}，至年底仍未完成"
    else:
        assert fact is None


@pytest.mark.parametrize(
    "level, block, points",
    [
        ("blue", Block.NOTICE_BLUE, Decimal("0")),
        ("yellow", Block.NOTICE_YELLOW, Decimal("-1")),
        ("red", Block.NOTICE_RED, Decimal("-2")),
    ],
)
def test_notice_rule_and_its_default_points(level, block, points):
    fact = rules.notice_fact(level=level, number="督办〔2026〕7号", issued_on=D(2026, 4, 1), agency_id=5)
    assert fact.block == block
    assert rules.DEFAULT_POINTS[block] == points
    assert fact.reason.endswith(" 督办〔2026〕7号")
    assert fact.agency_id == 5


def test_a_red_notice_reads_as_the_bureau_writes_it():
    fact = rules.notice_fact(level="red", number="督办〔2026〕7号", issued_on=D(2026, 4, 1), agency_id=5)
    assert fact.reason == "红色督办单 督办〔2026〕7号"


@pytest.mark.parametrize(
    "approved, filed_late, block, reason",
    [
        (True, False, Block.DELAY_IN_TIME, "到期前申请延期获批（原时限2026-06-30，批准至2026-09-30）"),
        (False, False, None, None),  # asked in time, not (yet) approved: nothing
        (True, True, Block.DELAY_LATE, "2026-07-03申请延期，原时限2026-06-30已过"),
        (False, True, Block.DELAY_LATE, "2026-07-03申请延期，原时限2026-06-30已过"),
    ],
)
def test_delay_rules(approved, filed_late, block, reason):
    fact = rules.delay_fact(
        approved=approved,
        filed_late=filed_late,
        filed_on=D(2026, 7, 3) if filed_late else D(2026, 6, 1),
        current_due_on=D(2026, 6, 30),
        approved_due_on=D(2026, 9, 30),
    )
    assert (fact.block, fact.reason) == (block, reason) if block else fact is None


@pytest.mark.parametrize(
    "value, is_attained, today, block, reason",
    [
        ("96%", True, D(2026, 12, 31), Block.INDICATOR_ATTAINED, "指标“覆盖率”达标：96%（目标不低于 95%）"),
        ("90%", False, D(2026, 12, 31), Block.INDICATOR_MISSED, "指标“覆盖率”未达标：90%（目标不低于 95%）"),
        (None, None, D(2026, 12, 31), Block.INDICATOR_MISSED, "指标“覆盖率”未报送数值（目标不低于 95%）"),
        ("96%", True, D(2026, 12, 30), None, None),  # judged on its due day, not before
    ],
)
def test_indicator_rules(value, is_attained, today, block, reason):
    fact = rules.indicator_fact(
        name="覆盖率",
        target_text="不低于 95%",
        value_text=value,
        is_attained=is_attained,
        due_on=D(2026, 12, 31),
        today=today,
    )
    assert (fact.block, fact.reason) == (block, reason) if block else fact is None


@pytest.mark.parametrize(
    "points, error",
    [
        (Decimal("5"), None),
        (Decimal("-5"), None),
        (Decimal("0.25"), None),
        (Decimal("5.01"), "领导评价分值须在-5至5分之间。"),
        (Decimal("-6"), "领导评价分值须在-5至5分之间。"),
        (Decimal("1.005"), "领导评价分值最多保留两位小数。"),
        (Decimal("NaN"), "领导评价分值须在-5至5分之间。"),
    ],
)
def test_evaluation_bounds(points, error):
    assert rules.check_evaluation_points(points) == error


def test_evaluation_reason_names_the_leader():
    fact = rules.evaluation_fact(
        agency_id=3, points=Decimal("2"), reason="主动作为\n成效明显", leader="王局长", day=D(2026, 12, 1)
    )
    assert fact.reason == "王局长评价：主动作为 成效明显"


# --- Scoring -------------------------------------------------------------------------------

LEAD, CO, OTHER = 1, 2, 3
OWNERS = {10: [(LEAD, "lead"), (CO, "co_owner")]}
WEIGHTS = {"lead": Decimal("1"), "co_owner": Decimal("0.5")}


def fact(block, **extra):
    return Fact(block=block, day=D(2026, 6, 1), reason="r", task_id=10, **extra)


@pytest.mark.parametrize(
    "block, expected",
    [
        # The task's outcome is every owner's, the co-owner at its weight.
        (Block.CLOSED_ON_TIME, [(LEAD, "lead", "3.00"), (CO, "co_owner", "1.50")]),
        (Block.OVERDUE_AT_YEAR_END, [(LEAD, "lead", "-3.00"), (CO, "co_owner", "-1.50")]),
        (Block.INDICATOR_ATTAINED, [(LEAD, "lead", "2.00"), (CO, "co_owner", "1.00")]),
        (Block.INDICATOR_MISSED, [(LEAD, "lead", "-2.00"), (CO, "co_owner", "-1.00")]),
        # The report and the delay are the lead's duty.
        (Block.REPORT_ON_TIME, [(LEAD, "lead", "1.00")]),
        (Block.REPORT_LATE, [(LEAD, "lead", "-1.00")]),
        (Block.REPORT_MISSING, [(LEAD, "lead", "-2.00")]),
        (Block.REPORT_RETURNED, [(LEAD, "lead", "-1.00")]),
        (Block.DELAY_IN_TIME, [(LEAD, "lead", "0.00")]),
        (Block.DELAY_LATE, [(LEAD, "lead", "-1.00")]),
    ],
)
def test_score_gives_each_block_to_its_owners(block, expected):
    items = rules.score([fact(block)], OWNERS, rules.default_settings(), WEIGHTS)
    assert [(i.agency_id, i.role, str(i.weighted)) for i in items] == expected


@pytest.mark.parametrize(
    "addressee, expected",
    [(LEAD, [(LEAD, "lead", "-2.00")]), (CO, [(CO, "co_owner", "-1.00")]), (OTHER, [(OTHER, "lead", "-2.00")])],
)
def test_score_gives_a_notice_to_its_addressee(addressee, expected):
    items = rules.score([fact(Block.NOTICE_RED, agency_id=addressee)], OWNERS, rules.default_settings(), WEIGHTS)
    assert [(i.agency_id, i.role, str(i.weighted)) for i in items] == expected


def test_score_takes_an_evaluation_at_its_own_points_unweighted():
    evaluation = Fact(Block.EVALUATION, D(2026, 12, 1), "r", agency_id=CO, points=Decimal("2.50"))
    [item] = rules.score([evaluation], OWNERS, rules.default_settings(), WEIGHTS)
    assert (item.agency_id, item.role, item.points, item.weighted) == (
        CO,
        ItemRole.AGENCY,
        Decimal("2.50"),
        Decimal("2.50"),
    )


def test_score_skips_a_disabled_block_and_uses_the_scheme_points():
    settings = rules.default_settings() | {
        Block.REPORT_ON_TIME: Setting(False, Decimal("1")),
        Block.REPORT_LATE: Setting(True, Decimal("-0.5")),
    }
    items = rules.score([fact(Block.REPORT_ON_TIME), fact(Block.REPORT_LATE)], OWNERS, settings, WEIGHTS)
    assert [(i.block, i.weighted) for i in items] == [(Block.REPORT_LATE, Decimal("-0.50"))]


def test_a_cap_keeps_every_event_but_stops_the_points():
    # given: four missing reports at -2 each, capped at 5 points a year
    settings = rules.default_settings() | {Block.REPORT_MISSING: Setting(True, Decimal("-2"), Decimal("5"))}
    facts = [Fact(Block.REPORT_MISSING, D(2026, m, 25), f"m{m}", task_id=10) for m in (3, 4, 5, 6)]
    # when
    items = rules.score(facts, OWNERS, settings, WEIGHTS)
    # then
    assert [str(i.weighted) for i in items] == ["-2.00", "-2.00", "-1.00", "0.00"]
    assert items[3].reason == "m6（本项已达上限5分）"


@pytest.mark.parametrize(
    "points, ranks",
    [
        ([5, 4, 3], [1, 2, 3]),
        ([5, 5, 3], [1, 1, 3]),
        ([5, 3, 3, 1], [1, 2, 2, 4]),
        ([0, 0, 0], [1, 1, 1]),
        ([], []),
    ],
)
def test_ties_share_a_rank(points, ranks):
    assert rules.ranks([Decimal(p) for p in points]) == ranks


def test_totals_split_lead_co_and_evaluation():
    items = rules.score(
        [fact(Block.CLOSED_ON_TIME), Fact(Block.EVALUATION, D(2026, 12, 1), "r", agency_id=CO, points=Decimal("1"))],
        OWNERS,
        rules.default_settings(),
        WEIGHTS,
    )
    totals = {t.agency_id: t for t in rules.totals(items, [LEAD, CO, OTHER])}
    assert (totals[LEAD].points, totals[LEAD].lead_points, totals[LEAD].co_points) == (Decimal("3"), Decimal("3"), 0)
    assert (totals[CO].points, totals[CO].co_points, totals[CO].evaluation_points) == (
        Decimal("2.5"),
        Decimal("1.5"),
        1,
    )
    assert totals[OTHER].points == 0


def test_every_block_has_default_points_and_a_chinese_label():
    for block in Block:
        assert block.value in rules.DEFAULT_POINTS
        assert str(block.label)


@pytest.mark.parametrize(
    "value, shown",
    [(Decimal("-22.00"), "-22"), (Decimal("0.50"), "0.5"), (Decimal("-0.00"), "0"), (Decimal("3"), "3"), (None, "")],
)
def test_points_read_as_people_write_them(value, shown):
    assert rules.points_text(value) == shown
