"""The forms of escalation's pages: issuing a notice by hand, answering one (with files,
checked as every evidence file is: supervision.form_fields), a decision on it, an urge and
its answer, an instruction and its response, a hold; and the 督办 page's filters."""

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency
from escalation import policy
from escalation.choices import Level, NoticeState
from escalation.models import Notice
from escalation.notices import default_requirements, wants_by_default
from supervision.form_fields import EvidenceAndReadings
from workplans.models import Plan

TEXT_MAX_LENGTH = 2000
DATE = {"type": "date"}


def _date(label, required=True, **kwargs):
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), **kwargs
    )


def _text(label, rows=3, required=True, max_length=TEXT_MAX_LENGTH, **kwargs):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoticeForm(forms.Form):
    level = forms.ChoiceField(label=_("督办等级"), choices=Level.choices, widget=forms.RadioSelect)
    facts = _text(_("基本情况"), rows=5, help_text=_("已按任务数据预填，可修改。"))
    requirements = _text(_("督办要求"), rows=4)
    reply_due_on = _date(_("反馈时限"), help_text=_("默认按等级计算工作日，可修改。"))
    wants_evidence = forms.BooleanField(label=_("须附佐证材料"), required=False)
    wants_plan = forms.BooleanField(label=_("须报整改计划"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirements"].error_messages["required"] = _("请填写督办要求。")
        self.fields["level"].error_messages["required"] = _("请选择督办等级。")
        self.fields["reply_due_on"].error_messages["required"] = _("请填写反馈时限。")

    @staticmethod
    def initial_for(level: str, facts: str) -> dict:
        today = timezone.localdate()
        evidence, plan = wants_by_default(level)
        return {
            "level": level,
            "facts": facts,
            "requirements": default_requirements(level),
            "reply_due_on": policy.default_reply_due(level, today),
            "wants_evidence": evidence,
            "wants_plan": plan,
        }


class AnswerForm(EvidenceAndReadings):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    text = _text(_("办理情况"), rows=5)
    plan = _text(_("整改计划"), rows=4, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = _("请填写办理情况。")


class DecisionForm(VersionForm):
    comment = _text(_("意见"), rows=2, required=False, help_text=_("退回或撤销时须写明理由。"))


class UrgeForm(forms.Form):
    message = _text(_("催办内容"), rows=3)
    reply_by = _date(_("答复时限"), required=False)
    to_co_owners = forms.BooleanField(label=_("同时催办配合单位"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].error_messages["required"] = _("请填写催办内容。")


class ReplyForm(VersionForm):
    answer = _text(_("答复"), rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].error_messages["required"] = _("请填写答复内容。")


class InstructionForm(forms.Form):
    text = _text(_("批示内容"), rows=4)
    respond_by = _date(_("反馈时限"))
    notice = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = _("请填写批示内容。")
        self.fields["respond_by"].error_messages["required"] = _("请填写反馈时限。")


class RespondForm(VersionForm):
    response = _text(_("落实情况"), rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["response"].error_messages["required"] = _("请填写落实情况。")


class HoldForm(forms.Form):
    reason = _text(_("暂停原因"), rows=2)
    until = _date(_("暂停至"), required=False, help_text=_("留空：直至手动恢复。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = _("请写明暂停原因。")


class NoticeFilter(django_filters.FilterSet):
    """The 督办 page's filters: level, state (open by default), addressee, plan."""

    level = django_filters.ChoiceFilter(label=_("等级"), choices=Level.choices, empty_label=_("全部等级"))
    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[("open", _("未办结")), *NoticeState.choices],
        method="by_state",
        empty_label=_("全部状态"),
    )
    agency = django_filters.ModelChoiceFilter(
        label=_("主送单位"), queryset=Agency.objects.none(), empty_label=_("全部单位")
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("工作计划"), field_name="task__plan", queryset=Plan.objects.none(), empty_label=_("全部计划")
    )
    overdue = django_filters.BooleanFilter(label=_("仅看逾期未反馈"), method="by_overdue", widget=forms.CheckboxInput)

    class Meta:
        model = Notice
        fields = ["level", "state", "agency", "plan", "overdue"]

    def __init__(self, *args, agencies=None, plans=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["agency"].queryset = agencies if agencies is not None else Agency.objects.none()
        self.filters["plan"].queryset = plans if plans is not None else Plan.objects.none()

    def by_state(self, queryset, name, value):
        return queryset.open() if value == "open" else queryset.filter(state=value)

    def by_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.overdue(timezone.localdate())
