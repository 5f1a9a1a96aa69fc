"""The credit rules (DESIGN §6.1, §6.6) through the services, with boundary values."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from audit.models import AuditEvent
from credit import selectors, services
from credit.models import (
    CreditAccount,
    CreditLimit,
    CreditSettings,
    GradeDecision,
    Hold,
    Invoice,
    Note,
    Order,
    RiskReport,
)
from credit.tests.factories import (
    active_limit,
    complete_organisation,
    invoice,
    open_account,
    people,
    trading_customer,
)
from crm.models import Notification
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cast():
    return people()


def _order(customer, actor, amount, reference="PO-1"):
    return services.order_create(
        actor=actor, customer=customer, amount=D(amount), reference=reference
    )


# --- account opening --------------------------------------------------------------------------


def test_an_incomplete_card_is_refused_and_the_message_lists_the_blank_fields(cast):
    customer = complete_organisation(cast["owner"], website="", employees=None)
    with pytest.raises(ValidationError) as refused:
        services.account_submit(actor=cast["owner"], customer=customer)
    message = refused.value.message_dict["customer"][0]
    assert "website" in message and "employees" in message
    assert "trading address" not in message
    assert not CreditAccount.objects.exists()


def test_an_individual_needs_email_address_birth_date_and_id_document(cast):
    customer = make_customer(cast["owner"])
    assert set(services.missing_card_fields(customer)) == {"e-mail", "address", "birth date"}


def test_opening_goes_manager_then_head_office_with_conditions(cast):
    customer = complete_organisation(cast["owner"])
    account = services.account_submit(actor=cast["owner"], customer=customer)
    assert account.status == CreditAccount.Status.SUBMITTED
    assert Notification.objects.filter(
        recipient=cast["north_manager"], code="credit.opening_waiting"
    ).exists()
    with pytest.raises(PermissionDenied):  # the rep cannot approve
        services.account_approve(actor=cast["owner"], account=account)
    with pytest.raises(PermissionDenied):  # head office waits for the manager
        services.account_approve(actor=cast["south_manager"], account=account)
    account = services.account_approve(
        actor=cast["north_manager"],
        account=account,
        comment="ok",
        conditions=[("contract", ""), ("deposit", "20%")],
    )
    assert account.status == CreditAccount.Status.MANAGER_APPROVED
    assert customer.credit_conditions.count() == 2
    with pytest.raises(PermissionDenied):  # the manager cannot give head office's approval
        services.account_approve(actor=cast["north_manager"], account=account)
    account = services.account_approve(actor=cast["gm"], account=account)
    assert account.status == CreditAccount.Status.OPEN and account.opened_at
    assert account.history.count() == 3
    assert AuditEvent.objects.filter(action="credit.account_approved").count() == 2


def test_a_rejected_opening_can_be_submitted_again(cast):
    customer = complete_organisation(cast["owner"])
    account = services.account_submit(actor=cast["owner"], customer=customer)
    with pytest.raises(ValidationError):
        services.account_reject(actor=cast["north_manager"], account=account, comment=" ")
    services.account_reject(actor=cast["north_manager"], account=account, comment="no")
    account.refresh_from_db()
    assert account.status == CreditAccount.Status.REJECTED
    again = services.account_submit(actor=cast["owner"], customer=customer)
    assert again.pk == account.pk and again.status == CreditAccount.Status.SUBMITTED


def test_a_customer_whose_account_is_not_open_cannot_receive_an_order(cast):
    customer = complete_organisation(cast["owner"])
    with pytest.raises(ValidationError):
        _order(customer, cast["owner"], "1.00")
    account = services.account_submit(actor=cast["owner"], customer=customer)
    services.account_approve(actor=cast["north_manager"], account=account)
    with pytest.raises(ValidationError) as refused:
        _order(customer, cast["owner"], "1.00")
    assert "not open" in refused.value.message_dict["customer"][0]
    assert not Order.objects.exists()


# --- limits and the approval chain --------------------------------------------------------------


def _request(customer, amount):
    return services.limit_request(
        actor=customer.owner, customer=customer, amount=D(amount), justification="growth"
    )


def test_manager_approves_up_to_and_exactly_at_the_cap(cast):
    CreditSettings.objects.update_or_create(pk=1, defaults={"company_cap": D("500000.00")})
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, "500000.00")
    assert not limit.needs_general_manager
    limit = services.limit_approve(actor=cast["north_manager"], limit=limit)
    assert limit.status == CreditLimit.Status.ACTIVE and not limit.is_exception


def test_one_cent_above_the_cap_needs_the_general_manager_and_is_an_exception(cast):
    CreditSettings.objects.update_or_create(pk=1, defaults={"company_cap": D("500000.00")})
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, "500000.01")
    assert limit.needs_general_manager
    assert Notification.objects.filter(recipient=cast["gm"], code="credit.limit_waiting").exists()
    with pytest.raises(PermissionDenied):
        services.limit_approve(actor=cast["north_manager"], limit=limit)
    limit = services.limit_approve(actor=cast["gm"], limit=limit)
    assert limit.is_exception and limit.exception_reason == "above_cap"
    assert list(selectors.exceptions_list(cast["gm"])) == [limit]


@pytest.mark.parametrize("who", ["owner", "north_rep", "service", "auditor", "dpo", "admin"])
def test_those_who_may_not_approve_are_refused(cast, who):
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, "1000.00")
    with pytest.raises((PermissionDenied, Exception)):
        services.limit_approve(actor=cast[who], limit=limit)
    limit.refresh_from_db()
    assert limit.status == CreditLimit.Status.PENDING


@pytest.mark.parametrize(
    ("who", "amount"),
    [
        ("owner", "1000.00"),  # the rep: no approval at all
        ("north_rep", "1000.00"),
        ("service", "1000.00"),  # service staff: nothing in credit
        ("auditor", "1000.00"),
        ("dpo", "1000.00"),
        ("admin", "1000.00"),
        ("north_manager", "1000000.01"),  # the manager, one cent above the cap
    ],
)
def test_the_approval_chain_refuses_each_role_that_may_not_and_leaves_no_trace(cast, who, amount):
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, amount)
    with pytest.raises(PermissionDenied):
        services.limit_approve(actor=cast[who], limit=limit)
    limit.refresh_from_db()
    assert (limit.status, limit.decided_by_id) == (CreditLimit.Status.PENDING, None)
    assert not AuditEvent.objects.filter(action="credit.limit_approved").exists()
    assert limit.history.count() == 1


@pytest.mark.parametrize("who", ["owner", "service", "auditor", "south_manager"])
def test_the_opening_chain_refuses_who_may_not_approve(cast, who):
    customer = complete_organisation(cast["owner"])
    account = services.account_submit(actor=cast["owner"], customer=customer)
    with pytest.raises((PermissionDenied, Http404)):
        services.account_approve(actor=cast[who], account=account)
    account.refresh_from_db()
    assert account.status == CreditAccount.Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="credit.account_approved").exists()


def test_the_requester_never_approves_his_own_request(cast):
    customer = complete_organisation(cast["owner"])
    own = services.limit_request(
        actor=cast["gm"], customer=customer, amount=D("2000000.00"), justification="x"
    )
    with pytest.raises(PermissionDenied):
        services.limit_approve(actor=cast["gm"], limit=own)
    services.limit_approve(actor=cast["gm2"], limit=own)


def test_a_manager_of_another_team_cannot_approve(cast):
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, "1000.00")
    with pytest.raises(PermissionDenied):
        services.limit_approve(actor=cast["south_manager"], limit=limit)


def test_a_special_approval_is_an_exception_and_needs_a_comment(cast):
    customer = complete_organisation(cast["owner"])
    limit = _request(customer, "1000.00")
    with pytest.raises(ValidationError):
        services.limit_approve(actor=cast["north_manager"], limit=limit, special=True)
    limit = services.limit_approve(
        actor=cast["north_manager"], limit=limit, special=True, comment="expand trade"
    )
    assert limit.is_exception and limit.exception_reason == "special_approval"


def test_a_new_approval_supersedes_the_active_limit(cast):
    customer = complete_organisation(cast["owner"])
    first = active_limit(customer, cast, "1000.00")
    second = active_limit(customer, cast, "2000.00")
    first.refresh_from_db()
    assert first.status == CreditLimit.Status.SUPERSEDED
    assert list(customer.credit_limits.filter(status="active")) == [second]


def test_the_database_refuses_a_second_active_limit(cast):
    customer = complete_organisation(cast["owner"])
    limit = active_limit(customer, cast, "1000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLimit.objects.create(
            customer=customer,
            data_key_id=customer.data_key_id,
            amount=D("5.00"),
            status="active",
            requested_by=limit.requested_by,
        )


def test_a_limit_in_another_currency_is_refused(cast):
    customer = complete_organisation(cast["owner"])
    with pytest.raises(ValidationError) as refused:
        services.limit_request(
            actor=cast["owner"],
            customer=customer,
            amount=D("1.00"),
            currency="USD",
            justification="x",
        )
    assert "currency" in refused.value.message_dict


def test_amounts_with_more_than_two_places_are_refused(cast):
    customer = complete_organisation(cast["owner"])
    with pytest.raises(ValidationError):
        _request(customer, "1.005")


# --- exposure and the order check ---------------------------------------------------------------


def test_exposure_is_open_receivables_plus_unsettled_notes_plus_uninvoiced_orders(cast):
    customer = trading_customer(cast, "100000.00")
    manager = cast["north_manager"]
    paid = invoice(customer, manager, "3000.00")
    services.payment_record(
        actor=manager, customer=customer, received_on=datetime.date.today(), amount=D("1000.00")
    )
    invoice(customer, manager, "500.00")
    today = datetime.date.today()
    services.note_record(
        actor=manager,
        customer=customer,
        kind="bill",
        amount=D("700.00"),
        received_on=today,
        due_on=today + datetime.timedelta(days=60),
    )
    settled = services.note_record(
        actor=manager,
        customer=customer,
        kind="cheque",
        amount=D("50.00"),
        received_on=today,
        due_on=today,
    )
    services.note_status_set(actor=manager, note=settled, status="settled")
    _order(customer, cast["owner"], "800.00")
    invoiced = _order(customer, cast["owner"], "900.00", "PO-2")
    invoice(customer, manager, "900.00", order=invoiced)
    summary = selectors.credit_summary(customer.pk)
    assert (summary.receivables, summary.notes, summary.orders) == (
        D("3400.00"),  # 3000 - 1000 paid + 500 + 900 (the invoiced order)
        D("700.00"),
        D("800.00"),
    )
    assert summary.exposure == D("4900.00")
    assert summary.headroom == D("95100.00")
    assert summary.percent_used == D("4.90")
    paid.refresh_from_db()
    assert paid.paid_amount == D("1000.00")


def test_exactly_at_the_limit_passes_and_one_cent_over_is_blocked(cast):
    customer = trading_customer(cast, "1000.00")
    invoice(customer, cast["north_manager"], "400.00")
    at_limit = _order(customer, cast["owner"], "600.00")
    assert at_limit.status == Order.Status.ACCEPTED and at_limit.reason == ""
    over = _order(customer, cast["owner"], "0.01", "PO-2")
    assert over.status == Order.Status.BLOCKED and over.reason == Order.Reason.OVER_LIMIT
    assert over.exposure_before == D("1000.00")
    assert Notification.objects.filter(
        recipient=cast["north_manager"], code="credit.order_blocked"
    ).exists()


def test_one_cent_over_on_the_first_order_is_blocked(cast):
    customer = trading_customer(cast, "1000.00")
    assert _order(customer, cast["owner"], "1000.01").status == Order.Status.BLOCKED


def test_without_an_active_limit_an_order_is_blocked(cast):
    customer = complete_organisation(cast["owner"])
    open_account(customer, cast)
    order = _order(customer, cast["owner"], "1.00")
    assert (order.status, order.reason) == (Order.Status.BLOCKED, Order.Reason.NO_LIMIT)


def test_a_released_order_counts_in_exposure_and_a_rejected_one_does_not(cast):
    customer = trading_customer(cast, "1000.00")
    blocked = _order(customer, cast["owner"], "1500.00")
    other = _order(customer, cast["owner"], "1200.00", "PO-2")
    with pytest.raises(PermissionDenied):
        services.order_release(actor=cast["owner"], order=blocked)
    with pytest.raises(PermissionDenied):
        services.order_release(actor=cast["south_manager"], order=blocked)
    services.order_release(actor=cast["north_manager"], order=blocked)
    services.order_reject(actor=cast["north_manager"], order=other)
    assert selectors.credit_summary(customer.pk).orders == D("1500.00")
    with pytest.raises(ValidationError):
        services.order_release(actor=cast["north_manager"], order=other)


def test_the_warning_threshold_notifies_rep_and_manager_once_per_crossing(cast):
    customer = trading_customer(cast, "1000.00")

    def warnings():
        return Notification.objects.filter(code="credit.exposure_warning")

    _order(customer, cast["owner"], "899.99")
    assert not warnings().exists()
    _order(customer, cast["owner"], "0.01", "PO-2")  # exactly 90 %
    assert set(warnings().values_list("recipient", flat=True)) == {
        cast["owner"].pk,
        cast["north_manager"].pk,
    }
    _order(customer, cast["owner"], "50.00", "PO-3")  # still above: no second warning
    assert warnings().count() == 2
    # Paying for the first order drops exposure below the threshold; the next crossing warns
    # again.
    first = Order.objects.get(reference="PO-1")
    bill = invoice(customer, cast["north_manager"], "899.99", order=first)
    services.payment_record(
        actor=cast["north_manager"],
        customer=customer,
        received_on=datetime.date.today(),
        amount=D("899.99"),
        allocations=[(bill, D("899.99"))],
    )
    account = CreditAccount.objects.get(customer=customer)
    assert not account.warning_active
    _order(customer, cast["owner"], "849.98", "PO-4")  # 899.99: below
    assert warnings().count() == 2
    _order(customer, cast["owner"], "0.01", "PO-5")  # 900.00: reached again
    assert warnings().count() == 4


def test_the_credit_check_runs_a_bounded_number_of_queries(cast, assert_queries):
    customer = trading_customer(cast, "1000000.00")
    for _n in range(3):
        invoice(customer, cast["north_manager"], "10.00")
    with assert_queries() as few:
        _order(customer, cast["owner"], "1.00", "PO-A")
    for _n in range(20):
        invoice(customer, cast["north_manager"], "10.00")
    with assert_queries(default=few["default"], keys=few["keys"]):
        _order(customer, cast["owner"], "1.00", "PO-B")


# --- holds --------------------------------------------------------------------------------------


def test_a_hold_blocks_every_order_until_a_manager_releases_it(cast):
    customer = trading_customer(cast, "1000.00")
    with pytest.raises(ValidationError):
        services.hold_place(actor=cast["owner"], customer=customer, reason=" ")
    hold = services.hold_place(actor=cast["owner"], customer=customer, reason="fire at plant")
    order = _order(customer, cast["owner"], "1.00")
    assert (order.status, order.reason) == (Order.Status.BLOCKED, Order.Reason.ON_HOLD)
    with pytest.raises(PermissionDenied):
        services.hold_release(actor=cast["owner"], hold=hold)
    services.hold_release(actor=cast["north_manager"], hold=hold)
    assert Hold.objects.get().status == Hold.Status.RELEASED
    assert _order(customer, cast["owner"], "1.00", "PO-2").status == Order.Status.ACCEPTED
    assert Notification.objects.filter(
        recipient=cast["north_manager"], code="credit.hold_placed"
    ).exists()


def test_the_hold_reason_is_encrypted(cast):
    from django.db import connection

    customer = trading_customer(cast)
    hold = services.hold_place(actor=cast["owner"], customer=customer, reason="owner fled")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM credit_hold WHERE id = %s", [hold.pk])
        stored = cursor.fetchone()[0]
    assert "owner fled" not in stored
    assert Hold.objects.get(pk=hold.pk).reason == "owner fled"


# --- termination --------------------------------------------------------------------------------


def test_a_dishonoured_note_raises_a_risk_report_and_termination_stops_orders(cast):
    customer = trading_customer(cast, "100000.00")
    manager = cast["north_manager"]
    today = datetime.date.today()
    note = services.note_record(
        actor=manager,
        customer=customer,
        kind="bill",
        amount=D("700.00"),
        received_on=today,
        due_on=today,
    )
    services.note_status_set(actor=cast["gm"], note=note, status="dishonoured")
    report = RiskReport.objects.get()
    assert report.trigger == "dishonoured" and report.status == "open"
    assert Notification.objects.filter(recipient=manager, code="credit.risk_report").exists()
    bill = invoice(customer, manager, "300.00")
    with pytest.raises(PermissionDenied):
        services.account_terminate(actor=cast["owner"], customer=customer)
    with pytest.raises(ValidationError):  # not in collection yet
        services.invoice_write_off(actor=manager, invoice=bill, reason="gone")
    services.account_terminate(actor=manager, customer=customer, reason="dishonoured bill")
    report.refresh_from_db()
    assert report.status == RiskReport.Status.TERMINATED
    with pytest.raises(ValidationError) as refused:
        _order(customer, cast["owner"], "1.00")
    assert "terminated" in refused.value.message_dict["customer"][0]
    services.invoice_write_off(actor=manager, invoice=bill, reason="uncollectable")
    assert selectors.credit_summary(customer.pk).receivables == D("0.00")


def test_a_long_overdue_note_raises_one_risk_report(cast):
    customer = trading_customer(cast)
    today = datetime.date.today()
    services.note_record(
        actor=cast["north_manager"],
        customer=customer,
        kind="cheque",
        amount=D("10.00"),
        received_on=today - datetime.timedelta(days=90),
        due_on=today - datetime.timedelta(days=31),
    )
    assert services.notes_overdue_check() == 1
    assert services.notes_overdue_check() == 0
    assert RiskReport.objects.get().trigger == "overdue"


def test_an_extended_note_gets_its_new_due_date(cast):
    customer = trading_customer(cast)
    today = datetime.date.today()
    note = services.note_record(
        actor=cast["north_manager"],
        customer=customer,
        kind="bill",
        amount=D("10.00"),
        received_on=today,
        due_on=today,
    )
    with pytest.raises(ValidationError):
        services.note_status_set(actor=cast["north_manager"], note=note, status="extended")
    later = today + datetime.timedelta(days=30)
    services.note_status_set(
        actor=cast["north_manager"], note=note, status="extended", extended_to=later
    )
    note.refresh_from_db()
    assert (note.status, note.due_on) == (Note.Status.EXTENDED, later)


# --- grades -------------------------------------------------------------------------------------


def test_grade_b_by_default_and_c_by_each_rule(cast):
    customer = complete_organisation(cast["owner"])
    open_account(customer, cast)
    assert services.grade_propose(customer=customer) == ("B", "default_b")
    small = complete_organisation(cast["owner"], employees=99)
    assert services.grade_propose(customer=small) == ("C", "small_business")
    edge = complete_organisation(cast["owner"], employees=100)
    assert services.grade_propose(customer=edge)[0] == "B"
    young = complete_organisation(
        cast["owner"], founded_on=datetime.date.today() - datetime.timedelta(days=300)
    )
    assert services.grade_propose(customer=young) == ("C", "new_business")


def test_receivables_at_the_threshold_make_c_unless_a(cast):
    customer = trading_customer(cast, "1000000.00")
    invoice(customer, cast["north_manager"], "99999.99")
    assert services.grade_propose(customer=customer)[0] == "B"
    invoice(customer, cast["north_manager"], "0.01")
    assert services.grade_propose(customer=customer) == ("C", "receivables")
    services.grade_confirm(
        actor=cast["north_manager"], customer=customer, grade="A", reason="listed company"
    )
    assert services.grade_propose(customer=customer) == ("A", "judged_a")


def test_past_breach_and_wholesaler_make_c(cast):
    customer = trading_customer(cast)
    services.grade_facts_set(
        actor=cast["owner"], customer=customer, intermediate_wholesaler=True, past_breach=False
    )
    assert services.grade_propose(customer=customer) == ("C", "intermediate_wholesaler")
    services.grade_facts_set(
        actor=cast["owner"], customer=customer, intermediate_wholesaler=True, past_breach=True
    )
    assert services.grade_propose(customer=customer) == ("C", "past_breach")


def test_an_override_needs_a_reason_and_the_review_falls_due(cast):
    customer = trading_customer(cast)
    with pytest.raises(PermissionDenied):
        services.grade_confirm(actor=cast["owner"], customer=customer, grade="B")
    with pytest.raises(ValidationError):
        services.grade_confirm(actor=cast["north_manager"], customer=customer, grade="C")
    decision = services.grade_confirm(actor=cast["north_manager"], customer=customer, grade="B")
    assert (decision.is_override, decision.rule) == (False, "default_b")
    account = CreditAccount.objects.get(customer=customer)
    assert account.next_review_on == datetime.date.today() + datetime.timedelta(days=180)
    decision = services.grade_confirm(
        actor=cast["north_manager"], customer=customer, grade="C", reason="late payer"
    )
    assert decision.is_override and GradeDecision.objects.count() == 2
    assert account.history.filter(grade="C").exists()


# --- investigations -------------------------------------------------------------------------------


def test_an_urgent_report_notifies_the_manager_at_once(cast):
    customer = trading_customer(cast)
    investigation = services.investigation_record(
        actor=cast["owner"],
        customer=customer,
        source="bank",
        kind="urgent",
        operator="the director left",
        payment_behaviour="late twice",
    )
    note = Notification.objects.get(recipient=cast["north_manager"], code="credit.urgent_report")
    assert note.params == {"customer": customer.code}
    assert investigation.operator == "the director left"
    event = AuditEvent.objects.get(action="credit.investigation_recorded")
    assert "director" not in str(event.data)


def test_an_investigation_needs_a_note(cast):
    customer = trading_customer(cast)
    with pytest.raises(ValidationError):
        services.investigation_record(
            actor=cast["owner"], customer=customer, source="bank", kind="daily"
        )


def test_a_periodic_review_moves_the_next_due_date(cast):
    customer = trading_customer(cast)
    services.grade_confirm(actor=cast["north_manager"], customer=customer, grade="B")
    account = CreditAccount.objects.get(customer=customer)
    account.next_review_on = datetime.date.today() - datetime.timedelta(days=1)
    account.save()
    assert list(selectors.reviews_due(cast["owner"])) == [account]
    services.investigation_record(
        actor=cast["owner"], customer=customer, source="agency", kind="periodic", funding="ok"
    )
    assert list(selectors.reviews_due(cast["owner"])) == []


# --- settings ------------------------------------------------------------------------------------


def test_only_an_admin_changes_the_settings_and_it_is_audited(cast):
    with pytest.raises(PermissionDenied):
        services.credit_settings_update(actor=cast["north_manager"], company_cap=D("5.00"))
    services.credit_settings_update(actor=cast["admin"], warning_percent=D("80.00"))
    assert selectors.credit_settings().warning_percent == D("80.00")
    event = AuditEvent.objects.get(action="credit.settings_changed")
    assert event.data["changed"]["warning_percent"] == {"from": "90.00", "to": "80.00"}
    with pytest.raises(ValidationError):
        services.credit_settings_update(actor=cast["admin"], warning_percent=D("120.00"))


def test_invoice_numbers_are_unique(cast):
    customer = trading_customer(cast)
    invoice(customer, cast["north_manager"], number="A-1")
    with pytest.raises(ValidationError):
        invoice(customer, cast["north_manager"], number="A-1")
    assert Invoice.objects.count() == 1
