from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """Complaints.

    Complaints and inquiries, SLA, escalation, return visits, satisfaction surveys.
    """

    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from complaints import (
            events,  # noqa: F401  (audit event types)
            offboarding,  # noqa: F401  (a leaving user's complaints: crm.offboarding)
            registrations,
            roles,
            seed,  # noqa: F401  (demo complaints)
        )

        roles.extend_roles()
        from complaints import privacy

        privacy.register()
        registrations.register_all()
        from complaints import imports

        imports.register_import_targets()
