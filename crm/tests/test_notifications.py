"""The notification block: rows in the caller's transaction, e-mails on commit, codes only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy

from crm import notifications, roles
from crm.models import Notification
from crm.tests.factories import UserFactory
from customers.tests.factories import api_client_for

pytestmark = pytest.mark.django_db

CODE = "testing.customer_alert"


@pytest.fixture(autouse=True)
def kinds():
    notifications.register(
        notifications.Kind(
            code=CODE,
            text=gettext_lazy("Customer %(customer)s needs attention (%(amount)s)"),
            email=True,
        )
    )
    notifications.register(
        notifications.Kind(code="testing.quiet", text=gettext_lazy("Quiet %(n)s"))
    )
    yield
    notifications.unregister(CODE)
    notifications.unregister("testing.quiet")


def _notify(recipients, **kwargs):
    kwargs.setdefault("params", {"customer": "C000042", "amount": Decimal("1200.50")})
    kwargs.setdefault("link", "/customers/42/")
    return notifications.notify(code=CODE, recipients=recipients, **kwargs)


def test_one_row_per_recipient_without_the_actor_duplicates_or_inactive_users():
    manager, rep, gone = UserFactory.create_batch(3)
    gone.is_active = False
    gone.save()

    rows = _notify([manager, manager.pk, rep, gone], actor=rep)

    assert [row.recipient_id for row in rows] == [manager.pk]
    row = Notification.objects.get()
    assert (row.code, row.params, row.link, row.actor_id) == (
        CODE,
        {"customer": "C000042", "amount": "1200.50"},
        "/customers/42/",
        rep.pk,
    )
    assert notifications.text_of(row) == "Customer C000042 needs attention (1200.50)"


def test_rows_roll_back_with_the_transaction_and_no_mail_leaves(
    mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify([user])
        raise RuntimeError
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_mail_is_sent_once_on_commit_with_codes_only(
    mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="manager@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        [row] = _notify([user])
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["manager@example.com"]
    assert "Customer C000042 needs attention (1200.50)" in message.subject
    assert "/customers/42/" in message.body
    row.refresh_from_db()
    assert row.emailed_at is not None

    assert notifications.notifications_email(notification_ids=[row.pk]) == 0
    assert len(mailoutbox) == 1


def test_kinds_not_sent_by_mail_stay_in_the_bell(mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(code="testing.quiet", recipients=[user], params={"n": 3})
    assert mailoutbox == []
    assert Notification.objects.get().emailed_at is None


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",  # a phone
        "+8613812345678",
        "11010119900307123X",  # a resident ID number
        "张三",  # a name
        "Zhang San",  # a name with a space
        "someone@example.com",
        "x" * 41,
        None,
        True,
        ["C1"],
    ],
)
def test_a_personal_looking_parameter_is_refused(value):
    user = UserFactory()
    with pytest.raises(ValueError):
        _notify([user], params={"customer": value, "amount": 1})
    assert Notification.objects.count() == 0


def test_codes_numbers_and_dates_are_accepted():
    user = UserFactory()
    [row] = _notify(
        [user], params={"customer": "CUS-2026-0001", "amount": datetime.date(2026, 11, 30)}
    )
    assert row.params == {"customer": "CUS-2026-0001", "amount": "2026-11-30"}


def test_unknown_kinds_missing_placeholders_and_outside_links_are_refused():
    user = UserFactory()
    with pytest.raises(ValueError):
        notifications.notify(code="testing.unknown", recipients=[user])
    with pytest.raises(KeyError):
        _notify([user], params={"customer": "C1"})
    with pytest.raises(ValueError):
        _notify([user], link="https://elsewhere.example/")
    with pytest.raises(ValueError):
        notifications.register(notifications.Kind(code="NoApp", text="x"))


# --- pages -----------------------------------------------------------------------------------


def test_badge_counts_unread_and_the_list_shows_texts(client, assert_queries):
    user, other = UserFactory.create_batch(2)
    for _ in range(3):
        _notify([user])
    _notify([other])
    client.force_login(user)
    client.get(reverse("notifications:badge"))  # session warm-up

    with assert_queries(default=3, keys=0):  # session, user, count
        response = client.get(reverse("notifications:badge"))
    assert ">3<" in response.content.decode()

    for _ in range(30):
        _notify([user])
    # session, user, count, page; the menu's permissions (2) and role names (1)
    with assert_queries(default=7, keys=0):
        response = client.get(reverse("notifications:list"))
    page = response.content.decode()
    assert page.count("Customer C000042 needs attention (1200.50)") == 25
    assert "Page 1 of 2" in page


def test_opening_marks_read_and_follows_the_link_only_for_the_recipient(client):
    user, other = UserFactory.create_batch(2)
    [row] = _notify([user])
    client.force_login(other)
    assert client.post(reverse("notifications:open", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None

    client.force_login(user)
    response = client.post(reverse("notifications:open", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == "/customers/42/"
    row.refresh_from_db()
    assert row.read_at is not None
    assert client.get(reverse("notifications:open", args=[row.pk])).status_code == 405


def test_mark_all_read_touches_only_ones_own(client):
    user, other = UserFactory.create_batch(2)
    _notify([user, other])
    _notify([user])
    client.force_login(user)
    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    assert notifications.unread_count(user) == 0
    assert notifications.unread_count(other) == 1


def test_pages_need_a_sign_in(client):
    for name in ("notifications:list", "notifications:badge"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_role_sees_the_bell(client):
    for role in roles.ROLES:
        user = UserFactory(role=role)
        client.force_login(user)
        page = client.get(reverse("notifications:list")).content.decode()
        assert 'id="notification-bell"' in page


# --- API -------------------------------------------------------------------------------------


def test_api_lists_only_the_callers_own(assert_queries):
    user, other = UserFactory.create_batch(2)
    first, second = _notify([user])[0], _notify([user])[0]
    _notify([other])
    notifications.notifications_mark_read(user=user, ids=[first.pk])
    api = api_client_for(user)

    with assert_queries(default=2, keys=0):  # count, page
        body = api.get("/api/v1/notifications/").json()
    assert [item["id"] for item in body["results"]] == [second.pk, first.pk]
    assert body["results"][0]["text"] == "Customer C000042 needs attention (1200.50)"
    assert body["results"][0]["is_read"] is False

    unread = api.get("/api/v1/notifications/?unread=true").json()
    assert [item["id"] for item in unread["results"]] == [second.pk]


def test_api_marks_read_only_the_callers_ids():
    user, other = UserFactory.create_batch(2)
    [mine] = _notify([user])
    [theirs] = _notify([other])
    response = api_client_for(user).post(
        "/api/v1/notifications/read/", {"ids": [mine.pk, theirs.pk]}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert notifications.unread_count(other) == 1

    bad = api_client_for(user).post("/api/v1/notifications/read/", {"ids": ["x"]}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()


def test_api_needs_a_sign_in():
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)
    assert APIClient().post("/api/v1/notifications/read/", {}).status_code in (401, 403)
