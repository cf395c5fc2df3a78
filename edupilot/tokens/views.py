from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.errors import Refused

from . import selectors, services
from .forms import TokenForm


@never_cache
@login_required
def token_list(request):
    """The person's own tokens, and the form to make one; the new secret is shown once, here."""
    form = TokenForm(
        request.POST or None,
        memberships=request.memberships,
        initial={"membership": getattr(request.membership, "pk", None)},
    )
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.token_create(
                membership=form.memberships[form.cleaned_data["membership"]],
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["access"] == "read",
                days=form.cleaned_data["days"],
                actor=actor_from(request),
            )
        except Refused as exc:
            for field, errs in exc.errors.items():
                for e in errs:
                    form.add_error(field, e)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            form = TokenForm(memberships=request.memberships)
    return render(
        request,
        "tokens/list.html",
        {
            "form": form,
            "created": created,
            "tokens": selectors.tokens_of(request.user),
        },
    )


@require_POST
@login_required
def token_revoke(request, pk):
    token = selectors.own_token(request.user, pk)
    services.token_revoke(token=token, actor=actor_from(request))
    messages.success(
        request, _("令牌“%(name)s”已撤销，使用它的系统将无法再访问。") % {"name": token.name}
    )
    return redirect("tokens:list")
