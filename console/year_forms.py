"""The forms of the year's end and the alignment: closing a year, the rollover's target and
per-task choices, the higher plan, and the per-task links to it. The templates draw the
per-task selects themselves (one option list for all rows); these forms check them."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.year import NEW_PLAN, Choice
from workplans.models import Plan


class CloseForm(forms.Form):
    scheme_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    confirm = forms.BooleanField(
        label=_("我已核对以上情况，确认关闭本年度（关闭后本年度只读，长期推进的任务除外）"),
        error_messages={"required": _("请勾选确认后再关闭年度。")},
    )


def choice_field(task_pk: int) -> str:
    return f"choice_{task_pk}"


class RolloverForm(forms.Form):
    """The target (an existing plan of the next year, or a new draft) and one choice per
    unfinished task not yet carried."""

    target = forms.ChoiceField(
        label=_("结转至"),
        error_messages={
            "required": _("请选择结转至哪个计划。"),
            "invalid_choice": _("请选择下一年度未关闭的计划，或新建下一年度计划。"),
        },
    )
    new_title = forms.CharField(label=_("新计划标题"), max_length=200, required=False)

    def __init__(self, *args, targets, tasks, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {plan.pk: plan for plan in targets}
        self.fields["target"].choices = [(str(pk), str(plan)) for pk, plan in self.targets.items()] + [
            (NEW_PLAN, _("新建下一年度计划（草稿）"))
        ]
        self.tasks = [task for task in tasks if not task.carried_into.all()]
        for task in self.tasks:
            self.fields[choice_field(task.pk)] = forms.ChoiceField(
                choices=Choice.choices(),
                error_messages={
                    "required": _("请为每项任务选择结转方式。"),
                    "invalid_choice": _("结转方式无效，请重新选择。"),
                },
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target") == NEW_PLAN and not (cleaned.get("new_title") or "").strip():
            self.add_error("new_title", _("请填写新计划的标题。"))
        return cleaned

    def target_plan_id(self) -> int | None:
        value = self.cleaned_data["target"]
        return None if value == NEW_PLAN else int(value)

    def choices(self) -> dict[int, str]:
        return {task.pk: self.cleaned_data[choice_field(task.pk)] for task in self.tasks}

    def submitted_choices(self) -> dict[int, str]:
        """The choices as posted, the valid ones only (for counting in a preview)."""
        valid = {value for value, _label in Choice.choices()}
        found = {}
        for task in self.tasks:
            value = self.data.get(self.add_prefix(choice_field(task.pk)))
            if value in valid:
                found[task.pk] = value
        return found


class HigherPlanForm(forms.Form):
    higher_plan = forms.ModelChoiceField(
        label=_("上级计划"),
        queryset=Plan.objects.none(),
        required=False,
        empty_label=_("（无）"),
        error_messages={"invalid_choice": _("所选上级计划不存在或不能选择。")},
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["higher_plan"].queryset = Plan.objects.exclude(pk=plan.pk).order_by("-year", "title")


def serves_field(task_pk: int) -> str:
    return f"serves_{task_pk}"


class LinksForm(forms.Form):
    """action "links": one select per local task (empty clears); action "bulk": the ticked
    tasks all linked to `bulk_target`."""

    action = forms.ChoiceField(choices=[("links", "links"), ("bulk", "bulk")])
    selected = forms.TypedMultipleChoiceField(
        coerce=int, required=False, error_messages={"invalid_choice": _("所选任务不属于本计划，请刷新页面后重试。")}
    )
    bulk_target = forms.TypedChoiceField(
        label=_("对应上级任务"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("只能对应上级计划中的任务。")},
    )

    def __init__(self, *args, tasks, higher_tasks, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = tasks
        options = [("", "—")] + [(str(task.pk), task.label) for task in higher_tasks]
        self.fields["selected"].choices = [(str(task.pk), task.label) for task in tasks]
        self.fields["bulk_target"].choices = options
        if self.data.get(self.add_prefix("action")) == "links":
            for task in tasks:
                self.fields[serves_field(task.pk)] = forms.TypedChoiceField(
                    choices=options,
                    coerce=int,
                    required=False,
                    empty_value=None,
                    error_messages={"invalid_choice": _("只能对应上级计划中的任务。")},
                )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "bulk":
            if not cleaned.get("selected"):
                self.add_error("selected", _("请先勾选要对应的任务。"))
            if cleaned.get("bulk_target") is None and "bulk_target" not in self.errors:
                self.add_error("bulk_target", _("请选择上级任务。"))
        return cleaned

    def links(self) -> dict[int, int | None]:
        if self.cleaned_data["action"] == "bulk":
            return dict.fromkeys(self.cleaned_data["selected"], self.cleaned_data["bulk_target"])
        # Only the rows the page sent: a task added since it was drawn keeps its link.
        return {
            task.pk: self.cleaned_data[serves_field(task.pk)]
            for task in self.tasks
            if self.add_prefix(serves_field(task.pk)) in self.data
        }
