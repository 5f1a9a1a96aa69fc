"""Recording audit events takes no lock that lasts as long as the caller's transaction:
two long transactions that both record events do not wait on each other (PostgreSQL;
SQLite serialises writers anyway)."""

import threading

import pytest
from django.conf import settings
from django.db import connections, transaction

from audit import events
from audit.models import AuditEvent
from audit.services import audit_chain_verify, record_event

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

# Skipped before any database set-up: a transactional test's clean-up on SQLite would
# meet the append-only audit triggers.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL concurrency"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_long_transactions_recording_events_do_not_wait_on_each_other():
    a_recorded = threading.Event()
    b_committed = threading.Event()
    outcome = {}

    def long_transaction_a():
        try:
            with transaction.atomic():
                record_event(action=events.KEYS_ROTATED, data={"by": "a", "n": 1})
                record_event(action=events.KEYS_ROTATED, data={"by": "a", "n": 2})
                a_recorded.set()
                # Still open: B records and commits meanwhile, or this times out.
                outcome["b_done_while_a_open"] = b_committed.wait(timeout=10)
        finally:
            for alias in connections:
                connections[alias].close()

    def long_transaction_b():
        try:
            a_recorded.wait(timeout=10)
            with transaction.atomic():
                record_event(action=events.KEYS_ROTATED, data={"by": "b", "n": 1})
            b_committed.set()
        finally:
            for alias in connections:
                connections[alias].close()

    threads = [
        threading.Thread(target=long_transaction_a),
        threading.Thread(target=long_transaction_b),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome == {"b_done_while_a_open": True}
    chained = list(AuditEvent.objects.order_by("sequence").values_list("sequence", "data"))
    # B committed first, so it was chained first; A's two events follow, in their order.
    assert chained == [
        (1, {"by": "b", "n": 1}),
        (2, {"by": "a", "n": 1}),
        (3, {"by": "a", "n": 2}),
    ]
    report = audit_chain_verify()
    assert report.intact, report.problems
    assert report.checked == 3
