"""``/api/v1/audit/events/``: the audit trail (data protection officer and auditor)."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from audit.api.serializers import AuditEventOutputSerializer
from audit.filters import AuditEventApiFilter
from audit.models import AuditEvent
from audit.selectors import audit_console_list, audit_event_list
from crm.api.permissions import ModelPermissions


class AuditEventListApi(GenericAPIView):
    """The audit trail, newest first (data protection officer and auditor)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    filterset_class = AuditEventApiFilter
    ordering_fields = ["sequence", "occurred_at"]

    OutputSerializer = AuditEventOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema reads no database
            return AuditEvent.objects.none()
        return audit_console_list(user=self.request.user)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class AuditEventDetailApi(GenericAPIView):
    """One event of the audit trail, by its sequence number."""

    permission_classes = [IsAuthenticated, ModelPermissions]

    OutputSerializer = AuditEventOutputSerializer

    def get_queryset(self):
        return audit_event_list(user=self.request.user)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, sequence):
        event = get_object_or_404(self.get_queryset(), sequence=sequence)
        return Response(self.OutputSerializer(event).data)
