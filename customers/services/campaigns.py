"""Relationship campaigns (DESIGN §6.5): newsletters, holiday greetings, promotions.

A campaign's audience is a stored set of customer-list filters (``CustomerFilter``),
applied to the customers its creator may see. Sending goes only to customers who hold a
live marketing consent *at the moment their message goes out* and have an e-mail address;
every customer of the audience gets one ``CampaignSend`` row saying what happened. Each
message carries a signed unsubscribe link that withdraws the customer's marketing consent.

Personal values never reach the audit trail or the logs: events and log lines carry ids
and counts only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events as audit_events
from audit.services import record_event
from crm.ids import is_object_id
from crm.models import User
from customers import events
from customers import permissions as perms
from customers.filters import CustomerFilter
from customers.models import Campaign, CampaignSend, Consent, Customer
from customers.services.cards import _save
from customers.services.records import consent_withdraw_purpose
from customers.tasks import campaign_send_task

logger = logging.getLogger(__name__)


VIEW = "customers.view_campaign"
ADD = "customers.add_campaign"
CHANGE = "customers.change_campaign"
VIEW_SENDS = "customers.view_campaignsend"

UNSUBSCRIBE_SALT = "customers.unsubscribe"
UNSUBSCRIBE_REASON = "unsubscribe link"
SEND_CHUNK_SIZE = 500
_EXCLUDED_STATUSES = (Customer.Status.MERGED, Customer.Status.CLOSED)

# Filters of the customer list that cannot define an audience: free-text search would
# keep names, phone numbers or ID numbers in clear in the campaign row (DESIGN §3), and
# ordering does not select anyone.
AUDIENCE_EXCLUDED_FILTERS = frozenset({"q", "ordering"})


def _require(actor: User, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


# --- audience -----------------------------------------------------------------------------


def audience_filter_names() -> list[str]:
    """The customer-list filters a campaign audience may use, in the list's order."""
    return [name for name in CustomerFilter.base_filters if name not in AUDIENCE_EXCLUDED_FILTERS]


def _as_param(value) -> str:
    """A filter value as the customer list receives it in its query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value).strip()


def audience_filter_clean(audience_filter) -> dict[str, str]:
    """Validate filter params against ``CustomerFilter``; return them normalised.

    Unknown names, excluded filters and invalid values raise ``ValidationError`` under
    ``audience_filter``. Empty values are dropped (an empty filter means "everyone").
    """
    if audience_filter in (None, ""):
        return {}
    if not isinstance(audience_filter, dict):
        raise ValidationError(
            {"audience_filter": [_("Give the audience as filter names and values.")]}
        )
    allowed = audience_filter_names()
    unknown = sorted(str(name) for name in audience_filter if name not in allowed)
    if unknown:
        raise ValidationError(
            {
                "audience_filter": [
                    _("These filters cannot define an audience: %(names)s. Use: %(allowed)s.")
                    % {"names": ", ".join(unknown), "allowed": ", ".join(allowed)}
                ]
            }
        )
    data = {}
    for name, value in audience_filter.items():
        if isinstance(value, list | tuple | dict | set):
            raise ValidationError(
                {"audience_filter": [_("%(name)s: give one value.") % {"name": name}]}
            )
        if value is None or _as_param(value) == "":
            continue
        data[name] = _as_param(value)
    filterset = CustomerFilter(data=data, queryset=Customer.objects.none())
    form = filterset.form
    if not form.is_valid():
        raise ValidationError(
            {
                "audience_filter": [
                    f"{form.fields[name].label}: {message}"
                    for name, messages in form.errors.items()
                    for message in messages
                ]
            }
        )
    cleaned = {}
    for name in data:
        value = form.cleaned_data.get(name)
        if value is None or value == "":
            continue
        cleaned[name] = _as_param(value)
    return cleaned


def campaign_audience(*, campaign: Campaign, user: User) -> QuerySet:
    """The customers ``user`` may see that match the campaign's filters (not merged/closed).

    A stored filter that no longer validates (say, a team that was deleted) selects
    nobody rather than silently widening the audience.
    """
    base = perms.visible_customers(user, Customer.objects.exclude(status__in=_EXCLUDED_STATUSES))
    filterset = CustomerFilter(data=campaign.audience_filter or {}, queryset=base)
    if not filterset.is_valid():
        logger.warning("campaign %s: stored audience filter no longer valid", campaign.pk)
        return base.none()
    return filterset.qs


def _live_marketing_consent() -> Exists:
    return Exists(
        Consent.objects.filter(
            customer=OuterRef("pk"),
            purpose=Consent.Purpose.MARKETING,
            withdrawn_at__isnull=True,
        )
    )


def _sending_audience(campaign: Campaign, viewer: User | None = None) -> QuerySet:
    """The audience the campaign sends to (its creator's view), narrowed to what
    ``viewer`` may see when someone else looks at it."""
    audience = campaign_audience(campaign=campaign, user=campaign.created_by)
    if viewer is not None and viewer.pk != campaign.created_by_id:
        audience = perms.visible_customers(viewer, audience)
    return audience


def campaign_preview(*, campaign: Campaign, user: User) -> dict[str, int]:
    """What sending now would do, counted in one SQL query.

    ``reachable``: live marketing consent and an e-mail address; ``no_consent`` and
    ``no_email`` are the customers that would be skipped for each reason (a customer
    without consent counts there whatever their e-mail).
    """
    audience = _sending_audience(campaign, user).annotate(marketing=_live_marketing_consent())
    counts = audience.aggregate(
        audience=Count("pk"),
        # An empty e-mail is stored empty (only values are encrypted): no decryption here.
        reachable=Count("pk", filter=Q(marketing=True) & ~Q(email="")),
        no_consent=Count("pk", filter=Q(marketing=False)),
        no_email=Count("pk", filter=Q(marketing=True, email="")),
    )
    return {key: counts[key] or 0 for key in ("audience", "reachable", "no_consent", "no_email")}


# --- reads and access ---------------------------------------------------------------------


def _visible_campaigns(user: User) -> QuerySet:
    """Campaigns a user may look at: their own, or all for those who see every customer."""
    if not user.is_authenticated or not user.has_perm(VIEW):
        return Campaign.objects.none()
    if user.has_perm(perms.VIEW_ALL):
        return Campaign.objects.all()
    return Campaign.objects.filter(created_by=user)


def campaign_list(*, user: User) -> QuerySet:
    """The campaigns ``user`` may see, newest first, with send counts (one query)."""
    return (
        _visible_campaigns(user)
        .select_related("created_by")
        .annotate(
            logged_count=Count("sends"),
            sent_count=Count("sends", filter=Q(sends__result=CampaignSend.Result.SENT)),
        )
        .order_by("-created_at", "-pk")
    )


def access_campaign(user: User, campaign_id) -> Campaign:
    """Fetch a campaign the user may see, else 404 (missing and forbidden alike).

    Callers still check the model permission of what they do with it.
    """
    campaign = (
        _visible_campaigns(user).select_related("created_by").filter(pk=campaign_id).first()
        if is_object_id(campaign_id)
        else None
    )
    if campaign is None:
        if user.is_authenticated and is_object_id(campaign_id):
            record_event(
                action=audit_events.ACCESS_DENIED,
                actor=user,
                content_type=_campaign_type(),
                object_id=campaign_id,
                data={"action": "view"},
            )
        raise Http404("No such campaign.")
    return campaign


def _campaign_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Campaign)


def campaign_send_list(*, campaign: Campaign, user: User) -> QuerySet:
    """The send log of a campaign, customers the user may see only, shown by code.

    Customer rows are not loaded (their personal fields would be decrypted for nothing):
    each send carries ``customer_code``.
    """
    visible = perms.visible_customers(user, Customer.objects.all())
    return (
        CampaignSend.objects.filter(campaign=campaign, customer__in=visible.values("pk"))
        .annotate(customer_code=models.F("customer__code"))
        .order_by("pk")
    )


def campaign_results(*, campaign: Campaign, user: User) -> dict[str, int]:
    """Counts of the send log by result (customers the user may see), one query."""
    sends = campaign_send_list(campaign=campaign, user=user)
    return _result_counts(sends)


def _result_counts(sends: QuerySet) -> dict[str, int]:
    counts = sends.aggregate(
        total=Count("pk"),
        **{result: Count("pk", filter=Q(result=result)) for result in CampaignSend.Result.values},
    )
    return {key: value or 0 for key, value in counts.items()}


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    kind: str,
    subject: str,
    body: str,
    audience_filter: dict | None = None,
) -> Campaign:
    """Create a draft campaign whose audience is a set of customer-list filters."""
    _require(actor, ADD)
    errors: dict[str, list[str]] = {}
    values = {
        "name": (name or "").strip(),
        "subject": (subject or "").strip(),
        "body": (body or "").strip(),
    }
    for field, value in values.items():
        if not value:
            errors[field] = [_("This field is required.")]
    if kind not in Campaign.Kind.values:
        errors["kind"] = [_("Choose newsletter, holiday greeting or promotion.")]
    try:
        audience = audience_filter_clean(audience_filter)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        audience = {}
    if errors:
        raise ValidationError(errors)
    campaign = Campaign(
        kind=kind,
        audience_filter=audience,
        status=Campaign.Status.DRAFT,
        created_by=actor,
        **values,
    )
    campaign.full_clean()
    _save(campaign, actor)
    record_event(
        action=events.CAMPAIGN_CREATED,
        actor=actor,
        obj=campaign,
        data={"kind": kind, "audience_filter": audience},
    )
    return campaign


@transaction.atomic
def campaign_queue(*, actor: User, campaign: Campaign) -> Campaign:
    """Mark a draft campaign as sending and queue the send once the transaction commits.

    A campaign is sent once: a campaign that is no longer a draft is refused.
    """
    _require(actor, CHANGE)
    access_campaign(actor, campaign.pk)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError({"status": [_("This campaign has already been sent.")]})
    preview = campaign_preview(campaign=campaign, user=campaign.created_by)
    campaign.status = Campaign.Status.SENDING
    _save(campaign, actor, "queued", update_fields=["status", "updated_at"])
    record_event(action=events.CAMPAIGN_QUEUED, actor=actor, obj=campaign, data=preview)
    campaign_id = campaign.pk
    transaction.on_commit(lambda: campaign_send_task.delay(campaign_id))
    return campaign


def campaign_send(*, campaign_id: int) -> dict[str, int]:
    """Send a queued campaign (the body of ``campaign_send_task``).

    Safe to run again: customers who already have a send row are skipped, and a campaign
    that is not in the sending state sends nothing. Each customer is handled in its own
    short transaction: the consent is checked, the send row claims the customer (the
    unique rule stops a concurrent run) and the message goes out; so a withdrawal that
    commits before that moment stops the message. A message the mail server refuses is
    logged as FAILED and the campaign goes on.
    """
    campaign = Campaign.objects.select_related("created_by").get(pk=campaign_id)
    if campaign.status != Campaign.Status.SENDING:
        return _result_counts(CampaignSend.objects.filter(campaign=campaign))
    already_logged = CampaignSend.objects.filter(campaign=campaign, customer=OuterRef("pk"))
    pending = (
        _sending_audience(campaign)
        .exclude(Exists(already_logged))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    connection = get_connection(fail_silently=False)
    try:
        for customer_id in pending.iterator(chunk_size=SEND_CHUNK_SIZE):
            _send_one(campaign=campaign, customer_id=customer_id, connection=connection)
    finally:
        connection.close()

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        counts = _result_counts(CampaignSend.objects.filter(campaign=campaign))
        if campaign.status == Campaign.Status.SENDING:
            campaign.status = Campaign.Status.SENT
            campaign.sent_at = timezone.now()
            _save(campaign, None, "sent", update_fields=["status", "sent_at", "updated_at"])
            record_event(action=events.CAMPAIGN_SENT, obj=campaign, data=counts)
    logger.info("campaign %s sent: %s", campaign_id, counts)
    return counts


def _send_one(*, campaign: Campaign, customer_id: int, connection) -> str | None:
    """Check, claim, send and log one customer; the result, or None if already logged."""
    try:
        with transaction.atomic():
            # Consent is read now, not when the campaign started: a withdrawal takes
            # effect at once. The e-mail is decrypted only for consenting customers.
            addresses = [
                row.email
                for row in Customer.objects.filter(_live_marketing_consent(), pk=customer_id).only(
                    "uid", "data_key_id", "email"
                )
            ]
            if not addresses:
                result = CampaignSend.Result.NO_CONSENT
            elif not addresses[0]:
                result = CampaignSend.Result.NO_CHANNEL
            else:
                result = CampaignSend.Result.SENT
            send = CampaignSend(campaign=campaign, customer_id=customer_id, result=result)
            _save(send, None)  # claims the customer before anything goes out
            if result == CampaignSend.Result.SENT:
                try:
                    _deliver(campaign, customer_id, addresses[0], connection)
                except Exception as exc:  # noqa: BLE001 - any mail error fails this one only
                    # The exception text may hold the address: log its type only.
                    logger.warning(
                        "campaign %s: message to customer %s failed (%s)",
                        campaign.pk,
                        customer_id,
                        type(exc).__name__,
                    )
                    connection.close()  # the next message opens a fresh connection
                    send.result = CampaignSend.Result.FAILED
                    _save(send, None, update_fields=["result", "updated_at"])
            return send.result
    except IntegrityError:
        return None  # another run logged this customer first


def _deliver(campaign: Campaign, customer_id: int, address: str, connection) -> None:
    url = unsubscribe_url(customer_id, campaign.pk)
    context = {
        "campaign": campaign,
        "unsubscribe_url": url,
        "company_name": settings.CRM["COMPANY_NAME"],
    }
    message = EmailMultiAlternatives(
        subject=campaign.subject,
        body=render_to_string("customers/campaigns/email.txt", context),
        to=[address],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("customers/campaigns/email.html", context), "text/html"
    )
    message.send(fail_silently=False)


# --- unsubscribe --------------------------------------------------------------------------


class InvalidUnsubscribeToken(ValidationError):
    """The token was altered, or is not an unsubscribe token."""


@dataclass(frozen=True)
class UnsubscribeResult:
    customer_id: int
    campaign_id: int | None
    withdrawn: int


def unsubscribe_token(customer, campaign) -> str:
    """A signed, non-expiring token naming the customer and the campaign it came with."""
    return signing.dumps(
        {
            "customer": getattr(customer, "pk", customer),
            "campaign": getattr(campaign, "pk", campaign),
        },
        salt=UNSUBSCRIBE_SALT,
        compress=True,
    )


def unsubscribe_url(customer, campaign) -> str:
    """The absolute unsubscribe link (``CRM_BASE_URL`` + the public page)."""
    base = getattr(settings, "CRM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    path = reverse("customers:unsubscribe", args=[unsubscribe_token(customer, campaign)])
    return base + path


def unsubscribe_token_read(token: str) -> tuple[int, int | None]:
    """The customer and campaign ids of a token; ``InvalidUnsubscribeToken`` if bad."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=None)
        customer_id = int(payload["customer"])
        campaign_id = payload.get("campaign")
        return customer_id, (int(campaign_id) if campaign_id is not None else None)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidUnsubscribeToken(_("This unsubscribe link is not valid.")) from exc


def _current_card(customer_id: int) -> Customer:
    """The customer's card, following merges to the surviving card (its consents moved)."""
    customer = Customer.objects.filter(pk=customer_id).first()
    for _hop in range(10):
        if customer is None or customer.merged_into_id is None:
            break
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
    if customer is None:
        raise Customer.DoesNotExist("No such customer.")
    return customer


@transaction.atomic
def unsubscribe(token: str) -> UnsubscribeResult:
    """Withdraw the customer's live marketing consents (the customer's own request).

    Idempotent: a second use withdraws nothing and succeeds. Raises
    ``InvalidUnsubscribeToken`` for a bad token and ``Customer.DoesNotExist`` when the
    customer is gone.
    """
    customer_id, campaign_id = unsubscribe_token_read(token)
    customer = _current_card(customer_id)
    withdrawn = consent_withdraw_purpose(
        customer=customer, purpose=Consent.Purpose.MARKETING, reason=UNSUBSCRIBE_REASON
    )
    logger.info(
        "unsubscribe: customer %s (campaign %s) withdrew %s consents",
        customer.pk,
        campaign_id,
        withdrawn,
    )
    return UnsubscribeResult(customer_id=customer.pk, campaign_id=campaign_id, withdrawn=withdrawn)
