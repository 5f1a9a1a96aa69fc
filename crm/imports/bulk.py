"""Building blocks of an import target's bulk path (``ImportTarget.batch_writer``).

A batch of checked rows is written with a few statements, not a few per row: numbers
from a counter reserved at once, data keys made in one INSERT
(``crm.encryption.data_keys_create``), rows and their history records with
``bulk_create_with_history`` (one ``+`` record per row, as a service's save writes one),
search digests in one INSERT (``crm.search_index.objects_digests_create``). Values are
encrypted by the fields' own ``pre_save`` under each row's data key and bound to its
place, exactly as a service's save encrypts them.

The job opens the batch's transaction (business and keys databases); these helpers open
no savepoint of their own.
"""

from __future__ import annotations

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from crm.models import Counter

# Rows per INSERT statement (the backend may split further: SQLite's variable limit).
INSERT_BATCH = 1000


def counter_reserve(name: str, count: int) -> int:
    """Reserve ``count`` consecutive values of counter ``name``; returns the first.

    Gap-free like ``Counter.next_value``: the counter row is locked until the caller's
    transaction ends and rolls back with it.
    """
    if count <= 0:
        raise ValueError("Reserve at least one value.")
    with transaction.atomic(savepoint=False):
        counter = Counter.objects.select_for_update().filter(name=name).first()
        if counter is None:
            counter = Counter.objects.create(name=name, value=0)
        first = counter.value + 1
        counter.value += count
        counter.save(update_fields=["value"])
    return first


def create_with_history(objs: list, model, *, user) -> list:
    """Insert new rows and one history record each (``+``, by ``user`` unless a row says
    otherwise with ``_history_user``); returns the rows with their ids."""
    if not objs:
        return objs
    return bulk_create_with_history(objs, model, batch_size=INSERT_BATCH, default_user=user)
