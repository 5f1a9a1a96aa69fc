from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Sign-in protection, two-factor, API tokens, sessions, rate limits, role changes."""

    name = "crm.security"
    label = "security"  # its tables, permissions and migrations keep the app's label
    verbose_name = _("Security")

    def ready(self):
        from crm.security import (
            events,  # noqa: F401  (audit event labels)
            receivers,  # noqa: F401  (sign-in bookkeeping, lockout audit)
            roles,
        )

        roles.extend_roles()
