"""Access that follows the organisation, grants that expire, and reveal/clear export only for
the entitled (DESIGN §3 "Masking", §4; issue 6 items 7 and 8)."""

import codecs
import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import UserFactory
from customers import events, permissions, selectors, services
from customers.models import Customer, CustomerUserObjectPermission, Interaction
from customers.services.exports import customer_export
from customers.synthetic import resident_id
from customers.tests.factories import api_client_for, company_people, make_customer, rep

pytestmark = pytest.mark.django_db

DENIED = "access.denied"
EXPORT_URL = "/api/v1/customers/export/"
NUMBER = resident_id()


@pytest.fixture
def world():
    """North: manager + owner with one customer; South: manager and rep; overseers."""
    people = company_people()
    customer = make_customer(
        people["owner"],
        name="张明华",
        phone="13812345678",
        documents=[services.DocumentInput("resident_id", NUMBER)],
    )
    return people, customer


def client_for(user):
    return api_client_for(user)


def grant(customer, user, *, actor=None, expires_at=None):
    return services.customer_access_grant(
        actor=actor or customer.owner,
        customer=customer,
        user=user,
        reason="complaint handling",
        expires_at=expires_at,
    )


def csv_rows(raw: bytes) -> dict[str, dict[str, str]]:
    assert raw.startswith(codecs.BOM_UTF8)
    header, *body = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


def denials(user=None) -> int:
    events_ = AuditEvent.objects.filter(action=DENIED)
    return (events_.filter(actor_id=user.pk) if user else events_).count()


# --- item 7: reveal only for the entitled ---------------------------------------------------

REVEAL_ALLOWED = {"owner", "north_manager", "gm", "dpo"}


@pytest.mark.parametrize(
    "who", sorted(REVEAL_ALLOWED | {"auditor", "north_rep", "south_rep", "service", "admin"})
)
def test_reveal_matrix_with_grants(world, who):
    """Every role that may not reveal is refused even when granted the card."""
    people, customer = world
    if who not in REVEAL_ALLOWED | {"auditor", "admin"}:
        grant(customer, people[who])
    response = client_for(people[who]).post(
        f"/api/v1/customers/{customer.pk}/reveal/",
        {"fields": ["phone", "identity_documents"], "reason": "verify identity"},
        format="json",
    )
    if who in REVEAL_ALLOWED:
        assert response.status_code == 200
        assert response.json()["phone"] == "13812345678"
        assert AuditEvent.objects.filter(action=events.CUSTOMER_REVEALED).count() == 1
    else:
        assert response.status_code == 403
        assert "13812345678" not in response.content.decode()
        assert NUMBER not in response.content.decode()
        assert not AuditEvent.objects.filter(action=events.CUSTOMER_REVEALED).exists()
        if who != "admin":  # the admin reads no customers at all: refused by role
            assert denials(people[who]) == 1


def test_grantee_of_another_team_is_refused_reveal_on_the_page(world, client):
    people, customer = world
    grant(customer, people["south_rep"])
    client.force_login(people["south_rep"])
    card = client.get(reverse("customers:detail", args=[customer.pk]))
    assert card.status_code == 200 and "13812345678" not in card.content.decode()
    response = client.post(
        reverse("customers:reveal", args=[customer.pk]),
        {"fields_": ["phone"], "reason": "calling back"},
    )
    assert response.status_code == 403
    assert "13812345678" not in response.content.decode()
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_REVEALED).exists()
    assert denials(people["south_rep"]) == 1


def test_reveal_follows_the_owners_current_team(world):
    people, customer = world
    owner = people["owner"]
    owner.team = people["south_manager"].team
    owner.save()
    assert not permissions.can_reveal(people["north_manager"], customer)
    assert permissions.can_reveal(people["south_manager"], customer)


# --- item 7: export in clear ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("north_manager", 200),
        ("gm", 200),
        ("north_rep", 200),  # granted: exported, but masked
        ("south_rep", 200),  # granted: exported, but masked
        ("service", 403),  # granted, no export at all
        ("dpo", 403),  # no export permission (subject requests have their own export)
        ("auditor", 403),
        ("admin", 403),
    ],
)
def test_clear_export_matrix(world, who, status):
    people, customer = world
    if who in ("north_rep", "south_rep", "service"):
        grant(customer, people[who])
    response = client_for(people[who]).post(
        EXPORT_URL,
        {"format": "csv", "clear": True, "reason": "annual contract renewal"},
        format="json",
    )
    assert response.status_code == status
    if status != 200:
        assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()
        return
    row = csv_rows(b"".join(response.streaming_content))[customer.code]
    entitled = who in ("owner", "north_manager", "gm")
    assert (row["Phone"] == "13812345678") is entitled
    assert (row["Document number"] == NUMBER) is entitled
    if not entitled:
        assert row["Phone"] == "138****5678" and row["Name"] == "张*华"
    event = AuditEvent.objects.get(action=events.CUSTOMERS_EXPORTED)
    assert event.data["clear_count"] == (1 if entitled else 0)
    assert event.data["clear_requested"] is True
    assert event.reason.startswith("annual contract")
    assert response["X-Export-Clear-Count"] == ("1" if entitled else "0")


def test_clear_export_keeps_other_customers_masked(world):
    """A grantee's own customers are in clear, the granted one is masked, in one file."""
    people, customer = world
    south_rep = people["south_rep"]
    own = make_customer(south_rep, phone="13900001111")
    grant(customer, south_rep)
    result = customer_export(
        actor=south_rep, filter_params={}, clear=True, reason="renewal mailing"
    )
    rows = csv_rows(b"".join(result.chunks))
    assert rows[own.code]["Phone"] == "13900001111"
    assert rows[customer.code]["Phone"] == "138****5678"
    assert rows[customer.code]["Document number"] != NUMBER
    assert (result.count, result.clear_count, result.masked) == (2, 1, False)


def test_export_is_masked_unless_asked_in_clear(world):
    people, customer = world
    result = customer_export(actor=people["owner"], filter_params={})
    row = csv_rows(b"".join(result.chunks))[customer.code]
    assert row["Phone"] == "138****5678" and row["Document number"] != NUMBER
    assert result.masked and result.clear_count == 0
    event = AuditEvent.objects.get(action=events.CUSTOMERS_EXPORTED)
    assert event.data["masked"] is True and event.data["clear_requested"] is False


def test_clear_export_needs_a_reason(world):
    people, _customer = world
    response = client_for(people["owner"]).post(
        EXPORT_URL, {"format": "csv", "clear": True}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()


def test_clear_export_needs_its_own_permission(world):
    """Export and reveal without ``export_clear_customer``: refused, audited, nothing out."""
    people, _customer = world
    owner = people["owner"]
    owner.groups.clear()
    from django.contrib.auth.models import Permission

    owner.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["view_customer", "export_customer", "reveal_customer"],
        )
    )
    owner = type(owner).objects.get(pk=owner.pk)  # fresh permission cache
    response = client_for(owner).post(
        EXPORT_URL, {"format": "csv", "clear": True, "reason": "contract renewal"}, format="json"
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()
    assert denials(owner) == 1
    masked = client_for(owner).post(EXPORT_URL, {"format": "csv"}, format="json")
    assert masked.status_code == 200
    assert b"13812345678" not in b"".join(masked.streaming_content)


def test_clear_export_roles():
    for role in (roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER):
        assert permissions.can_export_clear(UserFactory(role=role)), role
    for role in (roles.SERVICE_STAFF, roles.DPO, roles.AUDITOR, roles.ADMIN):
        assert not permissions.can_export_clear(UserFactory(role=role)), role


# --- item 8: a rep who moves team ------------------------------------------------------------


def test_team_move_moves_the_managers_view(world, client):
    people, customer = world
    owner, north_manager, south_manager = (
        people["owner"],
        people["north_manager"],
        people["south_manager"],
    )
    owner.team = south_manager.team  # moved in the admin site, say
    owner.save()

    def sees(user) -> tuple[bool, int, int]:
        codes = {r["code"] for r in client_for(user).get("/api/v1/customers/").json()["results"]}
        client.force_login(user)
        page = client.get(reverse("customers:list"))
        card = client.get(reverse("customers:detail", args=[customer.pk]))
        api_card = client_for(user).get(f"/api/v1/customers/{customer.pk}/")
        in_page = customer.code in page.content.decode()
        assert in_page is (customer.code in codes)
        return customer.code in codes, card.status_code, api_card.status_code

    assert sees(north_manager) == (False, 404, 404)
    assert sees(south_manager) == (True, 200, 200)
    assert not permissions.can_change(north_manager, customer)
    assert permissions.can_change(south_manager, customer)
    edit = client_for(south_manager).patch(
        f"/api/v1/customers/{customer.pk}/", {"version": 1, "address": "上海"}, format="json"
    )
    assert edit.status_code == 200


# --- item 8: grants that expire and are revoked ---------------------------------------------


def test_expired_grant_is_not_honoured(world):
    people, customer = world
    service = people["service"]
    live = grant(customer, service, expires_at=timezone.now() + datetime.timedelta(days=1))
    assert list(selectors.customer_list(user=service)) == [customer]
    assert client_for(service).get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    CustomerUserObjectPermission.objects.filter(pk=live.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert list(selectors.customer_list(user=service)) == []
    assert not permissions.can_see(service, customer)
    assert client_for(service).get(f"/api/v1/customers/{customer.pk}/").status_code == 404
    assert (
        client_for(service)
        .post(f"/api/v1/customers/{customer.pk}/interactions/", {"kind": "call"}, format="json")
        .status_code
        == 404
    )


def test_grant_takes_an_expiry_in_the_future(world):
    people, customer = world
    response = client_for(people["owner"]).post(
        f"/api/v1/customers/{customer.pk}/grants/",
        {
            "user": people["service"].username,
            "reason": "complaint",
            "expires_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400 and "expires_at" in response.json()
    until = timezone.now() + datetime.timedelta(days=7)
    response = client_for(people["owner"]).post(
        f"/api/v1/customers/{customer.pk}/grants/",
        {
            "user": people["service"].username,
            "reason": "complaint",
            "expires_at": until.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == people["service"].username
    assert body["granted_by"] == people["owner"].username and body["is_live"] is True
    event = AuditEvent.objects.get(action=events.CUSTOMER_ACCESS_GRANTED)
    assert event.data["expires_at"] is not None and event.data["user_id"] == people["service"].pk


def test_revoke_service_withdraws_access_at_once(world):
    people, customer = world
    service = people["service"]
    held = grant(customer, service)
    with pytest.raises(Exception) as refused:
        services.customer_access_revoke(
            actor=people["south_manager"], customer=customer, grant_id=held.pk
        )
    assert getattr(refused.value, "answer", None) == 403
    assert CustomerUserObjectPermission.objects.filter(pk=held.pk).exists()
    services.customer_access_revoke(
        actor=people["owner"], customer=customer, grant_id=held.pk, reason="complaint closed"
    )
    assert not CustomerUserObjectPermission.objects.filter(pk=held.pk).exists()
    assert not permissions.can_see(service, customer)
    event = AuditEvent.objects.get(action=events.CUSTOMER_ACCESS_REVOKED)
    assert event.actor_id == people["owner"].pk and event.data["user_id"] == service.pk
    history = CustomerUserObjectPermission.history.filter(id=held.pk).order_by("history_date")
    assert [h.history_type for h in history] == ["+", "-"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("north_manager", 200),
        ("gm", 200),
        ("dpo", 200),
        ("auditor", 200),
        ("service", 403),  # the grantee sees the card, not who else holds it
        ("north_rep", 404),
        ("south_manager", 404),
        ("admin", 403),
    ],
)
def test_grant_list_by_who(world, who, status):
    people, customer = world
    grant(customer, people["service"], expires_at=timezone.now() + datetime.timedelta(days=2))
    response = client_for(people[who]).get(f"/api/v1/customers/{customer.pk}/grants/")
    assert response.status_code == status
    if status == 200:
        [row] = response.json()
        assert row["user"] == people["service"].username
        assert row["granted_by"] == people["owner"].username and row["expires_at"]
    elif who != "admin":
        assert denials(people[who]) == 1


def test_grant_list_needs_a_login(world):
    _people, customer = world
    assert APIClient().get(f"/api/v1/customers/{customer.pk}/grants/").status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 204),
        ("north_manager", 204),
        ("gm", 204),
        ("service", 403),  # the grantee himself
        ("auditor", 403),
        ("dpo", 403),
        ("north_rep", 404),
        ("south_manager", 404),
    ],
)
def test_grant_revoke_by_who(world, who, status):
    people, customer = world
    held = grant(customer, people["service"])
    response = client_for(people[who]).delete(
        f"/api/v1/customers/{customer.pk}/grants/{held.pk}/", {"reason": "done"}, format="json"
    )
    assert response.status_code == status
    revoked = status == 204
    assert CustomerUserObjectPermission.objects.filter(pk=held.pk).exists() is not revoked
    assert AuditEvent.objects.filter(action=events.CUSTOMER_ACCESS_REVOKED).exists() is revoked
    if not revoked:
        assert denials(people[who]) == 1


def test_revoking_a_grant_of_another_card_is_404(world):
    people, customer = world
    other = make_customer(people["owner"])
    held = grant(other, people["service"])
    response = client_for(people["owner"]).delete(
        f"/api/v1/customers/{customer.pk}/grants/{held.pk}/"
    )
    assert response.status_code == 404
    assert CustomerUserObjectPermission.objects.filter(pk=held.pk).exists()


def test_grants_are_listed_and_revoked_on_the_card(world, client):
    people, customer = world
    held = grant(
        customer, people["service"], expires_at=timezone.now() + datetime.timedelta(days=3)
    )
    client.force_login(people["owner"])
    page = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "access"})
    html = page.content.decode()
    assert page.status_code == 200
    assert people["service"].username in html
    assert reverse("customers:grant-revoke", args=[customer.pk, held.pk]) in html
    response = client.post(reverse("customers:grant-revoke", args=[customer.pk, held.pk]))
    assert response.status_code == 302
    assert not CustomerUserObjectPermission.objects.filter(pk=held.pk).exists()
    # The grant form on the card.
    response = client.post(
        reverse("customers:grant-create", args=[customer.pk]),
        {"user": people["service"].username, "reason": "complaint"},
    )
    assert response.status_code == 302
    assert permissions.can_see(people["service"], customer)


def test_card_access_tab_is_not_for_grantees_or_strangers(world, client):
    people, customer = world
    grant(customer, people["service"])
    client.force_login(people["service"])
    card = client.get(reverse("customers:detail", args=[customer.pk]))
    assert card.status_code == 200
    assert reverse("customers:tab", args=[customer.pk, "access"]) not in card.content.decode()
    tab = client.get(reverse("customers:tab", args=[customer.pk, "access"]))
    assert tab.status_code == 404
    assert (
        client.post(
            reverse("customers:grant-create", args=[customer.pk]),
            {"user": people["north_rep"].username, "reason": "helping"},
        ).status_code
        == 403
    )
    assert not permissions.can_see(people["north_rep"], customer)


# --- item 8: lists that point at cards ------------------------------------------------------


def _hand_over(customer, to):
    return services.customer_update(
        actor=UserFactory(role=roles.GENERAL_MANAGER),
        customer_id=customer.pk,
        version=Customer.objects.get(pk=customer.pk).version,
        changes={"owner": to},
    )


def test_visit_plan_shows_only_cards_still_visible(world, client):
    people, customer = world
    owner = people["owner"]
    services.visit_plan_add(actor=owner, customer=customer)
    kept = make_customer(owner)
    services.visit_plan_add(actor=owner, customer=kept)
    _hand_over(customer, people["south_rep"])

    client.force_login(owner)
    html = client.get(reverse("customers:visit-plan")).content.decode()
    assert kept.code in html and customer.code not in html
    api = client_for(owner).get("/api/v1/visit-plan/").json()
    codes = {row["customer"] for row in (api["results"] if isinstance(api, dict) else api)}
    assert codes == {kept.code}


def test_dashboard_panels_show_only_cards_still_visible(world, client):
    people, customer = world
    owner = people["owner"]
    services.interaction_log(
        actor=owner,
        customer=customer,
        kind=Interaction.Kind.CALL,
        next_follow_up=timezone.localdate(),
    )
    Customer.objects.filter(pk=customer.pk).update(
        reverification_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    entry = services.visit_plan_add(actor=owner, customer=customer)
    type(entry).objects.filter(pk=entry.pk).update(
        status=type(entry).Status.REMOVED, removed_at=timezone.now(), removed_reason="five visits"
    )
    client.force_login(owner)
    before = client.get(reverse("home")).content.decode()
    assert before.count(customer.code) == 3  # overdue, follow-up, left the plan

    _hand_over(customer, people["south_rep"])
    assert list(selectors.follow_ups_due_for(owner)) == []
    assert list(selectors.reverification_due_for(owner)) == []
    assert list(selectors.visit_plan_removed_recently(owner)) == []
    after = client.get(reverse("home")).content.decode()
    assert customer.code not in after


# --- item 8: every refusal audited, even inside a rolled-back transaction -------------------


def test_refused_merge_on_the_page_is_audited_once(world, client):
    people, customer = world
    theirs = make_customer(people["south_rep"])
    client.force_login(people["north_manager"])
    response = client.post(
        reverse("customers:merge"),
        {"survivor": customer.code, "duplicate": theirs.code, "reason": "same person"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert Customer.objects.get(pk=theirs.pk).status != Customer.Status.MERGED
    assert denials() == 1
    event = AuditEvent.objects.get(action=DENIED)
    assert event.actor_id == people["north_manager"].pk and event.object_id == str(theirs.pk)


def test_refused_merge_on_the_api_is_audited_once(world):
    people, customer = world
    theirs = make_customer(people["south_rep"])
    response = client_for(people["north_manager"]).post(
        "/api/v1/customers/merge/",
        {"survivor": customer.pk, "duplicate": theirs.pk, "reason": "same person"},
        format="json",
    )
    assert response.status_code == 404
    assert Customer.objects.get(pk=theirs.pk).status != Customer.Status.MERGED
    assert denials() == 1
    assert AuditEvent.objects.get(action=DENIED).object_id == str(theirs.pk)


def test_refusal_inside_a_rolled_back_transaction_is_recorded_after_it():
    from django.db import transaction

    from crm.exceptions import HiddenObject, denials_recorded

    stranger = rep()
    customer = make_customer()
    with denials_recorded():
        try:
            with transaction.atomic():
                permissions.access_customer(stranger, customer.pk)
        except HiddenObject:
            pass
        assert denials(stranger) == 0  # not yet: it would have been rolled back
    assert denials(stranger) == 1


def test_refusal_in_a_celery_task_is_recorded_when_the_task_ends():
    from django.db import transaction

    from crm.celery import _collect_denials, _record_denials
    from crm.exceptions import HiddenObject

    stranger = rep()
    customer = make_customer()
    _collect_denials(task_id="task-1")
    try:
        with transaction.atomic():
            permissions.access_customer(stranger, customer.pk, action="change")
    except HiddenObject:
        pass
    assert denials(stranger) == 0
    _record_denials(task_id="task-1")
    assert denials(stranger) == 1
