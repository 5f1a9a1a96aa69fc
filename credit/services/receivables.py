"""Receivables: invoices, payments allocated to them, notes received; risk reports from
dishonoured or long-overdue notes; write-offs during collection (DESIGN §6.6)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from credit import events, notify
from credit import permissions as perms
from credit.models import (
    CreditAccount,
    Invoice,
    Note,
    Order,
    Payment,
    PaymentAllocation,
    RiskReport,
)
from credit.selectors import credit_settings
from credit.services.common import currency_of, lock_account, money, required_text, save
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import Customer


def _after_exposure_change(account: CreditAccount | None, actor) -> None:
    if account is not None:
        from credit.services.orders import warning_refresh

        warning_refresh(account=account, actor=actor)


def _dates(issued_on, due_on, first="issued_on"):
    if not isinstance(issued_on, datetime.date):
        raise ValidationError({first: [_("Enter a date.")]})
    if not isinstance(due_on, datetime.date):
        raise ValidationError({"due_on": [_("Enter a date.")]})
    if due_on < issued_on:
        raise ValidationError(
            {
                "due_on": [
                    _("The due date cannot be before %(date)s.") % {"date": issued_on.isoformat()}
                ]
            }
        )


@transaction.atomic
def invoice_create(
    *,
    actor: User | None,
    customer: Customer,
    number: str,
    issued_on: datetime.date,
    due_on: datetime.date,
    amount: Decimal,
    currency: str = "",
    order: Order | None = None,
    paid_amount: Decimal = Decimal("0.00"),
    audit: bool = True,
) -> Invoice:
    """Record an invoice (an open receivable). Invoicing an order takes it out of the
    "accepted, not invoiced" part of exposure. ``audit=False`` for the importer, which
    records one event for the lot."""
    require_perm(actor, perms.ADD_INVOICE)
    if actor is not None:
        customer = customer_perms.access_customer(actor, customer.pk)
    number = required_text(number, "number")[:40]
    amount = money(amount)
    paid_amount = money(paid_amount, "paid_amount", positive=False)
    if paid_amount < 0 or paid_amount > amount:
        raise ValidationError({"paid_amount": [_("Paid must be between 0 and the amount.")]})
    currency = currency_of(customer, currency)
    _dates(issued_on, due_on)
    account = lock_account(customer)
    if order is not None:
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.customer_id != customer.pk:
            raise ValidationError({"order": [_("The order belongs to another customer.")]})
        if order.status not in (Order.Status.ACCEPTED, Order.Status.RELEASED):
            raise ValidationError({"order": [_("Only an accepted order can be invoiced.")]})
    if Invoice.objects.filter(number=number).exists():
        raise ValidationError({"number": [_("An invoice with this number exists already.")]})
    invoice = Invoice(
        customer=customer,
        data_key_id=customer.data_key_id,
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        amount=amount,
        paid_amount=paid_amount,
        currency=currency,
        order=order,
    )
    try:
        with transaction.atomic():
            save(invoice, actor)
    except IntegrityError:
        raise ValidationError(
            {"number": [_("An invoice with this number exists already.")]}
        ) from None
    if order is not None:
        order.status = Order.Status.INVOICED
        save(order, actor, update_fields=["status", "updated_at"])
    if audit:
        record_event(
            action=events.INVOICE_RECORDED,
            actor=actor,
            obj=customer,
            data={"invoice_id": invoice.pk, "amount": str(amount), "currency": currency},
        )
    _after_exposure_change(account, actor)
    return invoice


@transaction.atomic
def payment_record(
    *,
    actor: User | None,
    customer: Customer,
    received_on: datetime.date,
    amount: Decimal,
    currency: str = "",
    reference: str = "",
    allocations: list[tuple[Invoice, Decimal]] | None = None,
    audit: bool = True,
) -> Payment:
    """Record a payment and allocate it to invoices (each at most its open amount; in all
    at most the payment). Without allocations it settles the oldest open invoices first."""
    require_perm(actor, perms.ADD_PAYMENT)
    if actor is not None:
        customer = customer_perms.access_customer(actor, customer.pk)
    amount = money(amount)
    currency = currency_of(customer, currency)
    if not isinstance(received_on, datetime.date):
        raise ValidationError({"received_on": [_("Enter a date.")]})
    account = lock_account(customer)
    payment = save(
        Payment(
            customer=customer,
            data_key_id=customer.data_key_id,
            received_on=received_on,
            amount=amount,
            currency=currency,
            reference=(reference or "")[:50],
            recorded_by=actor,
        ),
        actor,
    )
    open_invoices = Invoice.objects.select_for_update().filter(
        customer=customer, written_off_at__isnull=True, currency=currency
    )
    if allocations is None:
        remaining = amount
        wanted = []
        for invoice in open_invoices.order_by("due_on", "pk"):
            if remaining <= 0:
                break
            part = min(invoice.open_amount, remaining)
            if part > 0:
                wanted.append((invoice, part))
                remaining -= part
    else:
        locked = {i.pk: i for i in open_invoices.filter(pk__in=[i.pk for i, _a in allocations])}
        wanted = []
        for invoice, part in allocations:
            part = money(part, "allocations")
            invoice = locked.get(invoice.pk)
            if invoice is None:
                raise ValidationError(
                    {"allocations": [_("Allocate only to this customer's open invoices.")]}
                )
            if part > invoice.open_amount:
                raise ValidationError(
                    {
                        "allocations": [
                            _("Invoice %(number)s has only %(open)s open.")
                            % {"number": invoice.number, "open": invoice.open_amount}
                        ]
                    }
                )
            wanted.append((invoice, part))
        if sum((part for _i, part in wanted), Decimal("0")) > amount:
            raise ValidationError({"allocations": [_("The allocations exceed the payment.")]})
    for invoice, part in wanted:
        save(PaymentAllocation(payment=payment, invoice=invoice, amount=part), actor)
        invoice.paid_amount += part
        save(invoice, actor, update_fields=["paid_amount", "updated_at"])
    if audit:
        record_event(
            action=events.PAYMENT_RECORDED,
            actor=actor,
            obj=customer,
            data={
                "payment_id": payment.pk,
                "amount": str(amount),
                "currency": currency,
                "invoices": [invoice.pk for invoice, _part in wanted],
            },
        )
    _after_exposure_change(account, actor)
    return payment


@transaction.atomic
def note_record(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    amount: Decimal,
    received_on: datetime.date,
    due_on: datetime.date,
    number: str = "",
    currency: str = "",
) -> Note:
    require_perm(actor, perms.ADD_NOTE)
    customer = customer_perms.access_customer(actor, customer.pk)
    if kind not in Note.Kind.values:
        raise ValidationError({"kind": [_("Choose a kind of note.")]})
    amount = money(amount)
    currency = currency_of(customer, currency)
    _dates(received_on, due_on, "received_on")
    account = lock_account(customer)
    note = save(
        Note(
            customer=customer,
            data_key_id=customer.data_key_id,
            kind=kind,
            number=(number or "")[:40],
            amount=amount,
            currency=currency,
            received_on=received_on,
            due_on=due_on,
            recorded_by=actor,
        ),
        actor,
    )
    record_event(
        action=events.NOTE_RECORDED,
        actor=actor,
        obj=customer,
        data={"note_id": note.pk, "amount": str(amount), "currency": currency},
    )
    _after_exposure_change(account, actor)
    return note


@transaction.atomic
def note_status_set(
    *, actor: User, note: Note, status: str, extended_to: datetime.date | None = None
) -> Note:
    """Settle, dishonour or extend a note. A dishonoured note raises a risk report to the
    manager."""
    require_perm(actor, perms.CHANGE_NOTE)
    account = lock_account(note.customer_id)
    note = (
        Note.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=note.pk)
    )
    if status not in Note.Status.values or status == Note.Status.PENDING:
        raise ValidationError({"status": [_("Choose settled, dishonoured or extended.")]})
    if note.status in (Note.Status.SETTLED, Note.Status.DISHONOURED):
        raise ValidationError(
            {
                "status": [
                    _("This note is already %(status)s.") % {"status": note.get_status_display()}
                ]
            }
        )
    if status == Note.Status.EXTENDED:
        if not isinstance(extended_to, datetime.date) or extended_to <= note.due_on:
            raise ValidationError({"extended_to": [_("Give a new due date after the old one.")]})
        note.due_on = extended_to
    previous = note.status
    note.status = status
    save(note, actor)
    record_event(
        action=events.NOTE_STATUS_CHANGED,
        actor=actor,
        obj=note.customer,
        data={"note_id": note.pk, "from": previous, "to": status},
    )
    if status == Note.Status.DISHONOURED:
        risk_report_raise(note=note, trigger=RiskReport.Trigger.DISHONOURED, actor=actor)
    if account is not None:
        account.customer = note.customer
    _after_exposure_change(account, actor)
    return note


def risk_report_raise(*, note: Note, trigger: str, actor=None) -> RiskReport | None:
    """Raise a risk report for a note (once per note and trigger) and tell the manager."""
    if RiskReport.objects.filter(note=note, trigger=trigger).exists():
        return None
    customer = note.customer
    report = save(
        RiskReport(customer=customer, data_key_id=customer.data_key_id, note=note, trigger=trigger),
        actor,
    )
    record_event(
        action=events.RISK_REPORT_RAISED,
        actor=actor,
        obj=customer,
        data={"risk_report_id": report.pk, "note_id": note.pk, "trigger": trigger},
    )
    notify.send(
        notify.RISK_REPORT,
        recipients=notify.managers_of(customer),
        customer=customer,
        params={"trigger": trigger},
        actor=actor,
    )
    return report


def notes_overdue_check(*, today: datetime.date | None = None) -> int:
    """The periodic job: a note still pending (or extended) this many days past its due
    date raises a risk report. Returns how many were raised."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=credit_settings().overdue_note_days)
    raised = 0
    overdue = (
        Note.objects.filter(
            status__in=[Note.Status.PENDING, Note.Status.EXTENDED], due_on__lt=cutoff
        )
        .exclude(risk_reports__trigger=RiskReport.Trigger.OVERDUE)
        .select_related("customer__owner__team")
    )
    for note in overdue:
        with transaction.atomic():
            if risk_report_raise(note=note, trigger=RiskReport.Trigger.OVERDUE):
                raised += 1
    return raised


@transaction.atomic
def invoice_write_off(*, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """During collection (trading terminated) a manager writes off what cannot be
    collected; it leaves exposure."""
    require_perm(actor, perms.TERMINATE)
    account = lock_account(invoice.customer_id)
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=invoice.pk)
    )
    if not perms.may_decide_for(actor, invoice.customer):
        raise customer_perms.refuse(actor, invoice.customer, "write_off")
    if account is None or account.status != CreditAccount.Status.TERMINATED:
        raise ValidationError(
            {"invoice": [_("Only receivables in collection can be written off.")]}
        )
    if invoice.written_off_at is not None or invoice.open_amount <= 0:
        raise ValidationError({"invoice": [_("This invoice is not open.")]})
    reason = required_text(reason, "reason")
    invoice.written_off_at = timezone.now()
    save(invoice, actor, reason, update_fields=["written_off_at", "updated_at"])
    record_event(
        action=events.INVOICE_WRITTEN_OFF,
        actor=actor,
        obj=invoice.customer,
        reason=reason,
        data={"invoice_id": invoice.pk, "amount": str(invoice.open_amount)},
    )
    return invoice
