"""Signal receivers that write the audit trail: every simple-history record, Django admin
actions, changes of users' groups and rights, and the creation of the append-only rows
that apps register (record_creations)."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry, LogEntryManager
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save
from django.utils.translation import gettext_lazy as _
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from audit.choices import EventType
from audit.history import stamp_address
from audit.services import object_type_of, record, record_history

ADMIN_ACTIONS = {ADDITION: _("新增"), CHANGE: _("修改"), DELETION: _("删除")}
# What a created append-only row says about itself in its event, when it has the field.
CREATION_FIELDS = ("task_id", "status", "percent", "status_before", "percent_before", "original_name", "sha256")


def on_history_record(sender, history_instance, **kwargs):
    record_history(history_instance)


def on_append_only_created(sender, instance, created, raw=False, **kwargs):
    # Rows that are never changed (a progress log, its files) have no simple-history:
    # their creation is the event.
    if created and not raw:
        detail = {}
        for name in CREATION_FIELDS:
            if hasattr(instance, name):
                detail[name.removesuffix("_id")] = getattr(instance, name)
        if hasattr(instance, "note"):
            detail["note_chars"] = len(instance.note or "")
        record(EventType.CREATE, obj=instance, detail={"values": detail})


def record_creations(*models) -> None:
    """Record an event for every row of these append-only models when it is created: the
    apps that own such logs call this from their AppConfig.ready()."""
    for model in models:
        post_save.connect(on_append_only_created, sender=model, dispatch_uid=f"audit_created_{model._meta.label}")


def admin_action(entry: LogEntry) -> None:
    content_type = entry.content_type
    record(
        EventType.ADMIN_ACTION,
        user=entry.user,
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=entry.object_id or "",
        object_repr=entry.object_repr,
        detail={
            "action": str(ADMIN_ACTIONS.get(entry.action_flag, entry.action_flag)),
            "message": entry.get_change_message(),
            "log_entry": entry.pk,
        },
    )


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


def _record_bulk_admin_actions() -> None:
    """The admin logs a deletion of several objects with one bulk_create, which sends no
    post_save: record those entries too (a single entry is saved and seen by post_save)."""
    if getattr(LogEntryManager.log_actions, "_audited", False):
        return
    original = LogEntryManager.log_actions

    def log_actions(self, user_id, queryset, action_flag, change_message="", *, single_object=False):
        result = original(self, user_id, queryset, action_flag, change_message, single_object=single_object)
        if isinstance(result, list) and len(result) > 1:
            for entry in result:
                admin_action(entry)
        return result

    log_actions._audited = True
    LogEntryManager.log_actions = log_actions


def connect() -> None:
    pre_create_historical_record.connect(stamp_address, dispatch_uid="audit_history_address")
    post_create_historical_record.connect(on_history_record, dispatch_uid="audit_history_recorded")
    post_save.connect(on_admin_action, sender=LogEntry, dispatch_uid="audit_admin_action")
    user_model = get_user_model()
    for field in ("groups", "user_permissions"):
        through = user_model._meta.get_field(field).remote_field.through
        m2m_changed.connect(on_rights_changed, sender=through, dispatch_uid=f"audit_rights_{field}")
    _record_bulk_admin_actions()
