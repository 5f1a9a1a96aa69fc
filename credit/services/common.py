"""What every credit service shares: saving with history, money, the credit row's lock."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credit.models import CreditAccount
from credit.selectors import credit_settings
from crm.fields import change_reason_seal


def save(instance, actor, reason: str = "", **kwargs):
    """Save with the acting user (and reason, sealed) recorded in history."""
    instance._history_user = actor
    if reason:
        instance._change_reason = change_reason_seal(instance, reason)
    instance.save(**kwargs)
    return instance


def money(value, field: str = "amount", *, positive: bool = True) -> Decimal:
    """A money amount: a Decimal with at most two places (never rounded silently)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: [_("Enter an amount.")]}) from None
    if not amount.is_finite():
        raise ValidationError({field: [_("Enter an amount.")]})
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: [_("An amount has at most two decimal places.")]})
    if positive and amount <= 0:
        raise ValidationError({field: [_("The amount must be greater than zero.")]})
    if abs(amount) >= Decimal("1e14"):
        raise ValidationError({field: [_("The amount is too large.")]})
    return amount.quantize(Decimal("0.01"))


def currency_of(customer, currency: str | None, field: str = "currency") -> str:
    """The currency an amount of ``customer`` must carry: the credit account's, else the
    company's. Credit is kept in one currency per customer; another one is refused."""
    account = CreditAccount.objects.filter(customer=customer).only("currency").first()
    expected = account.currency if account else credit_settings().currency
    currency = (currency or expected).strip().upper()
    if currency != expected:
        raise ValidationError(
            {field: [_("Amounts for this customer are in %(currency)s.") % {"currency": expected}]}
        )
    return currency


def lock_account(customer) -> CreditAccount | None:
    """Lock the customer's credit row (``SELECT … FOR UPDATE``) for the rest of the
    transaction; ``None`` when the customer has none yet."""
    return CreditAccount.objects.select_for_update().filter(customer=customer).first()


def required_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [_("This field is required.")]})
    return value
