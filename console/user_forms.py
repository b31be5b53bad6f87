"""The bulk user import's forms: the upload, and the choice of file for the initial
passwords."""

from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("用户表"),
        help_text=_("Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码）；第一行为表头，请使用下载的模板。"),
        error_messages={"required": _("请选择要上传的文件。"), "empty": _("文件为空。")},
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if not uploaded.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("只能上传 .xlsx 或 .csv 文件。"))
        return uploaded


class LoginsForm(forms.Form):
    """The confirmed accounts' initial passwords, signed (console.user_views), as a file."""

    logins = forms.CharField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=[("xlsx", "xlsx"), ("csv", "csv")])
