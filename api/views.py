"""The /api/tokens/ page: a user's own API tokens, made (the key shown once) and revoked."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.filters import ApiTokenPageFilterSet
from api.forms import ApiTokenForm
from api.models import ApiToken
from core.lists import listing
from core.scope import get_visible_or_404

TOKENS_PER_PAGE = 30


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    issued = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # The key goes straight into this answer (never a redirect: it would have to be
            # stored somewhere to be shown on the next page).
            try:
                issued, key = ApiToken.issue(request.user, form.cleaned_data["name"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                issued.key = key
                form = ApiTokenForm()
        if form.errors:
            status = 400
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    found = listing(request, ApiTokenPageFilterSet, tokens, per_page=TOKENS_PER_PAGE)
    context = {
        "form": form,
        "issued": issued,
        "page": found.page,
        "filters": found.filters,
        "token_days": settings.API_TOKEN_DAYS,
    }
    return render(request, "api/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_visible_or_404(request, ApiToken.objects.filter(user=request.user), pk=pk)
    if token.revoke():
        messages.success(request, _("令牌“%(name)s”已撤销。") % {"name": token.name})
    return redirect("api:token_list")


def not_found(request, *args, **kwargs):
    """Any path under /api/v1/ that is no endpoint: the API's JSON 404, not the site's page."""
    return JsonResponse({"detail": _("未找到。"), "code": "not_found"}, status=404)
