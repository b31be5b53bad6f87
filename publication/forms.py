"""The forms of the publication pages: a plan's settings (admins) and a task's public
narrative (the supervision office)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from publication.choices import PublicField, Schedule
from publication.services import NARRATIVE_MAX_CHARS


class SettingForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("对外公开"), required=False, help_text=_("关闭后，公众立即无法访问该计划的公开页面。")
    )
    public_fields = forms.MultipleChoiceField(
        label=_("公开内容"),
        choices=PublicField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("佐证材料、考核得分、督办单、催办、批示、内部进展说明和责任人始终不公开。"),
    )
    schedule = forms.ChoiceField(label=_("更新方式"), choices=Schedule.choices, widget=forms.RadioSelect)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule"].error_messages["required"] = _("请选择更新方式。")
        self.fields["public_fields"].error_messages["invalid_choice"] = _("公开内容中有无效的选项。")


class NarrativeForm(forms.Form):
    text = forms.CharField(
        label=_("公开说明"),
        required=False,
        max_length=NARRATIVE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("面向公众撰写，与内部进展说明分开；留空则不显示。请勿写入内部信息。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
