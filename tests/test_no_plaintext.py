"""No personal value is stored or logged in clear: a canary through every write path."""

import logging

import pytest
from django.db import connections
from rest_framework.test import APIClient

from crm import encryption
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


CANARY_REASON = "金丝雀理由-客户张伟来电"
CANARY_FILE = "张伟金丝雀名单.csv"


def test_free_text_and_side_channels_hold_no_clear_personal_value(
    caplog, settings, django_capture_on_commit_callbacks
):
    """Reasons, notes, scopes, replays, file names and re-classified attributes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm import roles
    from crm.tests.factories import UserFactory
    from customers.models import ServiceStage
    from customers.services.attributes import custom_attribute_save
    from customers.services.exports import customer_export
    from customers.tests.factories import make_customer

    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)
    team = TeamFactory(name="North")
    owner = rep(team=team)
    manager = manager_of(team)
    hobby = CustomAttribute.objects.create(code="hobby", label="Hobby", value_type="text")
    customer = make_customer(owner, name="王小明", phone="13912340000")
    services.attribute_values_set(actor=owner, customer=customer, values={"hobby": CANARY_NOTE})

    # Free-text reasons and notes typed by users.
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=customer.version,
        changes={"address": "北京"},
        reason=CANARY_REASON + "-update",
    )
    services.customer_reveal(
        actor=owner, customer=customer, fields=["phone"], reason=CANARY_REASON + "-reveal"
    )
    services.customer_access_grant(
        actor=manager,
        customer=customer,
        user=UserFactory(role=roles.SERVICE_STAFF),
        reason=CANARY_REASON + "-grant",
    )
    services.stage_move(
        actor=owner,
        customer_id=customer.pk,
        to_stage=ServiceStage.objects.order_by("order").last(),
        responsible=owner,
        note=CANARY_NOTE + "-stage",
    )
    services.consent_record(
        actor=owner,
        customer=customer,
        purpose="marketing",
        channel="web",
        scope=CANARY_NOTE + "-scope",
    )
    result = customer_export(
        actor=owner, filter_params={}, fmt="csv", clear=True, reason=CANARY_REASON + "-export"
    )
    b"".join(result.chunks)

    # A create replayed through its Idempotency-Key: the record keeps no response body.
    client = APIClient()
    client.force_authenticate(owner)
    body = {
        "kind": "individual",
        "name": CANARY_NAME,
        "business_type": "other",
        "phone": CANARY_PHONE,
        "documents": [{"doc_type": "resident_id", "number": resident_id()}],
    }
    first = client.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]

    # An upload whose file name names a person.
    with django_capture_on_commit_callbacks(execute=True):
        upload = client.post(
            "/api/v1/customers/imports/",
            {
                "file": SimpleUploadedFile(CANARY_FILE, b"name,phone\n"),
                "target": "customers",
                "dry_run": "true",
            },
        )
    assert upload.status_code == 202, upload.content

    # An attribute kept in clear becomes personal: its values (and their history) too.
    hobby.sensitivity = "personal"
    custom_attribute_save(actor=UserFactory(role=roles.ADMIN, is_staff=True), attribute=hobby)
    encryption.clear_key_cache()
    customer.refresh_from_db()
    assert customer.attribute_values.get(attribute=hobby).secret_value == CANARY_NOTE

    dump = _dump("default") + _dump("keys")
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for canary in (CANARY_REASON, CANARY_NOTE, CANARY_NAME, CANARY_PHONE, "张伟金丝雀", "金丝雀"):
        assert canary not in dump, f"{canary!r} found in a table"
        assert canary not in logs, f"{canary!r} found in a log line"
