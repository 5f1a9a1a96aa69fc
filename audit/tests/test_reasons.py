"""Reasons typed by users are kept encrypted in the audit trail (DESIGN §3)."""

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_chain_extend, audit_chain_verify
from crm import encryption, roles
from crm.tests.factories import UserFactory
from customers import services
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

REASON = "客户张伟本人来电要求核对"


def _stored_reasons() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM audit_auditevent")
        return [row[0] for row in cursor.fetchall()]


def _reveal(owner, customer, reason=REASON):
    services.customer_reveal(actor=owner, customer=customer, fields=["phone"], reason=reason)


def test_a_reason_about_a_customer_is_encrypted_under_that_customers_key():
    owner = rep()
    customer = make_customer(owner)
    _reveal(owner, customer)

    event = AuditEvent.objects.get(action="customers.revealed")
    stored = [r for r in _stored_reasons() if r]
    assert REASON not in "".join(stored)
    assert encryption.key_id_of(stored[-1]) == str(customer.data_key_id)
    assert event.subject_key_id == customer.data_key_id
    assert event.reason == REASON


def test_a_shredded_customers_reasons_read_as_erased_and_the_chain_holds(
    django_capture_on_commit_callbacks,
):
    owner = rep()
    customer = make_customer(owner)
    _reveal(owner, customer)
    audit_chain_extend()
    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(customer.data_key_id)
    encryption.clear_key_cache()

    event = AuditEvent.objects.get(action="customers.revealed")
    assert event.reason == ""
    assert audit_chain_verify().intact


def test_the_audit_console_reads_a_pages_reasons_with_one_key_query(client):
    owner = rep()
    for _ in range(4):
        _reveal(owner, make_customer(owner))
    dpo = UserFactory(role=roles.DPO)
    client.force_login(dpo)
    encryption.clear_key_cache()

    with CaptureQueriesContext(connections["keys"]) as key_queries:
        page = client.get("/audit/events/")
    assert page.status_code == 200
    assert page.content.decode().count(REASON) == 4
    # One query for the page's data keys; the other reads the chain's last checkpoint.
    key_reads = [q for q in key_queries.captured_queries if "chaincheckpoint" not in q["sql"]]
    assert len(key_reads) == 1 and len(key_queries) == 2
