from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .services import LIFETIMES_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=60,
        help_text=_("写明使用它的系统，例如“省教育管理信息平台数据交换”。"),
    )
    membership = forms.TypedChoiceField(label=_("以哪个身份访问"), coerce=int)
    access = forms.ChoiceField(
        label=_("权限"),
        choices=[("read", _("只读")), ("write", _("读写"))],
        initial="read",
        widget=forms.RadioSelect,
    )
    days = forms.TypedChoiceField(
        label=_("有效期"),
        coerce=int,
        initial=90,
    )

    def __init__(self, *args, memberships=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Per request, in its language (a lazy string formatted at import would stay Chinese).
        self.fields["days"].choices = [(d, gettext("%(d)s 天") % {"d": d}) for d in LIFETIMES_DAYS]
        self.memberships = {m.pk: m for m in memberships}
        self.fields["membership"].choices = [
            (m.pk, f"{m.org.name} · {m.get_role_display()}") for m in memberships
        ]
