"""The customer list's saved views and bulk actions, the card's owner and the hand-over of
a leaving rep's customers (issue 13 items 2 and 5).

Every page here parses, calls a service (which checks the permission and the customers'
visibility) and redirects with a message. Filters and selections are posted, never put in
an address; a saved view is applied by its id (``/customers/?view=<id>``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from crm.models import ExportJob
from crm.validation import form_add_errors, messages_add_errors
from customers import permissions as perms
from customers.filters import filter_data
from customers.forms import BulkActionForm, HandOverForm, OwnerChangeForm, SavedViewForm
from customers.responses import export_response
from customers.services import exports, saved_views, workspace


def _to_list(request, query: str = ""):
    url = reverse("customers:list") + (f"?{query}" if query else "")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)


# --- saved views ---------------------------------------------------------------------------


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_POST
def saved_view_create_view(request):
    """Save the filters and sort posted with the list's filter form (the search term is
    left out: it is never saved)."""
    form = SavedViewForm({"name": request.POST.get("view_name", "")})
    if not form.is_valid():
        _form_errors(request, form)
        return _to_list(request)
    filters = filter_data(request.POST)
    filters = {k: v for k, v in filters.items() if k in saved_views.saved_filter_names()}
    try:
        view = saved_views.saved_view_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            filters=filters,
            ordering=request.POST.get("ordering", ""),
            page_size=request.POST.get("page_size") or None,
        )
    except ValidationError as error:
        messages_add_errors(request, error)
        return _to_list(request)
    if (request.POST.get("q") or "").strip():
        messages.info(request, _("The search term was not saved with the view."))
    messages.success(request, _("View saved."))
    return _to_list(request, f"view={view.pk}")


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_POST
def saved_view_rename_view(request, view_id):
    saved_views.saved_view_get(user=request.user, view_id=view_id)  # another's view: 404
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _to_list(request)
    try:
        saved_views.saved_view_update(
            actor=request.user, view_id=view_id, name=form.cleaned_data["name"]
        )
    except ValidationError as error:
        messages_add_errors(request, error)
    else:
        messages.success(request, _("View renamed."))
    return _to_list(request)


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_POST
def saved_view_delete_view(request, view_id):
    saved_views.saved_view_delete(actor=request.user, view_id=view_id)
    messages.success(request, _("View deleted."))
    return _to_list(request)


# --- bulk actions --------------------------------------------------------------------------


@login_required
@permission_required(perms.REASSIGN, raise_exception=True)
@require_POST
def bulk_action_view(request):
    """Reassign, plan or export the customers ticked on the list (managers and the GM)."""
    form = BulkActionForm(request.POST, actor=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("customers:list")
    data = form.cleaned_data
    try:
        if data["action"] == BulkActionForm.REASSIGN:
            count = workspace.customers_reassign(
                actor=request.user,
                customer_ids=data["ids"],
                owner=data["owner"],
                reason=data["reason"],
            )
            messages.success(
                request,
                ngettext("%(count)d customer reassigned.", "%(count)d customers reassigned.", count)
                % {"count": count},
            )
        elif data["action"] == BulkActionForm.PLAN:
            counts = workspace.customers_visit_plan_add(
                actor=request.user, customer_ids=data["ids"], rep=data["owner"]
            )
            messages.success(
                request,
                _(
                    "Added to the visit plan: %(added)d; not prospects: %(not_prospects)d; "
                    "already planned: %(already_planned)d."
                )
                % counts,
            )
        else:
            return _export_selection(request, data)
    except ValidationError as error:
        messages_add_errors(request, error)
    return redirect("customers:list")


def _export_selection(request, data):
    """The selection through the list's export (masked; a background job when large)."""
    result = exports.customer_export(
        actor=request.user,
        filter_params={"ids": ",".join(str(pk) for pk in data["ids"])},
        fmt=data["format"] or "xlsx",
    )
    if isinstance(result, ExportJob):
        return redirect("exports:detail", pk=result.pk)
    return export_response(result)


# --- the card's owner, and a leaving rep's customers -----------------------------------------


@login_required
@permission_required(perms.REASSIGN, raise_exception=True)
@require_POST
def owner_change_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    form = OwnerChangeForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            workspace.customer_owner_change(
                actor=request.user,
                customer_id=customer.pk,
                owner=form.cleaned_data["owner"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages_add_errors(request, error)
        else:
            messages.success(request, _("Owner changed."))
    else:
        _form_errors(request, form)
    return redirect("customers:detail", pk=customer.pk)


@login_required
@permission_required(perms.REASSIGN, raise_exception=True)
@require_http_methods(["GET", "POST"])
def hand_over_view(request):
    """Hand all customers of a rep who leaves to another: a manager within his team, the
    general manager across teams."""
    form = HandOverForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                count = workspace.customers_hand_over(
                    actor=request.user,
                    from_user=form.cleaned_data["from_user"],
                    to_user=form.cleaned_data["owner"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d customer handed over.", "%(count)d customers handed over.", count
                    )
                    % {"count": count},
                )
                return redirect("customers:hand-over")
        status = 400
    return render(request, "customers/hand_over.html", {"form": form}, status=status)


urlpatterns = [
    path("views/save/", saved_view_create_view, name="view-save"),
    path("views/<int:view_id>/rename/", saved_view_rename_view, name="view-rename"),
    path("views/<int:view_id>/delete/", saved_view_delete_view, name="view-delete"),
    path("bulk/", bulk_action_view, name="bulk"),
    path("hand-over/", hand_over_view, name="hand-over"),
    path("<int:pk>/owner/", owner_change_view, name="owner-change"),
]
