"""Relationship campaigns (DESIGN §6.5): newsletters, holiday greetings, promotions.

A campaign's audience is a stored set of customer-list filters (``CustomerFilter``),
applied to the customers its creator may see. Sending goes only to customers who hold a
live marketing consent *at the moment their message goes out* and have an e-mail address;
every customer of the audience gets one ``CampaignSend`` row saying what happened. Each
message carries a signed unsubscribe link that withdraws the customer's marketing consent.
A message's footer and the page of its link are in the customer's language (the card's
``language``), or, when that is not known, in the one the message is written in.

Personal values never reach the audit trail or the logs: events and log lines carry ids
and counts only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import record_event
from crm.models import User
from crm.permissions import require_perm
from crm.queueing import enqueue_on_commit
from customers import events, selectors
from customers import permissions as perms
from customers.filters import CustomerFilter
from customers.models import Campaign, CampaignSend, Consent, Customer
from customers.selectors import (
    audience_filter_names,
    campaign_audience,
    campaign_list,
    campaign_preview,
    campaign_results,
    campaign_send_list,
)
from customers.services.cards import _save
from customers.services.records import consent_withdraw_purpose

logger = logging.getLogger(__name__)

# Permission names, kept here for the adapters that read them from this module.
VIEW = perms.CAMPAIGN_VIEW
ADD = perms.CAMPAIGN_ADD
CHANGE = perms.CAMPAIGN_CHANGE
VIEW_SENDS = perms.CAMPAIGN_SENDS_VIEW

# The Celery task that sends a queued campaign (``customers.tasks``), queued by name: the
# tasks import the services, never the other way round.
CAMPAIGN_SEND_TASK = "customers.campaign_send"
UNSUBSCRIBE_SALT = "customers.unsubscribe"
UNSUBSCRIBE_REASON = "unsubscribe link"
SEND_CHUNK_SIZE = 500

# The reads moved to ``customers.selectors`` (and ``access_campaign`` to
# ``customers.permissions``) stay importable from here for the adapters that still read
# them here (customers/api/campaigns.py); new code imports them from their home.
access_campaign = perms.access_campaign
__all__ = [
    "ADD",
    "CHANGE",
    "VIEW",
    "VIEW_SENDS",
    "InvalidUnsubscribeToken",
    "UnsubscribeResult",
    "access_campaign",
    "audience_filter_clean",
    "audience_filter_names",
    "campaign_audience",
    "campaign_create",
    "campaign_list",
    "campaign_preview",
    "campaign_queue",
    "campaign_results",
    "campaign_send",
    "campaign_send_list",
    "recipient_language",
    "unsubscribe",
    "unsubscribe_token",
    "unsubscribe_token_read",
    "unsubscribe_url",
]


# --- audience ---------------------------------------------------------------------------


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
    allowed = selectors.audience_filter_names()
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
    require_perm(actor, ADD)
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
    require_perm(actor, CHANGE)
    perms.access_campaign(actor, campaign.pk)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError({"status": [_("This campaign has already been sent.")]})
    preview = selectors.campaign_preview(campaign=campaign, user=campaign.created_by)
    campaign.status = Campaign.Status.SENDING
    _save(campaign, actor, "queued", update_fields=["status", "updated_at"])
    record_event(action=events.CAMPAIGN_QUEUED, actor=actor, obj=campaign, data=preview)
    enqueue_on_commit(CAMPAIGN_SEND_TASK, campaign.pk)
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
        return selectors.campaign_result_counts(CampaignSend.objects.filter(campaign=campaign))
    already_logged = CampaignSend.objects.filter(campaign=campaign, customer=OuterRef("pk"))
    pending = (
        selectors.campaign_sending_audience(campaign=campaign)
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
        counts = selectors.campaign_result_counts(CampaignSend.objects.filter(campaign=campaign))
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
            # The customer's language comes with the address, in the same query.
            recipients = [
                (row.email, row.language)
                for row in Customer.objects.filter(
                    selectors.live_marketing_consent(), pk=customer_id
                ).only("uid", "data_key_id", "email", "language")
            ]
            if not recipients:
                result = CampaignSend.Result.NO_CONSENT
            elif not recipients[0][0]:
                result = CampaignSend.Result.NO_CHANNEL
            else:
                result = CampaignSend.Result.SENT
            send = CampaignSend(campaign=campaign, customer_id=customer_id, result=result)
            _save(send, None)  # claims the customer before anything goes out
            if result == CampaignSend.Result.SENT:
                try:
                    address, language = recipients[0]
                    _deliver(
                        campaign,
                        customer_id,
                        address,
                        connection,
                        language=recipient_language(campaign, language),
                    )
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


def campaign_language(campaign: Campaign) -> str:
    """The language a campaign's message is written in: Chinese when its subject or body
    holds Chinese characters, else English. What a customer whose language is not known
    reads (``recipient_language``)."""
    text = f"{campaign.subject}{campaign.body}"
    return "zh-hans" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def _known_language(language: str) -> str:
    """``language`` if it is one the site speaks (``settings.LANGUAGES``), else ""."""
    return language if language in {code for code, _name in settings.LANGUAGES} else ""


def recipient_language(campaign: Campaign, language: str = "") -> str:
    """The language of one customer's e-mail footer and unsubscribe page: the customer's
    own (the card's ``language``) when known, else the one the message is written in;
    never the sender's screen's or the worker's."""
    return _known_language(language) or campaign_language(campaign)


def _card_language(customer_id: int) -> str:
    """The customer's language on the card the link names or, after a merge, on the card
    it was merged into (the surviving card's when known); "" when not known. Reads no
    personal field: one query per card, a merge chain of at most ten."""
    languages = []
    next_id: int | None = customer_id
    for _hop in range(10):
        row = Customer.objects.filter(pk=next_id).values_list("language", "merged_into_id").first()
        if row is None:
            break
        languages.append(_known_language(row[0]))
        next_id = row[1]
        if next_id is None:
            break
    return next((language for language in reversed(languages) if language), "")


def unsubscribe_language(token: str) -> str | None:
    """The language of an unsubscribe link's page: the customer's (``_card_language``),
    else the one the campaign the link came with is written in (None: neither known)."""
    try:
        customer_id, campaign_id = unsubscribe_token_read(token)
    except InvalidUnsubscribeToken:
        return None
    language = _card_language(customer_id)
    if language:
        return language
    campaign = Campaign.objects.filter(pk=campaign_id).only("subject", "body").first()
    return campaign_language(campaign) if campaign else None


def _deliver(
    campaign: Campaign, customer_id: int, address: str, connection, *, language: str
) -> None:
    url = unsubscribe_url(customer_id, campaign.pk)
    context = {
        "campaign": campaign,
        "unsubscribe_url": url,
        "company_name": settings.CRM["COMPANY_NAME"],
    }
    with translation.override(language):
        text = render_to_string("customers/campaigns/email.txt", context)
        html = render_to_string("customers/campaigns/email.html", context)
    message = EmailMultiAlternatives(
        subject=campaign.subject,
        body=text,
        to=[address],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
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
