"""Credit limits and their approval chain (DESIGN §6.6 "Limit")."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from credit import events, notify
from credit import permissions as perms
from credit.models import CreditAccount, CreditLimit, Grade
from credit.selectors import credit_settings
from credit.services.common import currency_of, lock_account, money, required_text, save
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import Customer

# Why an approval is outside the usual rules (listed on the exceptions page).
ABOVE_CAP = "above_cap"
GRADE_C = "grade_c"
SPECIAL = "special_approval"


@transaction.atomic
def limit_request(
    *,
    actor: User,
    customer: Customer,
    amount: Decimal,
    currency: str = "",
    justification: str,
) -> CreditLimit:
    """A rep asks for a credit limit, with a justification. Up to the company cap it waits
    for a sales manager; above it, for the general manager."""
    require_perm(actor, perms.REQUEST_LIMIT)
    customer = customer_perms.access_customer(actor, customer.pk, action="change")
    amount = money(amount)
    currency = currency_of(customer, currency)
    justification = required_text(justification, "justification")
    needs_gm = amount > credit_settings().company_cap
    limit = save(
        CreditLimit(
            customer=customer,
            data_key_id=customer.data_key_id,
            amount=amount,
            currency=currency,
            justification=justification,
            requested_by=actor,
            needs_general_manager=needs_gm,
        ),
        actor,
    )
    record_event(
        action=events.LIMIT_REQUESTED,
        actor=actor,
        obj=customer,
        data={"limit_id": limit.pk, "amount": str(amount), "currency": currency},
    )
    recipients = notify.general_managers() if needs_gm else notify.managers_of(customer)
    notify.send(
        notify.LIMIT_WAITING,
        recipients=[r for r in recipients if r != actor.pk],
        customer=customer,
        params={"amount": amount, "currency": currency},
        actor=actor,
    )
    return limit


def _locked_pending(limit: CreditLimit) -> CreditLimit:
    limit = (
        CreditLimit.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=limit.pk)
    )
    if limit.status != CreditLimit.Status.PENDING:
        raise ValidationError(
            {"status": [_("This request is already decided.")]}, code="not_pending"
        )
    return limit


def _check_approver(actor: User, limit: CreditLimit) -> None:
    """The requester never decides his own request; a sales manager decides up to the cap
    for the customers he answers for; above the cap only the general manager."""
    if not (actor.has_perm(perms.APPROVE_LIMIT) or actor.has_perm(perms.APPROVE_LIMIT_ABOVE_CAP)):
        require_perm(actor, perms.APPROVE_LIMIT)
    if limit.requested_by_id == actor.pk:
        raise PermissionDenied(_("You cannot decide your own credit limit request."))
    if limit.amount > credit_settings().company_cap:
        require_perm(
            actor,
            perms.APPROVE_LIMIT_ABOVE_CAP,
            _("A limit above the company cap needs the general manager."),
        )
    if not perms.may_decide_for(actor, limit.customer):
        raise customer_perms.refuse(actor, limit.customer, "approve_limit")


@transaction.atomic
def limit_approve(
    *, actor: User, limit: CreditLimit, comment: str = "", special: bool = False
) -> CreditLimit:
    """Approve a pending request: it becomes the customer's one active limit (the previous
    one is superseded). An approval outside the usual rules — above the cap, for a grade C
    customer, or marked as a special approval to expand trade — is flagged as an
    exception (a special approval needs a comment)."""
    limit = _locked_pending(limit)
    _check_approver(actor, limit)
    customer = limit.customer
    account = lock_account(customer)  # the credit row: one approval at a time per customer
    reasons = []
    if limit.amount > credit_settings().company_cap:
        reasons.append(ABOVE_CAP)
    if account is not None and account.grade == Grade.C:
        reasons.append(GRADE_C)
    if special:
        if not (comment or "").strip():
            raise ValidationError({"comment": [_("Say why this special approval is given.")]})
        reasons.append(SPECIAL)
    superseded = []
    for previous in CreditLimit.objects.select_for_update().filter(
        customer=customer, status=CreditLimit.Status.ACTIVE
    ):
        previous.status = CreditLimit.Status.SUPERSEDED
        save(previous, actor, update_fields=["status", "updated_at"])
        superseded.append(previous.pk)
    limit.status = CreditLimit.Status.ACTIVE
    limit.decided_by, limit.decided_at = actor, timezone.now()
    limit.decision_comment = comment or ""
    limit.is_exception = bool(reasons)
    limit.exception_reason = ",".join(reasons)
    save(limit, actor)
    record_event(
        action=events.LIMIT_APPROVED,
        actor=actor,
        obj=customer,
        data={
            "limit_id": limit.pk,
            "amount": str(limit.amount),
            "currency": limit.currency,
            "superseded": superseded,
            "exception": limit.exception_reason,
        },
    )
    if account is not None:
        from credit.services.orders import warning_refresh

        warning_refresh(account=account, actor=actor)
    return limit


@transaction.atomic
def limit_reject(*, actor: User, limit: CreditLimit, comment: str) -> CreditLimit:
    limit = _locked_pending(limit)
    _check_approver(actor, limit)
    limit.status = CreditLimit.Status.REJECTED
    limit.decided_by, limit.decided_at = actor, timezone.now()
    limit.decision_comment = required_text(comment, "comment")
    save(limit, actor)
    record_event(
        action=events.LIMIT_REJECTED, actor=actor, obj=limit.customer, data={"limit_id": limit.pk}
    )
    return limit


def combine_limits_on_merge(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """Merge policy: both cards hold an active limit. The survivor's stands; the
    duplicate's is superseded (audited) and then moves with the other rows, so exactly one
    active limit survives."""
    duplicate_row.status = CreditLimit.Status.SUPERSEDED
    record_event(
        action=events.LIMIT_SUPERSEDED,
        actor=actor,
        obj=survivor_row.customer,
        reason=reason,
        data={"limit_id": duplicate_row.pk, "kept_limit_id": survivor_row.pk},
    )
    return True


def combine_accounts_on_merge(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """Merge policy: both cards have a credit account. The survivor's stands; the
    duplicate's stays on the merged card. Facts that make credit worse carry over."""
    changed = []
    if duplicate_row.past_breach and not survivor_row.past_breach:
        survivor_row.past_breach = True
        changed.append("past_breach")
    if duplicate_row.intermediate_wholesaler and not survivor_row.intermediate_wholesaler:
        survivor_row.intermediate_wholesaler = True
        changed.append("intermediate_wholesaler")
    if duplicate_row.status == CreditAccount.Status.TERMINATED:
        survivor_row.status = CreditAccount.Status.TERMINATED
        changed.append("status")
    if changed:
        save(survivor_row, actor, reason, update_fields=[*changed, "updated_at"])
    return False
