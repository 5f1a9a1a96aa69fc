from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self):

        from audit import (
            checks,  # noqa: F401  (system checks)
            receivers,  # noqa: F401  (login, logout and failed-login events)
            roles,
        )
        from audit.services import record_event
        from crm import auditing, navigation

        auditing.set_recorder(record_event)
        roles.extend_roles()

        navigation.register(
            navigation.NavEntry(
                key="audit",
                label=_("Audit trail"),
                description=_("Who saw or changed what, when and from where."),
                url_name="audit:event-list",
                permissions=("audit.view_auditevent",),
                order=90,
            )
        )
