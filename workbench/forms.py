"""Forms on the task page: the progress report (status, percent, note, files, milestones,
indicator readings) and the choice of responsible people."""

from django import forms
from django.utils.translation import gettext_lazy as _

from supervision.form_fields import EvidenceAndReadings, FullProgressQuestion
from tasks.choices import ALLOWED_TRANSITIONS, TaskStatus

NOTE_MAX_LENGTH = 2000


class ProgressForm(FullProgressQuestion, EvidenceAndReadings):
    """One progress report. Which fields appear depends on what the user may do on the task:
    co-owners get no status, percent or milestones; the server checks it again on save.
    进行中 at 100 % asks whether to request close-out instead (FullProgressQuestion)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # Not required: a report without them is a note (or files, or readings) on the task as it is.
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices, required=False)
    percent = forms.IntegerField(
        label=_("完成百分比"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
        error_messages={"invalid": _("请填写 0 到 100 之间的整数。")},
    )
    note = forms.CharField(
        label=_("进展说明"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("本期做了什么、下一步安排、需要协调的问题")}),
    )
    milestones = forms.MultipleChoiceField(
        label=_("完成的时间节点"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, task, access, indicators=(), **kwargs):
        super().__init__(*args, indicators=indicators, **kwargs)
        self.task, self.access = task, access
        self.fields["version"].initial = task.version
        if access.can_change_status:
            allowed = {task.status, *ALLOWED_TRANSITIONS.get(task.status, ())}
            self.fields["status"].choices = [(v, label) for v, label in TaskStatus.choices if v in allowed]
            self.fields["status"].initial = task.status
            self.fields["percent"].initial = task.percent
            open_milestones = [m for m in task.milestones.all() if m.done_on is None]
            self.fields["milestones"].choices = [(str(m.pk), f"{m.due_on:%Y-%m-%d} {m.text}") for m in open_milestones]
            if not open_milestones:
                del self.fields["milestones"]
        else:
            for name in ("status", "percent", "milestones", "at_full"):
                del self.fields[name]

    def report_kwargs(self) -> dict:
        """Arguments for tasks.services.report_progress from the cleaned form."""
        data = self.cleaned_data
        kwargs = {
            "based_on_version": data["version"],
            "submission_key": data.get("submission", ""),
            "note": data.get("note", ""),
            "evidence": data.get("files", []),
            "readings": data.get("readings", []),
        }
        if self.access.can_change_status:
            kwargs["status"], kwargs["percent"] = data.get("status") or None, data.get("percent")
            kwargs["milestone_ids"] = [int(pk) for pk in data.get("milestones", [])]
        return kwargs


class ResponsibleForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        label=_("责任人"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("牵头单位的人员；提醒优先发送给责任人。"),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = candidates
