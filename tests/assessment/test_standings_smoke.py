"""The bulletin's interface: standings() of a plan, with and without a scheme."""

import datetime
from decimal import Decimal

from assessment import services
from assessment.choices import SchemeState
from tests.fixtures.tasks import make_task


def test_it_is_empty_without_a_scheme(plan):
    assert services.standings(plan) == []


def test_it_ranks_the_owners_of_the_plan(plan, section, agency_a, agency_b, admin_user):
    # given: one task led by A, co-owned by B, overdue at the year's end
    make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=datetime.date(2026, 6, 30))
    scheme = services.create_scheme(plan, admin_user)
    services.set_state(scheme.pk, admin_user, version=scheme.version, state=SchemeState.ACTIVE)
    # when
    ranking = services.standings(plan, until=datetime.date(2026, 12, 31))
    # then: B loses half of what A loses, so B ranks first
    assert [(s.rank, s.agency_id) for s in ranking] == [(1, agency_b.pk), (2, agency_a.pk)]
    assert ranking[1].lead_points < 0
    assert ranking[0].co_points == Decimal("-1.50")
