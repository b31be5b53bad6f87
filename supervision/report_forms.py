"""Forms of the period report (周期报送), the co-owners' input (配合单位反馈) and the
decisions on a report (单位审核, 督查审核). They only read and check what was typed: the
rules are supervision.reports'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from supervision.choices import Action
from supervision.form_fields import EvidenceAndReadings, FullProgressQuestion
from tasks.choices import ALLOWED_TRANSITIONS, TaskStatus

TEXT_MAX_LENGTH = 4000


def _text(label, *, rows=4, placeholder=""):
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows, "placeholder": placeholder}),
    )


class PeriodReportForm(FullProgressQuestion, EvidenceAndReadings):
    """This cycle's report of the lead agency: 本期进展, 存在问题, 下步计划, with status,
    percent, files, milestones done and readings as the progress form has them; submitted
    进行中 at 100 %, it asks whether to request close-out instead (FullProgressQuestion)."""

    report_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    task_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    progress = _text(_("本期进展"), placeholder=_("本期做了哪些工作、取得什么成效"))
    problems = _text(_("存在问题"), rows=3, placeholder=_("任务进度滞后、临近时限或逾期报送时必填"))
    next_steps = _text(_("下步计划"), rows=3, placeholder=_("任务进度滞后、临近时限或逾期报送时必填"))
    status = forms.ChoiceField(label=_("任务状态"), choices=TaskStatus.choices, required=False)
    percent = forms.IntegerField(
        label=_("完成百分比"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
        error_messages={"invalid": _("请填写 0 到 100 之间的整数。")},
    )
    milestones = forms.MultipleChoiceField(
        label=_("完成的时间节点"), required=False, widget=forms.CheckboxSelectMultiple
    )
    explanation = forms.CharField(
        label=_("指标未达标说明"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("标记为“已完成”而量化指标尚未达到目标值时必填（申请销号）。"),
    )
    field_order = [
        "report_version",
        "task_version",
        "submission",
        "progress",
        "problems",
        "next_steps",
        "status",
        "percent",
        "milestones",
        "files",
    ]

    def __init__(self, *args, task, report=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task, self.report = task, report
        self.fields["task_version"].initial = task.version
        allowed = {task.status, *ALLOWED_TRANSITIONS.get(task.status, ())}
        self.fields["status"].choices = [(v, label) for v, label in TaskStatus.choices if v in allowed]
        self.fields["status"].initial = task.status
        self.fields["percent"].initial = task.percent
        open_milestones = [m for m in task.milestones.all() if m.done_on is None]
        self.fields["milestones"].choices = [(str(m.pk), f"{m.due_on:%Y-%m-%d} {m.text}") for m in open_milestones]
        if not open_milestones:
            del self.fields["milestones"]
        if report is not None:
            self.fields["report_version"].initial = report.version
            for name in ("progress", "problems", "next_steps"):
                self.fields[name].initial = getattr(report, name)
            if report.status and report.status in dict(self.fields["status"].choices):
                self.fields["status"].initial = report.status
            if report.percent is not None:
                self.fields["percent"].initial = report.percent

    def reports_now(self) -> bool:
        # A draft keeps what was typed; the question comes when the report is submitted.
        return self.data.get("action") == Action.SUBMIT

    def draft_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "version": data.get("report_version"),
            "progress": data.get("progress", ""),
            "problems": data.get("problems", ""),
            "next_steps": data.get("next_steps", ""),
            "status": data.get("status") or "",
            "percent": data.get("percent"),
        }

    def submit_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            **self.draft_kwargs(),
            "status": data.get("status") or None,
            "task_version": data["task_version"],
            "evidence": data.get("files", []),
            "milestone_ids": [int(pk) for pk in data.get("milestones", [])],
            "readings": data.get("readings", []),
            "submission_key": data.get("submission", ""),
            "explanation": data.get("explanation", ""),
        }


class CoOwnerInputForm(EvidenceAndReadings):
    """A co-owner agency's contribution for this cycle: its text, files and readings."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    text = _text(_("本单位配合工作情况"), placeholder=_("本期本单位承担的配合工作、进展和数据"))
    field_order = ["version", "submission", "text", "files"]

    def __init__(self, *args, co_input=None, **kwargs):
        super().__init__(*args, **kwargs)
        if co_input is not None:
            self.fields["version"].initial = co_input.version
            self.fields["text"].initial = co_input.text

    def draft_kwargs(self) -> dict:
        return {"version": self.cleaned_data.get("version"), "text": self.cleaned_data.get("text", "")}

    def submit_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            **self.draft_kwargs(),
            "evidence": data.get("files", []),
            "readings": data.get("readings", []),
            "submission_key": data.get("submission", ""),
        }


DECISIONS = (Action.SIGN_OFF, Action.UNIT_RETURN, Action.ACCEPT, Action.RETURN)


class DecisionForm(forms.Form):
    """A decision on a report: 通过 or 退回 at the unit's sign-off, 审核通过 or 退回并提出要求
    at the supervision office's review. The service says whether a comment is required."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action = forms.ChoiceField(choices=[(a.value, a.label) for a in DECISIONS])
    comment = forms.CharField(
        label=_("意见或要求"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("退回时必填：写明需要补充或修改的内容")}),
    )
