"""Signal receivers that write the audit trail: every simple-history record, new progress
reports and evidence files, Django admin actions, and changes of users' groups and rights."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from audit.choices import EventType
from audit.services import object_type_of, record, record_history

ADMIN_ACTIONS = {ADDITION: "新增", CHANGE: "修改", DELETION: "删除"}


@receiver(post_create_historical_record, dispatch_uid="audit_history_recorded")
def on_history_record(sender, history_instance, **kwargs):
    record_history(history_instance)


def on_append_only_created(sender, instance, created, raw=False, **kwargs):
    # The progress log and its files have no simple-history (they are never changed):
    # their creation is the event.
    if created and not raw:
        detail = {}
        for name in ("task_id", "status", "percent", "status_before", "percent_before", "original_name", "sha256"):
            if hasattr(instance, name):
                detail[name.removesuffix("_id")] = getattr(instance, name)
        if hasattr(instance, "note"):
            detail["note_chars"] = len(instance.note or "")
        record(EventType.CREATE, obj=instance, detail={"values": detail})


def admin_action(entry: LogEntry) -> None:
    content_type = entry.content_type
    record(
        EventType.ADMIN_ACTION,
        user=entry.user,
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=entry.object_id or "",
        object_repr=entry.object_repr,
        detail={
            "action": ADMIN_ACTIONS.get(entry.action_flag, str(entry.action_flag)),
            "message": entry.get_change_message(),
            "log_entry": entry.pk,
        },
    )


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_action")
def on_admin_action(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        admin_action(instance)


def on_rights_changed(sender, instance, action, pk_set, model, reverse, **kwargs):
    """A user's groups or permissions changed (from either side of the relation)."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    record(
        EventType.PERMISSION_CHANGE,
        obj=instance,
        detail={
            "relation": sender._meta.model_name,
            "action": action.removeprefix("post_"),
            "other_type": object_type_of(model),
            "ids": sorted(pk_set or []),
        },
    )


def connect() -> None:
    from accounts.models import User
    from tasks.models import Attachment, ProgressUpdate

    for model in (ProgressUpdate, Attachment):
        post_save.connect(on_append_only_created, sender=model, dispatch_uid=f"audit_created_{model._meta.label}")
    for field in ("groups", "user_permissions"):
        through = User._meta.get_field(field).remote_field.through
        m2m_changed.connect(on_rights_changed, sender=through, dispatch_uid=f"audit_rights_{field}")
