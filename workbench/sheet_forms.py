"""Forms of the Excel fill-in sheets (填报表): the upload of a filled sheet, and the
supervision office's choice of agency. They only check what came in; reading the sheet is
workbench.sheets', what it means workbench.sheet_services'."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.uploads import size_text
from workbench.sheets import MAX_BYTES


class SheetUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("填好的填报表"),
        help_text=gettext_lazy("从本页下载、填写后的 .xlsx 文件；导入后先预览，确认后才提交。"),
        error_messages={
            "required": gettext_lazy("请选择要导入的填报表。"),
            "empty": gettext_lazy("上传的文件是空的。"),
            "invalid": gettext_lazy("没有收到文件，请重新选择。"),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx"

    def clean_file(self):
        if hasattr(self.files, "getlist") and len(self.files.getlist(self.add_prefix("file"))) > 1:
            raise forms.ValidationError(_("一次只能导入一份填报表。"))
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(_("文件无法读取：只能导入 .xlsx 格式的填报表（从本页下载的文件）。"))
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("文件无法读取：文件过大（%(size)s），填报表不超过 %(limit)s。"),
                params={"size": size_text(upload.size), "limit": size_text(MAX_BYTES)},
            )
        return upload


class AgencyChoiceForm(forms.Form):
    """The supervision office picks whose sheet to make."""

    agency = forms.ModelChoiceField(
        label=gettext_lazy("填报单位"), queryset=None, empty_label=gettext_lazy("— 选择单位 —")
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
