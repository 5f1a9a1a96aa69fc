"""Audit event types of the complaints app."""

from django.utils.translation import gettext_lazy as _

from audit.events import register

COMPLAINT_RECEIVED = register("complaints.received", _("Complaint received"))
COMPLAINT_MOVED = register("complaints.moved", _("Complaint status changed"))
COMPLAINT_REOPENED = register("complaints.reopened", _("Complaint reopened"))
COMPLAINT_ASSIGNED = register("complaints.assigned", _("Complaint assigned"))
COMPLAINT_ESCALATED = register("complaints.escalated", _("Complaint escalated"))
COMPLAINT_NOTE_ADDED = register("complaints.note_added", _("Investigation note added"))
COMPLAINT_LINKED = register("complaints.linked", _("Complaint linked to a customer card"))
COMPLAINT_VIEWED = register("complaints.viewed", _("Complaint viewed"))
COMPLAINT_CALLER_REVEALED = register("complaints.caller_revealed", _("Caller's data revealed"))
COMPLAINT_ACCESS_GRANTED = register(
    "complaints.access_granted", _("Card access granted for a complaint")
)
COMPLAINT_ACCESS_REVOKED = register(
    "complaints.access_revoked", _("Card access for a complaint revoked")
)
RETURN_VISIT_RECORDED = register("complaints.return_visit_recorded", _("Return visit recorded"))
CALLER_LOOKED_UP = register("complaints.caller_looked_up", _("Caller looked up"))
CALENDAR_DAY_SET = register("complaints.calendar_day_set", _("Calendar day entered"))
CALENDAR_DAY_REMOVED = register("complaints.calendar_day_removed", _("Calendar day removed"))
SLA_POLICY_CHANGED = register("complaints.sla_policy_changed", _("SLA policy changed"))
SURVEY_SAVED = register("complaints.survey_saved", _("Satisfaction survey saved"))
SURVEY_ROUND_SENT = register("complaints.survey_round_sent", _("Satisfaction survey round sent"))
SURVEY_ANSWERED = register("complaints.survey_answered", _("Satisfaction survey answered"))
COMPLAINTS_IMPORTED = register("complaints.imported", _("Historical complaints imported"))
