"""Fetching one object by id within what the user may see: an object outside the user's
scope answers the same 404 as one that does not exist (no id leaks), and the request is
marked so the refusal is recorded as a security event (audit.denials) while a mistyped id
is not."""

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

M = TypeVar("M", bound=Model)


def mark_denied_by_scope(request) -> None:
    """Mark the request (the Django request under DRF's) as refused by an object's scope."""
    (getattr(request, "_request", None) or request).denied_by_scope = True


def exists_outside(visible: QuerySet, **lookup) -> bool:
    """Whether an object matching `lookup` exists that `visible` leaves out. One query."""
    model = visible.model
    try:
        return model._default_manager.filter(**lookup).exclude(pk__in=visible.values("pk")).exists()
    except (TypeError, ValueError, ValidationError):
        return False


def note_if_outside(request, visible: QuerySet, **lookup) -> None:
    """After a lookup in `visible` found nothing: mark the request when the object is there
    but out of scope. Only ever called on the 404 path, so a found object costs nothing."""
    if request is not None and exists_outside(visible, **lookup):
        mark_denied_by_scope(request)


def get_visible_or_404(request, visible: QuerySet[M], **lookup) -> M:
    """django.shortcuts.get_object_or_404 over `visible` (a queryset already cut to what the
    user may see, e.g. `Task.objects.visible_to(user)`), with the same 404; when the object
    exists outside it, the request is marked denied_by_scope."""
    try:
        return get_object_or_404(visible, **lookup)
    except Http404:
        note_if_outside(request, visible, **lookup)
        raise
