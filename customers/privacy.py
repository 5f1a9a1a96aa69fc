"""The customers app's privacy provider (``crm.privacy``): subject access and purge.

The customer card stays after a purge as the anonymous placeholder that business facts
(sales lines, invoices) keep pointing at: its code, kind, business type and owner remain;
every personal field, the organisation's name and the card's free text are emptied, in the
rows and in their history rows.
"""

from __future__ import annotations

from django.db.models import Max

from crm import privacy

MODELS = (
    "customers.customer",
    "customers.contact",
    "customers.identitydocument",
    "customers.consent",
    "customers.interaction",
    "customers.stagemove",
    "customers.customattributevalue",
)

# Clear fields of the card that describe the customer beyond business facts.
CARD_CLEAR_FIELDS = (
    "organisation_name",
    "website",
    "equipment_summary",
    "real_estate_summary",
    "management_age_structure",
)


def _scrub(customer) -> dict[str, int]:
    counts = {}
    for label in MODELS:
        extra = ()
        if label == "customers.customer":
            extra = CARD_CLEAR_FIELDS
        elif label == "customers.customattributevalue":
            extra = ("value",)
        counts[label] = privacy.scrub_model_rows(label, customer, extra_fields=extra)
    return counts


def _expire_interactions(*, cutoff, held, dry_run: bool) -> int:
    """Interaction notes older than the policy: the summary is emptied, the fact stays."""
    from customers.models import Interaction

    rows = (
        Interaction.objects.filter(occurred_at__lt=cutoff)
        .exclude(summary="")
        .exclude(summary__isnull=True)
        .exclude(customer_id__in=list(held))
    )
    if dry_run:
        return rows.count()
    return privacy.scrub_queryset(rows, ["summary"])


def _last_activity(customer):
    from customers.models import Customer, Interaction

    moments = [
        Customer.objects.filter(pk=customer.pk).values_list("updated_at", flat=True).first(),
        Interaction.objects.filter(customer_id=customer.pk).aggregate(last=Max("occurred_at"))[
            "last"
        ],
    ]
    return max((moment for moment in moments if moment is not None), default=None)


def _consent_evidence(since, until) -> list:
    """Consents given and withdrawn in [since, until) for the evidence report (one query)."""
    from django.db.models import Count, Q
    from django.utils.translation import gettext

    from customers.models import Consent

    given = Q(given_at__gte=since, given_at__lt=until)
    withdrawn = Q(withdrawn_at__gte=since, withdrawn_at__lt=until)
    counts = Consent.objects.filter(given | withdrawn).aggregate(
        given=Count("pk", filter=given), withdrawn=Count("pk", filter=withdrawn)
    )
    return [
        ("consents_given", gettext("Consents given"), counts["given"]),
        ("consents_withdrawn", gettext("Consents withdrawn"), counts["withdrawn"]),
    ]


def register() -> None:
    from audit import events as audit_events
    from audit import evidence
    from customers.services.workspace import REVEAL_PURPOSES

    # The evidence report's consent counts and the audit console's purpose labels.
    evidence.register("consents", evidence.SECTION_CONSENTS, _consent_evidence)
    for code, label in REVEAL_PURPOSES:
        audit_events.register_purpose(code, label)
    privacy.set_subject_model("customers.customer")
    privacy.register(
        privacy.Provider(
            app="customers",
            models=MODELS,
            scrub=_scrub,
            last_activity=_last_activity,
            expire={"interaction": _expire_interactions},
        )
    )
