"""The one base of every API viewset: who may use the endpoint (the access policy,
accounts/policy.py, by URL name, role and method), what they may see
(restrict(), applied to every queryset, so another agency's object is simply not there and
answers 404), what they may change on an object (check_write(), 403 only for an object they
can see), and the Idempotency-Key handling of POST.

A viewset declares queryset, serializer_class, filterset_class, ordering_fields and its
restrict(); the rules themselves live in the apps' services (tasks.services.task_access)."""

from functools import cached_property

from django.db.models import QuerySet, Value
from django.utils import timezone
from rest_framework import exceptions, viewsets

from accounts.choices import Role
from accounts.policy import PolicyPermission
from api import idempotency
from api.filters import MAX_ID
from tasks.models import Task
from tasks.services import scope_agency_ids, visible_tasks


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
    # Who may use the endpoint at all: the policy's rule for this URL name and method.
    permission_classes = [PolicyPermission]
    # Any id in the path reaches the view, which answers a JSON 404 for one that is not a
    # whole number in range (not Django's HTML page from an unmatched URL).
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return queryset.none()
        return self.restrict(queryset)

    def restrict(self, queryset: QuerySet) -> QuerySet:
        """`queryset` cut down to what the signed-in user may see."""
        raise NotImplementedError

    def get_object(self):
        raw = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
            raise exceptions.NotFound()
        return super().get_object()

    def check_write(self, allowed: bool, message: str) -> None:
        """Refuse a write on an object the user can see but may not change (403)."""
        if not allowed:
            raise exceptions.PermissionDenied(message)

    @cached_property
    def today(self):
        return timezone.localdate()

    @cached_property
    def scope(self) -> set[int] | None:
        """The agencies whose work the user reads (None: all, for admins)."""
        return scope_agency_ids(self.request.user)

    def visible_tasks(self, tasks: QuerySet[Task] | None = None) -> QuerySet[Task]:
        """The tasks (of `tasks`) the user may open, with `is_lead`, by the task pages' rule
        (tasks.services.visible_tasks), except that admins also see drafts: the task page of
        a draft is theirs too."""
        if self.request.user.role == Role.ADMIN:
            tasks = Task.objects.all() if tasks is None else tasks
            return tasks.annotate(is_lead=Value(False))
        return visible_tasks(self.request.user, scope=self.scope, tasks=tasks)

    def visible_plan_ids(self) -> QuerySet:
        """A subquery of the plans the user may see: those with a task they may open."""
        from workplans.models import Plan

        if self.request.user.role == Role.ADMIN:
            return Plan.objects.values("pk")
        return self.visible_tasks().values("plan_id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["view"] = self
        return context
