"""Forms of the close-out (销号) pages: the lead's completion report, the supervisor's
checklist decision and a leader's reopening. They only read what was typed; the rules are
supervision.closeout's (files checked by supervision.evidence, readings by
supervision.progress.check_readings, the same checks as the task page's progress form)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from supervision.form_fields import EvidenceAndReadings

TEXT_MAX_LENGTH = 5000


class CloseOutRequestForm(EvidenceAndReadings):
    """The completion report (申请销号): summary, files, the last milestones, final
    readings and, when an indicator misses its target, the explanation."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    summary = forms.CharField(
        label=_("完成情况"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("任务完成了哪些工作、取得了什么成效")}),
        error_messages={"required": _("请填写完成情况。")},
    )
    milestones = forms.MultipleChoiceField(
        label=_("本次完成的时间节点"), required=False, widget=forms.CheckboxSelectMultiple
    )
    explanation = forms.CharField(
        label=_("指标未达标说明"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("有量化指标未达到目标值（或未填报）时必填：写明原因和已采取的措施。"),
    )

    def __init__(self, *args, task, milestones, indicators, **kwargs):
        super().__init__(*args, indicators=indicators, **kwargs)
        self.task = task
        self.fields["version"].initial = task.version
        open_milestones = [m for m in milestones if m.done_on is None]
        self.fields["milestones"].choices = [(str(m.pk), f"{m.due_on:%Y-%m-%d} {m.text}") for m in open_milestones]
        if not open_milestones:
            del self.fields["milestones"]

    def service_kwargs(self) -> dict:
        """Arguments for supervision.closeout.request_close_out."""
        data = self.cleaned_data
        return {
            "task_version": data["version"],
            "summary": data["summary"],
            "explanation": data.get("explanation", ""),
            "evidence": data.get("files", []),
            "milestone_ids": [int(pk) for pk in data.get("milestones", [])],
            "readings": data.get("readings", []),
            "submission_key": data.get("submission", ""),
        }


class CloseOutDecisionForm(forms.Form):
    """The supervisor's check: three ticks to approve, requirements to reject."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    decision = forms.ChoiceField(
        choices=[("approve", _("批准销号")), ("reject", _("退回"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("请选择批准销号或退回。"), "invalid_choice": _("请选择批准销号或退回。")},
    )
    evidence_checked = forms.BooleanField(label=_("佐证材料齐全"), required=False)
    milestones_checked = forms.BooleanField(label=_("时间节点已全部完成"), required=False)
    indicators_checked = forms.BooleanField(label=_("指标已达标或未达标已说明"), required=False)
    requirements = forms.CharField(
        label=_("审核意见 / 退回要求"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("退回时必填：写明需要补充或整改的内容。"),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("requirements") or "").strip():
            self.add_error("requirements", _("退回时请写明整改要求。"))
        return cleaned


class ReasonForm(forms.Form):
    """A reason: withdrawing a request (optional) or reopening a closed task (required)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    reason = forms.CharField(label=_("原因"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        self.fields["reason"].error_messages["required"] = _("请写明原因。")
