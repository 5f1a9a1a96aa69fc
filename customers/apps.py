from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """Customers.

    Customer card, contacts, identity documents, consents, interactions, service stages,
    visit plans, custom attributes, campaigns, import/export.
    """

    name = "customers"
    verbose_name = _("Customers")
