"""A leaving user's complaints (``complaints.offboarding``): deactivating their assignee
hands the open ones to a successor who handles complaints, as an assignment does."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from complaints import offboarding, services
from complaints.models import Complaint, ComplaintEvent
from complaints.tests.factories import make_complaint, service_manager, service_staff
from crm import roles
from crm import services as crm_services
from crm.fields import change_reason_of
from crm.models import Notification
from crm.tests.factories import TeamFactory, UserFactory
from customers import permissions as customer_perms
from customers import services as customer_services
from customers.models import Customer, CustomerUserObjectPermission
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

S = Complaint.Status


def assigned(manager, user, **kwargs):
    complaint = make_complaint(actor=manager, **kwargs)
    return services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=user)


def move(complaint, to, actor):
    extra = {"resolution": "换货"} if to == S.RESOLVED else {}
    if to == S.CLOSED:
        extra["return_visit_skip_reason"] = "客户拒绝回访"
    return services.complaint_transition(actor=actor, complaint_id=complaint.pk, to=to, **extra)


def bring_to(complaint, status, actor):
    path = [S.RECEIVED, S.INVESTIGATING, S.RESOLVED, S.CUSTOMER_INFORMED, S.CLOSED]
    for step in path[1 : path.index(status) + 1]:
        complaint = move(complaint, step, actor)
    return complaint


def grants_of(user) -> set[int]:
    return set(
        CustomerUserObjectPermission.objects.filter(user=user).values_list(
            "content_object_id", flat=True
        )
    )


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin():
    return UserFactory(role=roles.ADMIN)


@pytest.fixture
def manager():
    return service_manager()


# --- what counts ---------------------------------------------------------------------------


def test_every_complaint_not_closed_counts_as_his_work(manager):
    leaving = service_staff()
    for status in S.values:
        bring_to(assigned(manager, leaving), status, leaving)
    assigned(manager, service_staff())  # someone else's
    make_complaint(actor=manager)  # nobody's
    assert offboarding.count(leaving) == 4  # received, investigating, resolved, informed


def test_the_successors_are_the_active_users_who_handle_complaints():
    staff, manager = service_staff(), service_manager()
    service_staff(is_active=False)
    UserFactory(role=roles.SALES_REP)
    UserFactory(role=roles.SALES_MANAGER)
    UserFactory(role=roles.ADMIN)
    assert set(offboarding.successors()) == {staff, manager}


# --- deactivating the assignee -------------------------------------------------------------


def test_deactivating_staff_hands_the_open_complaints_to_the_successor(admin, manager):
    leaving, successor = service_staff(), service_staff()
    received = assigned(manager, leaving)
    resolved = bring_to(assigned(manager, leaving), S.RESOLVED, leaving)
    closed = bring_to(assigned(manager, leaving), S.CLOSED, leaving)
    closed_version = closed.version
    assert grants_of(leaving) == {received.customer_id, resolved.customer_id}

    moved = crm_services.user_deactivate(actor=admin, user=leaving, successor=successor)

    assert moved == 2
    open_ones = Complaint.objects.filter(pk__in=[received.pk, resolved.pk]).order_by("pk")
    assert [c.assignee_id for c in open_ones] == [successor.pk, successor.pk]
    assert [c.status for c in open_ones] == [S.RECEIVED, S.RESOLVED]
    assert [c.version for c in open_ones] == [received.version + 1, resolved.version + 1]
    closed.refresh_from_db()
    assert (closed.assignee_id, closed.version) == (leaving.pk, closed_version)
    # Each open complaint: an assigned step on its timeline, a history row, an audit event.
    for complaint in open_ones:
        step = complaint.events.order_by("-at", "-id").first()
        assert (step.kind, step.actor_id, step.user_id) == (
            ComplaintEvent.Kind.ASSIGNED,
            admin.pk,
            successor.pk,
        )
        record = complaint.history.first()
        # No stored English sentence: the administrator gave no reason.
        assert (record.history_user, change_reason_of(record)) == (admin, "")
    handed = AuditEvent.objects.filter(action="complaints.assigned", actor=admin)
    assert sorted(int(e.object_id) for e in handed) == [received.pk, resolved.pk]
    assert [e.reason for e in handed] == ["", ""]
    assert {tuple(sorted(e.data.items())) for e in handed} == {
        (("from_user_id", leaving.pk), ("handed_over", True), ("to_user_id", successor.pk))
    }
    assert AuditEvent.objects.filter(action="complaints.access_revoked", actor=admin).count() == 2
    assert AuditEvent.objects.filter(action="complaints.access_granted", actor=admin).count() == 2
    (event,) = AuditEvent.objects.filter(action="user.deactivated", object_id=str(leaving.pk))
    assert (event.data["handed_over"], event.data["handed_over_by_kind"]) == (2, {"complaints": 2})
    assert event.data["successor_id"] == successor.pk
    (note,) = Notification.objects.filter(recipient=successor, code="complaints.handed_over")
    assert note.params == {"count": 2}
    # The card access follows the assignee: the successor's grants, the leaver's gone.
    assert grants_of(successor) == {received.customer_id, resolved.customer_id}
    assert grants_of(leaving) == set()
    assert all(c.access_grant_id is not None for c in open_ones)


def test_the_successor_opens_the_complaints_and_the_card_masked_the_leaver_does_not(admin, manager):
    leaving, successor = service_staff(), service_staff()
    complaint = assigned(manager, leaving)
    customer = complaint.customer
    crm_services.user_deactivate(actor=admin, user=leaving, successor=successor)

    mine = client_of(successor)
    assert mine.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 200
    assert mine.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert not customer_perms.can_reveal(successor, customer)  # masked
    assert (
        services.complaint_transition(
            actor=successor, complaint_id=complaint.pk, to=S.INVESTIGATING
        ).assignee_id
        == successor.pk
    )
    # Even let in again, the leaver has neither the complaint nor the card.
    crm_services.user_reactivate(actor=admin, user=leaving)
    his = client_of(leaving)
    assert his.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404
    assert his.get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    assert not customer_perms.can_see(leaving, customer)


def test_a_grant_two_complaints_shared_moves_once_and_an_owners_grant_is_not_taken(admin, manager):
    leaving, successor = service_staff(), service_staff()
    shared_card, granted_card = make_customer(), make_customer()
    one = assigned(manager, leaving, customer=shared_card)
    two = assigned(manager, leaving, customer=shared_card, category="billing")
    three = assigned(manager, leaving, customer=granted_card)
    customer_services.customer_access_grant(
        actor=granted_card.owner, customer=granted_card, user=successor, reason="长期服务"
    )

    crm_services.user_deactivate(actor=admin, user=leaving, successor=successor)

    one, two, three = (Complaint.objects.get(pk=c.pk) for c in (one, two, three))
    assert one.access_grant_id == two.access_grant_id is not None
    assert three.access_grant_id is None  # he sees it by the owner's grant, not ours
    assert grants_of(successor) == {shared_card.pk, granted_card.pk}
    assert AuditEvent.objects.filter(action="complaints.access_granted", actor=admin).count() == 1
    assert AuditEvent.objects.filter(action="complaints.access_revoked", actor=admin).count() == 2
    # Closing the granted card's complaint leaves the owner's grant where it was.
    bring_to(three, S.CLOSED, successor)
    assert customer_perms.can_see(successor, granted_card)


def test_an_expired_grant_of_the_successor_lives_again(admin, manager):
    leaving, successor = service_staff(), service_staff()
    complaint = assigned(manager, leaving)
    customer = complaint.customer
    old = customer_services.customer_access_grant(
        actor=customer.owner, customer=customer, user=successor, reason="上次投诉"
    )
    CustomerUserObjectPermission.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert not customer_perms.can_see(successor, customer)

    crm_services.user_deactivate(actor=admin, user=leaving, successor=successor)

    grant = CustomerUserObjectPermission.objects.get(user=successor)
    assert (grant.pk, grant.expires_at, grant.granted_by_id) == (old.pk, None, admin.pk)
    assert Complaint.objects.get(pk=complaint.pk).access_grant_id == old.pk
    assert customer_perms.can_see(successor, customer)


def test_a_successor_who_does_not_handle_complaints_is_refused(admin, manager):
    leaving = service_staff()
    complaint = assigned(manager, leaving)
    for wrong in (
        UserFactory(role=roles.SALES_REP),
        UserFactory(role=roles.SALES_MANAGER),
        service_staff(is_active=False),
        leaving,
    ):
        with pytest.raises(ValidationError) as refused:
            crm_services.user_deactivate(actor=admin, user=leaving, successor=wrong)
        assert "successor" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        crm_services.user_deactivate(actor=admin, user=leaving, successor=None)
    assert "successor" in refused.value.error_dict
    leaving.refresh_from_db()
    complaint.refresh_from_db()
    assert leaving.is_active and complaint.assignee_id == leaving.pk
    assert grants_of(leaving) == {complaint.customer_id}
    assert not AuditEvent.objects.filter(action="complaints.assigned", actor=admin).exists()
    # Through the page: the sales rep is not among the choices.
    rep = UserFactory(role=roles.SALES_REP)
    response = client_of(admin).post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": rep.pk}
    )
    assert response.status_code == 400
    leaving.refresh_from_db()
    assert leaving.is_active


def test_a_user_holding_cards_and_complaints_needs_a_successor_for_both(admin, manager):
    north = TeamFactory(name="North")
    both = [Group.objects.get(name=roles.SALES_REP), Group.objects.get(name=roles.SERVICE_STAFF)]
    leaving = UserFactory(role=roles.SALES_REP, team=north)
    leaving.groups.add(both[1])
    own_card = make_customer(leaving)
    on_own_card = assigned(manager, leaving, customer=own_card)
    elsewhere = assigned(manager, leaving)
    rep, staff = UserFactory(role=roles.SALES_REP, team=north), service_staff()
    successor = UserFactory(team=north)
    successor.groups.add(*both)

    for wrong in (rep, staff):
        with pytest.raises(ValidationError):
            crm_services.user_deactivate(actor=admin, user=leaving, successor=wrong)
    leaving.refresh_from_db()
    assert leaving.is_active

    moved = crm_services.user_deactivate(actor=admin, user=leaving, successor=successor)

    assert moved == 3
    assert Customer.objects.get(pk=own_card.pk).owner_id == successor.pk
    assert set(
        Complaint.objects.filter(pk__in=[on_own_card.pk, elsewhere.pk]).values_list(
            "assignee_id", flat=True
        )
    ) == {successor.pk}
    # His own card now: no grant needed for it; the other card through the complaint.
    assert Complaint.objects.get(pk=on_own_card.pk).access_grant_id is None
    assert grants_of(successor) == {elsewhere.customer_id}
    (event,) = AuditEvent.objects.filter(action="user.deactivated", object_id=str(leaving.pk))
    assert event.data["handed_over_by_kind"] == {"customers": 1, "complaints": 2}


def test_the_deactivate_page_shows_the_open_complaints(admin, manager):
    leaving, successor, rep = service_staff(), service_staff(), UserFactory(role=roles.SALES_REP)
    assigned(manager, leaving)
    assigned(manager, leaving)
    bring_to(assigned(manager, leaving), S.CLOSED, leaving)
    page = client_of(admin).get(reverse("users:deactivate", args=[leaving.pk])).content.decode()
    assert "Open complaints: 2" in page
    assert f'value="{successor.pk}"' in page
    assert f'value="{manager.pk}"' in page
    assert f'value="{rep.pk}"' not in page
    response = client_of(admin).post(
        reverse("users:deactivate", args=[leaving.pk]), {"successor": successor.pk}
    )
    assert response.status_code == 302
    assert Complaint.objects.filter(assignee=successor).count() == 2


# --- the service itself ----------------------------------------------------------------------


def test_only_the_service_manager_or_a_user_admin_hands_over(admin, manager):
    leaving, successor = service_staff(), service_staff()
    complaint = assigned(manager, leaving)
    for actor in (service_staff(), UserFactory(role=roles.SALES_MANAGER)):
        with pytest.raises(PermissionDenied):
            services.complaints_hand_over(
                actor=actor, from_user=leaving, to_user=successor, reason="离职"
            )
    complaint.refresh_from_db()
    assert complaint.assignee_id == leaving.pk
    assert not AuditEvent.objects.filter(action="complaints.assigned", actor=successor).exists()
    assert (
        services.complaints_hand_over(
            actor=manager, from_user=leaving, to_user=successor, reason="休假"
        )
        == 1
    )
    assert (
        services.complaints_hand_over(
            actor=admin, from_user=successor, to_user=leaving, reason="回来了"
        )
        == 1
    )
    complaint.refresh_from_db()
    assert complaint.assignee_id == leaving.pk
    assert grants_of(successor) == set() and grants_of(leaving) == {complaint.customer_id}


def test_the_hand_over_runs_a_fixed_number_of_queries_plus_the_writes_each_complaint_needs(
    manager, assert_queries
):
    def hand_over(n):
        leaving, successor = service_staff(), service_staff()
        for _ in range(n):
            assigned(manager, leaving)
        with assert_queries() as counts:
            services.complaints_hand_over(
                actor=manager, from_user=leaving, to_user=successor, reason="离职"
            )
        return counts

    two, four = hand_over(2), hand_over(4)
    assert (two["default"], two["keys"]) == (35, 0)
    # Per complaint on a card of its own: the leaver's grant deleted (with its history row
    # and event), the successor's made (the same), the complaint saved (with history), its
    # step (with history) and its audit event: 11 writes, nothing read per complaint.
    assert (four["default"], four["keys"]) == (35 + 2 * 11, 0)
