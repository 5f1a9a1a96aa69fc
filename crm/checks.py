"""System checks for the key configuration (run by ``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_keys(app_configs, **kwargs):
    from crm.blind_index import index_keys
    from crm.encryption import _decode_key

    errors = []
    field_materials, index_materials = set(), set()
    try:
        field_materials = {_decode_key(key) for key in settings.FIELD_ENCRYPTION_KEYS}
        index_materials = {key.material for key in index_keys()}
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="crm.E001"))
    if index_materials & field_materials:
        errors.append(
            Error("BLIND_INDEX_KEY must differ from every encryption key.", id="crm.E002")
        )
    keys, default = settings.DATABASES["keys"], settings.DATABASES["default"]
    if (keys.get("NAME"), keys.get("HOST")) == (default.get("NAME"), default.get("HOST")):
        errors.append(
            Error(
                "The keys database must not be the main database (crypto-shredding).",
                id="crm.E003",
            )
        )
    return errors


@register(Tags.models)
def check_encrypted_rows(app_configs, **kwargs):
    """Every model with encrypted fields has the ``uid`` its ciphertexts are bound to."""
    from django.apps import apps

    from crm.fields import ROW_UID_FIELD, EncryptedMixin

    errors = []
    for model in apps.get_models():
        if not any(isinstance(f, EncryptedMixin) for f in model._meta.concrete_fields):
            continue
        try:
            field = model._meta.get_field(ROW_UID_FIELD)
        except Exception:
            field = None
        if field is None or field.get_internal_type() != "UUIDField" or not field.has_default():
            errors.append(
                Error(
                    f"{model._meta.label} has encrypted fields but no '{ROW_UID_FIELD}' "
                    "UUID field with a default: inherit crm.models.EncryptedRow.",
                    obj=model,
                    id="crm.E010",
                )
            )
    return errors
