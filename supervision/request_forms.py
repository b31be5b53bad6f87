"""Forms of the delay and change request pages (延期/调整申请): filing one, and deciding the
current step with the exact date, text or target approved. The rules (dates after the
current one, values that differ, who decides) are supervision.requests'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from indicators.services import target_text
from supervision.choices import RequestKind
from supervision.closeout_forms import TEXT_MAX_LENGTH

DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
DECIMAL_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class RequestForm(forms.Form):
    """One request: the kind, then the fields of that kind (the others are ignored)."""

    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择申请类型。"), "invalid_choice": _("请选择申请类型。")},
    )
    milestone = forms.TypedChoiceField(
        label=_("延期事项"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("任务本身，或其未完成的时间节点。"),
    )
    proposed_due_on = forms.DateField(label=_("申请延期至"), required=False, **DATE_WIDGET)
    proposed_text = forms.CharField(
        label=_("调整后的任务内容"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    indicator = forms.TypedChoiceField(label=_("量化指标"), required=False, coerce=int, empty_value=None)
    proposed_target = forms.CharField(label=_("调整后的目标值"), required=False, max_length=40, widget=DECIMAL_WIDGET)
    reason = forms.CharField(
        label=_("申请理由"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请写明申请理由。")},
    )
    progress_so_far = forms.CharField(
        label=_("目前进展"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, task, milestones, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        due = task.due_on.strftime("%Y-%m-%d") if task.due_on else ""
        self.fields["milestone"].choices = [("", _("任务完成时限（现为 %(due)s）") % {"due": due})] + [
            (str(m.pk), f"{m.due_on:%Y-%m-%d} {m.text}") for m in milestones if m.done_on is None
        ]
        self.fields["indicator"].choices = [("", _("请选择"))] + [
            (str(i.pk), f"{i.name}（{target_text(i)}）") for i in indicators
        ]
        if not indicators:
            self.fields["kind"].choices = [c for c in RequestKind.choices if c[0] != RequestKind.TARGET]
        self.fields["proposed_text"].initial = task.text or task.heading

    def service_kwargs(self) -> dict:
        """Arguments for supervision.requests.file_request: only the chosen kind's fields."""
        data = self.cleaned_data
        kind = data["kind"]
        kwargs = {"kind": kind, "reason": data["reason"], "progress_so_far": data.get("progress_so_far", "")}
        if kind == RequestKind.DELAY:
            kwargs.update(milestone_id=data.get("milestone"), proposed_due_on=data.get("proposed_due_on"))
        elif kind == RequestKind.WORDING:
            kwargs["proposed_text"] = data.get("proposed_text", "")
        else:
            kwargs.update(indicator_id=data.get("indicator"), proposed_target=data.get("proposed_target"))
        return kwargs


class RequestDecisionForm(forms.Form):
    """The current step's decision: approve naming the exact value, or reject with a comment."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    decision = forms.ChoiceField(
        choices=[("approve", _("批准")), ("reject", _("不予批准"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("请选择批准或不予批准。"), "invalid_choice": _("请选择批准或不予批准。")},
    )
    approved_due_on = forms.DateField(label=_("批准延期至"), required=False, **DATE_WIDGET)
    approved_text = forms.CharField(
        label=_("批准的任务内容"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    approved_target = forms.CharField(label=_("批准的目标值"), required=False, max_length=40, widget=DECIMAL_WIDGET)
    comment = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不予批准时必填。"),
    )

    def __init__(self, *args, change_request, **kwargs):
        super().__init__(*args, **kwargs)
        kind = change_request.kind
        keep = {
            RequestKind.DELAY: "approved_due_on",
            RequestKind.WORDING: "approved_text",
            RequestKind.TARGET: "approved_target",
        }[kind]
        for name in ("approved_due_on", "approved_text", "approved_target"):
            if name != keep:
                del self.fields[name]
        # Pre-filled with what the last step approved, or else what was asked for.
        if kind == RequestKind.DELAY:
            self.fields[keep].initial = change_request.approved_due_on or change_request.proposed_due_on
        elif kind == RequestKind.WORDING:
            self.fields[keep].initial = change_request.approved_text or change_request.proposed_text
        else:
            value = change_request.approved_target
            value = change_request.proposed_target if value is None else value
            self.fields[keep].initial = f"{value.normalize():f}" if value is not None else ""
        self.value_field = self[keep]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", _("不予批准时请写明理由。"))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"version": data["version"], "approve": data["decision"] == "approve", "comment": data["comment"]}
        for name in ("approved_due_on", "approved_text", "approved_target"):
            if name in self.fields:
                kwargs[name] = data.get(name)
        return kwargs
