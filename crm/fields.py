"""Encrypted model fields.

``EncryptedTextField`` (and the typed variants below) store only ciphertext (see
``crm.encryption``). Declare which attribute of the row holds the subject's data key
with ``subject_key_field`` (a field name, or a dotted path such as ``customer.data_key_id``);
without it values are encrypted under the master key. Each encrypted field also declares
its personal-data category and masking rule, and registers itself in
``crm.personal_data``.

Encryption happens in ``pre_save`` because only there is the row (and so its data key)
known. Writing plaintext any other way (``QuerySet.update``, a filter on the clear value)
raises instead of storing clear text; filter on a blind index instead. A value whose
data key was destroyed reads back as ``Erased()``: an empty string that says so.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import models

from crm import encryption, personal_data


class Erased(str):
    """What a value reads as once its subject's data key was destroyed (crypto-shredded)."""

    def __new__(cls):
        return super().__new__(cls, "")

    def __repr__(self):
        return "Erased()"


def is_erased(value) -> bool:
    return isinstance(value, Erased)


class EncryptedMixin:
    description = "Encrypted text"

    def __init__(self, *args, subject_key_field=None, personal=None, mask="text", **kwargs):
        self.subject_key_field = subject_key_field
        self.personal_category = personal or personal_data.PERSONAL
        self.mask = mask
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.subject_key_field:
            kwargs["subject_key_field"] = self.subject_key_field
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        is_history_model = getattr(cls, "instance_type", None) is not None
        if cls._meta.apps is global_apps and not cls._meta.abstract and not is_history_model:
            personal_data.register(cls, name, category=self.personal_category, mask=self.mask)

    def get_internal_type(self):
        return "TextField"

    # --- conversions between the Python value and the text that is encrypted ---
    def to_text(self, value) -> str:
        return str(value)

    def from_text(self, text: str):
        return text

    def _subject_key(self, instance):
        if not self.subject_key_field:
            return None
        target = instance
        for part in self.subject_key_field.split("."):
            target = getattr(target, part)
            if target is None:
                break
        if target is None:
            raise ValueError(
                f"{instance._meta.label}.{self.name}: the row has no data key "
                f"({self.subject_key_field}); create the subject's key before saving."
            )
        return target

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if is_erased(value):
            raise ValueError(
                f"{model_instance._meta.label}.{self.name} was erased; it cannot be saved back."
            )
        if value is None or value == "":
            return value
        if isinstance(value, str) and encryption.is_encrypted(value):
            return value
        return encryption.encrypt(self.to_text(value), self._subject_key(model_instance))

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        if isinstance(value, str) and encryption.is_encrypted(value):
            return value
        raise ValueError(
            f"Refusing to write or compare a clear value in encrypted field {self.name!r}; "
            "save the instance, or search with a blind index."
        )

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return self.from_text(encryption.decrypt(value))
        except encryption.DataKeyDestroyed:
            return Erased()

    def to_python(self, value):
        if value is None or value == "" or not isinstance(value, str) or is_erased(value):
            return value
        return self.from_text(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else self.to_text(value)


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedCharField(EncryptedMixin, models.TextField):
    """Encrypted short text; ``max_length`` limits the clear value (forms, validation)."""

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(
            self, **{"form_class": forms.CharField, "max_length": self.max_length, **kwargs}
        )


class EncryptedDateField(EncryptedMixin, models.TextField):
    description = "Encrypted date"

    def to_text(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)

    def from_text(self, text):
        return datetime.date.fromisoformat(text)

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, **{"form_class": forms.DateField, **kwargs})


class EncryptedDecimalField(EncryptedMixin, models.TextField):
    description = "Encrypted number"

    def from_text(self, text):
        return Decimal(text)

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, **{"form_class": forms.DecimalField, **kwargs})
