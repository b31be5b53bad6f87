"""The one rule of "an agency that owns tasks but has nobody to report them": which owner
agencies have no active staff account. The plan's activation check and the agency tree
both ask it."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from accounts.models import Agency, User
from core.roles import Role


def agencies_without_staff(agency_ids: Iterable[int]) -> list[Agency]:
    """The agencies among `agency_ids` with no active staff account, by name (one query)."""
    staffed = User.objects.filter(agency_id=OuterRef("pk"), is_active=True, role=Role.STAFF)
    return list(Agency.objects.filter(pk__in=list(agency_ids)).exclude(Exists(staffed)).order_by("order", "name"))
