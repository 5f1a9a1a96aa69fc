"""Saved views of the customer list and the last filters used, per user (issue 13 item 2).

A view keeps filters, sort and page size, never the search term; it is its user's own
(another user's answers 404); the last filters used follow the user to a new session.
"""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from audit.models import AuditEvent
from crm.tests.factories import TeamFactory, UserFactory
from customers import events
from customers.models import Customer, SavedView
from customers.services import saved_views
from customers.tests.factories import api_client_for, make_customer, rep

pytestmark = pytest.mark.django_db

API = "/api/v1/customers/saved-views/"


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


@pytest.fixture
def colleague(owner):
    return rep(team=owner.team)


def _view(user, name="Prospects", **kwargs):
    kwargs.setdefault("filters", {"status": "prospect"})
    return saved_views.saved_view_create(actor=user, name=name, **kwargs)


# --- the service ----------------------------------------------------------------------------


def test_a_view_keeps_filters_sort_and_page_size_and_is_audited(owner):
    view = _view(
        owner,
        filters={"status": "prospect", "kind": "individual"},
        ordering="-code",
        page_size="50",
    )
    view.refresh_from_db()
    assert (view.name, view.filters, view.ordering, view.page_size) == (
        "Prospects",
        {"kind": "individual", "status": "prospect"},
        "-code",
        50,
    )
    event = AuditEvent.objects.get(action=events.SAVED_VIEW_SAVED)
    assert event.actor_id == owner.pk
    assert event.data["filters"] == ["kind", "status"] and event.data["created"] is True
    assert view.history.count() == 1


@pytest.mark.parametrize("term", ["13812345678", "110101199003071234", "张明华", "明"])
def test_a_search_term_is_never_saved(owner, term):
    with pytest.raises(ValidationError) as error:
        _view(owner, filters={"status": "active", "q": term})
    assert "search term is never saved" in str(error.value)
    assert (
        SavedView.objects.count() == 0
        and not AuditEvent.objects.filter(action=events.SAVED_VIEW_SAVED).exists()
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filters": {"colour": "red"}}, "filters"),
        ({"filters": {"status": "nonsense"}}, "filters"),
        ({"filters": {}, "ordering": "name"}, "ordering"),
        ({"filters": {}, "page_size": "7"}, "page_size"),
    ],
)
def test_invalid_filters_sort_or_page_size_are_refused(owner, kwargs, field):
    with pytest.raises(ValidationError) as error:
        saved_views.saved_view_create(actor=owner, name="Bad", **kwargs)
    assert list(error.value.message_dict) == [field]
    assert SavedView.objects.count() == 0


def test_names_are_unique_per_user_only(owner, colleague):
    _view(owner)
    with pytest.raises(ValidationError) as error:
        _view(owner)
    assert error.value.message_dict == {"name": ["You already have a view of this name."]}
    _view(colleague)  # the same name for someone else
    assert SavedView.objects.filter(name="Prospects").count() == 2


def test_rename_and_delete_own_only(owner, colleague):
    view = _view(owner)
    with pytest.raises(Http404):
        saved_views.saved_view_update(actor=colleague, view_id=view.pk, name="Mine now")
    with pytest.raises(Http404):
        saved_views.saved_view_delete(actor=colleague, view_id=view.pk)
    view.refresh_from_db()
    assert view.name == "Prospects"
    renamed = saved_views.saved_view_update(actor=owner, view_id=view.pk, name="Hot prospects")
    assert renamed.name == "Hot prospects"
    saved_views.saved_view_delete(actor=owner, view_id=view.pk)
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert AuditEvent.objects.filter(action=events.SAVED_VIEW_DELETED, actor=owner).count() == 1


def test_a_view_id_is_ascii_digits_only(owner):
    """``int("１")`` is 1: a full-width or other script's digit must not name view 1."""
    view = _view(owner)
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in str(view.pk))
    for lookalike in (fullwidth, "²"):
        with pytest.raises(Http404):
            saved_views.saved_view_get(user=owner, view_id=lookalike)
    assert saved_views.saved_view_get(user=owner, view_id=str(view.pk)) == view


def test_a_role_without_the_customer_list_saves_nothing():
    from crm import roles

    admin = UserFactory(role=roles.ADMIN)
    with pytest.raises(Exception) as error:
        _view(admin)
    assert getattr(error.value, "answer", None) == 403
    assert SavedView.objects.count() == 0


# --- the list page --------------------------------------------------------------------------


def test_save_from_the_list_leaves_the_search_term_out_and_applies_the_view(client, owner):
    prospect = make_customer(owner)
    active = make_customer(owner)
    Customer.objects.filter(pk=active.pk).update(status="active")
    client.force_login(owner)
    response = client.post(
        reverse("customers:view-save"),
        {
            "view_name": "Prospects",
            "status": "prospect",
            "q": "13812345678",
            "ordering": "-code",
            "page_size": "10",
        },
    )
    view = SavedView.objects.get(user=owner, kind="named")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list") + f"?view={view.pk}"
    assert (view.filters, view.ordering, view.page_size) == ({"status": "prospect"}, "-code", 10)
    html = client.get(response["Location"]).content.decode()
    assert prospect.code in html and active.code not in html
    assert 'name="clear" value="status"' in html and "Prospects" in html


def test_applying_another_users_view_is_404(client, owner, colleague):
    view = _view(colleague)
    client.force_login(owner)
    assert client.get(reverse("customers:list"), {"view": view.pk}).status_code == 404
    assert client.post(reverse("customers:view-delete", args=[view.pk])).status_code == 404
    assert (
        client.post(reverse("customers:view-rename", args=[view.pk]), {"name": "x"}).status_code
        == 404
    )
    assert SavedView.objects.get(pk=view.pk).name == "Prospects"


def test_rename_and_delete_from_the_list(client, owner):
    view = _view(owner)
    client.force_login(owner)
    client.post(reverse("customers:view-rename", args=[view.pk]), {"name": "Mine"})
    assert SavedView.objects.get(pk=view.pk).name == "Mine"
    client.post(reverse("customers:view-delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_last_filters_follow_the_user_to_a_new_session_and_clear_resets(client, owner):
    prospect = make_customer(owner)
    active = make_customer(owner)
    Customer.objects.filter(pk=active.pk).update(status="active")
    client.force_login(owner)
    client.post(reverse("customers:list"), {"status": "active", "q": "13812345678"})
    memory = SavedView.objects.get(user=owner, kind="last_used")
    assert memory.filters == {"status": "active"}  # never the search term
    client.logout()
    client.force_login(owner)  # a new session: the row, not the session, remembers
    html = client.get(reverse("customers:list")).content.decode()
    assert active.code in html and prospect.code not in html
    html = client.post(reverse("customers:list"), {"status": "active", "clear": "all"})
    memory.refresh_from_db()
    assert memory.filters == {}
    html = client.get(reverse("customers:list")).content.decode()
    assert active.code in html and prospect.code in html


def test_the_last_filters_are_written_only_when_they_change(client, owner, assert_queries):
    client.force_login(owner)
    client.post(reverse("customers:list"), {"status": "active"})
    first = SavedView.objects.get(user=owner, kind="last_used").history.count()
    client.post(reverse("customers:list"), {"status": "active"})
    client.get(reverse("customers:list"))
    assert SavedView.objects.get(user=owner, kind="last_used").history.count() == first == 1


# --- the API --------------------------------------------------------------------------------


def test_api_create_list_rename_delete_own_views(owner, colleague):
    api = api_client_for(owner)
    created = api.post(
        API,
        {"name": "Prospects", "filters": {"status": "prospect"}, "ordering": "code"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    _view(colleague, name="Theirs")
    listed = api.get(API).json()
    assert [v["name"] for v in listed] == ["Prospects"]
    renamed = api.patch(f"{API}{pk}/", {"name": "Leads"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Leads"
    assert api.delete(f"{API}{pk}/").status_code == 204
    assert api.get(API).json() == []


def test_api_refuses_a_search_term_and_hides_other_users_views(owner, colleague):
    api = api_client_for(owner)
    refused = api.post(API, {"name": "Phone", "filters": {"q": "13812345678"}}, format="json")
    assert refused.status_code == 400 and "filters" in refused.json()
    theirs = _view(colleague)
    assert api.get(f"{API}{theirs.pk}/").status_code == 404
    assert api.patch(f"{API}{theirs.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"{API}{theirs.pk}/").status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk, name="Prospects").exists()


def test_api_anonymous_and_roles_without_customers_are_refused():
    from rest_framework.test import APIClient

    from crm import roles

    assert APIClient().get(API).status_code in (401, 403)
    admin = UserFactory(role=roles.ADMIN)
    assert api_client_for(admin).get(API).status_code == 403
