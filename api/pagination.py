"""Pages of every list: `page` and `page_size` (default 50, at most 200)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class PagePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数（默认 50，最多 200）。")
    invalid_page_message = _("页码无效：没有这一页。")
