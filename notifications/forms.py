from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Preference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email", "wecom", "dingtalk", "quiet_start", "quiet_end"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "quiet_start": _("免打扰时段内，非紧急的邮件和群消息推迟到时段结束后发送；站内消息照常送达。"),
            "quiet_end": _("开始与结束相同表示不设免打扰。"),
        }

    def __init__(self, *args, user, robots: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.robots = robots
        for channel in ("wecom", "dingtalk"):
            if channel not in robots:
                # Not offered where the agency has no such robot (clean() refuses it too);
                # the widget only, so the box posts nothing and a setting left over from a
                # robot since removed is turned off on the next save.
                self.fields[channel].widget.attrs["disabled"] = True
                self.fields[channel].help_text = _("本单位尚未配置该群机器人，暂不能选择；如需开通请联系系统管理员。")
                if not self.is_bound:
                    self.initial[channel] = False

    def clean(self):
        data = super().clean()
        for channel in ("wecom", "dingtalk"):
            if data.get(channel) and channel not in self.robots:
                self.add_error(channel, _("本单位尚未配置该群机器人，请联系系统管理员。"))
            elif data.get(channel) and not self.user.phone:
                self.add_error(channel, _("群消息按手机号@提醒，请先在个人资料中填写手机号。"))
        if data.get("email") and not self.user.email:
            self.add_error("email", _("您的账号没有邮箱地址，请联系系统管理员添加后再开启。"))
        return data
