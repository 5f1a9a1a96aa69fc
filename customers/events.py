"""Audit event types of the customers app."""

from django.utils.translation import gettext_lazy as _

from audit.events import register

CUSTOMER_CREATED = register("customers.created", _("Customer created"))
CUSTOMER_UPDATED = register("customers.updated", _("Customer changed"))
CUSTOMER_VIEWED = register("customers.viewed", _("Customer card viewed"))
CUSTOMER_REVEALED = register("customers.revealed", _("Personal data revealed"))
CUSTOMER_REVERIFIED = register("customers.reverified", _("Customer re-verified"))
CUSTOMER_MERGED = register("customers.merged", _("Customers merged"))
CUSTOMER_ACCESS_GRANTED = register("customers.access_granted", _("Access to a customer granted"))
CUSTOMER_ACCESS_REVOKED = register("customers.access_revoked", _("Access to a customer revoked"))
CUSTOMERS_EXPORTED = register("customers.exported", _("Customers exported"))
CUSTOMERS_IMPORTED = register("customers.imported", _("Customers imported"))
CONTACT_SAVED = register("customers.contact_saved", _("Contact saved"))
DOCUMENT_SAVED = register("customers.document_saved", _("Identity document saved"))
CONSENT_RECORDED = register("customers.consent_recorded", _("Consent recorded"))
CONSENT_WITHDRAWN = register("customers.consent_withdrawn", _("Consent withdrawn"))
INTERACTION_LOGGED = register("customers.interaction_logged", _("Interaction logged"))
STAGE_MOVED = register("customers.stage_moved", _("Service stage changed"))
VISIT_RECORDED = register("customers.visit_recorded", _("Visit recorded"))
VISIT_PLAN_REMOVED = register("customers.visit_plan_removed", _("Prospect left the visit plan"))
CAMPAIGN_CREATED = register("customers.campaign_created", _("Campaign created"))
CAMPAIGN_QUEUED = register("customers.campaign_queued", _("Campaign queued"))
CAMPAIGN_SENT = register("customers.campaign_sent", _("Campaign sent"))
ATTRIBUTE_SENSITIVITY_CHANGED = register(
    "customers.attribute_sensitivity_changed", _("Custom attribute's personal-data class changed")
)
CUSTOMER_STATUS_CHANGED = register("customers.status_changed", _("Customer status changed"))
CUSTOMER_OWNER_CHANGED = register("customers.owner_changed", _("Customer owner changed"))
CUSTOMERS_HANDED_OVER = register("customers.handed_over", _("A rep's customers handed over"))
SAVED_VIEW_SAVED = register("customers.saved_view_saved", _("Customer list view saved"))
SAVED_VIEW_DELETED = register("customers.saved_view_deleted", _("Customer list view deleted"))
CUSTOMERS_PLANNED = register("customers.visit_plan_added", _("Customers added to a visit plan"))
