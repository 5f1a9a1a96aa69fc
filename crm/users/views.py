"""User administration pages (issue 13 item 6): list, create, edit, deactivate with
hand-over, reactivate, set-password link; and the public set-password page the link opens.

Thin: the form validates, ``crm.services`` writes and audits, ``crm.selectors`` reads.
Every page but the set-password one needs ``crm.change_user`` (administrators).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import offboarding, roles, selectors, services
from crm.models import User
from crm.paginator import EstimatedCountPaginator
from crm.permissions import require_perm
from crm.security.services import may_set_password
from crm.users.forms import DeactivateForm, UserCreateForm, UserEditForm, UserFilterForm
from crm.validation import form_add_errors, messages_add_errors

PAGE_SIZE = 50
MANAGE = "crm.change_user"


def _subject(request, pk: int) -> User:
    require_perm(request.user, MANAGE)
    user = selectors.user_get(pk=pk)
    if user is None:
        raise Http404
    return user


def _posted(request):
    """The POST data of a POST (even an empty one, so its form is bound), else None."""
    return request.POST if request.method == "POST" else None


@login_required
def user_list_view(request):
    require_perm(request.user, MANAGE)
    filters = UserFilterForm(request.GET or None)
    queryset = selectors.user_list(**filters.filters())
    page = EstimatedCountPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"user": user, "roles": selectors.role_labels(user)} for user in page.object_list]
    return render(
        request,
        "crm/users/list.html",
        {"filters": filters, "page": page, "rows": rows},
    )


@login_required
def user_create_view(request):
    require_perm(request.user, "crm.add_user")
    require_perm(request.user, MANAGE)
    form = UserCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user,
                username=data["username"],
                role=data["role"],
                password=None,
                team=data["team"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(
                request, _("The user %(username)s was created.") % {"username": user.username}
            )
            if selectors.user_pending_role_changes(user=user).exists():
                messages.info(request, _("The role waits until a second person confirms it."))
            if data["send_link"]:
                _send_link(request, user)
            return redirect("users:detail", pk=user.pk)
    return render(request, "crm/users/form.html", {"form": form, "subject": None})


def _with_labels(changes) -> list:
    changes = list(changes)
    for change in changes:
        change.role_label = roles.label(change.role)
    return changes


@login_required
def user_detail_view(request, pk):
    user = _subject(request, pk)
    holdings = selectors.user_holdings(user=user)
    holds = sum(row["count"] for row in holdings)
    return render(
        request,
        "crm/users/detail.html",
        {
            "subject": user,
            "role_labels": selectors.role_labels(user),
            "pending": _with_labels(selectors.user_pending_role_changes(user=user)),
            "holdings": holdings,
            "holds": holds,
            "is_self": user.pk == request.user.pk,
            "may_reset": may_set_password(actor=request.user, user=user),
        },
    )


@login_required
def user_edit_view(request, pk):
    user = _subject(request, pk)
    form = UserEditForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, data=form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You are not allowed to do this."))
        else:
            messages.success(request, _("The changes were saved."))
            if selectors.user_pending_role_changes(user=user).exists():
                messages.info(
                    request, _("A high-trust role waits until a second person confirms it.")
                )
            return redirect("users:detail", pk=user.pk)
    return render(request, "crm/users/form.html", {"form": form, "subject": user})


@login_required
def user_deactivate_view(request, pk):
    user = _subject(request, pk)
    counts = offboarding.counts_for(user)
    managed = list(user.managed_teams.order_by("name").values_list("pk", "name"))
    team_ids, team_names = [pk for pk, _name in managed], [name for _pk, name in managed]
    holds = sum(count for _holding, count in counts)
    form = DeactivateForm(_posted(request), user=user, counts=counts, team_names=team_names)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.user_deactivate(
                actor=request.user,
                user=user,
                successor=form.cleaned_data.get("successor"),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(username)s was deactivated; %(count)d records were handed over.")
                % {"username": user.username, "count": moved},
            )
            orphans = ", ".join(selectors.teams_without_manager(team_ids=team_ids))
            if orphans:
                messages.warning(
                    request,
                    _("These teams have no manager now; name one on the team: %(teams)s")
                    % {"teams": orphans},
                )
            return redirect("users:detail", pk=user.pk)
    status = 400 if form.errors else 200
    successor = form.fields.get("successor")
    return render(
        request,
        "crm/users/deactivate.html",
        {
            "subject": user,
            "holdings": selectors.user_holdings(user=user, counts=counts),
            "holds": holds,
            "form": form,
            "managed_team_names": team_names,
            "no_candidate": bool(holds)
            and successor is not None
            and not successor.queryset.exists(),
            "is_self": user.pk == request.user.pk,
        },
        status=status,
    )


@login_required
@require_POST
def user_reactivate_view(request, pk):
    user = _subject(request, pk)
    services.user_reactivate(actor=request.user, user=user)
    messages.success(request, _("%(username)s may sign in again.") % {"username": user.username})
    return redirect("users:detail", pk=user.pk)


def _send_link(request, user) -> bool:
    try:
        services.user_password_reset_send(actor=request.user, user=user)
    except ValidationError as error:
        messages_add_errors(request, error)
        return False
    except PermissionDenied as error:
        messages.error(request, str(error))
        return False
    messages.success(
        request,
        _(
            "A link to set a new password was e-mailed to %(username)s; his sessions were "
            "ended. The link works once."
        )
        % {"username": user.username},
    )
    return True


@login_required
@require_POST
def user_password_reset_view(request, pk):
    user = _subject(request, pk)
    _send_link(request, user)
    return redirect("users:detail", pk=user.pk)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The page a set-password link opens: the token is checked (Django's), the new
    password validated, then ``user_password_set_by_link`` sets it once."""

    template_name = "crm/users/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        services.user_password_set_by_link(
            user=form.user, password=form.cleaned_data["new_password1"]
        )
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        messages.success(self.request, _("Your password was set. Sign in with it."))
        return HttpResponseRedirect(self.get_success_url())
