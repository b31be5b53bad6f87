"""The one base of every API viewset: who may use the endpoint (the access policy,
accounts/policy.py, by URL name, role and method, through DEFAULT_PERMISSION_CLASSES),
what they may see (restrict(), applied to every queryset, so another agency's object is
simply not there and answers 404), what they may change on an object (check_write(), 403
only for an object they can see), and the Idempotency-Key handling of POST.

A viewset declares queryset, serializer_class, filterset_class and ordering_fields; what a
user may see is the model's own rule, `Model.objects.visible_to(user)`, which restrict()
applies unless the viewset says otherwise."""

from functools import cached_property

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, viewsets

from api import idempotency
from api.filters import MAX_ID
from core.scope import note_if_outside


class IdempotentMixin:
    """Idempotency-Key on POST (api.idempotency): checked once the request is authenticated,
    permitted and within its rate, kept when the response is final."""

    _idempotency = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency = idempotency.begin(request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def raise_uncaught_exception(self, exc):
        idempotency.release(self._idempotency)
        self._idempotency = None
        super().raise_uncaught_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency = self._idempotency, None
        if record is not None:
            idempotency.finish(record, response)
        return response


class ScopedViewSet(IdempotentMixin, viewsets.GenericViewSet):
    # Any id in the path reaches the view, which answers a JSON 404 for one that is not a
    # whole number in range (not Django's HTML page from an unmatched URL).
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return queryset.none()
        return self.restrict(queryset)

    def restrict(self, queryset: QuerySet) -> QuerySet:
        """`queryset` cut down to what the signed-in user may see: the model's rule."""
        return queryset.visible_to(self.request.user)

    def get_object(self):
        raw = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
            raise exceptions.NotFound()
        try:
            return super().get_object()
        except Http404:
            # The same 404 either way; an object that is there but not the caller's to see
            # is a refusal the audit trail records (audit.denials).
            note_if_outside(self.request, self.get_queryset(), **{self.lookup_field: raw})
            raise

    def check_write(self, allowed: bool, message: str) -> None:
        """Refuse a write on an object the user can see but may not change (403)."""
        if not allowed:
            raise exceptions.PermissionDenied(message)

    @cached_property
    def today(self):
        return timezone.localdate()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["view"] = self
        return context
