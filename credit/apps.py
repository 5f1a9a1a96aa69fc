from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    """Credit.

    Account opening, credit investigations, grades, limits and approvals, receivables,
    orders and credit checks, holds, guarantees, termination.
    """

    name = "credit"
    verbose_name = _("Credit")
