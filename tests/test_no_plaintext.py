"""No personal value is stored or logged in clear: a canary through every write path."""

import logging

import pytest
from django.db import connections
from rest_framework.test import APIClient

from crm.tests.factories import TeamFactory
from customers import services
from customers.models import BusinessType, CustomAttribute
from customers.synthetic import resident_id
from customers.tests.factories import manager_of, rep

pytestmark = pytest.mark.django_db

CANARY_NAME = "金丝雀测试"
CANARY_PHONE = "13912348765"
CANARY_EMAIL = "canary.bird@example.org"
CANARY_ADDRESS = "北京市海淀区金丝雀大街88号"
CANARY_NOTE = "canary-note-患有哮喘"


def _dump(alias: str) -> str:
    connection = connections[alias]
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the db)
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_canary_never_in_clear_in_any_table_history_or_log(caplog, settings):
    settings.DEBUG = True  # SQL is logged with its parameters
    caplog.set_level(logging.DEBUG)
    team = TeamFactory(name="North")
    owner = rep(team=team)
    manager = manager_of(team)
    number = resident_id()
    CustomAttribute.objects.create(
        code="health", label="Health notes", value_type="text", sensitivity="sensitive"
    )
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        "/api/v1/customers/",
        {
            "kind": "individual",
            "name": CANARY_NAME,
            "business_type": "other",
            "phone": CANARY_PHONE,
            "email": CANARY_EMAIL,
            "address": CANARY_ADDRESS,
            "documents": [{"doc_type": "resident_id", "number": number}],
            "contacts": [
                {
                    "name": CANARY_NAME + "父",
                    "phone": "13700001234",
                    "email": "parent." + CANARY_EMAIL,
                }
            ],
            "consents": [{"purpose": "marketing", "channel": "web"}],
            "attributes": {"health": CANARY_NOTE},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    customer_id = response.json()["id"]
    client.patch(
        f"/api/v1/customers/{customer_id}/",
        {"version": 1, "address": CANARY_ADDRESS + "2号楼"},
        format="json",
    )
    client.post(
        f"/api/v1/customers/{customer_id}/interactions/",
        {"kind": "call", "summary": CANARY_NOTE},
        format="json",
    )
    client.post(
        f"/api/v1/customers/{customer_id}/reveal/",
        {"fields": ["phone", "identity_documents"], "reason": "test"},
        format="json",
    )
    other = rep(team=team)
    duplicate = services.customer_create(
        actor=other,
        kind="individual",
        name="另一位",
        phone="13600000000",
        business_type=BusinessType.objects.get(code="other"),
    )
    services.customer_merge(actor=manager, survivor_id=customer_id, duplicate_id=duplicate.pk)

    dump = _dump("default") + _dump("keys")
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert "customers_historicalcustomer" in str(connections["default"].introspection.table_names())
    for canary in (
        CANARY_NAME,
        CANARY_PHONE,
        CANARY_EMAIL,
        CANARY_ADDRESS,
        CANARY_NOTE,
        number,
        "金丝雀",
    ):
        assert canary not in dump, f"{canary!r} found in a table"
        assert canary not in logs, f"{canary!r} found in a log line"
