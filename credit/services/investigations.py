"""Credit investigations, deterioration responses and the credit settings (DESIGN §6.6)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from credit import events, notify
from credit import permissions as perms
from credit.models import CreditSettings, DeteriorationResponse, Investigation
from credit.selectors import credit_settings
from credit.services.common import lock_account, save
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import Customer

ASPECTS = ("operator", "internal_state", "funding", "payment_behaviour")


@transaction.atomic
def investigation_record(
    *,
    actor: User,
    customer: Customer,
    source: str,
    kind: str,
    investigated_on: datetime.date | None = None,
    operator: str = "",
    internal_state: str = "",
    funding: str = "",
    payment_behaviour: str = "",
) -> Investigation:
    """Record an investigation report; its notes are encrypted under the customer's key.
    An urgent report notifies the manager at once; a periodic one moves the next review."""
    require_perm(actor, perms.ADD_INVESTIGATION)
    customer = customer_perms.access_customer(actor, customer.pk)
    errors = {}
    if source not in Investigation.Source.values:
        errors["source"] = [_("Choose a source.")]
    if kind not in Investigation.Kind.values:
        errors["kind"] = [_("Choose a kind of report.")]
    notes = {
        "operator": (operator or "").strip(),
        "internal_state": (internal_state or "").strip(),
        "funding": (funding or "").strip(),
        "payment_behaviour": (payment_behaviour or "").strip(),
    }
    if not any(notes.values()):
        errors["operator"] = [_("Write a note on at least one of the four aspects.")]
    investigated_on = investigated_on or timezone.localdate()
    if investigated_on > timezone.localdate():
        errors["investigated_on"] = [_("The date cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    investigation = save(
        Investigation(
            customer=customer,
            data_key_id=customer.data_key_id,
            source=source,
            kind=kind,
            investigated_on=investigated_on,
            author=actor,
            **notes,
        ),
        actor,
    )
    if kind == Investigation.Kind.PERIODIC:
        account = lock_account(customer)
        if account is not None and account.grade:
            account.next_review_on = investigated_on + datetime.timedelta(
                days=credit_settings().review_days(account.grade)
            )
            save(account, actor, update_fields=["next_review_on", "updated_at"])
    record_event(
        action=events.INVESTIGATION_RECORDED,
        actor=actor,
        obj=customer,
        data={
            "investigation_id": investigation.pk,
            "kind": kind,
            "source": source,
            "aspects": [name for name, value in notes.items() if value],
        },
    )
    if kind == Investigation.Kind.URGENT:
        notify.send(
            notify.URGENT_REPORT,
            recipients=notify.managers_of(customer),
            customer=customer,
            params={},
            actor=actor,
        )
    return investigation


@transaction.atomic
def response_record(
    *, actor: User, customer: Customer, kind: str, note: str = ""
) -> DeteriorationResponse:
    """Only the manager decides the response to a deterioration."""
    require_perm(actor, perms.ADD_RESPONSE)
    customer = customer_perms.access_customer(actor, customer.pk)
    if not perms.may_decide_for(actor, customer):
        raise customer_perms.refuse(actor, customer, "deterioration_response")
    if kind not in DeteriorationResponse.Kind.values:
        raise ValidationError({"kind": [_("Choose a response.")]})
    response = save(
        DeteriorationResponse(
            customer=customer,
            data_key_id=customer.data_key_id,
            kind=kind,
            note=(note or "").strip(),
            decided_by=actor,
        ),
        actor,
    )
    record_event(
        action=events.RESPONSE_RECORDED,
        actor=actor,
        obj=customer,
        data={"response_id": response.pk, "kind": kind, "status": response.status},
    )
    return response


@transaction.atomic
def response_status_set(
    *, actor: User, response: DeteriorationResponse, status: str
) -> DeteriorationResponse:
    require_perm(actor, perms.CHANGE_RESPONSE)
    response = DeteriorationResponse.objects.select_for_update().get(pk=response.pk)
    if status not in DeteriorationResponse.Status.values:
        raise ValidationError({"status": [_("Choose a status.")]})
    if status == response.status:
        return response
    previous, response.status = response.status, status
    save(response, actor, update_fields=["status", "updated_at"])
    record_event(
        action=events.RESPONSE_RECORDED,
        actor=actor,
        obj=response.customer,
        data={"response_id": response.pk, "from": previous, "to": status},
    )
    return response


SETTINGS_FIELDS = (
    "currency",
    "company_cap",
    "warning_percent",
    "grade_c_receivables",
    "grade_c_volume",
    "grade_c_employees",
    "new_business_years",
    "review_days_a",
    "review_days_b",
    "review_days_c",
    "overdue_note_days",
    "attachment_max_mb",
)


@transaction.atomic
def credit_settings_update(*, actor: User, **values) -> CreditSettings:
    """An admin changes the credit settings (audited: the names of the changed fields and
    their old and new values, none of them personal)."""
    require_perm(actor, perms.CHANGE_SETTINGS)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown setting.")] for name in sorted(unknown)})
    row = CreditSettings.objects.select_for_update().get(pk=credit_settings().pk)
    changed = {}
    for name, value in values.items():
        old = getattr(row, name)
        if value != old:
            setattr(row, name, value)
            changed[name] = {"from": str(old), "to": str(value)}
    if "warning_percent" in changed and not (0 < row.warning_percent <= 100):
        raise ValidationError({"warning_percent": [_("Between 0 and 100.")]})
    if "company_cap" in changed and row.company_cap <= 0:
        raise ValidationError({"company_cap": [_("The amount must be greater than zero.")]})
    if "attachment_max_mb" in changed and row.attachment_max_mb < 1:
        raise ValidationError({"attachment_max_mb": [_("At least 1 MB.")]})
    if "currency" in changed:
        row.currency = str(row.currency).strip().upper()
        if len(row.currency) != 3 or not row.currency.isalpha():
            raise ValidationError({"currency": [_("A three-letter currency code.")]})
    if not changed:
        return row
    row.full_clean()
    save(row, actor)
    record_event(action=events.SETTINGS_CHANGED, actor=actor, obj=row, data={"changed": changed})
    return row
