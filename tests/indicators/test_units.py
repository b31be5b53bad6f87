"""One formatting rule for a value and its unit (indicators.units), table-tested with every
unit the parser writes, and checked on the surfaces people read: pages, the notice's facts,
forms, model labels."""

import decimal

import pytest
from django.template import Context, Template

from escalation import facts
from imports.parsing import indicators as parsed_units
from imports.parsing.indicators import find_indicators
from indicators.models import Indicator
from indicators.services import target_text
from indicators.units import plain_number, unit_suffix, with_unit

D = decimal.Decimal

PARSER_UNITS = sorted(
    set(parsed_units.RATE_UNITS + parsed_units.COUNT_UNITS + parsed_units._TRAD_UNITS + parsed_units._EXTRA_UNITS)
)


@pytest.mark.parametrize(
    "value, unit, shown",
    [
        (D("8.0000"), "1/10万", "8/10万"),
        (D("7.5000"), "1/10万", "7.5/10万"),
        (D("12"), "1/万", "12/万"),
        (D("95.0000"), "%", "95%"),
        (D("4.5000"), "‰", "4.5‰"),
        (D("3.0900"), "", "3.09"),
        (D("100.0000"), "%", "100%"),
        (D("1E+2"), "个", "100个"),
        (D("0.5000"), "个百分点", "0.5个百分点"),
        (D("1500"), "张", "1500张"),
        (D("-2.5"), "个百分点", "-2.5个百分点"),
        (D("3.09"), "人/千人", "3.09人/千人"),
        (None, "1/10万", ""),
        ("", "%", ""),
    ],
)
def test_it_writes_a_value_with_its_unit_as_people_do(value, unit, shown):
    assert with_unit(value, unit) == shown


@pytest.mark.parametrize("unit", PARSER_UNITS)
def test_every_parser_unit_follows_its_number_without_a_glued_base(unit):
    shown = with_unit(D("8"), unit)
    if unit.startswith("1/"):
        # The rate's base "1" is the value's place: 8 per 10万, never "81/10万".
        assert shown == "8" + unit[1:]
        assert unit_suffix(unit) == unit[1:]
    else:
        assert shown == "8" + unit
        assert unit_suffix(unit) == unit


@pytest.mark.parametrize(
    "sentence",
    [
        "孕产妇死亡率控制在7/10万以内。",
        "孕产妇死亡率控制在9.5/10万以下。",
        "肺结核发病率降至28/10万以下。",
        "报告发病率控制在3/万以内。",
        "婴儿死亡率控制在4.5‰以内。",
        "每千人口执业（助理）医师数达到3.09人。",
        "居民健康素养水平提高2个百分点。",
        "签约率达到75%以上。",
    ],
)
def test_a_parsed_target_reads_back_as_the_plan_wrote_it(sentence):
    # given what the parser reads from a sentence
    found = find_indicators(sentence)
    assert found, sentence
    # then the value and unit, shown by the one rule, are the plan's own words
    for indicator in found:
        assert with_unit(D(str(indicator["target"])), indicator["unit"]) in sentence


def test_plain_number_never_shows_an_exponent_or_trailing_zeros():
    assert plain_number(D("1E+3")) == "1000"
    assert plain_number(D("3.0900")) == "3.09"
    assert plain_number(None) == ""


def test_the_surfaces_show_rates_the_same_way():
    # given a rate indicator as the parser imports it
    indicator = Indicator(name="孕产妇死亡率", comparator="<=", target=D("8.0000"), unit="1/10万")
    # then its label, its target sentence and the page filter all read 8/10万
    assert str(indicator) == "孕产妇死亡率 <= 8/10万"
    assert target_text(indicator) == "不高于 8/10万"
    page = Template("{% load indicator_format %}{{ v|with_unit:u }}|{{ u|unit_suffix }}").render(
        Context({"v": D("6.8"), "u": "1/10万"})
    )
    assert page == "6.8/10万|/10万"


def test_a_notices_facts_name_a_missed_rate_without_gluing_its_base():
    # given a notice's stored facts with a missed rate indicator
    data = {
        "as_of": "2026-06-01",
        "due_on": "2026-05-20",
        "percent": 40,
        "status_label": "滞后",
        "days_late": 0,
        "working_days_late": 0,
        "points_behind": 0,
        "missed_indicators": [
            {"name": "孕产妇死亡率", "target": "8", "comparator": "不高于", "value": "9.2", "unit": "1/10万"},
            {"name": "签约率", "target": "75", "comparator": "不低于", "value": None, "unit": "%"},
        ],
    }
    # when the notice prints them
    text = facts.text(data)
    # then
    assert "最新值为9.2/10万，未达到目标（不高于8/10万）" in text
    assert "尚无填报值（目标不低于75%）" in text
    assert "81/10万" not in text and "9.21/10万" not in text
