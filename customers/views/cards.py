"""The customer list, the card with its tabs, and the actions taken on a card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.exceptions import ConflictError
from crm.paginator import EstimatedCountPaginator
from crm.permissions import require_perm
from crm.validation import form_add_errors, messages_add_errors
from customers import card_tabs, selectors, services
from customers import permissions as perms
from customers.card_fields import ORGANISATION_FIELDS
from customers.filters import PAGE_SIZES, CustomerFilter, filter_data
from customers.forms import (
    ConsentForm,
    ContactForm,
    CustomerCreateForm,
    CustomerEditForm,
    DocumentForm,
    GrantForm,
    InteractionForm,
    RevealForm,
    StageMoveForm,
    StatusForm,
    VisitRecordForm,
)
from customers.models import Consent, Customer, VisitPlanEntry
from customers.services import workspace

# The card's tabs are registered in customers.card_tabs (this app's from CustomersConfig).
DEFAULT_TAB = "profile"
# Who holds an explicit grant on the card: shown to those who may grant, and to overseers.
ACCESS_TAB = "access"
PAGE_SIZE = 25


def _duplicate_message(error: services.DuplicateCustomer):
    text = "; ".join(m for ms in error.message_dict.values() for m in ms)
    if error.url:
        return format_html('{} <a href="{}">{}</a>', text, error.url, _("Open the card"))
    return text


# --- list ---------------------------------------------------------------------------------


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_list_view(request):
    """The list; its filter form is posted (htmx or not) so that a search term, which may
    be a phone or ID number, never travels in a URL. Paging posts the form with the page.

    A ``GET`` takes the other filters from the query string (links and bookmarks) but
    never ``q``: such a request is redirected to the same list without it.
    """
    if request.method == "POST":
        data = request.POST
    elif "q" in request.GET:
        params = request.GET.copy()
        del params["q"]
        params.pop("page", None)
        if request.GET.get("q", "").strip():
            messages.warning(
                request,
                _("Search terms are not taken from the address: type them in the search box."),
            )
        query = params.urlencode()
        return redirect(reverse("customers:list") + (f"?{query}" if query else ""))
    else:
        data = request.GET
    if request.method == "GET" and "view" in request.GET:
        data = _saved_view_data(request)
    data = _remembered_filters(request, data)
    filterset = CustomerFilter(
        filter_data(data), queryset=selectors.customer_list(user=request.user)
    )
    _style_filter_form(filterset.form)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    ordering = filterset.form.data.get("ordering", "")
    if not ordering:
        queryset = queryset.order_by("code")
    page_size = _page_size(data)
    # Exact count up to 20,000 cards, the planner's estimate above ("about N").
    page = EstimatedCountPaginator(queryset, page_size).get_page(data.get("page"))
    template = "customers/_list_rows.html" if request.htmx else "customers/list.html"
    return render(
        request,
        template,
        {
            "filter": filterset,
            "page": page,
            "chips": _filter_chips(filterset),
            "ordering": ordering,
            "sort_columns": SORT_COLUMNS,
            "page_size": page_size,
            "page_sizes": PAGE_SIZES,
            "export_filters": sorted(filterset.form.data.items()),
            "may_export": request.user.has_perm(perms.EXPORT),
            "may_export_clear": perms.can_export_clear(request.user),
            "may_create": request.user.has_perm("customers.add_customer"),
            "saved_views": list(selectors.saved_view_list(user=request.user)),
            **_bulk_context(request.user),
        },
    )


def _saved_view_data(request):
    """A saved view's filters, sort and page size (the user's own view; another's: 404)."""
    from django.http import QueryDict

    from customers.services import saved_views

    view = saved_views.saved_view_get(user=request.user, view_id=request.GET.get("view"))
    data = QueryDict(mutable=True)
    data.update(view.filters)
    if view.ordering:
        data["ordering"] = view.ordering
    if view.page_size:
        data["page_size"] = str(view.page_size)
    if not view.filters and not view.ordering and not view.page_size:
        data["clear"] = "all"  # an empty view shows the whole list, not the last filters
    return data


def _bulk_context(user) -> dict:
    """The bulk actions bar: for those who may reassign (managers, the GM), never a rep."""
    if not user.has_perm(perms.REASSIGN):
        return {"may_bulk": False}
    from customers.forms import BulkActionForm

    return {"may_bulk": True, "bulk_form": BulkActionForm(actor=user)}


# Sortable columns: the header's column key and the FilterSet's ordering value.
SORT_COLUMNS = {"code": "code", "reverification_due": "reverification_due", "updated": "updated"}
_REMEMBERED = "customers.list.filters"


def _page_size(data) -> int:
    try:
        size = int(data.get("page_size") or PAGE_SIZE)
    except (TypeError, ValueError):
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


def _remembered_filters(request, data):
    """The last filters used (never the search term, which may be a phone or ID number)
    come back when the list is opened with none; a chip's ``clear`` drops its filter and
    ``clear=all`` every one.

    They are kept per user (``SavedView`` of kind "last used", so they follow him to
    another browser) and cached in the session: the row is read once per session and
    written only when the filters change.
    """
    from django.http import QueryDict

    from customers.services import saved_views

    names = set(saved_views.saved_filter_names()) | {"ordering", "page_size"}
    mutable = data.copy() if hasattr(data, "copy") else QueryDict(mutable=True)
    cleared = mutable.pop("clear", [])
    for name in names if "all" in cleared else cleared:
        mutable.pop(name, None)
    known = request.session.get(_REMEMBERED)
    if request.method == "GET" and not cleared and not any(key in names for key in mutable):
        if known is None:  # a new session: one read; cached only when there is something
            known = _last_used(saved_views.last_used_get(user=request.user))
            if known:
                request.session[_REMEMBERED] = known
        for key, value in known.items():
            mutable[key] = value
    remembered = {key: mutable.get(key) for key in names if mutable.get(key) not in (None, "")}
    if "page_size" in remembered and _page_size(remembered) != _int(remembered["page_size"]):
        del remembered["page_size"]  # an unknown size is not kept
    if (known or {}) != remembered:  # no write otherwise
        request.session[_REMEMBERED] = remembered
        filters = {k: v for k, v in remembered.items() if k not in ("ordering", "page_size")}
        saved_views.last_used_set(
            user=request.user,
            filters=filters,
            ordering=remembered.get("ordering", ""),
            page_size=remembered.get("page_size"),
        )
    return mutable


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _last_used(view) -> dict:
    if view is None:
        return {}
    stored = dict(view.filters)
    if view.ordering:
        stored["ordering"] = view.ordering
    if view.page_size:
        stored["page_size"] = str(view.page_size)
    return stored


def _style_filter_form(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        css = (
            "form-select form-select-sm"
            if hasattr(widget, "choices")
            else "form-control form-control-sm"
        )
        widget.attrs.setdefault("class", css)
    if "q" in form.fields:
        form.fields["q"].widget.attrs.update(
            placeholder=_("name, phone, ID number, e-mail, code"),
            **{"aria-describedby": "search-hint"},
        )


def _filter_chips(filterset) -> list[dict]:
    """The active filters (not the search term nor the sort) as removable chips."""
    chips = []
    data = filterset.form.data
    for name, field in filterset.form.fields.items():
        if name in ("q", "ordering", "ids") or not data.get(name):
            continue
        value = data.get(name)
        shown = value
        choices = getattr(field, "choices", None)
        if choices is not None:
            for key, label in choices:
                if str(getattr(key, "value", key)) == str(value):
                    shown = label
                    break
        chips.append({"name": name, "label": field.label, "value": shown})
    return chips


# --- create and edit ----------------------------------------------------------------------


@login_required
@permission_required("customers.add_customer", raise_exception=True)
def customer_create_view(request):
    form = CustomerCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        documents = []
        if data.pop("document_type"):
            documents.append(
                services.DocumentInput(form.cleaned_data["document_type"], data["document_number"])
            )
        data.pop("document_number")
        contacts, consents = [], []
        guardian_name, guardian_phone = data.pop("guardian_name"), data.pop("guardian_phone")
        if guardian_name:
            contacts.append(
                services.ContactInput(
                    name=guardian_name, phone=guardian_phone, role=_("Guardian"), is_guardian=True
                )
            )
        if data.pop("guardian_consent"):
            consents.append(
                services.ConsentInput("minor", "paper", _policy_version(), given_by_guardian=True)
            )
        if data.pop("marketing_consent"):
            consents.append(services.ConsentInput("marketing", "paper", _policy_version()))
        card = {k: v for k, v in data.items() if v not in (None, "")}
        try:
            customer = services.customer_create(
                actor=request.user,
                kind=card.pop("kind"),
                name=card.pop("name"),
                business_type=card.pop("business_type"),
                owner=card.pop("owner", None),
                tier=card.pop("tier", None),
                documents=documents,
                contacts=contacts,
                consents=consents,
                **card,
            )
        except services.DuplicateCustomer as error:
            form.add_error(None, _duplicate_message(error))
        except ValidationError as error:
            form_add_errors(form, error)
        except PermissionDenied as error:
            form.add_error("owner", str(error))
        else:
            messages.success(request, _("Customer %(code)s created.") % {"code": customer.code})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", _form_context(form, creating=True))


def _form_context(form, **context):
    import json

    return {
        "form": form,
        "organisation_fields": json.dumps(list(ORGANISATION_FIELDS)),
        **context,
    }


def _policy_version():
    from django.conf import settings

    return settings.CUSTOMERS["POLICY_VERSION"]


@login_required
@permission_required(perms.CHANGE, raise_exception=True)
def customer_edit_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    form = CustomerEditForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=request.user,
                customer_id=customer.pk,
                version=form.cleaned_data["version"],
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
            )
        except ConflictError as error:
            messages.error(
                request,
                _("%(error)s Your changes were not saved; the form now shows the current card.")
                % {"error": error},
            )
            return redirect("customers:edit", pk=customer.pk)
        except services.DuplicateCustomer as error:
            form.add_error(None, _duplicate_message(error))
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request, "customers/form.html", _form_context(form, creating=False, customer=customer)
    )


# --- the card -----------------------------------------------------------------------------


def _may_grant(user, card) -> bool:
    """``perms.can_grant``, asked once per card object (the access tab's check and the
    card's buttons both need it)."""
    answers = card.__dict__.setdefault("_may_grant_by_user", {})
    if user.pk not in answers:
        answers[user.pk] = perms.can_grant(user, card)
    return answers[user.pk]


def may_see_grants(user, card) -> bool:
    """The rule of ``perms.can_see_grants``, without asking ``can_grant`` twice."""
    return user.has_perm(perms.VIEW_ALL) or _may_grant(user, card)


def profile_tab_context(request, card) -> dict:
    return {
        "reveal_form": RevealForm(),
        "attribute_rows": selectors.attribute_rows(card),
        "may_call_back": card.owner_id == request.user.pk,
    }


def timeline_tab_context(request, card) -> dict:
    return {"timeline": selectors.customer_timeline(customer=card, user=request.user)}


def access_tab_context(request, card) -> dict:
    context = {"grants": selectors.customer_grant_list(customer=card)}
    if _may_grant(request.user, card):
        context["grant_form"] = GrantForm(customer=card)
    return context


def _card_context(request, customer, tab_key):
    """The card's context on one tab; 404 for a tab the user may not see (or no such tab)."""
    card = selectors.customer_card(customer)
    tabs = card_tabs.visible_tabs(request.user, card)
    tab = next((candidate for candidate in tabs if candidate.key == tab_key), None)
    if tab is None:
        raise Http404
    may_grant = _may_grant(request.user, card)
    context = {
        "customer": card,
        "tab": tab.key,
        "tabs": tabs,
        "tab_template": tab.template,
        "tab_html": None,
        "may_change": may_grant,
        "may_grant": may_grant,
        "may_reveal": perms.can_reveal(request.user, card),
        "may_log": request.user.has_perm("customers.add_interaction"),
        "may_consent": request.user.has_perm("customers.add_consent"),
    }
    if tab.context is not None:
        context.update(tab.context(request, card))
    if tab.view is not None:
        context["tab_view"] = tab.view
    if context["may_change"]:
        context.update(
            contact_form=ContactForm(),
            document_form=DocumentForm(),
            stage_form=StageMoveForm(initial={"responsible": card.stage_owner_id}, customer=card),
            status_form=StatusForm(customer=card),
        )
    if request.user.has_perm(perms.REASSIGN) and perms.can_reassign(request.user, card):
        from customers.forms import OwnerChangeForm

        context["owner_form"] = OwnerChangeForm(actor=request.user)
    if context["may_log"]:
        context["interaction_form"] = InteractionForm()
    if context["may_consent"]:
        context["consent_form"] = ConsentForm(customer=card)
    return context


@login_required
@permission_required(perms.VIEW, raise_exception=True)
def customer_detail_view(request, pk):
    customer = perms.access_customer(request.user, pk)
    if customer.status == Customer.Status.MERGED and customer.merged_into_id:
        messages.info(request, _("This card was merged; showing the card it was merged into."))
        return redirect("customers:detail", pk=customer.merged_into_id)
    services.customer_view_record(actor=request.user, customer=customer)
    tab = request.GET.get("tab", DEFAULT_TAB)
    if card_tabs.get(tab) is None:
        tab = DEFAULT_TAB
    return _render_card(request, _card_context(request, customer, tab))


def _render_card(request, context, *, status=200):
    """The whole card; a tab answered by its own view is embedded as that view's HTML."""
    view = context.pop("tab_view", None)
    if view is not None:
        response = view(request, context["customer"])
        # The tab view's own HTML fragment, embedded as it answered it (it escapes).
        context["tab_html"] = mark_safe(response.content.decode(response.charset))  # noqa: S308
    return render(request, "customers/detail.html", context, status=status)


@login_required
@permission_required(perms.VIEW, raise_exception=True)
def customer_tab_view(request, pk, tab):
    if card_tabs.get(tab) is None:
        raise Http404
    customer = perms.access_customer(request.user, pk)
    context = _card_context(request, customer, tab)
    view = context.pop("tab_view", None)
    if view is not None:
        return view(request, context["customer"])
    return render(request, context["tab_template"], context)


def _back_to(customer, tab):
    return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + f"?tab={tab}")


_TAB_FORMS = {
    "contacts": "contact_form",
    "identity": "document_form",
    "consents": "consent_form",
    "interactions": "interaction_form",
    "stages": "stage_form",
}


def _form_failed(request, customer, tab, form):
    """The card again on the tab, with the submitted form and its errors."""
    context = _card_context(request, customer, tab)
    context[_TAB_FORMS[tab]] = form
    return _render_card(request, context, status=400)


@login_required
@require_POST
@permission_required(perms.VIEW, raise_exception=True)
def customer_reveal_view(request, pk):
    customer = perms.access_customer(request.user, pk)
    form = RevealForm(request.POST)
    clear = None
    if form.is_valid():
        try:
            clear = services.customer_reveal(
                actor=request.user,
                customer=customer,
                fields=form.cleaned_data["fields_"],
                purpose=form.cleaned_data["purpose"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
    # A refused reveal answers 400 with the form and its errors under the fields; the
    # static workspace.js lets htmx swap 400 answers in (it keeps them out by default).
    return render(
        request,
        "customers/_revealed.html" if request.htmx else "customers/revealed_page.html",
        {
            "customer": customer,
            "clear": clear,
            "revealed": revealed_rows(clear) if clear is not None else None,
            "reveal_form": form,
            "may_call_back": customer.owner_id == request.user.pk,
        },
        status=200 if clear is not None else 400,
    )


def revealed_rows(clear: dict) -> list[dict]:
    """Revealed values with the labels the profile uses (never a raw key like
    ``birth_date``), document types and attribute names translated."""
    from customers.forms import REVEALABLE_LABELS
    from customers.models import CustomAttribute, IdentityDocument

    attribute_labels = {}
    if clear.get("attributes"):
        attribute_labels = {
            a.code: str(a)
            for a in CustomAttribute.objects.filter(code__in=list(clear["attributes"]))
        }
    rows = []
    for field, value in clear.items():
        row = {"field": field, "label": REVEALABLE_LABELS.get(field, field), "value": value}
        if field == "identity_documents":
            row["value"] = [
                {**d, "type_label": IdentityDocument.Type(d["doc_type"]).label}
                if d["doc_type"] in IdentityDocument.Type.values
                else {**d, "type_label": d["doc_type"]}
                for d in value
            ]
        elif field == "attributes":
            row["value"] = [
                {"label": attribute_labels.get(code, code), "value": v} for code, v in value.items()
            ]
        rows.append(row)
    return rows


@login_required
@require_POST
@permission_required(perms.CHANGE, raise_exception=True)
def customer_reverify_view(request, pk):
    customer = services.customer_reverify(actor=request.user, customer_id=pk)
    messages.success(
        request,
        _("Re-verified. Next re-verification due %(date)s.")
        % {"date": date_format(customer.reverification_due, "SHORT_DATE_FORMAT")},
    )
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("customers:detail", args=[pk])
    return redirect(target)


@login_required
@require_POST
def attributes_save_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    values = {
        key.removeprefix("attr_"): value
        for key, value in request.POST.items()
        if key.startswith("attr_") and value != ""
    }
    try:
        services.attribute_values_set(actor=request.user, customer=customer, values=values)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    else:
        messages.success(request, _("Saved."))
    return _back_to(customer, "profile")


def _card_action(request, customer, form, *, tab: str, run, done: str, needs: str = ""):
    """Run a card tab's form through its service; back to the tab, or the form with errors.

    ``needs``: the permission the service will require, checked before the form is read,
    so a role that may never do this gets 403 (audited) rather than the form's errors.
    """
    if needs:
        require_perm(request.user, needs)
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except services.DuplicateCustomer as error:
            form.add_error(None, _duplicate_message(error))
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, done)
            return _back_to(customer, tab)
    return _form_failed(request, customer, tab, form)


@login_required
@require_POST
def contact_create_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    return _card_action(
        request,
        customer,
        ContactForm(request.POST),
        tab="contacts",
        done=_("Contact saved."),
        run=lambda data: services.contact_save(actor=request.user, customer=customer, **data),
    )


@login_required
@require_POST
def document_create_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    return _card_action(
        request,
        customer,
        DocumentForm(request.POST),
        tab="identity",
        done=_("Identity document saved."),
        run=lambda data: services.identity_document_add(
            actor=request.user, customer=customer, **data
        ),
    )


@login_required
@require_POST
def consent_create_view(request, pk):
    customer = perms.access_customer(request.user, pk)
    return _card_action(
        request,
        customer,
        ConsentForm(request.POST, customer=customer),
        tab="consents",
        done=_("Consent recorded."),
        run=lambda data: services.consent_record(actor=request.user, customer=customer, **data),
        needs="customers.add_consent",
    )


@login_required
@require_POST
def consent_withdraw_view(request, pk, consent_id):
    customer = perms.access_customer(request.user, pk)
    consent = get_object_or_404(Consent, pk=consent_id, customer=customer)
    services.consent_withdraw(
        actor=request.user, consent=consent, reason=request.POST.get("reason", "")
    )
    messages.success(request, _("Consent withdrawn. It takes effect at once."))
    return _back_to(customer, "consents")


@login_required
@require_POST
def interaction_create_view(request, pk):
    customer = perms.access_customer(request.user, pk)
    return _card_action(
        request,
        customer,
        InteractionForm(request.POST),
        tab="interactions",
        done=_("Interaction logged."),
        run=lambda data: services.interaction_log(actor=request.user, customer=customer, **data),
        needs="customers.add_interaction",
    )


@login_required
@require_POST
def stage_move_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    return _card_action(
        request,
        customer,
        StageMoveForm(request.POST, customer=customer),
        tab="stages",
        done=_("Stage changed."),
        run=lambda data: services.stage_move(actor=request.user, customer_id=customer.pk, **data),
    )


@login_required
@require_POST
def customer_status_view(request, pk):
    """Change the card's status (prospect → active → dormant → closed); errors under the
    fields of the status form, shown in the card's header."""
    customer = perms.access_customer(request.user, pk, action="change")
    form = StatusForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            workspace.customer_status_change(
                actor=request.user,
                customer_id=customer.pk,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Status changed."))
            return _back_to(customer, "timeline")
    context = _card_context(request, customer, DEFAULT_TAB)
    context["status_form"] = form
    context["status_open"] = True
    return _render_card(request, context, status=400)


# --- access grants ------------------------------------------------------------------------


@login_required
@require_POST
def grant_create_view(request, pk):
    customer = perms.access_customer(request.user, pk, action="change")
    form = GrantForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            services.customer_access_grant(
                actor=request.user, customer=customer, **form.cleaned_data
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Access granted."))
            return _back_to(customer, ACCESS_TAB)
    context = _card_context(request, customer, ACCESS_TAB)
    context["grant_form"] = form
    return _render_card(request, context, status=400)


@login_required
@require_POST
def grant_revoke_view(request, pk, grant_id):
    customer = perms.access_customer(request.user, pk, action="change")
    services.customer_access_revoke(
        actor=request.user,
        customer=customer,
        grant_id=grant_id,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, _("Access revoked. It takes effect at once."))
    return _back_to(customer, ACCESS_TAB)


# --- visit plan ---------------------------------------------------------------------------


@login_required
@require_POST
@permission_required("customers.add_visitplanentry", raise_exception=True)
def visit_plan_add_view(request, pk):
    customer = perms.access_customer(request.user, pk)
    try:
        services.visit_plan_add(actor=request.user, customer=customer)
    except ValidationError as error:
        messages_add_errors(request, error)
    else:
        messages.success(request, _("Added to your visit plan."))
    return redirect("customers:detail", pk=customer.pk)


@login_required
@permission_required("customers.view_visitplanentry", raise_exception=True)
def visit_plan_view(request):
    entries = selectors.visit_plan_for(request.user)
    return render(
        request,
        "customers/visit_plan.html",
        {
            "active": [e for e in entries if e.status == VisitPlanEntry.Status.ACTIVE],
            "closed": [e for e in entries if e.status != VisitPlanEntry.Status.ACTIVE][:50],
            "form": VisitRecordForm(),
            "limit": services.records.max_fruitless_visits(),
        },
    )


@login_required
@require_POST
@permission_required("customers.change_visitplanentry", raise_exception=True)
def visit_record_view(request, entry_id):
    form = VisitRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the visit's result."))
        return redirect("customers:visit-plan")
    try:
        entry, _interaction = services.visit_record(
            actor=request.user, entry_id=entry_id, **form.cleaned_data
        )
    except ValidationError as error:
        messages_add_errors(request, error)
    else:
        if entry.status == VisitPlanEntry.Status.REMOVED:
            messages.warning(
                request,
                _("%(code)s left your visit plan: %(reason)s")
                % {"code": entry.customer.code, "reason": entry.removed_reason},
            )
        else:
            messages.success(request, _("Visit recorded."))
    return redirect("customers:visit-plan")
