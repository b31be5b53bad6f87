"""Publication's shared test data: a plan made public by the admin with the fields asked
for, and a published snapshot of it, through the real services."""

import pytest

from publication import services
from publication.choices import PublicField, Schedule
from publication.models import PublicSetting

ALL_FIELDS = list(PublicField.values)


def make_public(plan, admin, *, fields=ALL_FIELDS, schedule=Schedule.MANUAL) -> PublicSetting:
    """Turn the plan's publication on (or change its settings) as the admin does."""
    setting = PublicSetting.objects.filter(plan=plan).first()
    version = setting.version if setting else 1
    return services.save_settings(plan.pk, admin, enabled=True, fields=fields, schedule=schedule, version=version)


def publish_now(plan, admin):
    """Build a snapshot of the plan and publish it, as the admin does after the preview."""
    snapshot = services.build_snapshot(plan.pk, admin)
    return services.publish(snapshot.pk, admin)


@pytest.fixture
def published(plan, task, admin_user):
    """The plan, public with every field, its one task (A leads, B co-owns) published."""
    make_public(plan, admin_user)
    return publish_now(plan, admin_user)
