from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edupilot.orgs.models import Membership

from . import services
from .middleware import SESSION_KEY


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@require_POST
@login_required
def switch_membership(request):
    try:
        wanted = int(request.POST.get("membership", ""))
    except ValueError:
        wanted = None
    # Only the user's own active memberships can be chosen.
    if wanted and Membership.objects.filter(pk=wanted, user=request.user, is_active=True).exists():
        request.session[SESSION_KEY] = wanted
    else:
        messages.error(request, _("无效的身份。"))
    return redirect("core:home")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_change_password(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            actor=services.actor_from(request),
        )
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})
