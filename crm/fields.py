"""Encrypted model fields.

``EncryptedTextField`` (and the typed variants below) store only ciphertext (see
``crm.encryption``). Declare which attribute of the row holds the subject's data key
with ``subject_key_field`` (a field name, or a dotted path such as ``customer.data_key_id``);
without it values are encrypted under the master key. Each encrypted field also declares
its personal-data category and masking rule, and registers itself in
``crm.personal_data``.

**Each value is bound to its place.** The associated data of every ciphertext names the
model, the field and the row's stable ``uid`` (a UUID the row gets in Python before its
first save; ``crm.checks`` refuses a model with encrypted fields and no ``uid``). History
rows copy the ``uid``, so they open as the row's own values do; a value copied into another
column, row or table does not open and reads back as ``Unreadable()``, and the failure is
recorded in the audit trail once per request.

Values are opened lazily, on first attribute access, because only then is the row (its
``uid`` and data key) known; a row saved without touching a value keeps its ciphertext.
Writing plaintext any other way (``QuerySet.update``, a filter on the clear value) raises
instead of storing clear text; filter on a blind index instead. A value whose data key was
destroyed reads back as ``Erased()``: an empty string that says so.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from crm import encryption, personal_data

logger = logging.getLogger(__name__)

ROW_UID_FIELD = "uid"
_TOKENS = "_encrypted_tokens"  # instance.__dict__ entry: attname -> (token, opened value)


class Unavailable(str):
    """A value that cannot be shown: an empty string that says why.

    It remembers the ciphertext it stands for and that ciphertext's place, so that a row
    (or its history record) saved again keeps what is stored; it never fits another place.
    """

    def __new__(cls, token: str = "", context: str = ""):
        value = super().__new__(cls, "")
        value.token, value.context = token, context
        return value

    def __repr__(self):
        return f"{type(self).__name__}()"


class Erased(Unavailable):
    """What a value reads as once its subject's data key was destroyed (crypto-shredded)."""


class Unreadable(Unavailable):
    """What a value reads as when its ciphertext does not open in its place (tampering)."""


def is_erased(value) -> bool:
    return isinstance(value, Erased)


def is_unreadable(value) -> bool:
    return isinstance(value, Unreadable)


def is_unavailable(value) -> bool:
    return isinstance(value, Unavailable)


class Sealed(str):
    """A ciphertext as loaded from the database, not yet opened."""


def base_model(model) -> type[models.Model]:
    """The model whose values a row holds: a history model's tracked model."""
    model = getattr(model, "instance_type", None) or model
    return model._meta.concrete_model


def value_context(model, field_name: str, row_uid) -> str:
    """The place a value is bound to: model, field, row."""
    return f"{base_model(model)._meta.label_lower}|{field_name}|{row_uid}"


def stored_token(instance, attname: str) -> str | None:
    """The ciphertext of ``attname`` as loaded, without opening it (None if changed)."""
    raw = instance.__dict__.get(attname)
    if isinstance(raw, Sealed):
        return str(raw)
    stored = instance.__dict__.get(_TOKENS, {}).get(attname)
    if stored is not None and stored[1] is raw:
        return stored[0]
    return None


def raw_value(instance, attname: str):
    """What the column holds: the ciphertext if the value is encrypted, else the value."""
    token = stored_token(instance, attname)
    return token if token is not None else instance.__dict__.get(attname)


def _report_integrity_failure(instance, field_name: str, reason: str) -> None:
    """Record once per request that a value did not open in its place; never raise."""
    model = base_model(type(instance))
    marker = ("integrity", model._meta.label_lower, field_name, instance.pk)
    seen = encryption.request_memo()
    if marker in seen:
        return
    seen.add(marker)
    logger.warning(
        "encrypted value does not open in its place: %s.%s row %s",
        model._meta.label_lower,
        field_name,
        instance.pk,
    )
    try:
        from django.contrib.contenttypes.models import ContentType

        from crm import auditing

        auditing.record(
            action=auditing.DATA_INTEGRITY_FAILURE,
            content_type=ContentType.objects.get_for_model(model),
            object_id=instance.pk,
            data={"model": model._meta.label_lower, "field": field_name, "reason": reason},
        )
    except Exception:  # a read must not fail because the report could not be written
        logger.exception("could not record an integrity failure")


def open_all(instance) -> None:
    """Open every encrypted value of ``instance`` now.

    Call before moving a row under another data key (a merge): the values are read with
    the key they were written under, and the next save encrypts them under the new one.
    """
    for model_field in instance._meta.concrete_fields:
        if isinstance(model_field, EncryptedMixin):
            getattr(instance, model_field.attname)


def _opened(instance, name: str, token: str, context: str, *, convert=str, key_matches=True):
    """The clear value of ``token`` stored as ``name`` of ``instance``, or why there is none:
    ``Erased`` (its key was destroyed) or ``Unreadable`` (audited: it does not open here,
    or its master key is no longer configured)."""
    try:
        if not key_matches:
            raise encryption.IntegrityFailure("The value is not under this row's key.")
        return convert(encryption.decrypt(token, context=context))
    except encryption.DataKeyDestroyed:
        return Erased(token, context)
    except encryption.IntegrityFailure:
        _report_integrity_failure(instance, name, "does_not_open_here")
    except (encryption.DecryptionError, ValueError, UnicodeDecodeError):
        _report_integrity_failure(instance, name, "key_unavailable")
    return Unreadable(token, context)


class EncryptedAttribute(DeferredAttribute):
    """Opens the stored ciphertext on first access, with the row's context."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        data = instance.__dict__
        name = self.field.attname
        if name not in data:
            super().__get__(instance, cls)  # loads a deferred value
        value = data[name]
        if isinstance(value, Sealed):
            value = self.field.open_value(instance, str(value))
            data[name] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedMixin:
    description = "Encrypted text"
    descriptor_class = EncryptedAttribute

    def __init__(
        self,
        *args,
        subject_key_field=None,
        master_key_fallback=False,
        legacy_clear=False,
        personal=None,
        mask="text",
        **kwargs,
    ):
        self.subject_key_field = subject_key_field
        # With a subject_key_field: a row without a subject key encrypts under the master
        # key instead of refusing (audit reasons that concern no one customer).
        self.master_key_fallback = master_key_fallback
        # Rows written before the column was encrypted hold clear text that cannot be
        # rewritten (the append-only audit trail): read it as it is.
        self.legacy_clear = legacy_clear
        self.personal_category = personal or personal_data.PERSONAL
        self.mask = mask
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.subject_key_field:
            kwargs["subject_key_field"] = self.subject_key_field
        if self.master_key_fallback:
            kwargs["master_key_fallback"] = True
        if self.legacy_clear:
            kwargs["legacy_clear"] = True
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

    def subject_key(self, instance):
        if not self.subject_key_field:
            return None
        target = instance
        for part in self.subject_key_field.split("."):
            target = getattr(target, part)
            if target is None:
                break
        if target is None and not self.master_key_fallback:
            raise ValueError(
                f"{instance._meta.label}.{self.name}: the row has no data key "
                f"({self.subject_key_field}); create the subject's key before saving."
            )
        return target

    def context(self, instance) -> str:
        row_uid = getattr(instance, ROW_UID_FIELD, None)
        if not row_uid:
            raise ValueError(
                f"{instance._meta.label}.{self.name}: the row has no {ROW_UID_FIELD}; "
                "an encrypted value is bound to its row."
            )
        return value_context(type(instance), self.name, row_uid)

    def open_value(self, instance, token: str):
        """The clear value of ``token`` stored in this field of ``instance``."""
        value = _opened(
            instance,
            self.name,
            token,
            self.context(instance),
            convert=self.from_text,
            key_matches=self._key_matches_row(instance, token),
        )
        instance.__dict__.setdefault(_TOKENS, {})[self.attname] = (token, value)
        return value

    def _key_matches_row(self, instance, token: str) -> bool:
        """The ciphertext names the key this row's values are under (any master key if
        the row has none): a whole value of another subject copied in is refused even
        with the row's identity forged."""
        try:
            key = self.subject_key(instance)
        except ValueError:
            return False
        if key is None:
            return encryption.is_under_master_key(token)
        return encryption.key_id_of(token) == str(key)

    def _token_fits(self, instance, token: str) -> bool:
        """Whether a loaded ciphertext can be written back as it is."""
        return not encryption.is_legacy(token) and self._key_matches_row(instance, token)

    def pre_save(self, model_instance, add):
        token = stored_token(model_instance, self.attname)
        if token is not None and self._token_fits(model_instance, token):
            return token  # unchanged since it was loaded: no new ciphertext, no decryption
        value = getattr(model_instance, self.attname)
        if is_unavailable(value):
            if token is not None:
                return token  # keep what is stored (shredded, or evidence of tampering)
            if value.token and value.context == self.context(model_instance):
                return value.token  # the history record of the same row and field
            raise ValueError(
                f"{model_instance._meta.label}.{self.name} is {value!r}; "
                "it cannot be saved elsewhere."
            )
        if value is None or value == "":
            return value
        return encryption.encrypt(
            self.to_text(value),
            self.subject_key(model_instance),
            context=self.context(model_instance),
        )

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        if isinstance(value, str) and encryption.is_encrypted(value):
            return str(value)
        raise ValueError(
            f"Refusing to write or compare a clear value in encrypted field {self.name!r}; "
            "save the instance, or search with a blind index."
        )

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if self.legacy_clear and not encryption.is_encrypted(value):
            return value
        return Sealed(value)

    def seal(self, instance, text: str) -> None:
        """Encrypt ``text`` for this field of ``instance`` now, before the row is saved.

        For rows whose stored form must be known before the save (a MAC over it).
        """
        token = encryption.encrypt(
            self.to_text(text), self.subject_key(instance), context=self.context(instance)
        )
        instance.__dict__[self.attname] = Sealed(token)

    def to_python(self, value):
        if value is None or value == "" or not isinstance(value, str) or is_unavailable(value):
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


# --- history change reasons ---------------------------------------------------------------

CHANGE_REASON = "history_change_reason"


def _subject_field(model) -> EncryptedMixin | None:
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, EncryptedMixin):
            return model_field
    return None


def change_reason_seal(instance, reason: str) -> str:
    """The reason a change is recorded with in history, encrypted like the row's values.

    A reason is free text a user typed and may name a person, so a row with encrypted
    values keeps it under the same data key, bound to the row (shredded with the key).
    """
    model_field = _subject_field(type(instance))
    if not reason or model_field is None:
        return reason
    return encryption.encrypt(
        reason,
        model_field.subject_key(instance),
        context=value_context(type(instance), CHANGE_REASON, getattr(instance, ROW_UID_FIELD)),
    )


def change_reason_of(record) -> str:
    """The clear change reason of a history record ("" once erased or unreadable)."""
    token = getattr(record, CHANGE_REASON, None) or ""
    if not encryption.is_encrypted(token):
        return token
    context = value_context(type(record), CHANGE_REASON, getattr(record, ROW_UID_FIELD, ""))
    return _opened(record, CHANGE_REASON, token, context)
