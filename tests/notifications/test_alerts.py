"""Security alerts reach every active holder of the named roles, in the inbox and by email,
exactly once."""

from django.core import mail
from django.db import transaction

from audit.choices import EventType
from audit.models import AuditEvent
from audit.services import raise_alert
from audit.signals import security_alert
from core.roles import Role
from notifications.choices import Channel, DeliveryState, Rule
from notifications.models import Delivery, Notification
from tests.conftest import make_user


def alert(**extra):
    with transaction.atomic():
        return raise_alert(
            "admin_locked_out",
            title="安全管理员账户被锁定：secadmin",
            body="连续登录失败已达上限。\n来源地址：203.0.113.9",
            **extra,
        )


def test_it_tells_every_active_security_admin_in_the_inbox_and_by_email(
    django_capture_on_commit_callbacks, security_admin, admin_user, auditor, commission
):
    # given: two security admins (one without an email address), one disabled
    security_admin.email = "sec@example.org"
    security_admin.save()
    second = make_user("security2", Role.SECURITY, commission, email="")
    make_user("security_gone", Role.SECURITY, commission, email="gone@example.org", is_active=False)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = alert()

    # then: the trail has the alert, each security admin has it in the inbox once
    assert event.event_type == EventType.SECURITY_ALERT
    inbox = Notification.objects.filter(rule=Rule.SECURITY_ALERT)
    assert sorted(inbox.values_list("recipient__username", flat=True)) == ["security", "security2"]
    item = inbox.get(recipient=security_admin)
    assert item.title == "安全管理员账户被锁定：secadmin"
    assert "来源地址：203.0.113.9" in item.body
    assert item.link == "/notifications/"
    assert item.get_rule_display() == "安全告警"
    # and one email, to the one with an address
    assert [m.to for m in mail.outbox] == [["sec@example.org"]]
    assert "安全管理员账户被锁定：secadmin" in mail.outbox[0].subject
    assert "来源地址：203.0.113.9" in mail.outbox[0].body
    assert not Delivery.objects.filter(recipient__in=[admin_user, auditor]).exists()
    assert not Delivery.objects.filter(recipient=second, channel=Channel.EMAIL).exists()


def test_it_delivers_once_however_often_the_signal_arrives(django_capture_on_commit_callbacks, security_admin):
    security_admin.email = "sec@example.org"
    security_admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        event = alert()
    # given the alert delivered; when the same signal comes again (a retried callback)
    with django_capture_on_commit_callbacks(execute=True):
        security_alert.send(
            sender=AuditEvent, event=event, kind="admin_locked_out", title="x", body="y", roles=("security",)
        )
    assert Notification.objects.filter(recipient=security_admin).count() == 1
    assert len(mail.outbox) == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_it_reaches_the_roles_asked_for_and_links_where_told(
    django_capture_on_commit_callbacks, security_admin, auditor
):
    with django_capture_on_commit_callbacks(execute=True):
        alert(roles=(Role.AUDITOR,), detail={"link": "/audit/?event_type=access_denied"})
    (item,) = Notification.objects.all()
    assert item.recipient == auditor
    assert item.link == "/audit/?event_type=access_denied"


def test_a_link_off_the_site_is_not_followed(django_capture_on_commit_callbacks, security_admin):
    with django_capture_on_commit_callbacks(execute=True):
        alert(detail={"link": "//evil.example.com/"})
    assert Notification.objects.get().link == "/notifications/"


def test_a_rolled_back_alert_tells_nobody(django_capture_on_commit_callbacks, security_admin):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                raise_alert("admin_locked_out", title="t", body="b")
                raise RuntimeError("the change it belonged to failed")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.SECURITY_ALERT).exists()
