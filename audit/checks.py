"""System check of the audit chain key (run by ``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_audit_chain_key(app_configs, **kwargs):
    from crm.encryption import _decode_key

    configured = settings.AUDIT_CHAIN_KEY
    if not configured:
        return []
    try:
        _decode_key(configured, "AUDIT_CHAIN_KEY")
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="audit.E001")]
    others = [*settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY]
    others += getattr(settings, "BLIND_INDEX_KEYS", [])
    # A blind-index key may carry a version prefix ("v2:<key>").
    if any(other and other.strip().endswith(configured.strip()) for other in others):
        return [Error("AUDIT_CHAIN_KEY must differ from every other key.", id="audit.E002")]
    return []
