"""Audit event types of sign-in protection, tokens, sessions and role changes."""

from django.utils.translation import gettext_lazy as _

from crm.auditing import event_type as register

LOCKED_OUT = register("auth.locked_out", _("Sign-in locked after failed attempts"))
UNLOCKED = register("auth.unlocked", _("Sign-in lock lifted"))
RATE_LIMITED = register("security.rate_limited", _("Request refused: rate limit"))
PASSWORD_CHANGED = register("auth.password_changed", _("Password changed"))
PASSWORD_CHANGE_REFUSED = register("auth.password_change_refused", _("Password change refused"))
TOKEN_REVOKED = register("auth.token_revoked", _("API token revoked"))
SIGNED_OUT_EVERYWHERE = register("auth.signed_out_everywhere", _("Signed out everywhere"))
SESSION_EXPIRED = register("auth.session_expired", _("Session expired"))
TWO_FACTOR_ENROLLED = register("auth.two_factor_enrolled", _("Two-factor sign-in set up"))
TWO_FACTOR_VERIFIED = register("auth.two_factor_verified", _("Two-factor code accepted"))
TWO_FACTOR_FAILED = register("auth.two_factor_failed", _("Two-factor code refused"))
ROLE_CHANGE_REQUESTED = register("user.role_change_requested", _("Role change requested"))
ROLE_CHANGE_CONFIRMED = register("user.role_change_confirmed", _("Role change confirmed"))
ROLE_CHANGE_REJECTED = register("user.role_change_rejected", _("Role change rejected"))
ROLE_CHANGE_REFUSED = register("user.role_change_refused", _("Role change refused"))
