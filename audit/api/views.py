from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from audit.api.serializers import AuditEventOutputSerializer
from audit.filters import AuditEventFilter
from audit.selectors import audit_event_list
from crm.api.permissions import ModelPermissions


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first (data protection officer and auditor)."""

    serializer_class = AuditEventOutputSerializer
    permission_classes = [IsAuthenticated, ModelPermissions]
    filterset_class = AuditEventFilter
    lookup_field = "sequence"
    ordering_fields = ["sequence", "occurred_at"]

    def get_queryset(self):
        return audit_event_list(user=self.request.user)
