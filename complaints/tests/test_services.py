"""The complaint services: receipt, status flow, assignment and card access, return
visits, repeats, escalation, the caller look-up and the caller's own key."""

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint, ComplaintEvent, ReturnVisit
from complaints.tests.factories import (
    aware,
    make_complaint,
    service_manager,
    service_staff,
)
from crm import encryption
from crm.models import DataKey, Notification, Team
from crm.tests.factories import UserFactory
from customers import permissions as customer_perms
from customers import services as customer_services
from customers.models import CustomerUserObjectPermission
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

S = Complaint.Status
LEGAL = {
    (S.RECEIVED, S.INVESTIGATING),
    (S.INVESTIGATING, S.RESOLVED),
    (S.RESOLVED, S.CUSTOMER_INFORMED),
    (S.RESOLVED, S.INVESTIGATING),
    (S.CUSTOMER_INFORMED, S.CLOSED),
    (S.CUSTOMER_INFORMED, S.INVESTIGATING),
    (S.CLOSED, S.INVESTIGATING),
}
PATH = [S.RECEIVED, S.INVESTIGATING, S.RESOLVED, S.CUSTOMER_INFORMED, S.CLOSED]


def move(complaint, to, actor, **kwargs):
    kwargs.setdefault("resolution", "换货" if to == S.RESOLVED else "")
    if to == S.CLOSED:
        kwargs.setdefault("return_visit_skip_reason", "客户拒绝回访")
    return services.complaint_transition(actor=actor, complaint_id=complaint.pk, to=to, **kwargs)


def bring_to(status, actor=None):
    actor = actor or service_staff()
    complaint = make_complaint(actor=actor)
    for step in PATH[1 : PATH.index(status) + 1]:
        complaint = move(complaint, step, actor)
    return complaint, actor


def test_receipt_records_history_audit_and_timeline():
    staff = service_staff()
    complaint = make_complaint(actor=staff, description="包装破损")
    assert complaint.code.startswith("CP")
    assert complaint.status == S.RECEIVED and complaint.received_by == staff
    assert complaint.data_key_id == complaint.customer.data_key_id
    assert complaint.history.count() == 1 and complaint.history.first().history_user == staff
    event = AuditEvent.objects.get(action="complaints.received")
    assert event.data["code"] == complaint.code and "包装" not in str(event.data)
    assert Complaint.objects.get(pk=complaint.pk).description == "包装破损"
    assert list(complaint.events.values_list("kind", flat=True)) == ["received"]


@pytest.mark.parametrize(("start", "to"), list(itertools.product(PATH, PATH)))
def test_every_illegal_move_is_refused_with_a_clear_message(start, to):
    complaint, actor = bring_to(start)
    if (start, to) in LEGAL:
        assert move(complaint, to, actor).status == to
        return
    with pytest.raises(ValidationError) as error:
        move(complaint, to, actor)
    assert "cannot move" in error.value.message_dict["to"][0]
    assert Complaint.objects.get(pk=complaint.pk).status == start


def test_unknown_status_is_refused():
    complaint, actor = bring_to(S.RECEIVED)
    with pytest.raises(ValidationError):
        move(complaint, "lost", actor)


def test_full_flow_with_return_visit_and_satisfaction():
    complaint, actor = bring_to(S.INVESTIGATING)
    assert complaint.first_responded_at is not None and complaint.assignee == actor
    complaint = move(complaint, S.RESOLVED, actor, root_cause="transport-damage")
    visit = ReturnVisit.objects.get(complaint=complaint)
    assert visit.done_at is None and complaint.root_cause.code == "transport-damage"
    complaint = move(complaint, S.CUSTOMER_INFORMED, actor, informed_how="phone")
    with pytest.raises(ValidationError) as error:
        services.complaint_transition(actor=actor, complaint_id=complaint.pk, to=S.CLOSED)
    assert "return_visit_skip_reason" in error.value.message_dict
    services.return_visit_record(
        actor=actor, complaint_id=complaint.pk, outcome="satisfied", note="满意"
    )
    complaint = services.complaint_transition(
        actor=actor,
        complaint_id=complaint.pk,
        to=S.CLOSED,
        satisfaction_score=5,
        satisfaction_comment="很好",
    )
    assert complaint.status == S.CLOSED and complaint.satisfaction_score == 5
    assert ReturnVisit.objects.get(pk=visit.pk).outcome == "satisfied"


def test_closing_with_a_skip_reason_and_a_bad_score():
    complaint, actor = bring_to(S.CUSTOMER_INFORMED)
    with pytest.raises(ValidationError) as error:
        move(complaint, S.CLOSED, actor, satisfaction_score=6)
    assert "satisfaction_score" in error.value.message_dict
    assert move(complaint, S.CLOSED, actor).return_visit_skip_reason == "客户拒绝回访"


def test_resolution_needs_a_text():
    complaint, actor = bring_to(S.INVESTIGATING)
    with pytest.raises(ValidationError) as error:
        services.complaint_transition(actor=actor, complaint_id=complaint.pk, to=S.RESOLVED)
    assert "resolution" in error.value.message_dict


def test_reopen_clears_the_resolution_and_sets_a_new_deadline():
    complaint, actor = bring_to(S.CLOSED)
    complaint = move(complaint, S.INVESTIGATING, actor, note="客户再次来电")
    assert complaint.resolved_at is None and complaint.closed_at is None
    assert complaint.events.filter(kind="reopened").count() == 1
    assert AuditEvent.objects.filter(action="complaints.reopened").count() == 1


# --- assignment and the card ------------------------------------------------------------


def test_assignment_grants_the_card_and_close_revokes_it():
    manager, staff = service_manager(), service_staff()
    complaint = make_complaint(actor=manager)
    customer = complaint.customer
    assert not customer_perms.can_see(staff, customer)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    assert customer_perms.can_see(staff, customer)
    assert not customer_perms.can_reveal(staff, customer)  # masked
    assert Notification.objects.filter(recipient=staff, code="complaints.assigned").count() == 1
    complaint = move(complaint, S.INVESTIGATING, staff)
    complaint = move(complaint, S.RESOLVED, staff)
    complaint = move(complaint, S.CUSTOMER_INFORMED, staff)
    move(complaint, S.CLOSED, staff)
    assert not customer_perms.can_see(staff, customer)
    assert AuditEvent.objects.filter(action="complaints.access_revoked").count() == 1


def test_reassignment_moves_the_grant():
    manager, first, second = service_manager(), service_staff(), service_staff()
    complaint = make_complaint(actor=manager)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=first)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=second)
    assert not customer_perms.can_see(first, complaint.customer)
    assert customer_perms.can_see(second, complaint.customer)
    assert (
        CustomerUserObjectPermission.objects.filter(content_object=complaint.customer).count() == 1
    )


def test_a_grant_shared_by_two_complaints_stays_until_both_close():
    manager, staff = service_manager(), service_staff()
    customer = make_customer()
    one = make_complaint(actor=manager, customer=customer)
    two = make_complaint(actor=manager, customer=customer, category="billing")
    for complaint in (one, two):
        services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    services.complaint_assign(actor=manager, complaint_id=one.pk, assignee=None)
    assert customer_perms.can_see(staff, customer)
    services.complaint_assign(actor=manager, complaint_id=two.pk, assignee=None)
    assert not customer_perms.can_see(staff, customer)


def test_an_owners_grant_is_not_taken_away_on_close():
    manager, staff = service_manager(), service_staff()
    complaint = make_complaint(actor=manager)
    customer = complaint.customer
    customer_services.customer_access_grant(
        actor=customer.owner, customer=customer, user=staff, reason="长期服务"
    )
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.access_grant_id is None
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=None)
    assert customer_perms.can_see(staff, customer)


def test_only_the_service_manager_assigns_but_staff_take_unassigned_ones():
    staff, other = service_staff(), service_staff()
    complaint = make_complaint(actor=staff)
    with pytest.raises(PermissionDenied):
        services.complaint_assign(actor=staff, complaint_id=complaint.pk, assignee=other)
    services.complaint_assign(actor=staff, complaint_id=complaint.pk, assignee=staff)
    assert Complaint.objects.get(pk=complaint.pk).assignee == staff
    with pytest.raises(ValidationError):
        services.complaint_assign(
            actor=service_manager(), complaint_id=complaint.pk, assignee=UserFactory()
        )


def test_staff_see_their_own_and_unassigned_complaints_only():
    manager, mine, theirs = service_manager(), service_staff(), service_staff()
    unassigned = make_complaint(actor=manager)
    own = make_complaint(actor=manager)
    other = make_complaint(actor=manager)
    services.complaint_assign(actor=manager, complaint_id=own.pk, assignee=mine)
    services.complaint_assign(actor=manager, complaint_id=other.pk, assignee=theirs)
    from complaints.permissions import access_complaint, visible_complaints

    assert set(visible_complaints(mine)) == {unassigned, own}
    assert set(visible_complaints(manager)) == {unassigned, own, other}
    with pytest.raises(Http404):
        access_complaint(mine, other.pk)
    assert AuditEvent.objects.filter(action="access.denied", actor=mine).count() == 1
    # The owner of the card sees its complaints; another rep does not.
    assert set(visible_complaints(own.customer.owner)) == {own}
    # An unassigned one he takes by starting it.
    started = services.complaint_transition(
        actor=mine, complaint_id=unassigned.pk, to=S.INVESTIGATING
    )
    assert started.assignee == mine


def test_assignee_reveals_the_phone_for_complaint_handling_only():
    manager, staff = service_manager(), service_staff()
    customer = make_customer(phone="13800138000")
    complaint = make_complaint(actor=manager, customer=customer)
    with pytest.raises(PermissionDenied):
        services.complaint_caller_reveal(actor=staff, complaint_id=complaint.pk)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    assert services.complaint_caller_reveal(actor=staff, complaint_id=complaint.pk) == {
        "phone": "13800138000"
    }
    event = AuditEvent.objects.get(action="customers.revealed", actor=staff)
    assert event.data == {"fields": ["phone"]}
    assert event.reason.startswith("complaint handling " + complaint.code)
    with pytest.raises(PermissionDenied):  # a grant never reveals other fields
        customer_services.customer_reveal(
            actor=staff, customer=customer, fields=["name"], reason="complaint handling"
        )
    complaint = move(complaint, S.INVESTIGATING, staff)
    complaint = move(complaint, S.RESOLVED, staff)
    complaint = move(complaint, S.CUSTOMER_INFORMED, staff)
    move(complaint, S.CLOSED, staff)
    assert not customer_perms.can_see(staff, customer)
    with pytest.raises(PermissionDenied):
        customer_services.customer_reveal(
            actor=staff, customer=customer, fields=["phone"], reason="complaint handling"
        )


# --- repeat detection -------------------------------------------------------------------


def test_repeat_within_the_window_links_the_earlier_one(settings):
    settings.COMPLAINTS = {**settings.COMPLAINTS, "REPEAT_DAYS": 90}
    customer = make_customer()
    first = make_complaint(customer=customer, received_at=aware("2026-06-01 10:00"))
    other_category = make_complaint(
        customer=customer, category="billing", received_at=aware("2026-07-01 10:00")
    )
    repeat = make_complaint(customer=customer, received_at=aware("2026-08-30 10:00"))
    late = make_complaint(
        customer=customer, category="billing", received_at=aware("2026-11-01 10:00")
    )
    assert not first.is_repeat and not other_category.is_repeat
    assert repeat.is_repeat and repeat.repeat_of == first
    assert not late.is_repeat  # 123 days after the other billing complaint
    assert not make_complaint(caller=True).is_repeat


# --- escalation ---------------------------------------------------------------------------


def test_each_breach_is_escalated_once_to_the_assignees_manager():
    manager = service_manager()
    team_lead = service_manager()
    team = Team.objects.create(name="Hotline", manager=team_lead)
    staff = service_staff(team=team)
    complaint = make_complaint(
        actor=manager, severity="high", received_at=aware("2026-11-25 09:00")
    )
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=staff)
    # high: first response 4 business hours (13:00... 14:00), resolution 16 (next day 18:00)
    assert services.complaints_escalate_overdue(now=aware("2026-11-25 13:30")) == 0
    assert services.complaints_escalate_overdue(now=aware("2026-11-25 14:30")) == 1
    assert services.complaints_escalate_overdue(now=aware("2026-11-25 15:30")) == 0
    complaint.refresh_from_db()
    assert complaint.first_response_escalated_at == aware("2026-11-25 14:30")
    assert (
        Notification.objects.filter(recipient=team_lead, code="complaints.escalated").count() == 1
    )
    assert not Notification.objects.filter(recipient=manager, code="complaints.escalated").exists()
    assert complaint.events.filter(kind="escalated").count() == 1
    assert AuditEvent.objects.filter(action="complaints.escalated").count() == 1
    # Past the resolution deadline too: the second breach, once.
    assert services.complaints_escalate_overdue(now=aware("2026-11-27 09:00")) == 1
    assert services.complaints_escalate_overdue(now=aware("2026-11-27 10:00")) == 0
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="escalated").count() == 2


def test_without_a_team_manager_the_service_managers_hear_of_it():
    manager = service_manager()
    complaint = make_complaint(
        actor=manager, severity="high", received_at=aware("2026-11-25 09:00")
    )
    assert services.complaints_escalate_overdue(now=aware("2026-11-25 14:30")) == 1
    assert Notification.objects.filter(recipient=manager, code="complaints.escalated").count() == 1
    complaint = move(complaint, S.INVESTIGATING, manager)
    assert complaint.first_response_escalated_at is not None


def test_the_escalation_command():
    import io

    from django.core.management import call_command

    make_complaint(severity="high", received_at=aware("2026-01-05 09:00"))
    out = io.StringIO()
    call_command("escalate_complaints", stdout=out)
    assert out.getvalue().strip() == "2 breaches escalated"
    call_command("escalate_complaints", stdout=out)
    assert out.getvalue().strip().endswith("0 breaches escalated")


# --- caller look-up and the caller's own key ---------------------------------------------


def test_lookup_by_exact_phone_id_number_and_code_audited_with_purpose():
    staff = service_staff()
    customer = make_customer(phone="13700137000")
    document = customer.identity_documents.get()
    for by, value in (
        ("phone", "137 0013 7000"),
        ("id_number", document.number.lower()),
        ("code", customer.code.lower()),
    ):
        assert (
            services.caller_lookup(actor=staff, by=by, value=value, purpose="inquiry") == customer
        )
    assert (
        services.caller_lookup(actor=staff, by="phone", value="13700137001", purpose="inquiry")
        is None
    )
    with pytest.raises(ValidationError):
        services.caller_lookup(actor=staff, by="name", value="客户", purpose="inquiry")
    with pytest.raises(ValidationError):
        services.caller_lookup(actor=staff, by="code", value=customer.code, purpose="curious")
    events = AuditEvent.objects.filter(action="complaints.caller_looked_up").order_by("id")
    assert [e.data["found"] for e in events] == [True, True, True, False]
    assert all("13700137000" not in str(e.data) for e in events)
    with pytest.raises(PermissionDenied):
        services.caller_lookup(
            actor=UserFactory(), by="code", value=customer.code, purpose="inquiry"
        )


def test_a_customer_not_looked_up_cannot_be_complained_about():
    staff = service_staff()
    customer = make_customer()
    with pytest.raises(Http404):
        services.complaint_create(
            actor=staff,
            customer_id=customer.pk,
            channel="phone",
            category="delivery",
            severity="low",
            description="x",
        )


def test_a_caller_has_his_own_key_until_linked_to_a_card(django_capture_on_commit_callbacks):
    staff = service_staff()
    complaint = make_complaint(actor=staff, caller=True, description="来电人描述")
    assert complaint.customer is None
    key = complaint.data_key_id
    assert DataKey.objects.filter(id=key).exists()
    services.complaint_note_add(actor=staff, complaint_id=complaint.pk, note="已致电")
    revealed = services.complaint_caller_reveal(actor=staff, complaint_id=complaint.pk)
    assert revealed == {"caller_name": "李四", "caller_phone": "13912345678"}
    customer = make_customer()
    services.caller_lookup(
        actor=staff, by="code", value=customer.code, purpose="complaint_handling"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_link_customer(
            actor=staff, complaint_id=complaint.pk, customer_id=customer.pk
        )
    encryption.clear_key_cache()
    linked = Complaint.objects.get(pk=complaint.pk)
    assert linked.customer == customer and linked.data_key_id == customer.data_key_id
    assert linked.description == "来电人描述"
    assert linked.events.get(kind="note").note == "已致电"
    assert not DataKey.objects.filter(id=key).exists()
    with pytest.raises(ValidationError):
        services.complaint_link_customer(
            actor=staff, complaint_id=complaint.pk, customer_id=customer.pk
        )


def test_a_caller_complaint_needs_a_name_or_phone():
    with pytest.raises(ValidationError) as error:
        services.complaint_create(
            actor=service_staff(),
            channel="phone",
            category="delivery",
            severity="low",
            description="x",
        )
    assert "customer" in error.value.message_dict


def test_receipt_validates_its_fields():
    with pytest.raises(ValidationError) as error:
        services.complaint_create(
            actor=service_staff(),
            caller_phone="123",
            channel="fax",
            category="nope",
            severity="urgent",
            description="",
            received_at=aware("2099-01-01 09:00"),
        )
    assert set(error.value.message_dict) == {
        "caller_phone",
        "channel",
        "category",
        "severity",
        "description",
        "received_at",
    }


def test_shredding_the_customer_key_erases_the_complaint():
    from crm.fields import is_erased

    complaint = make_complaint(description="个人细节")
    encryption.data_keys_delete_now([complaint.data_key_id])
    encryption.clear_key_cache()
    assert is_erased(Complaint.objects.get(pk=complaint.pk).description)


def test_dates_are_aware():
    complaint = make_complaint(received_at=aware("2026-11-25 09:00"))
    assert complaint.first_response_due.tzinfo is not None
    assert complaint.received_at == aware("2026-11-25 09:00")
    assert complaint.first_response_due - complaint.received_at == datetime.timedelta(
        hours=8
    ) + datetime.timedelta(hours=1)


def test_seed_demo_adds_complaints_in_every_status_and_a_calendar():
    import io

    from django.core.management import call_command

    from complaints.models import CalendarDay

    call_command("seed_demo", stdout=io.StringIO())
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses == set(Complaint.Status.values)
    assert Complaint.objects.filter(first_response_escalated_at__isnull=False).exists()
    assert CalendarDay.objects.filter(kind="holiday", date="2026-10-01").exists()
    assert CalendarDay.objects.filter(kind="workday", date="2026-10-10").exists()
    # One overdue (the escalated one among them), the calendar of the current year as data.
    from complaints.selectors import overdue_q

    assert Complaint.objects.filter(overdue_q()).count() >= 1
    assert Complaint.objects.filter(overdue_q(), first_response_escalated_at__isnull=False).exists()
    year = timezone.localdate().year
    assert CalendarDay.objects.filter(date__year=year, kind="holiday").count() >= 7
    assert CalendarDay.objects.filter(date__year=year, kind="workday").exists()
