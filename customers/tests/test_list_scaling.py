"""The customer list at scale (issue 8, item 5): the index-friendly visibility filter keeps
exactly the old semantics, the count is exact for small sets and a flagged estimate for
large ones, every page of a long list is right, and keys are preloaded from the rows
already fetched (the filter runs once per page, not again for the keys)."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.db.models import Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from crm import paginator as paginator_module
from crm import roles
from crm.paginator import EstimatedCountPaginator
from crm.tests.factories import TeamFactory, UserFactory
from customers import permissions, selectors
from customers.models import (
    Customer,
    CustomerGroupObjectPermission,
    CustomerUserObjectPermission,
)
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


def _old_visible(user):
    """The filter as it was written before (joins and EXISTS): the reference semantics."""
    if not user.is_authenticated or not user.has_perm(permissions.VIEW):
        return Customer.objects.none()
    if user.has_perm(permissions.VIEW_ALL):
        return Customer.objects.all()
    live = permissions.live_grants()
    user_grant = CustomerUserObjectPermission.objects.filter(
        live, content_object=OuterRef("pk"), user=user, permission__codename="view_customer"
    )
    group_grant = CustomerGroupObjectPermission.objects.filter(
        live,
        content_object=OuterRef("pk"),
        group__in=user.groups.all(),
        permission__codename="view_customer",
    )
    return Customer.objects.filter(
        Q(owner=user)
        | Q(owner__team__manager=user)
        | Q(Exists(user_grant))
        | Q(Exists(group_grant))
    )


def _ids(queryset):
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def world():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    people = {
        "north_manager": manager_of(north),
        "north_rep": rep(team=north),
        "mover": rep(team=north),
        "south_manager": manager_of(south),
        "south_rep": rep(team=south),
        "lone_rep": rep(),
        "gm": UserFactory(role=roles.GENERAL_MANAGER),
        "service": UserFactory(role=roles.SERVICE_STAFF),
        "hotline": UserFactory(role=roles.SERVICE_STAFF),
    }
    cards = {
        "north": make_customer(people["north_rep"]),
        "mover": make_customer(people["mover"]),
        "south": make_customer(people["south_rep"]),
        "lone": make_customer(people["lone_rep"]),
        "manager_own": make_customer(people["south_manager"]),
    }
    view = Permission.objects.get(codename="view_customer")
    now = timezone.now()
    # Live and expired direct grants; a live and an expired group grant.
    CustomerUserObjectPermission.objects.create(
        user=people["service"], permission=view, content_object=cards["south"]
    )
    CustomerUserObjectPermission.objects.create(
        user=people["service"],
        permission=view,
        content_object=cards["lone"],
        expires_at=now - datetime.timedelta(minutes=1),
    )
    CustomerUserObjectPermission.objects.create(
        user=people["north_rep"],
        permission=view,
        content_object=cards["manager_own"],
        expires_at=now + datetime.timedelta(days=1),
    )
    group = Group.objects.create(name="hotline-desk")
    people["hotline"].groups.add(group)
    CustomerGroupObjectPermission.objects.create(
        group=group, permission=view, content_object=cards["north"]
    )
    CustomerGroupObjectPermission.objects.create(
        group=group,
        permission=view,
        content_object=cards["lone"],
        expires_at=now - datetime.timedelta(seconds=1),
    )
    # A grant of another permission never counts.
    CustomerUserObjectPermission.objects.create(
        user=people["hotline"],
        permission=Permission.objects.get(codename="change_customer"),
        content_object=cards["south"],
    )
    return people, cards


def _visible_codes(user, cards):
    names = {card.pk: name for name, card in cards.items()}
    return {names[pk] for pk in _ids(permissions.visible_customers(user))}


def test_visibility_follows_owner_current_team_and_live_grants(world):
    people, cards = world
    assert _visible_codes(people["north_rep"], cards) == {"north", "manager_own"}
    assert _visible_codes(people["north_manager"], cards) == {"north", "mover"}
    assert _visible_codes(people["south_manager"], cards) == {"south", "manager_own"}
    assert _visible_codes(people["south_rep"], cards) == {"south"}
    assert _visible_codes(people["lone_rep"], cards) == {"lone"}
    # Live direct grant yes, expired no; group grant live yes, expired no; other perm no.
    assert _visible_codes(people["service"], cards) == {"south"}
    assert _visible_codes(people["hotline"], cards) == {"north"}
    assert _visible_codes(people["gm"], cards) == set(cards)


def test_a_move_to_another_team_moves_oversight_with_the_owner(world):
    people, cards = world
    mover = people["mover"]
    mover.team = people["south_manager"].team
    mover.save(update_fields=["team"])
    # The card's own (stale) team is still North: the owner's current team decides.
    assert Customer.objects.get(pk=cards["mover"].pk).team == people["north_manager"].team
    assert "mover" not in _visible_codes(people["north_manager"], cards)
    assert "mover" in _visible_codes(people["south_manager"], cards)


def test_same_rows_as_the_old_filter_for_everyone(world):
    people, _cards = world
    for user in [*people.values(), UserFactory()]:
        assert _ids(permissions.visible_customers(user)) == _ids(_old_visible(user)), user
        assert _ids(selectors.customer_list(user=user)) == _ids(
            _old_visible(user).exclude(status=Customer.Status.MERGED)
        )


def test_visible_customers_composes_as_a_subquery(world):
    people, cards = world
    inner = permissions.visible_customers(people["service"]).values("pk")
    assert list(Customer.objects.filter(pk__in=inner)) == [cards["south"]]
    assert permissions.can_see(people["service"], cards["south"])
    assert not permissions.can_see(people["service"], cards["lone"])


# --- count ----------------------------------------------------------------------------------


def _cards(owner, count):
    return [make_customer(owner) for _ in range(count)]


def test_count_is_exact_up_to_the_limit(world):
    people, _cards_ = world
    queryset = selectors.customer_list(user=people["gm"]).order_by("code")
    paginator = EstimatedCountPaginator(queryset, 2, exact_limit=5)
    assert paginator.count == 5
    assert paginator.count_is_estimate is False


def test_count_above_the_limit_is_a_flagged_estimate(world, monkeypatch):
    people, _cards_ = world
    _cards(people["lone_rep"], 3)  # 8 cards in all
    queryset = selectors.customer_list(user=people["gm"]).order_by("code")
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: 40)
    paginator = EstimatedCountPaginator(queryset, 2, exact_limit=5)
    assert paginator.count == 40
    assert paginator.count_is_estimate is True
    # An estimate below what was counted is never shown.
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: 2)
    paginator = EstimatedCountPaginator(queryset, 2, exact_limit=5)
    assert paginator.count == 6 and paginator.count_is_estimate is True
    # No planner (SQLite): an exact count.
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: None)
    paginator = EstimatedCountPaginator(queryset, 2, exact_limit=5)
    assert paginator.count == 8 and paginator.count_is_estimate is False


def test_planner_estimate_on_postgresql_only(world):
    people, _cards_ = world
    estimate = paginator_module.planner_estimate(selectors.customer_list(user=people["gm"]))
    if connections["default"].vendor == "postgresql":
        assert isinstance(estimate, int) and estimate >= 1
    else:
        assert estimate is None


def test_list_page_and_api_say_when_the_count_is_an_estimate(world, client, monkeypatch):
    people, _cards_ = world
    gm = people["gm"]
    api = APIClient()
    api.force_authenticate(gm)
    body = api.get("/api/v1/customers/").json()
    assert body["count"] == 5 and body["count_is_estimate"] is False
    client.force_login(gm)
    assert "5 customers</p>" in client.get("/customers/").content.decode()

    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 3)
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: 12345)
    body = api.get("/api/v1/customers/").json()
    assert body["count"] == 12345 and body["count_is_estimate"] is True
    page = client.get("/customers/").content.decode()
    assert "about 12,345 customers" in page


# --- pages ----------------------------------------------------------------------------------


def test_every_page_of_a_long_list_is_right(world, monkeypatch):
    people, cards = world
    mine = _cards(people["north_rep"], 9)
    manager = people["north_manager"]
    expected = list(
        selectors.customer_list(user=manager).order_by("code").values_list("code", flat=True)
    )
    assert len(expected) == 11  # mover and the 10 cards of north_rep
    assert {c.code for c in mine} <= set(expected)
    api = APIClient()
    api.force_authenticate(manager)
    seen = []
    for page in range(1, 5):
        body = api.get(f"/api/v1/customers/?page={page}&page_size=4").json()
        if page == 4:
            assert body == {"detail": "Invalid page."} or body.get("results") == []
            break
        assert body["count"] == 11 and body["count_is_estimate"] is False
        seen += [row["code"] for row in body["results"]]
    assert seen == expected
    # The HTML list: the last page (clamped) ends the same list.
    from django.test import Client

    html = Client()
    html.force_login(manager)
    monkeypatch.setattr("customers.views.cards.PAGE_SIZE", 5)
    last = html.get("/customers/?page=200").content.decode()
    assert "Page 3 of 3" in last
    assert all(code in last for code in expected[10:])
    assert not any(f">{code}<" in last for code in expected[:10])


# --- keys -----------------------------------------------------------------------------------


def test_keys_are_preloaded_from_the_rows_fetched(world):
    people, _cards_ = world
    from crm import encryption

    encryption.clear_key_cache()
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["keys"]) as keys,
    ):
        rows = list(selectors.customer_list(user=people["north_manager"]).order_by("code"))
        names = [str(row.name) for row in rows]
    customer_queries = [q for q in default if 'FROM "customers_customer"' in q["sql"]]
    assert len(customer_queries) == 1  # the rows; no second run of the filter for the keys
    assert len(keys) == 1  # every row's key in one query
    assert len(names) == 2 and all(names)
