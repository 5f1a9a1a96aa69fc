from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """Complaints.

    Complaints and inquiries, SLA, escalation, return visits, satisfaction surveys.
    """

    name = "complaints"
    verbose_name = _("Complaints")
