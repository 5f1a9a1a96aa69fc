"""API ground: tokens, authentication, permissions, idempotency, read-only fields, docs."""

import pytest
from rest_framework.test import APIClient

from audit import events
from audit.models import AuditEvent
from crm import roles
from crm.api.serializers import is_protected
from crm.models import Team
from crm.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def as_role(role, **kwargs):
    client = APIClient()
    client.force_authenticate(UserFactory(role=role, **kwargs))
    return client


def test_token_for_username_and_password(api):
    user = UserFactory(username="bob", role=roles.SALES_REP)
    response = api.post("/api/v1/auth/token/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert AuditEvent.objects.filter(action=events.AUTH_TOKEN_ISSUED, actor_id=user.pk).exists()

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "bob" and me.json()["roles"] == [roles.SALES_REP]


def test_wrong_password_gets_400_and_is_recorded(api):
    UserFactory(username="bob")
    response = api.post("/api/v1/auth/token/", {"username": "bob", "password": "nope"})
    assert response.status_code == 400
    assert "token" not in response.json()
    assert AuditEvent.objects.filter(action=events.AUTH_LOGIN_FAILED).count() == 1


def test_token_request_with_missing_fields_gets_field_errors(api):
    response = api.post("/api/v1/auth/token/", {"username": "bob"})
    assert response.status_code == 400
    assert "password" in response.json()


def test_anonymous_gets_401(api):
    assert api.get("/api/v1/users/me/").status_code == 401
    assert api.get("/api/v1/teams/").status_code == 401
    assert api.get("/api/v1/audit/events/").status_code == 401


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_reads_teams(role):
    Team.objects.create(name="North")
    response = as_role(role).get("/api/v1/teams/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["name"] == "North"


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMIN])
def test_only_admin_creates_teams(role):
    response = as_role(role).post("/api/v1/teams/", {"name": "East"})
    assert response.status_code == 403
    assert not Team.objects.filter(name="East").exists()


def test_admin_creates_a_team_with_audit_and_history():
    manager = UserFactory(role=roles.SALES_MANAGER)
    client = as_role(roles.ADMIN)
    response = client.post("/api/v1/teams/", {"name": "East", "manager": manager.pk})
    assert response.status_code == 201, response.json()
    team = Team.objects.get(name="East")
    assert team.manager == manager
    assert AuditEvent.objects.filter(action=events.TEAM_CREATED, object_id=str(team.pk)).exists()
    assert team.history.count() == 1


def test_bad_input_gives_field_errors_not_500():
    client = as_role(roles.ADMIN)
    assert client.post("/api/v1/teams/", {}).json() == {"name": ["This field is required."]}
    response = client.post("/api/v1/teams/", {"name": "X", "manager": 999999})
    assert response.status_code == 400 and "manager" in response.json()


def test_retried_create_with_the_same_key_creates_nothing_new():
    client = as_role(roles.ADMIN)
    first = client.post("/api/v1/teams/", {"name": "East"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/teams/", {"name": "East"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Team.objects.filter(name="East").count() == 1
    assert AuditEvent.objects.filter(action=events.TEAM_CREATED).count() == 1


def test_same_key_for_a_different_request_is_refused():
    client = as_role(roles.ADMIN)
    client.post("/api/v1/teams/", {"name": "East"}, HTTP_IDEMPOTENCY_KEY="k-1")
    response = client.post("/api/v1/teams/", {"name": "West"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 422
    assert not Team.objects.filter(name="West").exists()


def test_failed_create_does_not_burn_the_key():
    client = as_role(roles.ADMIN)
    assert client.post("/api/v1/teams/", {}, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 400
    response = client.post("/api/v1/teams/", {"name": "East"}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 201


def test_keys_are_per_user():
    admin_a, admin_b = as_role(roles.ADMIN), as_role(roles.ADMIN)
    admin_a.post("/api/v1/teams/", {"name": "East"}, HTTP_IDEMPOTENCY_KEY="same")
    response = admin_b.post("/api/v1/teams/", {"name": "West"}, HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201


def _api_views(patterns=None):
    from django.urls import URLPattern, URLResolver, get_resolver

    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None)
            if view_class is not None:
                yield view_class


def _serializer_classes():
    for view_class in _api_views():
        # Output-only serializers never take input; check what a caller can send.
        candidates = [getattr(view_class, n, None) for n in ("serializer_class", "InputSerializer")]
        yield from (c for c in candidates if c is not None)


# Protected names an input takes on purpose: each is checked by the service it feeds, or
# only selects what is read. The API contract has them; they are listed, not hidden.
SERVICE_CHECKED_INPUTS = {
    # customer_create/customer_update: owner_check (oneself, or with view_all_customers).
    ("CustomerListCreateApi.InputSerializer", "owner"),
    ("CustomerDetailUpdateApi.InputSerializer", "owner"),
    # The version the caller read, never stored as sent: a stale one is 409.
    ("CustomerDetailUpdateApi.InputSerializer", "version"),
    # The date the caller checked the document (identity_document_add stamps who did).
    ("DocumentInput", "verified_at"),
    # The customer list's filters (search, export): what to read, not what to set.
    ("CustomerFiltersInput", "owner"),
    ("CustomerFiltersInput", "status"),
    ("CustomerExportApi.InputSerializer", "owner"),
    ("CustomerExportApi.InputSerializer", "status"),
    # complaint_transition: the version the caller read; a stale one is 409.
    ("ComplaintTransitionApi.InputSerializer", "version"),
    # customer_owner_change/customers_reassign: the new owner must be a rep or manager of a
    # team the actor manages (any team for the general manager), checked by the service.
    ("OwnerChangeInput", "owner"),
    ("ReassignInput", "owner"),
    ("HandOverInput", "owner"),
    # incident_create/incident_update: the DPO moves an incident through its statuses.
    ("IncidentInput", "status"),
}


def test_protected_fields_are_read_only_in_every_serializer():
    checked = 0
    for serializer_class in set(_serializer_classes()):
        for name, field in serializer_class().fields.items():
            if (serializer_class.__qualname__, name) in SERVICE_CHECKED_INPUTS:
                continue
            if is_protected(name):
                assert field.read_only, f"{serializer_class.__name__}.{name} is writable"
                checked += 1
    assert checked >= 3


def test_caller_cannot_set_protected_fields():
    client = as_role(roles.ADMIN)
    response = client.post(
        "/api/v1/teams/",
        {"name": "East", "id": 4242, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["id"] != 4242
    assert not response.json()["created_at"].startswith("2000")


def test_list_is_paginated():
    for i in range(3):
        Team.objects.create(name=f"T{i}")
    body = as_role(roles.SALES_REP).get("/api/v1/teams/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_team_list_query_count_does_not_grow(django_assert_max_num_queries):
    client = as_role(roles.SALES_REP)
    for i in range(30):
        team = Team.objects.create(name=f"T{i}")
        UserFactory(team=team)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/teams/").status_code == 200


def test_schema_and_offline_docs(client):
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/teams/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()


@pytest.mark.parametrize("role", [roles.DPO, roles.AUDITOR])
def test_oversight_roles_read_the_audit_trail(role):
    UserFactory(username="someone")
    APIClient().post("/api/v1/auth/token/", {"username": "someone", "password": "bad"})
    response = as_role(role).get("/api/v1/audit/events/?action=auth.")
    assert response.status_code == 200
    assert response.json()["results"][0]["action"] == events.AUTH_LOGIN_FAILED


@pytest.mark.parametrize(
    "role",
    [roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER, roles.SERVICE_STAFF, roles.ADMIN],
)
def test_other_roles_may_not_read_the_audit_trail(role):
    assert as_role(role).get("/api/v1/audit/events/").status_code == 403


def test_audit_trail_is_read_only_over_the_api():
    client = as_role(roles.AUDITOR)
    assert client.post("/api/v1/audit/events/", {"action": "x"}).status_code == 403
    assert client.delete("/api/v1/audit/events/1/").status_code == 403
    assert not AuditEvent.objects.filter(action="x").exists()
