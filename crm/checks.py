"""System checks for the key configuration (run by ``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_keys(app_configs, **kwargs):
    from crm.encryption import _decode_key

    errors = []
    try:
        for key in settings.FIELD_ENCRYPTION_KEYS:
            _decode_key(key)
        if settings.BLIND_INDEX_KEY:
            _decode_key(settings.BLIND_INDEX_KEY, "BLIND_INDEX_KEY")
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="crm.E001"))
    if settings.BLIND_INDEX_KEY and settings.BLIND_INDEX_KEY in settings.FIELD_ENCRYPTION_KEYS:
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
