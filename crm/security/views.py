"""The account security page, two-factor enrolment and sign-in, role-change confirmation."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from crm.security import services, tokens, twofactor
from crm.security.forms import CodeForm


def safe_next(request, default: str) -> str:
    """``next`` from the form or the query, if it points at this site; else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
def account_view(request):
    user = request.user
    return render(
        request,
        "security/account.html",
        {
            "tokens": list(tokens.token_list(actor=user)[:50]),
            "two_factor_required": twofactor.required_for(user),
            "two_factor_enrolled": twofactor.has_device(user),
            "role_changes": list(services.role_changes_pending(actor=user)),
        },
    )


@login_required
@require_POST
def token_revoke_view(request, pk):
    tokens.token_revoke(actor=request.user, token_id=pk)
    messages.success(request, _("The token was revoked."))
    return redirect("security:account")


@login_required
@require_POST
def sign_out_everywhere_view(request):
    counts = services.sign_out_everywhere(
        actor=request.user, user=request.user, keep_session_key=request.session.session_key
    )
    messages.success(
        request,
        _("Signed out of %(sessions)d other sessions; %(tokens)d API tokens revoked.") % counts,
    )
    return redirect("security:account")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "security/password_change.html"
    success_url = reverse_lazy("security:account")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


@login_required
def two_factor_setup_view(request):
    user = request.user
    device = twofactor.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.enrol_confirm(user=user, device=device, code=form.cleaned_data["code"])
        if codes is not None:
            otp_login(request, device)
            return render(
                request,
                "security/recovery_codes.html",
                {"codes": codes, "next": safe_next(request, reverse("home"))},
            )
        form.add_error("code", _("That code is not right. Check the time on your phone."))
    return render(
        request,
        "security/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": twofactor.qr_svg(device),
            "secret": device.bin_key.hex(),
            "next": safe_next(request, ""),
        },
        status=400 if form.errors else 200,
    )


@login_required
def two_factor_verify_view(request):
    user = request.user
    if not twofactor.has_device(user):
        return redirect("security:two-factor-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(safe_next(request, reverse("home")))
        form.add_error("code", _("That code is not right."))
    return render(
        request,
        "security/two_factor_verify.html",
        {"form": form, "next": safe_next(request, "")},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def recovery_codes_renew_view(request):
    if not twofactor.has_device(request.user):
        raise PermissionDenied
    codes = twofactor.recovery_codes_renew(user=request.user)
    return render(
        request, "security/recovery_codes.html", {"codes": codes, "next": reverse("home")}
    )


@login_required
def role_change_list_view(request):
    return render(
        request,
        "security/role_changes.html",
        {"changes": list(services.role_changes_pending(actor=request.user))},
    )


@login_required
@require_POST
def role_change_decide_view(request, pk, decision):
    if decision == "confirm":
        services.role_change_confirm(actor=request.user, change_id=pk)
        messages.success(request, _("The role change was confirmed."))
    else:
        services.role_change_reject(actor=request.user, change_id=pk)
        messages.success(request, _("The role change was rejected."))
    return redirect("security:role-changes")
