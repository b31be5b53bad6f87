"""Milestones: month, quarter and year-end steps fall on the last day of that period in the plan year."""

import pytest

from imports.parsing.milestones import find_milestones


@pytest.mark.parametrize(
    "text, due",
    [
        ("6月底前,各乡镇卫生院完成信息系统改造。", "2023-06-30"),
        ("2月底前完成年度考核方案。", "2023-02-28"),
        ("三季度末前建成预警平台。", "2023-09-30"),
        ("第一季度末完成摸底。", "2023-03-31"),
        ("年底前实现全覆盖。", "2023-12-31"),
        ("十一月底前完成评估。", "2023-11-30"),
        ("9月30日前完成验收。", "2023-09-30"),
        ("上半年完成招标。", "2023-06-30"),
    ],
)
def test_it_dates_steps_in_the_plan_year(text, due):
    found = find_milestones(text, 2023)
    assert [m["due"] for m in found] == [due]


def test_it_keeps_the_step_text():
    found = find_milestones("上线预约平台,9月底前,全县乡镇卫生院接入统一预约平台。", 2023)
    assert found == [{"due": "2023-09-30", "text": "全县乡镇卫生院接入统一预约平台"}]


@pytest.mark.parametrize(
    "text",
    ["年内达到全覆盖。", "每月开展一次督查。", "到2025年底建成率达到100%。", "以“9.29”世界心脏日为契机开展义诊。"],
)
def test_it_ignores_what_is_not_a_dated_step(text):
    assert find_milestones(text, 2023) == []


def test_it_leaves_due_empty_without_a_plan_year():
    assert find_milestones("6月底前完成。", None)[0]["due"] is None
