"""``/api/v1/audit/…`` for the privacy registers: subject requests, legal holds,
destruction records and access alerts (data protection officer; the auditor reads)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from audit import incidents, retention, subject_requests
from audit.models import AccessAlert, DestructionRecord, Incident, LegalHold, SubjectRequest
from audit.views import customer_by_code
from crm.api.permissions import ModelPermissions
from crm.api.serializers import ModelSerializer


class _ListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, ModelPermissions]

    def list_response(self):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)


class SubjectRequestOutput(ModelSerializer):
    handler = serializers.CharField(source="handler.username", read_only=True)
    details = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = SubjectRequest
        fields = [
            "id",
            "kind",
            "status",
            "customer_code",
            "received_on",
            "due_on",
            "is_overdue",
            "handler",
            "details",
            "outcome",
            "result",
            "completed_at",
        ]
        read_only_fields = fields


class SubjectRequestListApi(_ListApi):
    """Subject requests, earliest due first; POST registers one."""

    class InputSerializer(serializers.Serializer):
        customer_code = serializers.CharField(max_length=20)
        kind = serializers.ChoiceField(choices=SubjectRequest.Kind.choices)
        received_on = serializers.DateField(required=False)
        details = serializers.CharField(required=False, allow_blank=True)

    OutputSerializer = SubjectRequestOutput

    def get_queryset(self):
        rows = subject_requests.subject_request_list(user=self.request.user)
        wanted = self.request.query_params.get("status")
        return rows.filter(status=wanted) if wanted in SubjectRequest.Status.values else rows

    @extend_schema(responses=SubjectRequestOutput(many=True))
    def get(self, request):
        return self.list_response()

    @extend_schema(request=InputSerializer, responses={201: SubjectRequestOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = subject_requests.subject_request_open(
            actor=request.user,
            customer=customer_by_code(data.validated_data["customer_code"]),
            kind=data.validated_data["kind"],
            received_on=data.validated_data.get("received_on"),
            details=data.validated_data.get("details", ""),
        )
        return Response(self.OutputSerializer(created).data, status=status.HTTP_201_CREATED)


class SubjectRequestDetailApi(_ListApi):
    OutputSerializer = SubjectRequestOutput

    def get_queryset(self):
        return subject_requests.subject_request_list(user=self.request.user)

    @extend_schema(responses=SubjectRequestOutput)
    def get(self, request, pk):
        return Response(self.OutputSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)


class SubjectRequestCloseApi(_ListApi):
    """Close a request with what was done; a deletion purges the customer (or is refused)."""

    class InputSerializer(serializers.Serializer):
        outcome = serializers.CharField()
        refused = serializers.BooleanField(required=False, default=False)

    OutputSerializer = SubjectRequestOutput

    def get_queryset(self):
        return subject_requests.subject_request_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses=SubjectRequestOutput)
    def post(self, request, pk):
        subject_request = get_object_or_404(self.get_queryset(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closed = subject_requests.subject_request_close(
            actor=request.user, request_id=subject_request.pk, **data.validated_data
        )
        return Response(self.OutputSerializer(closed).data)


class SubjectRequestPackageApi(_ListApi):
    """The access package (JSON) of the request's customer: every category held (audited)."""

    def get_queryset(self):
        return subject_requests.subject_request_list(user=self.request.user)

    @extend_schema(responses=dict)
    def get(self, request, pk):
        from crm import privacy

        subject_request = get_object_or_404(self.get_queryset(), pk=pk)
        customer = get_object_or_404(privacy.subject_model(), pk=subject_request.customer_id)
        package = subject_requests.access_package(
            actor=request.user, customer=customer, request=subject_request
        )
        response = Response(package)
        response["Cache-Control"] = "no-store"
        return response


class LegalHoldOutput(ModelSerializer):
    reason = serializers.CharField(read_only=True)
    lift_reason = serializers.CharField(read_only=True)
    placed_by = serializers.CharField(source="placed_by.username", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "customer_code",
            "reason",
            "placed_by",
            "created_at",
            "is_active",
            "lifted_at",
            "lift_reason",
        ]
        read_only_fields = fields


class LegalHoldListApi(_ListApi):
    """Legal holds, newest first; POST places one (with a reason)."""

    class InputSerializer(serializers.Serializer):
        customer_code = serializers.CharField(max_length=20)
        reason = serializers.CharField()

    OutputSerializer = LegalHoldOutput

    def get_queryset(self):
        return LegalHold.objects.select_related("placed_by").order_by("-id").preload_keys()

    @extend_schema(responses=LegalHoldOutput(many=True))
    def get(self, request):
        return self.list_response()

    @extend_schema(request=InputSerializer, responses={201: LegalHoldOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = retention.legal_hold_place(
            actor=request.user,
            customer=customer_by_code(data.validated_data["customer_code"]),
            reason=data.validated_data["reason"],
        )
        return Response(self.OutputSerializer(hold).data, status=status.HTTP_201_CREATED)


class LegalHoldLiftApi(_ListApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()

    OutputSerializer = LegalHoldOutput

    def get_queryset(self):
        return LegalHold.objects.all()

    @extend_schema(request=InputSerializer, responses=LegalHoldOutput)
    def post(self, request, pk):
        hold = get_object_or_404(self.get_queryset(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lifted = retention.legal_hold_lift(
            actor=request.user, hold_id=hold.pk, reason=data.validated_data["reason"]
        )
        return Response(self.OutputSerializer(lifted).data)


class DestructionRecordOutput(ModelSerializer):
    class Meta:
        model = DestructionRecord
        fields = [
            "id",
            "trigger",
            "job",
            "status",
            "policies",
            "started_at",
            "finished_at",
            "subjects",
            "skipped",
            "counts",
            "record_hash",
        ]
        read_only_fields = fields


class DestructionRecordListApi(_ListApi):
    """Purge runs: categories, counts, policy, job and the hash kept in the audit chain."""

    OutputSerializer = DestructionRecordOutput

    def get_queryset(self):
        return DestructionRecord.objects.order_by("-id")

    @extend_schema(responses=DestructionRecordOutput(many=True))
    def get(self, request):
        return self.list_response()


class DestructionRecordDetailApi(_ListApi):
    """One record as evidence (its download is audited)."""

    def get_queryset(self):
        return DestructionRecord.objects.all()

    @extend_schema(responses=dict)
    def get(self, request, pk):
        record = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(retention.destruction_record_evidence(actor=request.user, record=record))


class AccessAlertOutput(ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = AccessAlert
        fields = [
            "id",
            "user",
            "kind",
            "window",
            "window_start",
            "limit",
            "count",
            "acknowledged_at",
        ]
        read_only_fields = fields


class AccessAlertListApi(_ListApi):
    """Thresholds crossed, newest first."""

    OutputSerializer = AccessAlertOutput

    def get_queryset(self):
        return AccessAlert.objects.select_related("user")

    @extend_schema(responses=AccessAlertOutput(many=True))
    def get(self, request):
        return self.list_response()


# --- incidents ----------------------------------------------------------------------------------


class IncidentOutput(ModelSerializer):
    summary = serializers.CharField(read_only=True)
    containment = serializers.CharField(read_only=True)
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)
    customers = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "summary",
            "detected_at",
            "reported_by",
            "severity",
            "status",
            "customers",
            "containment",
            "authorities_told_at",
            "customers_told_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_customers(self, incident) -> list[str]:
        return [link.customer_code for link in incident.affected.all()]


class IncidentInput(serializers.Serializer):
    summary = serializers.CharField()
    detected_at = serializers.DateTimeField()
    severity = serializers.ChoiceField(choices=Incident.Severity.choices)
    status = serializers.ChoiceField(choices=Incident.Status.choices, required=False)
    customers = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, allow_empty=True
    )
    containment = serializers.CharField(required=False, allow_blank=True)
    authorities_told_at = serializers.DateTimeField(required=False, allow_null=True)
    customers_told_at = serializers.DateTimeField(required=False, allow_null=True)


def _incident_values(data: dict) -> tuple[dict, list | None]:
    values = dict(data)
    codes = values.pop("customers", None)
    customers = None if codes is None else incidents.customers_by_codes(" ".join(codes))
    return values, customers


class IncidentListApi(_ListApi):
    """Incidents, newest first; POST records one (the caller is who detected it)."""

    OutputSerializer = IncidentOutput
    InputSerializer = IncidentInput

    def get_queryset(self):
        rows = incidents.incident_list(user=self.request.user).prefetch_related("affected")
        wanted = self.request.query_params.get("status")
        return rows.filter(status=wanted) if wanted in Incident.Status.values else rows

    @extend_schema(responses=IncidentOutput(many=True))
    def get(self, request):
        return self.list_response()

    @extend_schema(request=IncidentInput, responses={201: IncidentOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, customers = _incident_values(data.validated_data)
        created = incidents.incident_create(actor=request.user, customers=customers or [], **values)
        created = self.get_queryset().get(pk=created.pk)
        return Response(self.OutputSerializer(created).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(_ListApi):
    """One incident; PATCH changes it (``customers`` replaces the list when given)."""

    OutputSerializer = IncidentOutput
    InputSerializer = IncidentInput

    def get_queryset(self):
        return incidents.incident_list(user=self.request.user).prefetch_related("affected")

    @extend_schema(responses=IncidentOutput)
    def get(self, request, pk):
        return Response(self.OutputSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(request=IncidentInput(partial=True), responses=IncidentOutput)
    def patch(self, request, pk):
        incident = get_object_or_404(self.get_queryset(), pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values, customers = _incident_values(data.validated_data)
        incidents.incident_update(
            actor=request.user, incident_id=incident.pk, customers=customers, **values
        )
        return Response(self.OutputSerializer(self.get_queryset().get(pk=incident.pk)).data)


class IncidentContactOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()


class IncidentContactsApi(_ListApi):
    """The affected customers' names and phones in clear: the DPO only, each call audited."""

    def get_queryset(self):
        return incidents.incident_list(user=self.request.user)

    @extend_schema(responses=IncidentContactOutput(many=True))
    def get(self, request, pk):
        if not request.user.has_perm(incidents.CONTACTS_PERMISSION):
            raise PermissionDenied
        incident = get_object_or_404(self.get_queryset(), pk=pk)
        contacts = incidents.incident_contacts(actor=request.user, incident=incident)
        response = Response(IncidentContactOutput(contacts, many=True).data)
        response["Cache-Control"] = "no-store"
        return response
