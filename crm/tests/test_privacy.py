"""Every model holding personal data about a customer has a privacy provider (issue 12).

When this fails for your app, add to its ``AppConfig.ready()`` (see
docs/privacy-operations.md "How an app registers its provider")::

    from crm import privacy
    privacy.register(privacy.Provider(app="<app>", models=("<app>.<model>", ...)))
"""

from collections import defaultdict

import pytest

from crm import personal_data, privacy

# Stand-in apps of the test settings (tests/testapp, tests/plugin_app), not the product.
_TEST_APPS = ("testapp.", "plugin_app.")
# What the issue says must block a purge or a deletion request, per app.
_VETO = {
    "credit": "open receivables (unpaid invoices, unsettled notes, accepted orders)",
    "complaints": "complaints not yet closed",
}


def _missing_by_app() -> dict[str, list[str]]:
    missing = defaultdict(list)
    for label in privacy.missing_providers():
        if not label.startswith(_TEST_APPS):
            missing[label.split(".")[0]].append(label)
    return dict(missing)


def test_every_model_with_personal_data_about_a_customer_has_a_privacy_provider():
    missing = _missing_by_app()
    lines = []
    for app, labels in sorted(missing.items()):
        covered = sorted(
            {label for p in privacy.providers() if p.app == app for label in p.models} | set(labels)
        )
        models = ", ".join(f'"{label}"' for label in covered)
        lines.append(
            f"\n* {', '.join(labels)} hold personal data (crm.personal_data) but no privacy "
            f"provider lists them, so subject access and purge would miss them. Add to "
            f"{app}/apps.py, in ready():\n"
            f"      from crm import privacy\n"
            f'      privacy.register(privacy.Provider(app="{app}", models=({models},)))\n'
            f"  plus open_matters=<fn(customer) -> [translated reasons]> refusing while "
            f"{_VETO.get(app, 'records are open')}, and "
            f"last_activity=<fn(customer) -> datetime|None> if they count as trading "
            f"(see docs/privacy-operations.md)."
        )
    assert not missing, "".join(lines)


def test_a_model_without_a_provider_is_reported(monkeypatch):
    entry = personal_data.PersonalField("customers.visitplanentry", "note", "personal", "text")
    monkeypatch.setitem(personal_data._registry, ("customers.visitplanentry", "note"), entry)
    assert "customers.visitplanentry" in privacy.missing_providers()


def test_models_about_no_one_customer_need_no_provider():
    assert "customers.importjob" not in privacy.missing_providers()


@pytest.mark.django_db
def test_the_customers_and_audit_apps_register_their_providers():
    apps = {provider.app for provider in privacy.providers()}
    assert {"customers", "audit"} <= apps
    assert privacy.subject_model()._meta.label_lower == "customers.customer"
