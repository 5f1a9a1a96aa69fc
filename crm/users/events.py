"""Audit event types of user administration (``crm.services``). Each event's data names
the user's role codes (``roles``), never his password or a link."""

from django.utils.translation import gettext_lazy as _

from crm.auditing import event_type as register

USER_UPDATED = register("user.updated", _("User details changed"))
USER_DEACTIVATED = register("user.deactivated", _("User deactivated"))
USER_REACTIVATED = register("user.reactivated", _("User reactivated"))
PASSWORD_RESET_SENT = register("user.password_reset_sent", _("Set-password link sent"))
PASSWORD_SET_BY_LINK = register("user.password_set_by_link", _("Password set from a link"))
