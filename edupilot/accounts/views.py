import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.errors import Refused
from edupilot.orgs import permissions as org_permissions
from edupilot.orgs.models import Org
from edupilot.orgs.scoping import scoped
from edupilot.orgs.selectors import access_org, scope_root

from . import credentials, permissions, selectors, services, sso
from .forms import (
    AdminRequestForm,
    OneTimePasswordChangeForm,
    ProvisionForm,
    RejectForm,
    ResetPasswordForm,
)
from .middleware import SESSION_KEY
from .models import AdminRequestState, CredentialPurpose


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if sso.sso_enabled():
            context["sso_label"] = sso.sso_label()
        return context


@require_POST
@login_required
def switch_membership(request):
    try:
        wanted = int(request.POST.get("membership", ""))
    except ValueError:
        wanted = None
    # Only the user's own active memberships can be chosen.
    if wanted and selectors.own_active_membership(request.user, wanted) is not None:
        request.session[SESSION_KEY] = wanted
    else:
        messages.error(request, _("无效的身份。"))
    return redirect("core:home")


@login_required
def password_change(request):
    form = OneTimePasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_change_password(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            actor=actor_from(request),
        )
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


# --- credential sheets ------------------------------------------------------------------------


def _sheet_url(sheet) -> str:
    return reverse("accounts:credentials", args=[sheet.pk])


def _hand_over(sheet, key: str) -> HttpResponse:
    """Send the creator to the sheet, giving its browser (only) the key to read it."""
    url = _sheet_url(sheet)
    response = redirect(url)
    response.set_cookie(
        credentials.COOKIE_NAME,
        key,
        max_age=int(credentials.sheet_ttl().total_seconds()),
        path=url,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def _open_sheet(view):
    """``view(request, sheet, entries)`` for a sheet of this user that this browser holds the
    key of; 404 for another's, and a page saying why (410) once it is gone."""

    @functools.wraps(view)
    def opened(request, sheet_id):
        try:
            sheet, entries = credentials.sheet_open(
                sheet_id=sheet_id,
                user=request.user,
                key=request.COOKIES.get(credentials.COOKIE_NAME),
            )
        except LookupError as exc:
            raise Http404 from exc
        except credentials.SheetUnavailable as exc:
            return render(request, "accounts/sheet_gone.html", {"reason": str(exc)}, status=410)
        return view(request, sheet, entries)

    return opened


def _login_url() -> str:
    return settings.BASE_URL.rstrip("/") + reverse("accounts:login")


@never_cache
@login_required
@_open_sheet
def credential_sheet(request, sheet, entries):
    return render(
        request,
        "accounts/sheet.html",
        {"sheet": sheet, "entries": entries, "login_url": _login_url()},
    )


@never_cache
@login_required
@_open_sheet
def credential_sheet_xlsx(request, sheet, entries):
    data = credentials.credentials_xlsx(
        entries,
        login_url=_login_url(),
        title=f"EduPilot 初始密码单（{sheet.get_purpose_display()}，{sheet.count} 个账号）",
    )
    credentials.sheet_mark_downloaded(sheet)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = sheet.created_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="credentials-{stamp}.xlsx"'
    return response


@require_POST
@login_required
def credential_sheet_destroy(request, sheet_id):
    try:
        credentials.sheet_destroy(sheet_id=sheet_id, user=request.user, actor=actor_from(request))
    except LookupError as exc:
        raise Http404 from exc
    messages.success(request, _("初始密码单已销毁，服务器上不再保留这些密码。"))
    response = redirect("core:home")
    response.delete_cookie(
        credentials.COOKIE_NAME, path=reverse("accounts:credentials", args=[sheet_id])
    )
    return response


# --- provisioning and resets ------------------------------------------------------------------


@login_required
def provision(request):
    scope = request.scope
    if not (scope.is_reviewer or scope.is_platform_admin):
        raise PermissionDenied(_("只有教育部门的账号可以开通学校账号。"))
    code = request.POST.get("org") or request.GET.get("org") or ""
    org = access_org(scope, code) if code else scope_root(scope)
    if org is not None:
        allowed, reason = org_permissions.can_provision(scope, org)
        if not allowed:
            raise PermissionDenied(reason)
    initial = {"org": org.code if org else ""}
    form = ProvisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and org is not None:
        creds = services.accounts_provision(
            root=org,
            actor=actor_from(request),
            scope=scope,
            kinds=form.cleaned_data["kinds"],
            limit=services.PAGE_PROVISION_LIMIT,
            reissue_unused=form.cleaned_data["reissue_unused"],
        )
        if not creds:
            messages.info(request, _("没有需要开通账号的单位。"))
            return redirect(f"{reverse('accounts:provision')}?org={org.code}")
        sheet, key = credentials.sheet_create(
            entries=creds, created_by=request.user, org=org, purpose=CredentialPurpose.PROVISION
        )
        return _hand_over(sheet, key)
    missing = services.orgs_without_applicant(org) if org is not None else None
    unused = services.unused_applicant_users(org).count() if org is not None else 0
    return render(
        request,
        "accounts/provision.html",
        {
            "form": form,
            "org": org,
            "missing_count": missing.count() if missing is not None else 0,
            "preview": list(missing[:20]) if missing is not None else [],
            "unused": unused,
            "limit": services.PAGE_PROVISION_LIMIT,
        },
    )


@never_cache
@login_required
def reset_password(request, user_id):
    """Reset a lower account's password: reason, the resetter's own password, then a sheet
    that opens once; the owner is told (services.user_reset_password)."""
    scope = request.scope
    user = selectors.access_user(scope, user_id)
    allowed, reason = org_permissions.can_reset_password(scope, user)
    if not allowed:
        raise PermissionDenied(reason)
    form = ResetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Through the authentication backends: a wrong password counts towards the lockout
        # (django-axes) and is audited like a failed login.
        me = authenticate(
            request, username=request.user.get_username(), password=form.cleaned_data["password"]
        )
        if me is None or me.pk != request.user.pk:
            form.add_error("password", _("密码不正确。"))
        else:
            try:
                cred = services.user_reset_password(
                    user=user,
                    actor=actor_from(request),
                    scope=scope,
                    reason=form.cleaned_data["reason"],
                )
            except Refused as exc:
                form.add_error(None, str(exc))
            else:
                m = next(iter(user.memberships.all()), None)
                sheet, key = credentials.sheet_create(
                    entries=[cred],
                    created_by=request.user,
                    org=m.org if m else None,
                    purpose=CredentialPurpose.RESET,
                )
                return _hand_over(sheet, key)
    return render(
        request,
        "accounts/reset.html",
        {
            "form": form,
            "target": user,
            "memberships": [m for m in user.memberships.all() if m.is_active],
        },
    )


# --- admin account requests ---------------------------------------------------------------------


def _bureau_only(scope):
    if not (scope.is_reviewer or scope.is_platform_admin):
        raise PermissionDenied(_("只有教育部门的账号可以办理管理员账号申请。"))


@login_required
def admin_requests(request):
    scope = request.scope
    _bureau_only(scope)
    state = request.GET.get("state", "")
    qs = selectors.admin_requests_for(scope)
    if state in AdminRequestState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "accounts/admin_requests.html",
        {
            "requests": qs[:500],
            "state": state,
            "states": AdminRequestState.choices,
            "can_file": bool(selectors.programmes_accepting_requests(scope)),
        },
    )


@login_required
def admin_request_new(request):
    scope = request.scope
    _bureau_only(scope)
    programmes = selectors.programmes_accepting_requests(scope)
    if not programmes:
        messages.info(request, _("目前没有受理项目管理员账号申请的项目。"))
        return redirect("accounts:admin_requests")
    by_code = {p.code: p for p in programmes}
    form = AdminRequestForm(
        request.POST or None,
        programmes=programmes,
        ask_org=scope.is_platform_admin,
        initial={"programme": request.GET.get("programme", "")},
    )
    own = None if scope.is_platform_admin else scope.org
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        programme = by_code[data["programme"]]
        org = own
        if org is None:
            org = scoped(Org.objects.all(), scope).filter(code=data["org"]).first()
            if org is None:
                form.add_error("org", _("机构代码 %(code)s 不存在。") % {"code": data["org"]})
        if org is not None:
            try:
                req = services.admin_request_submit(
                    programme=programme,
                    org=org,
                    full_name=data["full_name"],
                    gender=data["gender"],
                    unit=data["unit"],
                    position=data["position"],
                    phone=data["phone"],
                    wechat=data["wechat"],
                    actor=actor_from(request),
                    scope=scope,
                )
            except services.AdminRequestRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("申请已提交，等待发文单位审批。"))
                return redirect("accounts:admin_request", pk=req.pk)
    deadlines = [(p, services.admin_request_deadline(p)) for p in programmes]
    return render(
        request,
        "accounts/admin_request_new.html",
        {"form": form, "deadlines": deadlines, "own": own},
    )


@login_required
def admin_request_detail(request, pk):
    scope = request.scope
    _bureau_only(scope)
    req = selectors.access_admin_request(scope, pk)
    can_decide = permissions.can_decide_admin_request(scope, req)[0]
    reject_form = RejectForm(request.POST or None)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied(permissions.can_decide_admin_request(scope, req)[1])
        actor = actor_from(request)
        try:
            if request.POST.get("decision") == "approve":
                cred = services.admin_request_approve(request=req, actor=actor, scope=scope)
                sheet, key = credentials.sheet_create(
                    entries=[cred],
                    created_by=request.user,
                    org=req.org,
                    purpose=CredentialPurpose.ADMIN_REQUEST,
                )
                messages.success(request, _("账号已开通。请将初始密码告知申请人。"))
                return _hand_over(sheet, key)
            if reject_form.is_valid():
                services.admin_request_reject(
                    request=req,
                    reason=reject_form.cleaned_data["reason"],
                    actor=actor,
                    scope=scope,
                )
                messages.success(request, _("已退回该申请。"))
                return redirect("accounts:admin_request", pk=req.pk)
        except services.AdminRequestRefused as exc:
            messages.error(request, str(exc))
            return redirect("accounts:admin_request", pk=req.pk)
    return render(
        request,
        "accounts/admin_request_detail.html",
        {
            "req": req,
            "can_decide": can_decide and req.state == AdminRequestState.PENDING,
            "reject_form": reject_form,
            "deadline": services.admin_request_deadline(req.programme),
        },
    )
