"""Every business model has django-simple-history history; the exceptions are listed."""

import pytest
from django.apps import apps
from simple_history.models import registered_models

from crm.models import DataKey, Team, User

PRODUCT_APPS = ("crm", "customers", "credit", "complaints", "analytics", "audit")

# Models that must never have history: the audit trail is its own history (and is
# append-only), data keys must be destroyable without a copy left behind, and
# idempotency records are a transport cache, counters only number things, and search
# digests are derived from personal data (a copy in history would survive a purge);
# notifications are messages about business events (the events have their own history
# and audit trail), and only their read state changes.
NEVER_HISTORY = {
    "audit.auditevent",
    "audit.chaincheckpoint",  # append-only anchor of the audit chain, in the keys database
    "crm.datakey",
    "crm.idempotencyrecord",
    "crm.counter",
    "crm.searchdigest",
    "crm.notification",
    # Append-only facts loaded in bulk (millions of rows); the import job or the API call's
    # audit event records who loaded them (docs/analytics.md).
    "analytics.salesline",
    "analytics.stocksnapshot",
}


def _product_models():
    for app_label in PRODUCT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if getattr(model, "instance_type", None) is not None:
                continue  # a history model itself
            yield model


def test_every_business_model_has_history():
    missing = [
        model._meta.label_lower
        for model in _product_models()
        if model._meta.label_lower not in NEVER_HISTORY
        and model._meta.db_table not in registered_models
    ]
    assert missing == []


@pytest.mark.parametrize("label", sorted(NEVER_HISTORY))
def test_excluded_models_have_no_history(label):
    model = apps.get_model(label)
    assert not hasattr(model, "history")
    assert f"historical{model._meta.model_name}" not in {
        m._meta.model_name for m in apps.get_app_config(model._meta.app_label).get_models()
    }


def test_users_and_teams_have_history():
    assert hasattr(User, "history") and hasattr(Team, "history")
    assert not hasattr(DataKey, "history")
