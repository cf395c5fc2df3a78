"""``{{ decided_by|handover_mark:decided_at }}``: "（代设密码期间）" when the user acted during
a period its password had been set by someone else (see accounts.models.PasswordHandover).

No query for an account that was never reset by another (``ever_handed_down``); otherwise one
per user object, cached on it.
"""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def handover_mark(user, when) -> str:
    if user is None or when is None or not getattr(user, "ever_handed_down", False):
        return ""
    periods = getattr(user, "_handover_periods", None)
    if periods is None:
        periods = list(user.handovers.all())
        user._handover_periods = periods
    if any(p.covers(when) for p in periods):
        return _("（代设密码期间）")
    return ""
