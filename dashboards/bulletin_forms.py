"""The forms of the bulletin pages: the list's filters, a new draft (which plan and period),
editing a draft's text, and the version a re-draft or an issue is based on."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from dashboards import bulletins
from dashboards.models import Bulletin, BulletinState
from workplans.models import Plan

TEXT_MAX_LENGTH = 20000


class NewBulletinForm(forms.Form):
    """One choice, "plan:period start", grouped by plan: a plan's periods are its own
    reporting cycles (monthly or quarterly), so plan and period are chosen together."""

    period = forms.ChoiceField(label=_("计划与通报期"))

    def __init__(self, *args, plans, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {plan.pk: plan for plan in plans}
        self.today = today
        groups, initial = [], None
        for plan in self.plans.values():
            cycles = bulletins.periods_of(plan, today)
            if not cycles:
                continue
            groups.append((plan.title, [(f"{plan.pk}:{cycle.start.isoformat()}", cycle.label) for cycle in cycles]))
            if initial is None:
                default = bulletins.default_period(plan, today)
                initial = f"{plan.pk}:{default.start.isoformat()}" if default else None
        self.fields["period"].choices = groups
        self.fields["period"].initial = initial
        self.fields["period"].error_messages["required"] = _("请选择计划和通报期。")
        self.fields["period"].error_messages["invalid_choice"] = _("所选计划或通报期无效，请重新选择。")

    def clean_period(self):
        plan_id, _sep, start = self.cleaned_data["period"].partition(":")
        plan = self.plans.get(int(plan_id))
        period = bulletins.period_by_start(plan, datetime.date.fromisoformat(start), self.today) if plan else None
        if period is None:
            raise forms.ValidationError(_("所选计划或通报期无效，请重新选择。"))
        return plan, period


class BulletinEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(label=_("标题"), max_length=200)
    summary = forms.CharField(
        label=_("总体情况概述"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("已按数据预填，可修改；重新生成数据时，未修改过的概述会随之更新。"),
    )
    next_steps = forms.CharField(
        label=_("下步要求"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("由督查室撰写，每条一行；印发前必须填写。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = _("请填写标题。")


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class BulletinFilter(django_filters.FilterSet):
    """The bulletin list's filters: state and plan."""

    state = django_filters.ChoiceFilter(label=_("状态"), choices=BulletinState.choices, empty_label=_("全部状态"))
    plan = django_filters.ModelChoiceFilter(
        label=_("工作计划"), queryset=Plan.objects.none(), empty_label=_("全部计划")
    )

    class Meta:
        model = Bulletin
        fields = ["state", "plan"]

    def __init__(self, *args, plans=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["plan"].queryset = plans if plans is not None else Plan.objects.none()
