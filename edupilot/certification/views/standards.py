"""Pages for standards: the list with a file upload (check, or load), and one standard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.audit.services import actor_from
from edupilot.core.errors import Denied, Refused, check

from .. import forms, permissions, selectors, services
from ..standards import StandardFileInvalid, parse_bytes, resolve
from .common import is_bureau

LOADED = {
    "created": gettext_lazy("已载入"),
    "updated": gettext_lazy("已更新"),
    "unchanged": gettext_lazy("内容未变"),
}


@login_required
def standard_list(request):
    if not is_bureau(request):
        raise Http404
    form = forms.StandardUploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST":
        # Checking a file is part of loading it: the same people do both.
        check(permissions.can_load_standard(request.scope))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            parsed = parse_bytes(upload.read(), upload.name)
            if form.cleaned_data["load"]:
                outcome = services.standard_load(
                    parsed=parsed, scope=request.scope, actor=actor_from(request)
                )
                messages.success(
                    request,
                    _("%(action)s：%(standard)s")
                    % {"action": LOADED[outcome.action], "standard": outcome.standard},
                )
                return redirect("certification:standard_detail", outcome.standard.pk)
            base = None
            if parsed.spec.extends:
                base_obj = selectors.standard_by_code(parsed.spec.extends)
                base = services.resolved_from_db(base_obj) if base_obj else None
            resolved = resolve(parsed, base)
            messages.success(
                request,
                _("校验通过：%(title)s，%(count)s 项指标")
                % {"title": parsed.spec.title, "count": len(resolved.indicators)},
            )
        except StandardFileInvalid as exc:
            errors = exc.errors
        except Denied:
            raise
        except Refused as exc:
            form.add_error(None, exc.message)
    return render(
        request,
        "certification/standard_list.html",
        {"standards": selectors.standards(), "form": form, "errors": errors},
    )


@login_required
def standard_detail(request, pk):
    if not is_bureau(request):
        raise Http404
    standard = selectors.access_standard(pk)
    indicators = list(standard.indicators.all())
    return render(
        request,
        "certification/standard_detail.html",
        {
            "standard": standard,
            "indicators": indicators,
            "chain": standard.chain()[1:],
            "dimension_minimums": [
                d for d in standard.dimensions if d.get("min_percent") not in (None, "")
            ],
        },
    )
