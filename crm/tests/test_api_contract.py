"""The API is an outside contract (issue 7, item 5): its operations and URLs stay put.

Taken before the customers API was split into one module per resource: every operation of
the OpenAPI schema (path, method, operationId) and every URL under ``/api/v1/`` with the
name it resolves to (format-suffixed variants too). A change to either is a change of the
contract: agree it with the API's users first, then update these lists. New operations may be
added freely (each app keeps its own list beside its API).
"""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

OPERATIONS = [
    ("/api/v1/audit/events/", "GET", "v1_audit_events_list"),
    ("/api/v1/audit/events/{sequence}/", "GET", "v1_audit_events_retrieve"),
    ("/api/v1/auth/token/", "POST", "v1_auth_token_create"),
    ("/api/v1/campaigns/", "GET", "v1_campaigns_list"),
    ("/api/v1/campaigns/", "POST", "v1_campaigns_create"),
    ("/api/v1/campaigns/{id}/", "GET", "v1_campaigns_retrieve"),
    ("/api/v1/campaigns/{id}/send/", "POST", "v1_campaigns_send_create"),
    ("/api/v1/campaigns/{id}/sends/", "GET", "v1_campaigns_sends_list"),
    ("/api/v1/customers/", "GET", "v1_customers_list"),
    ("/api/v1/customers/", "POST", "v1_customers_create"),
    ("/api/v1/customers/export/", "POST", "v1_customers_export_create"),
    ("/api/v1/customers/imports/", "GET", "v1_customers_imports_list"),
    ("/api/v1/customers/imports/", "POST", "v1_customers_imports_create"),
    ("/api/v1/customers/imports/{id}/", "GET", "v1_customers_imports_retrieve"),
    ("/api/v1/customers/imports/{id}/errors/", "GET", "v1_customers_imports_errors_retrieve"),
    ("/api/v1/customers/merge/", "POST", "v1_customers_merge_create"),
    ("/api/v1/customers/search/", "POST", "v1_customers_search_create"),
    ("/api/v1/customers/{id}/", "GET", "v1_customers_retrieve"),
    ("/api/v1/customers/{id}/", "PUT", "v1_customers_update"),
    ("/api/v1/customers/{id}/", "PATCH", "v1_customers_partial_update"),
    ("/api/v1/customers/{id}/attributes/", "GET", "v1_customers_attributes_retrieve"),
    ("/api/v1/customers/{id}/attributes/", "POST", "v1_customers_attributes_create"),
    ("/api/v1/customers/{id}/consents/", "GET", "v1_customers_consents_list"),
    ("/api/v1/customers/{id}/consents/", "POST", "v1_customers_consents_create"),
    (
        "/api/v1/customers/{id}/consents/{consent_id}/withdraw/",
        "POST",
        "v1_customers_consents_withdraw_create",
    ),
    ("/api/v1/customers/{id}/contacts/", "GET", "v1_customers_contacts_list"),
    ("/api/v1/customers/{id}/contacts/", "POST", "v1_customers_contacts_create"),
    ("/api/v1/customers/{id}/documents/", "GET", "v1_customers_documents_list"),
    ("/api/v1/customers/{id}/documents/", "POST", "v1_customers_documents_create"),
    ("/api/v1/customers/{id}/grant/", "POST", "v1_customers_grant_create"),
    ("/api/v1/customers/{id}/grants/", "GET", "v1_customers_grants_list"),
    ("/api/v1/customers/{id}/grants/", "POST", "v1_customers_grants_create"),
    ("/api/v1/customers/{id}/grants/{grant_id}/", "DELETE", "v1_customers_grants_destroy"),
    ("/api/v1/customers/{id}/history/", "GET", "v1_customers_history_retrieve"),
    ("/api/v1/customers/{id}/interactions/", "GET", "v1_customers_interactions_list"),
    ("/api/v1/customers/{id}/interactions/", "POST", "v1_customers_interactions_create"),
    ("/api/v1/customers/{id}/reveal/", "POST", "v1_customers_reveal_create"),
    ("/api/v1/customers/{id}/reverify/", "POST", "v1_customers_reverify_create"),
    ("/api/v1/customers/{id}/stages/", "GET", "v1_customers_stages_list"),
    ("/api/v1/customers/{id}/stages/", "POST", "v1_customers_stages_create"),
    ("/api/v1/exports/{id}/", "GET", "v1_exports_retrieve"),
    ("/api/v1/exports/{id}/download/", "GET", "v1_exports_download_retrieve"),
    ("/api/v1/reference/business-types/", "GET", "v1_reference_business_types_list"),
    ("/api/v1/reference/business-types/{id}/", "GET", "v1_reference_business_types_retrieve"),
    ("/api/v1/reference/stages/", "GET", "v1_reference_stages_list"),
    ("/api/v1/reference/stages/{id}/", "GET", "v1_reference_stages_retrieve"),
    ("/api/v1/reference/tiers/", "GET", "v1_reference_tiers_list"),
    ("/api/v1/reference/tiers/{id}/", "GET", "v1_reference_tiers_retrieve"),
    ("/api/v1/teams/", "GET", "v1_teams_list"),
    ("/api/v1/teams/", "POST", "v1_teams_create"),
    ("/api/v1/teams/{id}/", "GET", "v1_teams_retrieve"),
    ("/api/v1/users/me/", "GET", "v1_users_me_retrieve"),
    ("/api/v1/visit-plan/", "GET", "v1_visit_plan_list"),
    ("/api/v1/visit-plan/", "POST", "v1_visit_plan_create"),
    ("/api/v1/visit-plan/{id}/record/", "POST", "v1_visit_plan_record_create"),
]

URLS = [
    ("/api/v1/", "api-root"),
    ("/api/v1/.json", "api-root"),
    ("/api/v1/audit/", "api-root"),
    ("/api/v1/audit/.json", "api-root"),
    ("/api/v1/audit/events.json", "audit-event-list"),
    ("/api/v1/audit/events/", "audit-event-list"),
    ("/api/v1/audit/events/7.json", "audit-event-detail"),
    ("/api/v1/audit/events/7/", "audit-event-detail"),
    ("/api/v1/auth/token/", "api-token"),
    ("/api/v1/campaigns/", "campaign-list"),
    ("/api/v1/campaigns/7/", "campaign-detail"),
    ("/api/v1/campaigns/7/send/", "campaign-send"),
    ("/api/v1/campaigns/7/sends/", "campaign-send-list"),
    ("/api/v1/customers.json", "customer-list"),
    ("/api/v1/customers/", "customer-list"),
    ("/api/v1/customers/7.json", "customer-detail"),
    ("/api/v1/customers/7/", "customer-detail"),
    ("/api/v1/customers/7/attributes.json", "customer-attributes"),
    ("/api/v1/customers/7/attributes/", "customer-attributes"),
    ("/api/v1/customers/7/consents.json", "customer-consents"),
    ("/api/v1/customers/7/consents/", "customer-consents"),
    ("/api/v1/customers/7/consents/8/withdraw.json", "customer-withdraw-consent"),
    ("/api/v1/customers/7/consents/8/withdraw/", "customer-withdraw-consent"),
    ("/api/v1/customers/7/contacts.json", "customer-contacts"),
    ("/api/v1/customers/7/contacts/", "customer-contacts"),
    ("/api/v1/customers/7/documents.json", "customer-documents"),
    ("/api/v1/customers/7/documents/", "customer-documents"),
    ("/api/v1/customers/7/grant.json", "customer-grant"),
    ("/api/v1/customers/7/grant/", "customer-grant"),
    ("/api/v1/customers/7/grants.json", "customer-grants"),
    ("/api/v1/customers/7/grants/", "customer-grants"),
    ("/api/v1/customers/7/grants/9.json", "customer-revoke-grant"),
    ("/api/v1/customers/7/grants/9/", "customer-revoke-grant"),
    ("/api/v1/customers/7/history.json", "customer-history"),
    ("/api/v1/customers/7/history/", "customer-history"),
    ("/api/v1/customers/7/interactions.json", "customer-interactions"),
    ("/api/v1/customers/7/interactions/", "customer-interactions"),
    ("/api/v1/customers/7/reveal.json", "customer-reveal"),
    ("/api/v1/customers/7/reveal/", "customer-reveal"),
    ("/api/v1/customers/7/reverify.json", "customer-reverify"),
    ("/api/v1/customers/7/reverify/", "customer-reverify"),
    ("/api/v1/customers/7/stages.json", "customer-stages"),
    ("/api/v1/customers/7/stages/", "customer-stages"),
    ("/api/v1/customers/export/", "customer-export"),
    ("/api/v1/customers/imports/", "import-job-list"),
    ("/api/v1/customers/imports/7/", "import-job-detail"),
    ("/api/v1/customers/imports/7/errors/", "import-job-errors"),
    ("/api/v1/customers/merge/", "customer-merge"),
    ("/api/v1/customers/search.json", "customer-search"),
    ("/api/v1/customers/search/", "customer-search"),
    ("/api/v1/exports/7/", "export-job-detail"),
    ("/api/v1/exports/7/download/", "export-job-download"),
    ("/api/v1/reference/business-types.json", "business-type-list"),
    ("/api/v1/reference/business-types/", "business-type-list"),
    ("/api/v1/reference/business-types/7.json", "business-type-detail"),
    ("/api/v1/reference/business-types/7/", "business-type-detail"),
    ("/api/v1/reference/stages.json", "stage-list"),
    ("/api/v1/reference/stages/", "stage-list"),
    ("/api/v1/reference/stages/7.json", "stage-detail"),
    ("/api/v1/reference/stages/7/", "stage-detail"),
    ("/api/v1/reference/tiers.json", "tier-list"),
    ("/api/v1/reference/tiers/", "tier-list"),
    ("/api/v1/reference/tiers/7.json", "tier-detail"),
    ("/api/v1/reference/tiers/7/", "tier-detail"),
    ("/api/v1/teams.json", "team-list"),
    ("/api/v1/teams/", "team-list"),
    ("/api/v1/teams/7.json", "team-detail"),
    ("/api/v1/teams/7/", "team-detail"),
    ("/api/v1/users/me/", "api-me"),
    ("/api/v1/visit-plan.json", "visit-plan-list"),
    ("/api/v1/visit-plan/", "visit-plan-list"),
    ("/api/v1/visit-plan/7/record.json", "visit-plan-record"),
    ("/api/v1/visit-plan/7/record/", "visit-plan-record"),
]


def test_openapi_operations_are_the_contract():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        (path, method.upper(), item[method]["operationId"])
        for path, item in sorted(schema["paths"].items())
        for method in HTTP_METHODS
        if method in item
    ]
    # Adding operations is free; renaming or dropping one of these is not.
    missing = [op for op in OPERATIONS if op not in operations]
    assert missing == []


@pytest.mark.parametrize(("path", "name"), URLS)
def test_url_resolves_to_its_name(path, name):
    match = resolve(path)
    assert match.url_name == name
    if ".json" in path:
        assert match.kwargs["format"] == "json"


def test_url_names_reverse_to_their_paths():
    plain = [(path, name) for path, name in URLS if ".json" not in path]
    names = [name for _path, name in plain]
    for path, name in plain:
        if names.count(name) == 1:  # two routers' roots share ``api-root``
            assert reverse(name, kwargs=resolve(path).kwargs) == path


@pytest.mark.django_db
def test_every_url_answers_options():
    """``OPTIONS`` describes each endpoint (what POST and PUT take), never a 500."""
    from rest_framework.test import APIClient

    from crm.tests.factories import UserFactory

    client = APIClient(raise_request_exception=False)
    client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    answers = {path: client.options(path) for path, _name in URLS}
    assert {path: r.status_code for path, r in answers.items() if r.status_code >= 500} == {}
    create = answers["/api/v1/customers/"].json()["actions"]["POST"]
    assert {"name", "kind", "owner", "contacts"} <= set(create)
    assert set(answers["/api/v1/customers/7/"].json()["actions"]["PUT"]) >= {"version"}
