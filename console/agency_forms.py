"""The system admin's agency forms: an agency's details, its place in the tree, a merge
and a deactivation. Every agency is chosen with the tree picker (made per form: the
picker reads the tree when it is built)."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency
from accounts.pickers import AgencyChoiceField

NO_CYCLE = gettext_lazy("上级单位不能是本单位或其下级单位。")


def _parent_field(label, **kwargs) -> AgencyChoiceField:
    return AgencyChoiceField(
        label=label, required=False, active_only=False, empty_label=gettext_lazy("（无：作为顶级单位）"), **kwargs
    )


class AgencyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "short_name", "level", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = _parent_field(gettext_lazy("上级单位"), initial=self.instance.parent_id)
        self.order_fields(["name", "short_name", "level", "parent", "order"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_short_name(self):
        return self.cleaned_data["short_name"].strip()

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if self.instance.would_cycle(parent):
            raise forms.ValidationError(NO_CYCLE)
        return parent

    def save(self, commit=True):
        self.instance.parent = self.cleaned_data.get("parent")
        return super().save(commit)


class MoveForm(forms.Form):
    def __init__(self, agency: Agency, *args, **kwargs):
        self.agency = agency
        super().__init__(*args, **kwargs)
        self.fields["parent"] = _parent_field(gettext_lazy("新的上级单位"))

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if self.agency.would_cycle(parent):
            raise forms.ValidationError(NO_CYCLE)
        if parent == self.agency.parent:
            raise forms.ValidationError(_("新的上级单位与现在的相同。"))
        return parent


class MergeForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("我已确认：合并后原单位将被删除，其名称作为别名保留，不能撤销。"),
        error_messages={"required": gettext_lazy("请勾选确认后再合并。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"] = AgencyChoiceField(label=gettext_lazy("并入的单位"))
        self.order_fields(["target", "confirm"])


class DeactivateForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"] = AgencyChoiceField(
            label=gettext_lazy("接收未完成任务的单位"),
            required=False,
            help_text=gettext_lazy("本单位负责的未完成任务将转给此单位；仍负责执行中计划的任务时必选。"),
        )
