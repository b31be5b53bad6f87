"""How every list page lists: a FilterSet over the page's queryset (its form is the page's
filter form) and one page of the result from Django's paginator. Views call `listing`."""

import dataclasses

from django.core.paginator import Page, Paginator
from django_filters import FilterSet


@dataclasses.dataclass
class Listing:
    filters: FilterSet  # the FilterSet; its .form is what the page shows and validates
    page: Page

    @property
    def invalid(self) -> bool:
        """Filters that do not validate list nothing: the page answers 400 with the form."""
        return bool(self.filters.form.errors)


def listing(request, filterset_class, queryset, *, per_page: int, **filterset_kwargs) -> Listing:
    """The page of `queryset` that `request`'s ?filters and ?page ask for. A page past the
    end is the last one; invalid filters list nothing and leave the errors on the form."""
    filters = filterset_class(request.GET or None, queryset=queryset, request=request, **filterset_kwargs)
    rows = queryset.none() if filters.is_bound and not filters.is_valid() else filters.qs
    return Listing(filters, Paginator(rows, per_page).get_page(request.GET.get("page")))
