"""How every list page lists: a FilterSet over the page's queryset (its form is the page's
filter form) and one page of the result from Django's paginator. Views call `listing`."""

import dataclasses

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django_filters import FilterSet

TOTAL = "listing_total"


class Keys:
    """An ordered queryset of ids (`values_list("pk", flat=True)`), read a page at a time
    with the total beside each id (COUNT(*) OVER (), counted before LIMIT): one statement
    for the page and the count. Finding a page scans and sorts the whole filtered scope
    anyway; a COUNT of its own scanned it a second time (an agency with 58,000 tasks: 50 ms
    of 我的任务 at 500,000 tasks). Not for DISTINCT querysets: the window would count the
    duplicates."""

    def __init__(self, keys: QuerySet):
        if keys.query.distinct:
            raise ValueError("Keys counts with a window function, which DISTINCT would not dedupe")
        self.keys = keys

    @property
    def order_by(self) -> tuple:
        return tuple(self.keys.query.order_by)

    def count(self) -> int:
        return self.keys.count()

    def window(self, bottom: int, top: int) -> tuple[list, int | None]:
        """The ids from `bottom` to `top`, and the total (None when there are no such ids)."""
        counted = self.keys.values_list("pk").annotate(**{TOTAL: Window(Count("pk"))}).values_list("pk", TOTAL)
        found = list(counted[bottom:top])
        return [pk for pk, _ in found], (found[0][1] if found else None)


class CountingPaginator(Paginator):
    """Django's paginator over an object list that reads a page and the total together
    (`window(bottom, top) -> (items, total)`: Keys, tasks.filters.PagedByKeys). A COUNT runs
    only for a page past the end, which has no row to carry the total. No orphans."""

    def __init__(self, object_list, per_page, allow_empty_first_page: bool = True):
        super().__init__(object_list, per_page, orphans=0, allow_empty_first_page=allow_empty_first_page)

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        items, total = self.object_list.window(bottom, bottom + self.per_page)
        if total is None:
            # No rows here: the list is empty, or the page is past its end.
            self.__dict__["count"] = 0 if number == 1 else self.object_list.count()
            if number > 1 or not self.allow_empty_first_page:
                raise EmptyPage(self.error_messages["no_results"])
        else:
            self.__dict__["count"] = total  # Paginator.count is a cached_property
        return self._get_page(items, number, self)

    def get_page(self, number):
        """As Paginator.get_page (not a number: the first page; past the end: the last),
        without counting first: the page carries the count."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)


@dataclasses.dataclass
class Listing:
    filters: FilterSet  # the FilterSet; its .form is what the page shows and validates
    page: Page

    @property
    def invalid(self) -> bool:
        """Filters that do not validate list nothing: the page answers 400 with the form."""
        return bool(self.filters.form.errors)


def listing(
    request, filterset_class, queryset, *, per_page: int, keys_only: bool = False, **filterset_kwargs
) -> Listing:
    """The page of `queryset` that `request`'s ?filters and ?page ask for. A page past the
    end is the last one; invalid filters list nothing and leave the errors on the form.
    `keys_only`: `queryset` is an ordered queryset of ids, paged with its count in one
    statement (Keys); the page's object_list is then the ids of the page, in order."""
    filters = filterset_class(request.GET or None, queryset=queryset, request=request, **filterset_kwargs)
    rows = queryset.none() if filters.is_bound and not filters.is_valid() else filters.qs
    paginator = CountingPaginator(Keys(rows), per_page) if keys_only else Paginator(rows, per_page)
    return Listing(filters, paginator.get_page(request.GET.get("page")))
