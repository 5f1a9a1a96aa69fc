"""The models of the plug-in test app: rows of "another app" kept on a customer's card."""

from django.db import models
from django.utils import timezone

from crm.fields import EncryptedTextField
from crm.models import BusinessModel, EncryptedRow


class Ticket(EncryptedRow, BusinessModel):
    """A service ticket about a customer, as a complaints app would keep one.

    Confidential tickets are shown only to users with ``view_confidential_ticket``: the
    card tab, the timeline source and the API section all leave them out for the others.
    """

    # Subject access and purge reach it through its customer (crm.personal_data).
    personal_data_subject = "customer"

    # Its merge policy (combine same-titled tickets, move the others) and its import target
    # ("tickets") are registered in PluginAppConfig.ready().
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="plugin_tickets"
    )
    title = models.CharField(max_length=100)
    confidential = models.BooleanField(default=False)
    opened_at = models.DateTimeField(default=timezone.now)
    note = EncryptedTextField(subject_key_field="customer.data_key_id", mask="text")

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("view_confidential_ticket", "Can see confidential tickets")]

    def __str__(self):
        return self.title
