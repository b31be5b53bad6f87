"""Audit events cannot be changed or deleted: not by the application (model, queryset)
and, on PostgreSQL, not below it (a trigger); only rows past 180 days may be purged."""

import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent, AuditTrailProtected
from audit.services import record

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only; SQLite has the application guard"
)


@pytest.fixture
def event(db):
    return record(EventType.EXPORT, username="leader", detail={"kind": "ledger"})


def test_an_event_cannot_be_changed_or_deleted_through_the_model(event):
    event.username = "someone else"
    with pytest.raises(AuditTrailProtected):
        event.save()
    with pytest.raises(AuditTrailProtected):
        event.delete()
    assert AuditEvent.objects.get().username == "leader"


def test_the_queryset_refuses_update_and_delete(event):
    with pytest.raises(AuditTrailProtected):
        AuditEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(AuditTrailProtected):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


def _aged(days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        event_type=EventType.LOGIN, username="old", occurred_at=timezone.now() - datetime.timedelta(days=days)
    )


@postgres_only
def test_the_database_refuses_an_update_by_raw_sql(event):
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET username = 'x' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get().username == "leader"


@postgres_only
def test_the_database_refuses_deleting_a_row_younger_than_180_days(db):
    young = _aged(179)
    with (
        pytest.raises(DatabaseError, match="younger than 180 days"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [young.pk])
    assert AuditEvent.objects.filter(pk=young.pk).exists()


@postgres_only
def test_the_database_lets_a_row_past_180_days_go(db):
    old = _aged(181)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [old.pk])
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
