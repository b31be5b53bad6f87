"""Forms of the plan pages: the plan's settings, the activation tick, the bulk step over
selected tasks, and one task's add / edit / move / split / merge. Every rule the database
enforces (a number once per section, one lead, an agency once per task, the due day 1–28)
is checked here first, so a bad post is a message, never an integrity error."""

import datetime

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.pickers import AgencyChoiceField, AgencyMultipleChoiceField
from console import plans
from core.roles import Role
from tasks.models import Task
from workplans.models import MAX_YEAR, Plan, Section

NUMBER_MAX = Task._meta.get_field("number").max_length
HEADING_MAX = Task._meta.get_field("heading").max_length
TEXT_MAX = 20000


def user_label(user: User) -> str:
    agency = user.agency.short_name or user.agency.name if user.agency_id else ""
    return f"{user.display_name}（{agency}）" if agency else user.display_name


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return user_label(obj)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return user_label(obj)


# --- The plan ---------------------------------------------------------------------------


class PlanSettingsForm(forms.ModelForm):
    supervisors = UserMultipleChoiceField(
        label=gettext_lazy("督查专员"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("除其单位范围外，这些督查专员还负责本计划。"),
    )
    leader_in_charge = UserChoiceField(
        label=gettext_lazy("分管领导"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("（未指定）"),
    )

    class Meta:
        model = Plan
        fields = (
            "reporting_cycle",
            "report_due_day",
            "supervisors",
            "leader_in_charge",
            "requires_unit_signoff",
            "requests_need_unit_signoff",
            "target_changes_need_leader",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = User.objects.filter(is_active=True).select_related("agency").order_by("full_name", "username")
        self.fields["supervisors"].queryset = active.filter(role=Role.SUPERVISOR)
        self.fields["leader_in_charge"].queryset = active.filter(role=Role.LEADER)
        self.fields["report_due_day"].widget.attrs.update(min=1, max=28)

    def clean_report_due_day(self):
        day = self.cleaned_data["report_due_day"]
        if day is None or not 1 <= day <= 28:
            raise forms.ValidationError(_("报送截止日须在 1 到 28 之间。"))
        return day

    def settings(self) -> dict:
        data = {field: self.cleaned_data[field] for field in plans.SETTING_FIELDS}
        data["supervisors"] = list(self.cleaned_data["supervisors"])
        return data


class ActivateForm(forms.Form):
    past_year_confirmed = forms.BooleanField(
        label=gettext_lazy("我已知晓：这是往年的计划，启用后未完成的任务将显示为逾期。"), required=False
    )


# --- Shared task fields --------------------------------------------------------------------


def _due_field():
    return forms.DateField(
        label=gettext_lazy("完成时限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("留空为计划年度末。"),
    )


def check_due(plan: Plan, due_on: datetime.date | None) -> datetime.date | None:
    if due_on is not None and not datetime.date(plan.year, 1, 1) <= due_on <= datetime.date(MAX_YEAR, 12, 31):
        raise forms.ValidationError(
            _("完成时限须在 %(year)d 年 1 月 1 日之后（计划年度内或之后）。") % {"year": plan.year}
        )
    return due_on


class OwnersMixin:
    """lead + co_owners: co-owners only with a lead, the lead not also a co-owner."""

    def add_owner_fields(self, *, lead_blank, before: str) -> None:
        """The two agency pickers, placed before the field `before`."""
        fields = self.fields  # type: ignore[attr-defined]
        owner_fields = {
            "lead": AgencyChoiceField(label=gettext_lazy("牵头单位"), required=False, empty_label=lead_blank),
            "co_owners": AgencyMultipleChoiceField(label=gettext_lazy("配合单位"), required=False),
        }
        ordered = {}
        for name, field in fields.items():
            if name == before:
                ordered.update(owner_fields)
            ordered[name] = field
        fields.clear()
        fields.update(ordered)

    def clean_owners(self, cleaned: dict) -> None:
        lead, co_owners = cleaned.get("lead"), list(cleaned.get("co_owners") or [])
        if co_owners and lead is None:
            self.add_error("lead", _("有配合单位时，请指定牵头单位。"))  # type: ignore[attr-defined]
        if lead is not None and lead in co_owners:
            self.add_error("co_owners", _("“%(agency)s”已是牵头单位，不能同时作为配合单位。") % {"agency": lead.name})  # type: ignore[attr-defined]


class TaskForm(OwnersMixin, forms.Form):
    """A task's content and owners: the add page (with its section) and the edit page."""

    section = forms.ModelChoiceField(
        label=gettext_lazy("所属部分"),
        queryset=Section.objects.none(),
        required=False,
        empty_label=gettext_lazy("（不属于任何部分）"),
    )
    number = forms.CharField(label=gettext_lazy("序号"), max_length=NUMBER_MAX, required=False)
    heading = forms.CharField(
        label=gettext_lazy("任务摘要"),
        max_length=HEADING_MAX,
        error_messages={"required": gettext_lazy("请填写任务摘要。")},
    )
    text = forms.CharField(
        label=gettext_lazy("任务全文"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    # lead and co_owners: made in __init__ (the picker reads the agency tree when made).
    responsible_users = UserMultipleChoiceField(
        label=gettext_lazy("责任人"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("须是牵头或配合单位的人员。"),
    )
    due_on = _due_field()
    reporting_exempt = forms.BooleanField(
        label=gettext_lazy("无需填报"), required=False, help_text=gettext_lazy("不催报、不计入报送率。")
    )
    long_term = forms.BooleanField(label=gettext_lazy("长期推进"), required=False)

    def __init__(self, *args, plan: Plan, task: Task | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan, self.task = plan, task
        self.add_owner_fields(lead_blank=gettext_lazy("（未指定）"), before="responsible_users")
        self.fields["section"].queryset = Section.objects.filter(plan=plan).order_by("order", "id")
        self.fields["section"].label_from_instance = lambda s: str(s)
        if task is None:
            del self.fields["responsible_users"]
        else:
            del self.fields["section"]
            self.fields["responsible_users"].queryset = plans.assignable_pool().select_related("agency")
            self.fields["responsible_users"].widget.choices = [
                (u.pk, user_label(u)) for u in plans.responsible_choices(plan)
            ]

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def clean_heading(self):
        heading = self.cleaned_data["heading"].strip()
        if not heading:
            raise forms.ValidationError(_("请填写任务摘要。"))
        return heading

    def clean_text(self):
        return self.cleaned_data["text"].strip()

    def clean_due_on(self):
        return check_due(self.plan, self.cleaned_data["due_on"])

    def clean(self):
        cleaned = super().clean()
        self.clean_owners(cleaned)
        section = cleaned.get("section") if self.task is None else self.task.section
        number = cleaned.get("number")
        if number and "section" not in self.errors:
            section_id = section.pk if section else None
            if plans.number_taken(self.plan, section_id, number, exclude_pk=self.task.pk if self.task else None):
                self.add_error("number", _("该部分已有序号为“%(number)s”的任务。") % {"number": number})
        users = cleaned.get("responsible_users")
        if self.task is not None and users and "lead" not in self.errors and "co_owners" not in self.errors:
            owner_ids = {a.pk for a in [cleaned.get("lead"), *(cleaned.get("co_owners") or [])] if a is not None}
            outside = [u for u in users if u.agency_id not in owner_ids]
            if outside:
                self.add_error(
                    "responsible_users",
                    _("责任人须是牵头或配合单位的人员：%(users)s 不是。")
                    % {"users": "、".join(u.display_name for u in outside)},
                )
        return cleaned

    @staticmethod
    def initial_for(task: Task) -> dict:
        lead, co_owners = plans.lead_and_co_owners(task)
        return {
            "number": task.number,
            "heading": task.heading,
            "text": task.text,
            "lead": lead,
            "co_owners": co_owners,
            "responsible_users": list(task.responsible_users.all()),
            "due_on": task.due_on,
            "reporting_exempt": task.reporting_exempt,
            "long_term": task.long_term,
        }

    def task_data(self) -> plans.TaskData:
        data = self.cleaned_data
        return plans.TaskData(
            section=data.get("section") if self.task is None else self.task.section,
            number=data["number"],
            heading=data["heading"],
            text=data["text"],
            lead=data["lead"],
            co_owners=list(data["co_owners"]),
            due_on=data["due_on"],
            reporting_exempt=data["reporting_exempt"],
            long_term=data["long_term"],
            responsible_users=list(data["responsible_users"]) if self.task is not None else None,
        )


class MoveForm(forms.Form):
    section = forms.ModelChoiceField(
        label=gettext_lazy("移到部分"),
        queryset=Section.objects.none(),
        required=False,
        empty_label=gettext_lazy("（不属于任何部分）"),
    )
    after = forms.ModelChoiceField(
        label=gettext_lazy("放在这项任务之后"),
        queryset=Task.objects.none(),
        required=False,
        empty_label=gettext_lazy("（放在该部分最前）"),
        help_text=gettext_lazy("须是目标部分中的任务。"),
    )
    number = forms.CharField(label=gettext_lazy("序号"), max_length=NUMBER_MAX, required=False)

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["section"].queryset = Section.objects.filter(plan_id=task.plan_id).order_by("order", "id")
        self.fields["section"].label_from_instance = lambda s: str(s)
        self.fields["after"].queryset = (
            Task.objects.filter(plan_id=task.plan_id)
            .exclude(pk=task.pk)
            .select_related("section")
            .order_by("order", "id")
        )
        self.fields["after"].label_from_instance = lambda t: f"{t.section or '—'} · {t.label}"

    @staticmethod
    def initial_for(task: Task) -> dict:
        return {"section": task.section_id, "number": task.number}

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        section, after = cleaned.get("section"), cleaned.get("after")
        section_id = section.pk if section else None
        if after is not None and after.section_id != section_id:
            self.add_error("after", _("“%(task)s”不在目标部分中，请重新选择。") % {"task": after.label})
        number = cleaned.get("number")
        if number and plans.number_taken(self.task.plan, section_id, number, exclude_pk=self.task.pk):
            self.add_error("number", _("目标部分已有序号为“%(number)s”的任务，请改用其他序号。") % {"number": number})
        return cleaned


class SplitForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("新任务序号"),
        max_length=NUMBER_MAX,
        error_messages={"required": gettext_lazy("请填写新任务的序号。")},
    )
    heading = forms.CharField(
        label=gettext_lazy("新任务摘要"),
        max_length=HEADING_MAX,
        error_messages={"required": gettext_lazy("请填写新任务的摘要。")},
    )
    text = forms.CharField(
        label=gettext_lazy("新任务全文"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    remaining_text = forms.CharField(
        label=gettext_lazy("原任务保留的全文"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("留空则原任务全文不变。"),
    )

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task

    @staticmethod
    def initial_for(task: Task) -> dict:
        return {"remaining_text": task.text}

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if not number:
            raise forms.ValidationError(_("请填写新任务的序号。"))
        if plans.number_taken(self.task.plan, self.task.section_id, number):
            raise forms.ValidationError(_("本部分已有序号为“%(number)s”的任务，请改用其他序号。") % {"number": number})
        return number

    def clean_heading(self):
        heading = self.cleaned_data["heading"].strip()
        if not heading:
            raise forms.ValidationError(_("请填写新任务的摘要。"))
        return heading

    def clean_text(self):
        return self.cleaned_data["text"].strip()

    def clean_remaining_text(self):
        return self.cleaned_data["remaining_text"].strip()


class MergeForm(forms.Form):
    other = forms.ModelChoiceField(
        label=gettext_lazy("并入本任务的任务"),
        queryset=Task.objects.none(),
        empty_label=gettext_lazy("（请选择）"),
        help_text=gettext_lazy("所选任务的摘要和全文接在本任务全文之后，责任单位和责任人合并，之后删除所选任务。"),
    )

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["other"].queryset = (
            Task.objects.filter(plan_id=task.plan_id)
            .exclude(pk=task.pk)
            .select_related("section")
            .order_by("order", "id")
        )
        self.fields["other"].label_from_instance = lambda t: f"{t.section or '—'} · {t.label}"

    @staticmethod
    def initial_for(task: Task) -> dict:
        return {}

    def clean_other(self):
        other = self.cleaned_data["other"]
        history = plans.history_of(other)
        if history:
            raise forms.ValidationError(
                _("任务“%(task)s”已有%(kinds)s，合并后这些记录会丢失，不能合并。可以把它标记为“无需填报”。")
                % {"task": other.label, "kinds": "、".join(history)}
            )
        return other


# --- The bulk step -------------------------------------------------------------------------


class BulkAction:
    OWNERS, DUE, RESPONSIBLE, EXEMPT, UNEXEMPT = "owners", "due", "responsible", "exempt", "unexempt"


class BulkForm(OwnersMixin, forms.Form):
    """One action over the tasks ticked on the plan page."""

    tasks = forms.ModelMultipleChoiceField(
        label=gettext_lazy("任务"),
        queryset=Task.objects.none(),
        error_messages={
            "required": gettext_lazy("请先勾选要处理的任务。"),
            "invalid_choice": gettext_lazy("所选任务中有的不属于本计划，请刷新页面后重试。"),
            "invalid_pk_value": gettext_lazy("所选任务无效，请刷新页面后重试。"),
        },
    )
    action = forms.ChoiceField(
        label=gettext_lazy("操作"),
        choices=[
            (BulkAction.OWNERS, gettext_lazy("设置责任单位")),
            (BulkAction.DUE, gettext_lazy("设置完成时限")),
            (BulkAction.RESPONSIBLE, gettext_lazy("设置责任人")),
            (BulkAction.EXEMPT, gettext_lazy("标记无需填报")),
            (BulkAction.UNEXEMPT, gettext_lazy("取消无需填报")),
        ],
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("方式"),
        choices=[("replace", gettext_lazy("替换原有")), ("add", gettext_lazy("在原有基础上追加"))],
        initial="replace",
        required=False,
        widget=forms.RadioSelect,
    )
    due_on = forms.DateField(
        label=gettext_lazy("完成时限"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    responsible_users = UserMultipleChoiceField(
        label=gettext_lazy("责任人"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.add_owner_fields(lead_blank=gettext_lazy("（请选择）"), before="due_on")
        self.fields["tasks"].queryset = Task.objects.filter(plan=plan)
        self.fields["responsible_users"].queryset = plans.assignable_pool().select_related("agency")
        self.fields["responsible_users"].widget.choices = [
            (u.pk, user_label(u)) for u in plans.responsible_choices(plan)
        ]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        replace = (cleaned.get("mode") or "replace") == "replace"
        if action == BulkAction.OWNERS:
            self.clean_owners(cleaned)
            if replace and cleaned.get("lead") is None and "lead" not in self.errors:
                self.add_error("lead", _("替换责任单位时，请指定牵头单位。"))
            if not replace and cleaned.get("lead") is None and not cleaned.get("co_owners"):
                self.add_error("co_owners", _("请选择要追加的单位。"))
        elif action == BulkAction.DUE:
            if cleaned.get("due_on") is None and "due_on" not in self.errors:
                self.add_error("due_on", _("请填写完成时限。"))
            elif cleaned.get("due_on") is not None:
                try:
                    check_due(self.plan, cleaned["due_on"])
                except forms.ValidationError as error:
                    self.add_error("due_on", error)
        elif action == BulkAction.RESPONSIBLE:
            if not cleaned.get("responsible_users") and not replace and "responsible_users" not in self.errors:
                self.add_error("responsible_users", _("请选择要追加的责任人。"))
            tasks, users = cleaned.get("tasks"), cleaned.get("responsible_users")
            if tasks and users:
                pairs = plans.outside_owners(list(tasks), list(users))
                try:
                    plans.refuse_outside(pairs)
                except forms.ValidationError as error:
                    self.add_error("responsible_users", error.messages)
        cleaned["replace"] = replace
        return cleaned
