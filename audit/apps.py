from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from audit import (
            backups,  # noqa: F401  (labels of the backup events)
            checks,  # noqa: F401  (system checks)
            monitoring,
            receivers,  # noqa: F401  (login, logout and failed-login events)
            roles,
        )
        from audit import privacy as audit_privacy
        from audit.services import record_event
        from crm import auditing, dashboard, navigation, notifications

        auditing.set_recorder(record_event)
        roles.extend_roles()
        # Subject access and purge of the audit app's own rows (crm.privacy).
        audit_privacy.register()
        # Reveals, exports and card views counted against the thresholds.
        monitoring.connect()

        navigation.register(
            navigation.NavEntry(
                key="audit",
                label=_("Audit trail"),
                description=_("Who saw or changed what, when and from where."),
                url_name="audit:event-list",
                permissions=("audit.view_auditevent",),
                order=90,
            )
        )
        navigation.register(
            navigation.NavEntry(
                key="privacy",
                label=_("Privacy"),
                description=_(
                    "Subject requests, retention and purges, legal holds, access alerts."
                ),
                url_name="audit:request-list",
                permissions=("audit.view_subjectrequest",),
                order=95,
            )
        )
        notifications.register(
            notifications.Kind(
                code="audit.request_overdue",
                text=_("Subject request %(request)s of customer %(customer)s is overdue"),
                email=True,
            )
        )
        notifications.register(
            notifications.Kind(
                code="audit.access_alert",
                text=_("Access alert: user #%(user)s reached %(count)s of a limit of %(limit)s"),
                email=True,
            )
        )
        dashboard.register(
            dashboard.Panel(
                key="privacy",
                template="audit/_dashboard.html",
                context=_dashboard_context,
                order=80,
            )
        )


def _dashboard_context(user):
    """Overdue subject requests and unacknowledged alerts, for the DPO."""
    if not user.has_perm("audit.change_subjectrequest"):
        return None
    from audit.models import AccessAlert
    from audit.subject_requests import overdue_requests

    return {
        "overdue_requests": list(overdue_requests().order_by("due_on", "id")[:20]),
        "open_alerts": AccessAlert.objects.filter(acknowledged_at__isnull=True).count(),
    }
