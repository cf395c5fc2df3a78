import re

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from edupilot.orgs.models import OrgKind

from .models import Gender

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
WECHAT_RE = re.compile(r"^([a-zA-Z][-_a-zA-Z0-9]{5,19}|1[3-9]\d{9})$")


class OneTimePasswordChangeForm(PasswordChangeForm):
    def clean(self):
        cleaned = super().clean()
        old, new = cleaned.get("old_password"), cleaned.get("new_password1")
        if old and new and old == new:
            self.add_error("new_password1", _("新密码不能与原密码相同。"))
        return cleaned


class ProvisionForm(forms.Form):
    org = forms.CharField(label=_("机构代码"), max_length=32)
    kinds = forms.MultipleChoiceField(
        label=_("为哪些单位开通"),
        choices=[
            (OrgKind.SCHOOL, _("中小学、幼儿园、教学点")),
            (OrgKind.UNIVERSITY, _("高等学校")),
            (OrgKind.UNIT, _("直属单位")),
        ],
        initial=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT],
        widget=forms.CheckboxSelectMultiple,
    )
    reissue_unused = forms.BooleanField(
        label=_("同时为已开通但从未登录的账号重新生成初始密码（原初始密码作废）"), required=False
    )


class AdminRequestForm(forms.Form):
    programme = forms.ChoiceField(label=_("项目"))
    org = forms.CharField(
        label=_("申请单位代码"),
        max_length=32,
        required=False,
        help_text=_("平台管理员代为登记回执表时填写；其他用户为本单位申请。"),
    )
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices, widget=forms.RadioSelect)
    unit = forms.CharField(label=_("单位"), max_length=200)
    position = forms.CharField(label=_("职务"), max_length=100)
    phone = forms.CharField(label=_("手机号码"), max_length=20)
    wechat = forms.CharField(label=_("微信号"), max_length=40, required=False)

    def __init__(self, *args, programmes, ask_org: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [(p.code, p.title) for p in programmes]
        if not ask_org:
            del self.fields["org"]
        else:
            self.fields["org"].required = True

    def clean_phone(self):
        value = re.sub(r"[\s-]", "", self.cleaned_data["phone"])
        if not MOBILE_RE.match(value):
            raise forms.ValidationError(_("请填写 11 位手机号码。"))
        return value

    def clean_wechat(self):
        value = self.cleaned_data["wechat"].strip()
        if value and not WECHAT_RE.match(value):
            raise forms.ValidationError(
                _("微信号应为 6–20 位字母、数字、“-”或“_”，以字母开头；也可填写绑定的手机号。")
            )
        return value


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("不予开通的理由"), widget=forms.Textarea(attrs={"rows": 3}))


class ResetPasswordForm(forms.Form):
    """An upper org resets a lower account's password: why, and who is asking (re-auth)."""

    reason = forms.CharField(
        label=_("重置理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("账号本人会在站内和电子邮件中收到通知，通知中包含此理由。"),
        error_messages={"required": _("请填写重置理由。")},
    )
    password = forms.CharField(
        label=_("您本人的登录密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("重置他人密码前须再次确认您的身份。"),
        error_messages={"required": _("请输入您本人的登录密码。")},
    )

    def clean_reason(self):
        value = " ".join(self.cleaned_data["reason"].split())
        if not value:
            raise forms.ValidationError(_("请填写重置理由。"))
        return value
