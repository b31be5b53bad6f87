"""Assessment (考核): scores per agency from the year's events, the ranking, the freeze.

The interface other apps rely on (the bulletin's ranking reads `standings`) is fixed here
first; the assessment work fills it in."""

import dataclasses
import datetime
import decimal


@dataclasses.dataclass(frozen=True)
class Standing:
    """One agency's place in a plan's ranking up to a day."""

    rank: int
    agency_id: int
    agency_name: str
    points: decimal.Decimal
    lead_points: decimal.Decimal
    co_points: decimal.Decimal


def standings(plan, *, until: datetime.date | None = None, agency_ids: set[int] | None = None) -> list[Standing]:
    """The agencies of `plan` (those in `agency_ids` when given) ranked by points earned up
    to `until` (the frozen result once the year is frozen); empty when the plan has no
    scheme. Ties share a rank."""
    raise NotImplementedError
