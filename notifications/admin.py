from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from notifications.models import Robot


class RobotForm(forms.ModelForm):
    webhook_url = forms.URLField(label=_("Webhook 地址"), max_length=500, assume_scheme="https")
    # The signing secret is never shown back; left empty on a change, it stays as it was.
    secret = forms.CharField(
        label=_("加签密钥"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("钉钉机器人开启“加签”时填写，以 SEC 开头；修改时留空表示保持不变。"),
    )
    clear_secret = forms.BooleanField(label=_("清除加签密钥"), required=False)

    class Meta:
        model = Robot
        fields = ["agency", "kind", "name", "webhook_url", "secret", "is_active"]

    def clean(self):
        data = super().clean()
        secret = (data.get("secret") or "").strip()
        if data.get("clear_secret"):
            secret = ""
        elif not secret and self.instance.pk:
            secret = Robot.objects.get(pk=self.instance.pk).secret
        data["secret"] = self.instance.secret = secret
        return data


@admin.register(Robot)
class RobotAdmin(SimpleHistoryAdmin):
    form = RobotForm
    fields = ["agency", "kind", "name", "webhook_url", "secret", "clear_secret", "is_active"]
    list_display = ["name", "agency", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]
