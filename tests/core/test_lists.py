"""core.lists: a page of an ordered list of ids and its count, in one statement."""

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Agency
from core.lists import CountingPaginator, Keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def agencies():
    return [Agency.objects.create(name=f"单位{n:02d}", order=n).pk for n in range(23)]


def keys(ids):
    return Agency.objects.filter(pk__in=ids).order_by("order", "id").values_list("pk", flat=True)


def test_a_page_and_the_count_come_from_one_statement(agencies):
    paginator = CountingPaginator(Keys(keys(agencies)), 10)
    with CaptureQueriesContext(connection) as captured:
        page = paginator.get_page("2")
        total, pages = paginator.count, paginator.num_pages
    assert len(captured.captured_queries) == 1
    assert list(page.object_list) == agencies[10:20]
    assert (total, pages) == (23, 3)
    assert page.has_previous() and page.has_next() and page.start_index() == 11


def test_the_last_page_is_short_and_a_page_past_the_end_is_the_last(agencies):
    paginator = CountingPaginator(Keys(keys(agencies)), 10)
    assert list(paginator.get_page(3).object_list) == agencies[20:]
    for asked in (4, 99, 0, -1):
        page = CountingPaginator(Keys(keys(agencies)), 10).get_page(asked)
        assert (page.number, list(page.object_list)) == (3, agencies[20:])
    with pytest.raises(EmptyPage):
        CountingPaginator(Keys(keys(agencies)), 10).page(4)


def test_a_page_that_is_not_a_number_is_the_first(agencies):
    for asked in ("abc", None, "1.5", ""):
        page = CountingPaginator(Keys(keys(agencies)), 10).get_page(asked)
        assert (page.number, list(page.object_list)) == (1, agencies[:10])


def test_an_empty_list_has_one_empty_page():
    paginator = CountingPaginator(Keys(keys([])), 10)
    page = paginator.get_page(3)
    assert (page.number, list(page.object_list), paginator.count, paginator.num_pages) == (1, [], 0, 1)


def test_it_refuses_a_distinct_list_whose_count_would_include_duplicates(agencies):
    with pytest.raises(ValueError, match="DISTINCT"):
        Keys(keys(agencies).distinct())
