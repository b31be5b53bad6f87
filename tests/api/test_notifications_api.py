"""/api/v1/notifications/: the caller's own inbox, marked read one by one or all at once."""

import pytest

from notifications.models import Notification
from notifications.services import unread_count
from tests.api.conftest import as_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(world):
    staff_a, staff_b = world["users"]["staff_lead"], world["users"]["staff_co_owner"]
    return {
        "one": Notification.objects.create(recipient=staff_a, rule="task_due", title="一"),
        "two": Notification.objects.create(recipient=staff_a, rule="task_overdue", title="二"),
        "theirs": Notification.objects.create(recipient=staff_b, rule="task_due", title="别人的"),
    }


def test_marking_one_read(api, world, mine):
    staff = world["users"]["staff_lead"]
    as_user(api, staff)
    response = api.post(f"/api/v1/notifications/{mine['one'].pk}/read/")
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 1}
    assert Notification.objects.get(pk=mine["one"].pk).read_at is not None
    # again: nothing more to mark
    assert api.post(f"/api/v1/notifications/{mine['one'].pk}/read/").json() == {"marked": 0, "unread": 1}


def test_another_user_s_notification_is_404_and_stays_unread(api, world, mine):
    as_user(api, world["users"]["staff_lead"])
    response = api.post(f"/api/v1/notifications/{mine['theirs'].pk}/read/")
    assert response.status_code == 404
    assert Notification.objects.get(pk=mine["theirs"].pk).read_at is None


def test_marking_all_read_touches_only_the_caller_s(api, world, mine):
    as_user(api, world["users"]["staff_lead"])
    response = api.post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 2, "unread": 0}
    assert unread_count(world["users"]["staff_lead"]) == 0
    assert unread_count(world["users"]["staff_co_owner"]) == 1
