"""Owner names as plans write them resolve to agencies, or stay unmatched: never a guess."""

import pytest

from accounts.choices import AgencyLevel, MatchMethod
from accounts.models import Agency, AgencyAlias
from imports.services import AgencyMatcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def districts(commission):
    return [
        Agency.objects.create(
            name="东坪区卫生健康局", short_name="东坪区卫健局", level=AgencyLevel.DISTRICT, parent=commission
        ),
        Agency.objects.create(
            name="南湾区卫生健康局", short_name="南湾区卫健局", level=AgencyLevel.DISTRICT, parent=commission
        ),
    ]


@pytest.fixture
def matcher(commission, agency_a, agency_b, outside_agency, districts):
    AgencyAlias.objects.create(agency=commission, name="市卫健委")
    return AgencyMatcher.load()


def test_it_matches_the_full_name(matcher, agency_a):
    # when
    match = matcher.match("医政医管处")
    # then
    assert match.agency == agency_a
    assert match.method == MatchMethod.NAME


def test_it_matches_the_short_name(matcher, commission):
    match = matcher.match("市卫生健康委")
    assert match.agency == commission
    assert match.method == MatchMethod.SHORT_NAME


def test_it_matches_an_alias(matcher, commission):
    match = matcher.match("市卫健委")
    assert match.agency == commission
    assert match.method == MatchMethod.ALIAS


@pytest.mark.parametrize("written", ["市衛生健康委", "醫政醫管處", "市 卫生健康委 ", "市衛健委"])
def test_it_matches_across_scripts_and_spacing(matcher, commission, agency_a, written):
    # given a traditional-script or spaced spelling
    # when
    match = matcher.match(written)
    # then
    assert match.agency in (commission, agency_a)
    assert match.method in (MatchMethod.SCRIPT, MatchMethod.SHORT_NAME)


def test_it_folds_full_width_characters(matcher, commission):
    commission.short_name = "市卫生健康委(本级)"
    commission.save()
    matcher = AgencyMatcher.load()
    assert matcher.match("市卫生健康委（本级）").agency == commission


def test_it_reads_weiyuanhui_and_wei_as_the_same_body(matcher, commission):
    # given the agency's full name ends in 委员会 and the plan writes 委
    match = matcher.match("测试市卫生健康委")
    assert match.agency == commission
    assert match.method == MatchMethod.SHORT_FORM


def test_it_matches_a_name_without_the_city(matcher, outside_agency):
    # given 测试市医疗保障局, written in its own city's plan as 市医疗保障局
    match = matcher.match("市医疗保障局")
    assert match.agency == outside_agency
    assert match.method == MatchMethod.SHORT_FORM


def test_it_matches_the_city_less_full_committee_name(matcher, commission):
    assert matcher.match("市卫生健康委员会").agency == commission


def test_it_never_matches_another_citys_agency(matcher):
    # the city name is dropped only on the agency side: 白沙市 is not 测试市
    match = matcher.match("白沙市卫生健康委")
    assert match.agency is None
    assert match.method == MatchMethod.NONE


def test_it_leaves_a_name_shared_by_two_agencies_unmatched_with_candidates(matcher, districts):
    # given two districts whose names both shorten to 区卫生健康局
    match = matcher.match("区卫生健康局")
    # then no guess, but both offered
    assert match.agency is None
    assert match.method == MatchMethod.AMBIGUOUS
    assert set(match.candidates) == set(districts)


def test_it_leaves_unknown_names_unmatched(matcher):
    match = matcher.match("市文化广电旅游局")
    assert not match.matched
    assert match.method == MatchMethod.NONE
    assert match.candidates == ()


def test_it_leaves_empty_names_unmatched(matcher):
    assert matcher.match("  ").method == MatchMethod.NONE


def test_it_prefers_the_exact_name_over_looser_forms(commission):
    # given another agency whose alias folds to the same key as commission's name
    other = Agency.objects.create(name="测试市卫生健康委員會")
    matcher = AgencyMatcher.load()
    assert matcher.match("测试市卫生健康委员会").agency == commission
    assert matcher.match("测试市卫生健康委員會").agency == other


def test_it_loads_agencies_and_aliases_in_two_queries(commission, agency_a, django_assert_num_queries):
    for i in range(30):
        agency = Agency.objects.create(name=f"测试单位{i}号", short_name=f"单位{i}")
        AgencyAlias.objects.create(agency=agency, name=f"别名{i}")
    # when / then: loading is two queries, matching any number of names is none
    with django_assert_num_queries(2):
        matcher = AgencyMatcher.load()
        results = [matcher.match(f"单位{i}") for i in range(30)] + [matcher.match("別名3")]
    assert all(r.matched for r in results)
