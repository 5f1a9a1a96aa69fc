"""Pages for relationship campaigns and the public unsubscribe link (DESIGN §6.5)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from customers import permissions as perms
from customers import selectors
from customers.filters import CustomerFilter
from customers.models import Campaign, CampaignSend, Customer
from customers.services import campaigns as services

LIST_PAGE_SIZE = 25
SENDS_PAGE_SIZE = 50
AUDIENCE_PREFIX = "audience"


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Campaign.Kind.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("Plain text. An unsubscribe link is added below it."),
    )


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


def _audience_filterset(data=None) -> CustomerFilter:
    """The customer-list filters usable for an audience, as a form prefixed ``audience-``."""
    filterset = CustomerFilter(data=data, queryset=Customer.objects.none(), prefix=AUDIENCE_PREFIX)
    allowed = set(selectors.audience_filter_names())
    for name in list(filterset.form.fields):
        if name not in allowed:
            del filterset.form.fields[name]
    _style(filterset.form)
    return filterset


def _audience_params(filterset: CustomerFilter) -> dict:
    """The audience as the customer list would get it in its query string."""
    params = {}
    for name in filterset.form.fields:
        value = filterset.form[name].data
        if value not in (None, ""):
            params[name] = value
    return params


def audience_description(campaign: Campaign) -> list[tuple[str, str]]:
    """The stored filters as (label, value) pairs for people to read."""
    filterset = CustomerFilter(
        data=campaign.audience_filter or {}, queryset=Customer.objects.none()
    )
    form = filterset.form
    if not form.is_valid():
        return [(_("Audience"), _("The stored filters are no longer valid; nobody is selected."))]
    described = []
    for name in campaign.audience_filter or {}:
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        field = form.fields[name]
        if isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        elif hasattr(field, "choices") and not isinstance(field, forms.ModelChoiceField):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        described.append((str(field.label), shown))
    return described


# --- pages --------------------------------------------------------------------------------


@login_required
@permission_required(perms.CAMPAIGN_VIEW, raise_exception=True)
def campaign_list_view(request):
    page = Paginator(selectors.campaign_list(user=request.user), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customers/campaigns/list.html",
        {"page": page, "can_create": request.user.has_perm(perms.CAMPAIGN_ADD)},
    )


@login_required
@permission_required(perms.CAMPAIGN_ADD, raise_exception=True)
def campaign_create_view(request):
    if request.method == "POST":
        form = CampaignForm(request.POST)
        audience = _audience_filterset(request.POST)
        if form.is_valid() and audience.form.is_valid():
            try:
                campaign = services.campaign_create(
                    actor=request.user,
                    audience_filter=_audience_params(audience),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("The campaign was saved as a draft."))
                return redirect("customers:campaign-detail", pk=campaign.pk)
    else:
        form = CampaignForm()
        audience = _audience_filterset()
    _style(form)
    return render(
        request, "customers/campaigns/form.html", {"form": form, "audience_form": audience.form}
    )


@login_required
@permission_required(perms.CAMPAIGN_VIEW, raise_exception=True)
def campaign_detail_view(request, pk: int):
    campaign = perms.access_campaign(request.user, pk)
    user = request.user
    is_draft = campaign.status == Campaign.Status.DRAFT
    can_see_sends = user.has_perm(perms.CAMPAIGN_SENDS_VIEW)
    context = {
        "campaign": campaign,
        "audience": audience_description(campaign),
        "preview": selectors.campaign_preview(campaign=campaign, user=user) if is_draft else None,
        "can_send": is_draft and user.has_perm(perms.CAMPAIGN_CHANGE),
        "can_see_sends": can_see_sends,
        "results": None,
        "page": None,
    }
    if can_see_sends and not is_draft:
        results = selectors.campaign_results(campaign=campaign, user=user)
        context["results"] = [
            (label, results.get(value, 0)) for value, label in CampaignSend.Result.choices
        ]
        context["results_total"] = results.get("total", 0)
        context["page"] = Paginator(
            selectors.campaign_send_list(campaign=campaign, user=user), SENDS_PAGE_SIZE
        ).get_page(request.GET.get("page"))
    return render(request, "customers/campaigns/detail.html", context)


@login_required
@permission_required(perms.CAMPAIGN_CHANGE, raise_exception=True)
@require_POST
def campaign_send_view(request, pk: int):
    campaign = perms.access_campaign(request.user, pk)
    try:
        services.campaign_queue(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(
            request, _("The campaign is being sent. The send log fills in as messages go out.")
        )
    return redirect("customers:campaign-detail", pk=campaign.pk)


# The page is public: the signed token is the only credential. POST is exempt from CSRF so
# that mail clients can unsubscribe in one click (RFC 8058 ``List-Unsubscribe-Post``); a
# forged request could only unsubscribe the holder of a token the forger already has.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request, token: str):
    # In the customer's language (else the one the campaign's message is written in), not
    # the browser's.
    language = services.unsubscribe_language(token) or translation.get_language()
    with translation.override(language):
        return _unsubscribe(request, token)


def _unsubscribe(request, token: str):
    try:
        customer_id, _campaign_id = services.unsubscribe_token_read(token)
    except services.InvalidUnsubscribeToken:
        return _unsubscribe_invalid(request, status=400)
    if request.method == "POST":
        try:
            result = services.unsubscribe(token)
        except Customer.DoesNotExist:
            return _unsubscribe_invalid(request, status=404)
        return render(
            request,
            "customers/campaigns/unsubscribe.html",
            {"done": True, "withdrawn": result.withdrawn},
        )
    if not Customer.objects.filter(pk=customer_id).exists():
        return _unsubscribe_invalid(request, status=404)
    return render(request, "customers/campaigns/unsubscribe.html", {"done": False})


def _unsubscribe_invalid(request, *, status: int):
    return render(
        request,
        "customers/campaigns/unsubscribe_invalid.html",
        {"not_found": status == 404},
        status=status,
    )


urlpatterns: list = [
    path("campaigns/", campaign_list_view, name="campaign-list"),
    path("campaigns/new/", campaign_create_view, name="campaign-create"),
    path("campaigns/<int:pk>/", campaign_detail_view, name="campaign-detail"),
    path("campaigns/<int:pk>/send/", campaign_send_view, name="campaign-send"),
    path("unsubscribe/<str:token>/", unsubscribe_view, name="unsubscribe"),
]
