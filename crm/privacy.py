"""The privacy-provider registry: how subject access and purge reach every app's rows.

Every app whose models hold personal data (``crm.personal_data``) registers one provider
from its ``AppConfig.ready()``::

    from crm import privacy

    privacy.register(privacy.Provider(
        app="credit",
        models=("credit.creditaccount", "credit.invoice", ...),  # every model it owns with
        open_matters=_open_matters,  # customer -> [reasons]  (optional: a veto on deletion)
        last_activity=_last_activity,  # customer -> datetime | None  (optional)
    ))

The provider *lists and exports* a customer's rows of those models (``export``) for the
subject-access package, and *scrubs* them when the customer is purged (``scrub``): every
personal field emptied, in the rows and in their history rows. Both default to the generic
versions below, which read the personal-data registry and the model's declared subject;
an app passes its own only when it keeps something more (e.g. a clear field it counts as
personal). ``open_matters`` lets an app refuse a deletion while something is open (unpaid
invoices, an open complaint), with a reason shown to the data protection officer;
``last_activity`` tells the retention job when the customer last traded with that app.

``crm`` names no app: a "customer" is any object with ``pk`` and ``data_key_id``; the app
that owns the customer model declares it with ``set_subject_model``.
``missing_providers()`` lists the models with personal data about a customer that no
provider covers; ``crm/tests/test_privacy.py`` keeps it empty and says what to add.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from crm import personal_data


def _no_matters(customer) -> list[str]:
    return []


def _no_activity(customer) -> datetime.datetime | None:
    return None


@dataclass(frozen=True)
class Provider:
    app: str
    models: tuple[str, ...]  # lower-case model labels: "credit.invoice"
    export: Callable | None = None  # export(customer) -> {model label: [row dicts]}
    scrub: Callable | None = None  # scrub(customer) -> {model label: rows scrubbed}
    open_matters: Callable = _no_matters  # open_matters(customer) -> [translated reasons]
    last_activity: Callable = _no_activity  # last_activity(customer) -> datetime | None
    # Models the provider exports but never scrubs (the append-only audit trail: its
    # personal text is shredded with the data key).
    keep_on_purge: tuple[str, ...] = field(default_factory=tuple)
    # Retention of single records (not whole customers): {policy category: expire}, where
    # expire(cutoff=datetime, held=set of customer ids, dry_run=bool) -> rows expired.
    # Categories: "interaction", "complaint" (audit.RetentionPolicy.Category).
    expire: dict = field(default_factory=dict)

    def export_rows(self, customer) -> dict[str, list[dict]]:
        if self.export is not None:
            return self.export(customer)
        return {label: export_model_rows(label, customer) for label in self.models}

    def scrub_rows(self, customer) -> dict[str, int]:
        if self.scrub is not None:
            return self.scrub(customer)
        return {
            label: scrub_model_rows(label, customer)
            for label in self.models
            if label not in self.keep_on_purge
        }


_providers: dict[str, Provider] = {}
_subject_model: dict[str, str] = {}


def register(provider: Provider) -> Provider:
    """Register (or replace) an app's provider; call from ``AppConfig.ready()``."""
    labels = tuple(label.lower() for label in provider.models)
    if labels != provider.models:
        provider = Provider(**{**provider.__dict__, "models": labels})
    _providers[provider.app] = provider
    return provider


def unregister(app: str) -> None:
    _providers.pop(app, None)


def providers() -> list[Provider]:
    return [_providers[key] for key in sorted(_providers)]


def set_subject_model(label: str) -> None:
    """The model whose rows are the customers (``customers.customer``)."""
    _subject_model["label"] = label.lower()


def subject_model() -> type[models.Model]:
    if "label" not in _subject_model:
        raise LookupError("no app declared the customer model (privacy.set_subject_model)")
    return apps.get_model(_subject_model["label"])


def covered_models() -> set[str]:
    return {label for provider in _providers.values() for label in provider.models}


def missing_providers() -> list[str]:
    """Models with personal data about a customer that no provider lists."""
    missing = []
    covered = covered_models()
    for label in personal_data.registered_models():
        entry = personal_data.subject_of(label)
        if entry is not None and not entry.is_about_a_customer:
            continue
        if label not in covered:
            missing.append(label)
    return missing


def open_matters(customer) -> list[str]:
    """Every provider's reasons to refuse deleting ``customer`` now (empty: none)."""
    reasons = []
    for provider in providers():
        reasons.extend(str(reason) for reason in provider.open_matters(customer))
    return reasons


def last_activity(customer) -> datetime.datetime | None:
    moments = [provider.last_activity(customer) for provider in providers()]
    moments = [moment for moment in moments if moment is not None]
    return max(moments, default=None)


def export(customer) -> dict[str, dict[str, list[dict]]]:
    """Everything held on ``customer``: {app: {model label: [rows]}} with clear values."""
    return {provider.app: provider.export_rows(customer) for provider in providers()}


def scrub(customer) -> dict[str, int]:
    """Scrub every provider's rows (and any uncovered model, as a safety net): counts only."""
    counts: dict[str, int] = {}
    for provider in providers():
        for label, count in provider.scrub_rows(customer).items():
            counts[label] = counts.get(label, 0) + count
    for label in missing_providers():
        counts[label] = counts.get(label, 0) + scrub_model_rows(label, customer)
    return counts


# --- the generic export and scrub ---------------------------------------------------------


def _plain(value):
    from crm.fields import is_unavailable

    if is_unavailable(value):
        return personal_data.unavailable_label(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


_SKIPPED = {"uid", "data_key_id"}


def row_as_dict(row: models.Model) -> dict:
    """A row's concrete fields, personal ones in clear (for the subject's own copy)."""
    data = {}
    for model_field in row._meta.concrete_fields:
        if model_field.name in _SKIPPED:
            continue
        data[model_field.name] = _plain(getattr(row, model_field.attname))
    return data


def export_model_rows(label: str, customer) -> list[dict]:
    rows = personal_data.rows_about(label, customer).order_by("pk")
    return [row_as_dict(row) for row in rows]


def blank_values(model_class: type[models.Model], names) -> dict:
    """The empty value of each named field: "" for text, None where null is allowed."""
    values = {}
    for name in names:
        model_field = model_class._meta.get_field(name)
        if isinstance(model_field, models.CharField | models.TextField) and not (
            model_field.null and not model_field.blank
        ):
            values[name] = ""
        elif model_field.null:
            values[name] = None
        else:
            values[name] = ""
    return values


def scrub_queryset(rows: models.QuerySet, names) -> int:
    """Empty ``names`` in ``rows`` and in their history rows; returns the rows scrubbed.

    A plain ``update``: a purge must leave no new history row holding the old values, and
    scrubbing is idempotent, so an interrupted purge simply runs it again.
    """
    model_class = rows.model
    names = list(names)
    if not names:
        return 0
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    values = blank_values(model_class, names)
    model_class._base_manager.filter(pk__in=ids).update(**values)
    history = getattr(model_class, "history", None)
    history_model = getattr(history, "model", None)
    if history_model is not None:
        history_values = blank_values(history_model, names)
        if any(f.name == "history_change_reason" for f in history_model._meta.fields):
            history_values["history_change_reason"] = None
        pk_name = model_class._meta.pk.attname
        for start in range(0, len(ids), 500):
            history_model._base_manager.filter(
                **{f"{pk_name}__in": ids[start : start + 500]}
            ).update(**history_values)
    return len(ids)


def scrub_model_rows(label: str, customer, extra_fields=()) -> int:
    """Scrub every registered personal field (plus ``extra_fields``) of the rows about
    ``customer``."""
    names = [entry.field_name for entry in personal_data.fields_of(label)] + list(extra_fields)
    return scrub_queryset(personal_data.rows_about(label, customer), names)
