"""Account opening (交易开始, DESIGN §6.1), its conditions, grades (§6.6) and termination."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from credit import events, notify
from credit import permissions as perms
from credit.models import (
    AccountCondition,
    CreditAccount,
    Grade,
    GradeDecision,
    Invoice,
    RiskReport,
)
from credit.selectors import credit_settings, open_receivables
from credit.services.common import lock_account, required_text, save
from crm.models import User
from crm.permissions import require_perm
from customers import permissions as customer_perms
from customers.models import CustomAttribute, Customer

# --- the complete card (§6.1) ---------------------------------------------------------------

# Card fields §6.1 makes required, per kind of customer: (attribute, label).
ORGANISATION_FIELDS = (
    ("name", gettext_lazy("name")),
    ("headquarters_address", gettext_lazy("headquarters address")),
    ("trading_address", gettext_lazy("trading address")),
    ("mailing_address", gettext_lazy("mailing address")),
    ("phone", gettext_lazy("phone")),
    ("website", gettext_lazy("website")),
    ("founded_on", gettext_lazy("date founded")),
    ("registered_capital", gettext_lazy("registered capital")),
    ("employees", gettext_lazy("employees")),
    ("managers", gettext_lazy("managers")),
    ("management_age_structure", gettext_lazy("age structure of management")),
    ("business_type_id", gettext_lazy("business type")),
    ("requested_credit_limit", gettext_lazy("requested credit limit")),
)
INDIVIDUAL_FIELDS = (
    ("name", gettext_lazy("name")),
    ("phone", gettext_lazy("phone")),
    ("email", gettext_lazy("e-mail")),
    ("address", gettext_lazy("address")),
    ("birth_date", gettext_lazy("birth date")),
)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing_card_fields(customer: Customer) -> list[str]:
    """The labels of the card fields §6.1 requires that are blank on ``customer``."""
    missing = []
    if customer.is_organisation:
        missing += [
            str(label) for attr, label in ORGANISATION_FIELDS if _blank(getattr(customer, attr))
        ]
        if _blank(customer.equipment_summary) and _blank(customer.real_estate_summary):
            missing.append(_("equipment and real estate summary"))
        if not customer.identity_documents.filter(doc_type="social_credit_code").exists():
            missing.append(_("unified social credit code"))
    else:
        missing += [
            str(label) for attr, label in INDIVIDUAL_FIELDS if _blank(getattr(customer, attr))
        ]
        if not customer.identity_documents.exists():
            missing.append(_("ID document"))
        if customer.is_minor and not customer.contacts.filter(is_guardian=True).exists():
            missing.append(_("guardian"))
    required = CustomAttribute.objects.filter(required=True).filter(
        Q(business_type__isnull=True) | Q(business_type_id=customer.business_type_id),
        Q(customer_kind="") | Q(customer_kind=customer.kind),
    )
    values = {
        value.attribute_id: value
        for value in customer.attribute_values.filter(attribute__in=required).select_related(
            "attribute"
        )
    }
    for attribute in required:
        value = values.get(attribute.pk)
        if value is None or _blank(value.display_value):
            missing.append(str(attribute))
    return missing


# --- opening ----------------------------------------------------------------------------------


@transaction.atomic
def account_submit(*, actor: User, customer: Customer) -> CreditAccount:
    """The rep submits a customer for trading; refused while a required card field is
    blank (the message lists them). A rejected opening may be submitted again."""
    require_perm(actor, perms.SUBMIT_ACCOUNT)
    customer = customer_perms.access_customer(actor, customer.pk, action="change")
    if customer.status in (Customer.Status.MERGED, Customer.Status.CLOSED):
        raise ValidationError({"customer": [_("A closed or merged card cannot open an account.")]})
    missing = missing_card_fields(customer)
    if missing:
        raise ValidationError(
            {
                "customer": [
                    _("The card is not complete; fill in: %(fields)s.")
                    % {"fields": ", ".join(missing)}
                ]
            },
            code="incomplete_card",
        )
    account = lock_account(customer)
    now = timezone.now()
    if account is None:
        account = CreditAccount(
            customer=customer,
            data_key_id=customer.data_key_id,
            currency=credit_settings().currency,
            submitted_by=actor,
            submitted_at=now,
        )
    elif account.status == CreditAccount.Status.REJECTED:
        account.status = CreditAccount.Status.SUBMITTED
        account.submitted_by, account.submitted_at = actor, now
        account.manager_decided_by = account.manager_decided_at = None
        account.head_office_decided_by = account.head_office_decided_at = None
        account.manager_comment = account.head_office_comment = ""
    else:
        raise ValidationError(
            {
                "customer": [
                    _("This customer's account is already %(status)s.")
                    % {"status": account.get_status_display()}
                ]
            }
        )
    try:
        with transaction.atomic():
            save(account, actor)
    except IntegrityError:
        raise ValidationError(
            {"customer": [_("This customer's account was just submitted.")]}
        ) from None
    record_event(
        action=events.ACCOUNT_SUBMITTED, actor=actor, obj=customer, data={"account_id": account.pk}
    )
    notify.send(
        notify.OPENING_WAITING,
        recipients=notify.managers_of(customer),
        customer=customer,
        params={},
        actor=actor,
    )
    return account


def _lock(account_id) -> CreditAccount:
    return (
        CreditAccount.objects.select_for_update(of=("self",))
        .select_related("customer__owner__team")
        .get(pk=account_id)
    )


@transaction.atomic
def account_approve(
    *,
    actor: User,
    account: CreditAccount,
    comment: str = "",
    conditions: list[tuple[str, str]] | None = None,
) -> CreditAccount:
    """The sales manager approves a submitted opening; then head office (the general
    manager) approves and the account opens. Conditions (kind, note) may be attached."""
    account = _lock(account.pk)
    customer = account.customer
    now = timezone.now()
    if account.status == CreditAccount.Status.SUBMITTED:
        require_perm(actor, perms.APPROVE_OPENING)
        if not perms.may_decide_for(actor, customer):
            raise customer_perms.refuse(actor, customer, "approve_opening")
        account.status = CreditAccount.Status.MANAGER_APPROVED
        account.manager_decided_by, account.manager_decided_at = actor, now
        account.manager_comment = comment or ""
        stage = "manager"
    elif account.status == CreditAccount.Status.MANAGER_APPROVED:
        require_perm(actor, perms.APPROVE_OPENING_FINAL)
        account.status = CreditAccount.Status.OPEN
        account.head_office_decided_by, account.head_office_decided_at = actor, now
        account.head_office_comment = comment or ""
        account.opened_at = now
        stage = "head_office"
    else:
        raise ValidationError(
            {"status": [_("Only a submitted opening can be approved.")]}, code="not_pending"
        )
    if actor.pk == account.submitted_by_id and not actor.has_perm(perms.APPROVE_OPENING_FINAL):
        raise PermissionDenied(_("You cannot approve an opening you submitted."))
    save(account, actor)
    added = []
    for kind, note in conditions or []:
        if kind not in AccountCondition.Kind.values:
            raise ValidationError({"conditions": [_("Choose a condition.")]})
        added.append(
            save(
                AccountCondition(
                    customer=customer,
                    data_key_id=customer.data_key_id,
                    account=account,
                    kind=kind,
                    note=note or "",
                    added_by=actor,
                ),
                actor,
            ).kind
        )
    record_event(
        action=events.ACCOUNT_APPROVED,
        actor=actor,
        obj=customer,
        data={"account_id": account.pk, "stage": stage, "conditions": added},
    )
    if stage == "manager":
        notify.send(
            notify.OPENING_WAITING,
            recipients=notify.general_managers(),
            customer=customer,
            params={},
            actor=actor,
        )
    return account


@transaction.atomic
def account_reject(*, actor: User, account: CreditAccount, comment: str) -> CreditAccount:
    """The manager (or head office, at its stage) rejects an opening, with a comment."""
    account = _lock(account.pk)
    customer = account.customer
    comment = required_text(comment, "comment")
    now = timezone.now()
    if account.status == CreditAccount.Status.SUBMITTED:
        require_perm(actor, perms.APPROVE_OPENING)
        if not perms.may_decide_for(actor, customer):
            raise customer_perms.refuse(actor, customer, "reject_opening")
        account.manager_decided_by, account.manager_decided_at = actor, now
        account.manager_comment = comment
    elif account.status == CreditAccount.Status.MANAGER_APPROVED:
        require_perm(actor, perms.APPROVE_OPENING_FINAL)
        account.head_office_decided_by, account.head_office_decided_at = actor, now
        account.head_office_comment = comment
    else:
        raise ValidationError({"status": [_("Only a submitted opening can be rejected.")]})
    account.status = CreditAccount.Status.REJECTED
    save(account, actor)
    record_event(
        action=events.ACCOUNT_REJECTED, actor=actor, obj=customer, data={"account_id": account.pk}
    )
    return account


@transaction.atomic
def condition_fulfil(*, actor: User, condition: AccountCondition) -> AccountCondition:
    require_perm(actor, perms.CHANGE_CONDITION)
    condition = AccountCondition.objects.select_for_update().get(pk=condition.pk)
    if condition.fulfilled_at is not None:
        return condition
    condition.fulfilled_at, condition.fulfilled_by = timezone.now(), actor
    save(condition, actor, update_fields=["fulfilled_at", "fulfilled_by", "updated_at"])
    record_event(
        action=events.CONDITION_FULFILLED,
        actor=actor,
        obj=condition.customer,
        data={"condition_id": condition.pk, "kind": condition.kind},
    )
    return condition


# --- grades (§6.6) --------------------------------------------------------------------------

RULES = {
    "past_breach": gettext_lazy("C: a past breach of credit"),
    "intermediate_wholesaler": gettext_lazy("C: intermediate wholesaler"),
    "receivables": gettext_lazy("C: not A and receivables at or above the threshold"),
    "volume": gettext_lazy("C: receivables below the threshold but large trading volume"),
    "small_business": gettext_lazy("C: fewer employees than the threshold"),
    "new_business": gettext_lazy("C: newly founded"),
    "judged_a": gettext_lazy("A: judged a large, reputable, stable business"),
    "default_b": gettext_lazy("B: ordinary credit standing"),
}


def grade_propose(*, customer: Customer, account: CreditAccount | None = None, today=None):
    """The grade the rules give (grade, rule code): the first rule that fires, in the order
    of ``RULES``. A (judged) is kept only when no C rule fires."""
    settings_row = credit_settings()
    today = today or timezone.localdate()
    account = account or CreditAccount.objects.filter(customer=customer).first()
    current = account.grade if account else ""
    if account is not None and account.past_breach:
        return Grade.C, "past_breach"
    if account is not None and account.intermediate_wholesaler:
        return Grade.C, "intermediate_wholesaler"
    receivables = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(r=open_receivables("pk"))
        .values_list("r", flat=True)
        .get()
    )
    if current != Grade.A and receivables >= settings_row.grade_c_receivables:
        return Grade.C, "receivables"
    year_ago = today - datetime.timedelta(days=365)
    volume = (
        Invoice.objects.filter(customer=customer, issued_on__gt=year_ago).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    if current != Grade.A and volume >= settings_row.grade_c_volume:
        return Grade.C, "volume"
    if customer.is_organisation:
        if customer.employees is not None and customer.employees < settings_row.grade_c_employees:
            return Grade.C, "small_business"
        if customer.founded_on is not None:
            years = settings_row.new_business_years
            try:
                cutoff = today.replace(year=today.year - years)
            except ValueError:  # 29 February
                cutoff = today.replace(year=today.year - years, day=28)
            if customer.founded_on > cutoff:
                return Grade.C, "new_business"
    if current == Grade.A:
        return Grade.A, "judged_a"
    return Grade.B, "default_b"


@transaction.atomic
def grade_facts_set(
    *, actor: User, customer: Customer, intermediate_wholesaler: bool, past_breach: bool
) -> CreditAccount:
    """Record the facts the grade rules need that the card does not hold."""
    require_perm(actor, perms.CHANGE_ACCOUNT)
    customer = customer_perms.access_customer(actor, customer.pk, action="change")
    account = _account_or_refuse(customer)
    account.intermediate_wholesaler = intermediate_wholesaler
    account.past_breach = past_breach
    account.proposed_grade, account.proposed_rule = grade_propose(
        customer=customer, account=account
    )
    save(account, actor)
    record_event(
        action=events.GRADE_FACTS_CHANGED,
        actor=actor,
        obj=customer,
        data={"account_id": account.pk, "fields": ["intermediate_wholesaler", "past_breach"]},
    )
    return account


def _account_or_refuse(customer) -> CreditAccount:
    account = lock_account(customer)
    if account is None:
        raise ValidationError(
            {"customer": [_("This customer has no credit account yet: submit it for opening.")]}
        )
    return account


@transaction.atomic
def grade_confirm(
    *, actor: User, customer: Customer, grade: str, reason: str = ""
) -> GradeDecision:
    """A manager confirms the proposed grade, or overrides it with a reason; the next
    periodic review falls due after the grade's interval."""
    require_perm(actor, perms.CONFIRM_GRADE)
    customer = customer_perms.access_customer(actor, customer.pk)
    if not perms.may_decide_for(actor, customer):
        raise customer_perms.refuse(actor, customer, "confirm_grade")
    if grade not in Grade.values:
        raise ValidationError({"grade": [_("Choose a grade.")]})
    account = _account_or_refuse(customer)
    proposed, rule = grade_propose(customer=customer, account=account)
    is_override = grade != proposed
    if is_override and not (reason or "").strip():
        raise ValidationError(
            {"reason": [_("Give a reason for a grade other than the proposed one.")]}
        )
    decision = save(
        GradeDecision(
            customer=customer,
            data_key_id=customer.data_key_id,
            grade=grade,
            proposed_grade=proposed,
            rule=rule,
            is_override=is_override,
            reason=(reason or "").strip(),
            decided_by=actor,
        ),
        actor,
    )
    previous = account.grade
    account.grade = grade
    account.proposed_grade, account.proposed_rule = proposed, rule
    account.next_review_on = timezone.localdate() + datetime.timedelta(
        days=credit_settings().review_days(grade)
    )
    save(account, actor)
    record_event(
        action=events.GRADE_CONFIRMED,
        actor=actor,
        obj=customer,
        data={
            "decision_id": decision.pk,
            "from": previous,
            "to": grade,
            "proposed": proposed,
            "rule": rule,
            "override": is_override,
        },
    )
    return decision


# --- termination ------------------------------------------------------------------------------


@transaction.atomic
def account_terminate(
    *, actor: User, customer: Customer, risk_report: RiskReport | None = None, reason: str = ""
) -> CreditAccount:
    """On the manager's instruction trading ends: no new orders; open receivables are
    tracked as collections until paid or written off."""
    require_perm(actor, perms.TERMINATE)
    customer = customer_perms.access_customer(actor, customer.pk)
    if not perms.may_decide_for(actor, customer):
        raise customer_perms.refuse(actor, customer, "terminate")
    account = _account_or_refuse(customer)
    if account.status == CreditAccount.Status.TERMINATED:
        raise ValidationError({"status": [_("Trading with this customer is already terminated.")]})
    account.status = CreditAccount.Status.TERMINATED
    account.terminated_by, account.terminated_at = actor, timezone.now()
    save(account, actor, reason)
    reports = RiskReport.objects.select_for_update().filter(
        customer=customer, status=RiskReport.Status.OPEN
    )
    closed = []
    for report in reports:
        report.status = RiskReport.Status.TERMINATED
        report.decided_by, report.decided_at = actor, timezone.now()
        save(report, actor)
        closed.append(report.pk)
    record_event(
        action=events.ACCOUNT_TERMINATED,
        actor=actor,
        obj=customer,
        reason=reason,
        data={"account_id": account.pk, "risk_reports": closed},
    )
    return account


@transaction.atomic
def risk_report_dismiss(*, actor: User, report: RiskReport) -> RiskReport:
    require_perm(actor, perms.TERMINATE)
    report = RiskReport.objects.select_for_update().get(pk=report.pk)
    if report.status != RiskReport.Status.OPEN:
        raise ValidationError({"status": [_("This risk report is already decided.")]})
    report.status = RiskReport.Status.DISMISSED
    report.decided_by, report.decided_at = actor, timezone.now()
    save(report, actor)
    record_event(
        action=events.RISK_REPORT_DISMISSED,
        actor=actor,
        obj=report.customer,
        data={"risk_report_id": report.pk},
    )
    return report
