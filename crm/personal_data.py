"""The personal-data registry (DESIGN §3 "Classification").

Every model field that holds personal information is declared here, as *personal* or
*sensitive*, with the masking rule that applies to it. Masking, export, subject-access
copies and purges read this one registry. Encrypted fields register themselves (see
``crm.fields``); other personal fields are declared with ``register``.

Each model with personal fields also says whose data its rows are: its *subject*, the path
from a row to the customer it is about, so that subject access and purge reach every row.
A model declares it with a class attribute read lazily (``personal_data_subject =
"customer"``, or a ``Subject``), or an app declares it for a model it does not own with
``subject(model, ...)`` from its ``AppConfig.ready()``. ``missing_subjects()`` lists the
models that have not, and a test keeps it empty. ``crm`` names no customer model: a
"customer" here is any object with ``pk`` and ``data_key_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

PERSONAL = "personal"
SENSITIVE = "sensitive"
CATEGORIES = (PERSONAL, SENSITIVE)


@dataclass(frozen=True)
class PersonalField:
    model_label: str  # "customers.customer"
    field_name: str
    category: str  # PERSONAL or SENSITIVE
    mask: str  # a key of crm.masking.MASKS

    @property
    def is_sensitive(self) -> bool:
        return self.category == SENSITIVE


_registry: dict[tuple[str, str], PersonalField] = {}


@dataclass(frozen=True)
class Subject:
    """How the rows of a model reach the customer they are about; exactly one of:

    * ``path``: the ORM path from a row to the customer ("" for the customer itself,
      "customer" for a child row, "order__customer" further away);
    * ``key_field``: a field holding the customer's data key (rows about no one customer
      leave it empty, as ``audit.AuditEvent.subject_key_id``);
    * ``none_reason``: why a row is about no one customer (an import file's name).
    """

    path: str | None = None
    key_field: str | None = None
    none_reason: str = ""

    def __post_init__(self):
        given = [self.path is not None, bool(self.key_field), bool(self.none_reason)]
        if sum(given) != 1:
            raise ValueError("a Subject takes exactly one of path, key_field or none_reason")

    @property
    def is_about_a_customer(self) -> bool:
        return not self.none_reason


def by_path(path: str) -> Subject:
    return Subject(path=path)


def by_key(key_field: str) -> Subject:
    return Subject(key_field=key_field)


def no_customer(reason: str) -> Subject:
    """Rows of the model are about no one customer; ``reason`` says why (for reviewers)."""
    return Subject(none_reason=reason)


SUBJECT_ATTRIBUTE = "personal_data_subject"
_subjects: dict[str, Subject] = {}


def _as_subject(value) -> Subject:
    return value if isinstance(value, Subject) else by_path(value)


def subject(model: type[models.Model] | str, spec: Subject | str) -> Subject:
    """Declare the subject of a model from outside it (an app's ``ready()``); a string is
    an ORM path. Wins over the model's own ``personal_data_subject``."""
    label = model if isinstance(model, str) else model._meta.label_lower
    _subjects[label] = entry = _as_subject(spec)
    return entry


def subject_of(model: type[models.Model] | str) -> Subject | None:
    """The model's declared subject, or ``None`` when it declared none."""
    from django.apps import apps

    label = model if isinstance(model, str) else model._meta.label_lower
    if label in _subjects:
        return _subjects[label]
    model_class = apps.get_model(label) if isinstance(model, str) else model
    value = getattr(model_class, SUBJECT_ATTRIBUTE, None)
    return None if value is None else _as_subject(value)


def registered_models() -> list[str]:
    """Labels of the models with at least one personal field."""
    return sorted({model_label for model_label, _field in _registry})


def missing_subjects() -> list[str]:
    """Models with personal fields that do not say which customer their rows are about."""
    return [label for label in registered_models() if subject_of(label) is None]


def rows_about(model: type[models.Model] | str, customer) -> models.QuerySet:
    """The model's rows about ``customer`` (none for a model about no one customer).

    Raises ``LookupError`` for a model that declared no subject: subject access and purge
    must not silently skip rows.
    """
    from django.apps import apps

    model_class = apps.get_model(model) if isinstance(model, str) else model
    entry = subject_of(model_class)
    if entry is None:
        raise LookupError(f"{model_class._meta.label} declares no personal-data subject")
    rows = model_class._default_manager.all()
    if entry.none_reason:
        return rows.none()
    if entry.key_field:
        if customer.data_key_id is None:
            return rows.none()
        return rows.filter(**{entry.key_field: customer.data_key_id})
    return rows.filter(**{f"{entry.path}__pk" if entry.path else "pk": customer.pk})


def register(model: type[models.Model] | str, field_name: str, *, category: str, mask: str):
    from crm.masking import MASKS

    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}")
    if mask not in MASKS:
        raise ValueError(f"unknown mask {mask!r}; choose from {sorted(MASKS)}")
    label = model if isinstance(model, str) else model._meta.label_lower
    entry = PersonalField(label, field_name, category, mask)
    _registry[(label, field_name)] = entry
    return entry


def fields_of(model: type[models.Model] | str) -> list[PersonalField]:
    label = model if isinstance(model, str) else model._meta.label_lower
    return [entry for (model_label, _), entry in _registry.items() if model_label == label]


def get(model: type[models.Model] | str, field_name: str) -> PersonalField | None:
    label = model if isinstance(model, str) else model._meta.label_lower
    return _registry.get((label, field_name))


def all_fields() -> list[PersonalField]:
    return sorted(_registry.values(), key=lambda e: (e.model_label, e.field_name))


def is_personal(model, field_name: str) -> bool:
    return get(model, field_name) is not None


def masked_value(instance: models.Model, field_name: str) -> str:
    """The value of ``instance.field_name`` as shown to a user without the right to see it.

    A personal field is masked by its registered rule; a value whose data key was
    destroyed shows as erased, one that failed its integrity check as unreadable; any
    other field is shown as it is.
    """
    from crm.fields import is_unavailable
    from crm.masking import mask

    value = getattr(instance, field_name)
    if is_unavailable(value):
        return unavailable_label(value)
    if value is None or value == "":
        return ""
    entry = get(type(instance), field_name)
    return str(value) if entry is None else mask(entry.mask, value)


def unavailable_label(value) -> str:
    """What is shown in place of a value that cannot be shown (erased or unreadable)."""
    from django.utils.translation import gettext

    from crm.fields import is_erased

    return gettext("[erased]") if is_erased(value) else gettext("[unreadable]")


def shown_value(value) -> str:
    """A clear value for display: erased and unreadable values say so."""
    from crm.fields import is_unavailable

    if is_unavailable(value):
        return unavailable_label(value)
    return "" if value is None else str(value)
