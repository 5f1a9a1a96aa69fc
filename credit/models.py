"""Credit: account opening, investigations, grades, limits, receivables, orders, holds and
termination (DESIGN §6.1, §6.6).

Every row belongs to a customer and follows it (``customers.models.CustomerChild``): its
visibility, its data key (free text that may name a person is encrypted under it) and a
merge. Money is ``Decimal`` with two places and carries its currency.

``CreditAccount`` is the customer's credit row, one per customer: the account opening's
state, the grade, the hold flag and the warning state. Every write that changes exposure
locks it first (``select_for_update``), so two orders for one customer are checked one
after the other.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.fields import EncryptedTextField
from crm.models import BusinessModel
from customers.models import KEY, CustomerChild

MONEY = {"max_digits": 16, "decimal_places": 2}
DEFAULT_CURRENCY = "CNY"


def _user(verbose_name, **kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        related_name="+",
        **kwargs,
    )


def _optional_user(verbose_name):
    return _user(verbose_name, null=True, blank=True)


def _text(verbose_name):
    """Free text that may name a person: encrypted under the customer's data key."""
    return EncryptedTextField(verbose_name, subject_key_field=KEY, mask="text")


class Grade(models.TextChoices):
    A = "A", _("A (甲)")
    B = "B", _("B (乙)")
    C = "C", _("C (丙)")


class CreditSettings(BusinessModel):
    """The company's credit settings (one row), edited by an admin in the UI."""

    currency = models.CharField(_("company currency"), max_length=3, default=DEFAULT_CURRENCY)
    company_cap = models.DecimalField(
        _("company cap on a credit limit"), default=Decimal("1000000.00"), **MONEY
    )
    warning_percent = models.DecimalField(
        _("warning threshold (per cent of the limit)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("90.00"),
    )
    grade_c_receivables = models.DecimalField(
        _("receivables that make a customer grade C"), default=Decimal("100000.00"), **MONEY
    )
    grade_c_volume = models.DecimalField(
        _("trading volume (12 months) that makes a customer grade C"),
        default=Decimal("500000.00"),
        **MONEY,
    )
    grade_c_employees = models.PositiveIntegerField(
        _("fewer employees than this make a customer grade C"), default=100
    )
    new_business_years = models.PositiveSmallIntegerField(
        _("founded less than this many years ago: newly founded"), default=2
    )
    review_days_a = models.PositiveIntegerField(_("review interval, grade A (days)"), default=365)
    review_days_b = models.PositiveIntegerField(_("review interval, grade B (days)"), default=180)
    review_days_c = models.PositiveIntegerField(_("review interval, grade C (days)"), default=90)
    overdue_note_days = models.PositiveIntegerField(
        _("a note this many days past due raises a risk report"), default=30
    )
    attachment_max_mb = models.PositiveIntegerField(
        _("largest investigation attachment (MB)"), default=10
    )

    class Meta:
        verbose_name = _("credit settings")
        verbose_name_plural = _("credit settings")

    def __str__(self):
        return str(_("credit settings"))

    def review_days(self, grade: str) -> int:
        return {"A": self.review_days_a, "B": self.review_days_b}.get(grade, self.review_days_c)


class CreditAccount(CustomerChild):
    """The customer's credit row: account opening (交易开始), grade, hold, termination."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted: waiting for the sales manager")
        MANAGER_APPROVED = "manager_approved", _("Approved by the manager: waiting for head office")
        OPEN = "open", _("Open")
        REJECTED = "rejected", _("Rejected")
        TERMINATED = "terminated", _("Terminated")

    status = models.CharField(
        _("account status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    submitted_by = _user(_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    manager_decided_by = _optional_user(_("manager"))
    manager_decided_at = models.DateTimeField(_("manager decided at"), null=True, blank=True)
    manager_comment = _text(_("manager's comment"))
    head_office_decided_by = _optional_user(_("head office"))
    head_office_decided_at = models.DateTimeField(
        _("head office decided at"), null=True, blank=True
    )
    head_office_comment = _text(_("head office's comment"))
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)

    # Grade (DESIGN §6.6): the confirmed grade, and the rule behind the last proposal.
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    proposed_grade = models.CharField(
        _("proposed grade"), max_length=1, choices=Grade.choices, blank=True
    )
    proposed_rule = models.CharField(_("rule that fired"), max_length=40, blank=True)
    # Facts the grade rules need that the card does not hold.
    intermediate_wholesaler = models.BooleanField(_("intermediate wholesaler"), default=False)
    past_breach = models.BooleanField(_("past breach of credit"), default=False)
    next_review_on = models.DateField(_("next periodic review"), null=True, blank=True)

    # Exposure at or above the warning threshold, already notified (once per crossing).
    warning_active = models.BooleanField(_("warning threshold reached"), default=False)
    terminated_by = _optional_user(_("terminated by"))
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        default_related_name = "credit_accounts"
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], name="credit_one_account_per_customer")
        ]
        permissions = [
            ("approve_opening", "Can approve account openings as sales manager"),
            ("approve_opening_final", "Can approve account openings for head office"),
            ("confirm_grade", "Can confirm or override a customer's credit grade"),
            ("terminate_account", "Can order the termination of trading"),
            ("view_credit_reports", "Can see the credit reports"),
        ]

    def __str__(self):
        return f"credit account {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AccountCondition(CustomerChild):
    """A condition attached to an account opening, tracked until fulfilled."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", _("Exchange of contract")
        PERSONAL_GUARANTEE = "personal_guarantee", _("Personal guarantee")
        JOINT_GUARANTEE = "joint_guarantee", _("Joint guarantee")
        COLLATERAL = "collateral", _("Collateral")
        DEPOSIT = "deposit", _("Deposit")
        NOTARISED_CONTRACT = "notarised_contract", _("Notarised contract")

    account = models.ForeignKey(
        CreditAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("condition"), max_length=30, choices=Kind.choices)
    note = _text(_("note"))
    added_by = _user(_("added by"))
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    fulfilled_by = _optional_user(_("fulfilled by"))

    class Meta:
        verbose_name = _("account condition")
        verbose_name_plural = _("account conditions")
        default_related_name = "credit_conditions"
        ordering = ["id"]

    def __str__(self):
        return self.get_kind_display()


class CreditLimit(CustomerChild):
    """A requested credit limit and its approval; at most one active per customer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACTIVE = "active", _("Active")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    amount = models.DecimalField(_("limit"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    justification = _text(_("justification"))
    requested_by = _user(_("requested by"))
    # Who must decide: a sales manager (up to the cap) or the general manager (above it).
    needs_general_manager = models.BooleanField(_("needs the general manager"), default=False)
    decided_by = _optional_user(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = _text(_("comment"))
    is_exception = models.BooleanField(_("exception"), default=False)
    exception_reason = models.CharField(_("why it is an exception"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("credit limit")
        verbose_name_plural = _("credit limits")
        default_related_name = "credit_limits"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="active"),
                name="credit_one_active_limit_per_customer",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_limit_positive"),
        ]
        permissions = [
            ("approve_creditlimit", "Can approve credit limits up to the company cap"),
            ("approve_creditlimit_above_cap", "Can approve credit limits above the company cap"),
        ]

    def __str__(self):
        return f"limit {self.pk}"


class Investigation(CustomerChild):
    """A credit investigation report (DESIGN §6.6): source, kind and the four aspects."""

    class Source(models.TextChoices):
        BANK = "bank", _("Bank")
        AGENCY = "agency", _("Credit agency")
        ASSOCIATION = "association", _("Customers or industry association")
        COLLEAGUE = "colleague", _("Colleague")
        PRESS = "press", _("Press")

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily")
        URGENT = "urgent", _("Urgent")
        PERIODIC = "periodic", _("Periodic")

    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    investigated_on = models.DateField(_("date"))
    operator = _text(_("the operator"))
    internal_state = _text(_("internal state of the company"))
    funding = _text(_("funding"))
    payment_behaviour = _text(_("payment behaviour"))
    author = _user(_("author"))

    class Meta:
        verbose_name = _("credit investigation")
        verbose_name_plural = _("credit investigations")
        default_related_name = "credit_investigations"
        ordering = ["-investigated_on", "-id"]

    def __str__(self):
        return f"investigation {self.pk}"


class InvestigationAttachment(CustomerChild):
    """A PDF or image attached to an investigation. The file lies encrypted on disk like an
    import upload (``crm.encrypted_files``, under ``CRM_UPLOAD_DIR/credit``); its name may
    name a person and is encrypted under the customer's data key. ``stored_file`` is
    emptied when a purge destroys the file."""

    class FileType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG"
        JPEG = "image/jpeg", "JPEG"
        GIF = "image/gif", "GIF"
        WEBP = "image/webp", "WebP"

    investigation = models.ForeignKey(
        Investigation,
        verbose_name=_("credit investigation"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file_name = _text(_("file name"))
    content_type = models.CharField(_("type of file"), max_length=20, choices=FileType.choices)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    stored_file = models.CharField(_("stored file"), max_length=40, blank=True, editable=False)
    uploaded_by = _user(_("uploaded by"))

    class Meta:
        verbose_name = _("investigation attachment")
        verbose_name_plural = _("investigation attachments")
        default_related_name = "credit_investigation_attachments"
        ordering = ["id"]

    def __str__(self):
        return f"attachment {self.pk}"

    @property
    def extension(self) -> str:
        return {
            "application/pdf": ".pdf",
            "image/png": ".png",
            "image/jpeg": ".jpg",
            "image/gif": ".gif",
            "image/webp": ".webp",
        }.get(self.content_type, "")


class GradeDecision(CustomerChild):
    """A grade confirmed or overridden by a manager, with the proposal and its rule."""

    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    proposed_grade = models.CharField(_("proposed grade"), max_length=1, choices=Grade.choices)
    rule = models.CharField(_("rule that fired"), max_length=40)
    is_override = models.BooleanField(_("override"), default=False)
    reason = _text(_("reason"))
    decided_by = _user(_("decided by"))

    class Meta:
        verbose_name = _("grade decision")
        verbose_name_plural = _("grade decisions")
        default_related_name = "credit_grade_decisions"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"grade {self.grade}"


class Order(CustomerChild):
    """An order and the result of its credit check."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        BLOCKED = "blocked", _("Blocked: waiting for a manager")
        RELEASED = "released", _("Released by a manager")
        REJECTED = "rejected", _("Rejected")
        INVOICED = "invoiced", _("Invoiced")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        OVER_LIMIT = "over_limit", _("Exposure would exceed the credit limit")
        NO_LIMIT = "no_limit", _("No active credit limit")
        ON_HOLD = "on_hold", _("Shipments are on hold")

    reference = models.CharField(_("reference"), max_length=50)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    # What the check saw, for the record (amounts in the order's currency).
    exposure_before = models.DecimalField(_("exposure before"), **MONEY)
    limit_amount = models.DecimalField(_("limit at the check"), null=True, blank=True, **MONEY)
    created_by = _user(_("entered by"))
    decided_by = _optional_user(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        # "order" alone is also a position in a list (排序): a sales order says so.
        verbose_name = pgettext_lazy("sales order", "order")
        verbose_name_plural = pgettext_lazy("sales order", "orders")
        default_related_name = "credit_orders"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_order_positive")
        ]
        permissions = [("release_order", "Can release or reject a blocked order")]

    def __str__(self):
        return self.reference


class Invoice(CustomerChild):
    """An invoice: an open receivable until paid (or written off after termination)."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=Decimal("0.00"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    order = models.ForeignKey(
        Order,
        verbose_name=pgettext_lazy("sales order", "order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    written_off_at = models.DateTimeField(_("written off at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        default_related_name = "credit_invoices"
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["customer", "due_on"], name="credit_invoice_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_invoice_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=models.F("amount")),
                name="credit_invoice_paid_within_amount",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount


class Payment(CustomerChild):
    """A payment received, allocated to invoices."""

    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    reference = models.CharField(_("reference"), max_length=50, blank=True)
    recorded_by = _optional_user(_("recorded by"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        default_related_name = "credit_payments"
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_payment_positive")
        ]

    def __str__(self):
        return f"payment {self.pk}"


class PaymentAllocation(BusinessModel):
    """The part of a payment that settles one invoice."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")

    def __str__(self):
        return f"{self.payment_id}->{self.invoice_id}"


class Note(CustomerChild):
    """A note received (cheque, bill): exposure until settled."""

    class Kind(models.TextChoices):
        CHEQUE = "cheque", _("Cheque")
        BILL = "bill", _("Bill")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SETTLED = "settled", _("Settled")
        DISHONOURED = "dishonoured", _("Dishonoured")
        EXTENDED = "extended", _("Extended")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    recorded_by = _optional_user(_("recorded by"))

    class Meta:
        verbose_name = _("note received")
        verbose_name_plural = _("notes received")
        default_related_name = "credit_notes"
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class Hold(CustomerChild):
    """An emergency hold on shipments: a rep puts it at once, only a manager releases it."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    reason = _text(_("reason"))
    placed_by = _user(_("placed by"))
    released_by = _optional_user(_("released by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        default_related_name = "credit_holds"
        ordering = ["-created_at", "-id"]
        permissions = [("release_hold", "Can release a hold on shipments")]

    def __str__(self):
        return f"hold {self.pk}"


class DeteriorationResponse(CustomerChild):
    """A manager's response to a customer's credit deteriorating (DESIGN §6.6)."""

    class Kind(models.TextChoices):
        GUARANTOR = "guarantor", _("Guarantor")
        JOINT_GUARANTOR = "joint_guarantor", _("Joint guarantor")
        HIGHER_DEPOSIT = "higher_deposit", _("Higher deposit")
        NOTARISED_CONTRACT = "notarised_contract", _("Notarised contract")
        REDUCED_SUPPLY = "reduced_supply", _("Reduced supply")
        STOPPED_SUPPLY = "stopped_supply", _("Stopped supply")
        PAYMENT_IN_KIND = "payment_in_kind", _("Payment in kind")
        THIRD_PARTY_PAYMENT = "third_party_payment", _("Payment by a third party")
        CLAIM_GUARANTOR = "claim_guarantor", _("Claim against the guarantor")
        CLAIM_COLLATERAL = "claim_collateral", _("Claim against the collateral")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    kind = models.CharField(_("response"), max_length=30, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    note = _text(_("note"))
    decided_by = _user(_("decided by"))

    class Meta:
        verbose_name = _("deterioration response")
        verbose_name_plural = _("deterioration responses")
        default_related_name = "credit_responses"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.get_kind_display()


class RiskReport(CustomerChild):
    """A risk report raised by a dishonoured or long-overdue note, for the manager."""

    class Trigger(models.TextChoices):
        DISHONOURED = "dishonoured", _("Note dishonoured")
        OVERDUE = "overdue", _("Note long overdue")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        TERMINATED = "terminated", _("Trading terminated")
        DISMISSED = "dismissed", _("Dismissed")

    note = models.ForeignKey(
        Note, verbose_name=_("note"), on_delete=models.PROTECT, related_name="risk_reports"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    decided_by = _optional_user(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk report")
        verbose_name_plural = _("risk reports")
        default_related_name = "credit_risk_reports"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["note", "trigger"], name="credit_one_risk_report_per_note_trigger"
            )
        ]

    def __str__(self):
        return f"risk report {self.pk}"
