"""Orders and the credit check, the exposure warning, and holds (DESIGN §6.6).

The check locks the customer's credit row (``CreditAccount``, ``SELECT … FOR UPDATE``)
before it reads the exposure, so orders for one customer are checked one after another:
on PostgreSQL two orders submitted at the same moment can never together pass the limit.
It runs a fixed number of queries whatever the number of invoices (the sums are SQL).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from credit import events, notify
from credit import permissions as perms
from credit.models import CreditAccount, Hold, Order
from credit.selectors import credit_settings, credit_summary
from credit.services.common import lock_account, money, required_text, save
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import Customer


def warning_refresh(*, account: CreditAccount, actor: User | None, summary=None) -> bool:
    """Notify the rep and the manager when exposure reaches the warning threshold — once
    per crossing: the flag is set when it is reached and cleared when exposure falls back
    below. Call with the credit row locked. Returns whether a warning was sent."""
    summary = summary or credit_summary(account.customer_id)
    reached = False
    if summary.limit:
        threshold = summary.limit * credit_settings().warning_percent / 100
        reached = summary.exposure >= threshold
    if reached == account.warning_active:
        return False
    account.warning_active = reached
    save(account, actor, update_fields=["warning_active", "updated_at"])
    if not reached:
        return False
    customer = account.customer
    notify.send(
        notify.EXPOSURE_WARNING,
        recipients=[customer.owner_id, *notify.managers_of(customer)],
        customer=customer,
        params={"percent": summary.percent_used},
        actor=None,
    )
    return True


def _refuse_order(message: str, code: str):
    raise ValidationError({"customer": [message]}, code=code)


@transaction.atomic
def order_create(
    *,
    actor: User,
    customer: Customer,
    amount: Decimal,
    currency: str = "",
    reference: str,
) -> Order:
    """Enter an order and credit-check it.

    Refused (400) when the customer's account is not open or trading was terminated.
    Stored *blocked* with the reason when it would take exposure above the limit (exactly
    at the limit passes; one cent over does not), when there is no active limit, or while
    shipments are on hold; a manager then releases or rejects it. Otherwise accepted.
    """
    require_perm(actor, perms.ADD_ORDER)
    customer = customer_perms.access_customer(actor, customer.pk)
    reference = required_text(reference, "reference")[:50]
    amount = money(amount)
    account = lock_account(customer)
    if account is None or account.status in (
        CreditAccount.Status.SUBMITTED,
        CreditAccount.Status.MANAGER_APPROVED,
        CreditAccount.Status.REJECTED,
    ):
        _refuse_order(_("This customer's account is not open: no order can be taken."), "not_open")
    if account.status == CreditAccount.Status.TERMINATED:
        _refuse_order(_("Trading with this customer is terminated: no new orders."), "terminated")
    currency = (currency or account.currency).strip().upper()
    if currency != account.currency:
        raise ValidationError(
            {
                "currency": [
                    _("Amounts for this customer are in %(currency)s.")
                    % {"currency": account.currency}
                ]
            }
        )
    account.customer = customer  # the card as loaded, with its owner and team
    summary = credit_summary(customer.pk)
    exposure = summary.exposure
    if summary.on_hold:
        reason = Order.Reason.ON_HOLD
    elif summary.limit is None:
        reason = Order.Reason.NO_LIMIT
    elif exposure + amount > summary.limit:
        reason = Order.Reason.OVER_LIMIT
    else:
        reason = Order.Reason.NONE
    order = save(
        Order(
            customer=customer,
            data_key_id=customer.data_key_id,
            reference=reference,
            amount=amount,
            currency=currency,
            status=Order.Status.BLOCKED if reason else Order.Status.ACCEPTED,
            reason=reason,
            exposure_before=exposure,
            limit_amount=summary.limit,
            created_by=actor,
        ),
        actor,
    )
    record_event(
        action=events.ORDER_CHECKED,
        actor=actor,
        obj=customer,
        data={
            "order_id": order.pk,
            "status": order.status,
            "reason": reason,
            "amount": str(amount),
            "exposure_before": str(exposure),
        },
    )
    if reason:
        notify.send(
            notify.ORDER_BLOCKED,
            recipients=notify.managers_of(customer),
            customer=customer,
            params={"order": order.pk, "reason": reason},
            actor=actor,
        )
    else:
        summary.orders += amount
        warning_refresh(account=account, actor=actor, summary=summary)
    return order


def _locked_blocked(order: Order) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=order.pk)
    )
    if order.status != Order.Status.BLOCKED:
        raise ValidationError({"status": [_("Only a blocked order can be released or rejected.")]})
    return order


def _check_releaser(actor: User, order: Order) -> None:
    require_perm(actor, perms.RELEASE_ORDER)
    if not perms.may_decide_for(actor, order.customer):
        raise customer_perms.refuse(actor, order.customer, "release_order")


@transaction.atomic
def order_release(*, actor: User, order: Order) -> Order:
    """A manager releases a blocked order: it counts in exposure from now on."""
    account = lock_account(order.customer_id)
    order = _locked_blocked(order)
    _check_releaser(actor, order)
    if account is not None and account.status == CreditAccount.Status.TERMINATED:
        raise ValidationError({"status": [_("Trading with this customer is terminated.")]})
    order.status = Order.Status.RELEASED
    order.decided_by, order.decided_at = actor, timezone.now()
    save(order, actor)
    record_event(
        action=events.ORDER_RELEASED, actor=actor, obj=order.customer, data={"order_id": order.pk}
    )
    if account is not None:
        account.customer = order.customer
        warning_refresh(account=account, actor=actor)
    return order


@transaction.atomic
def order_reject(*, actor: User, order: Order) -> Order:
    order = _locked_blocked(order)
    _check_releaser(actor, order)
    order.status = Order.Status.REJECTED
    order.decided_by, order.decided_at = actor, timezone.now()
    save(order, actor)
    record_event(
        action=events.ORDER_REJECTED, actor=actor, obj=order.customer, data={"order_id": order.pk}
    )
    return order


# --- holds ----------------------------------------------------------------------------------


@transaction.atomic
def hold_place(*, actor: User, customer: Customer, reason: str) -> Hold:
    """A rep stops shipments at once (reason required); every order is blocked until a
    manager releases the hold."""
    require_perm(actor, perms.ADD_HOLD)
    customer = customer_perms.access_customer(actor, customer.pk, action="change")
    reason = required_text(reason, "reason")
    lock_account(customer)
    hold = save(
        Hold(customer=customer, data_key_id=customer.data_key_id, reason=reason, placed_by=actor),
        actor,
    )
    record_event(action=events.HOLD_PLACED, actor=actor, obj=customer, data={"hold_id": hold.pk})
    notify.send(
        notify.HOLD_PLACED,
        recipients=notify.managers_of(customer),
        customer=customer,
        params={},
        actor=actor,
    )
    return hold


@transaction.atomic
def hold_release(*, actor: User, hold: Hold) -> Hold:
    """Only a manager releases a hold."""
    require_perm(actor, perms.RELEASE_HOLD, _("Only a manager can release a hold."))
    hold = (
        Hold.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=hold.pk)
    )
    if not perms.may_decide_for(actor, hold.customer):
        raise customer_perms.refuse(actor, hold.customer, "release_hold")
    if hold.status != Hold.Status.ACTIVE:
        raise ValidationError({"status": [_("This hold is already released.")]})
    hold.status = Hold.Status.RELEASED
    hold.released_by, hold.released_at = actor, timezone.now()
    save(hold, actor)
    record_event(
        action=events.HOLD_RELEASED, actor=actor, obj=hold.customer, data={"hold_id": hold.pk}
    )
    return hold
