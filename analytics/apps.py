from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Sales analytics.

    Products, sales lines, stock snapshots, report functions, stored monthly reports.
    """

    name = "analytics"
    verbose_name = _("Sales analytics")
