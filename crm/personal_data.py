"""The personal-data registry (DESIGN §3 "Classification").

Every model field that holds personal information is declared here, as *personal* or
*sensitive*, with the masking rule that applies to it. Masking, export, subject-access
copies and purges read this one registry. Encrypted fields register themselves (see
``crm.fields``); other personal fields are declared with ``register``.
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
