"""``/api/v1/complaints/``: the list (the queue) and receipt, one complaint, its moves,
assignment, notes, return visit, link to a card, the caller's phone, the caller look-up.

Thin: parse with an input serializer, authorise (``access_complaint``), call a service or
selector, render. A complaint or customer the caller may not see is 404.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import permissions as perms
from complaints import selectors, services
from complaints.api.serializers import (
    ComplaintCreatedOutput,
    ComplaintDetailOutput,
    ComplaintListOutput,
    CustomerSummaryOutput,
)
from complaints.filters import ComplaintFilter
from complaints.models import Category, Channel, Complaint, ReturnVisit, RootCause, Severity
from crm.api.idempotency import idempotent
from crm.api.permissions import ActionPermissions
from crm.models import User
from crm.permissions import require_perm


class CanViewComplaints(IsAuthenticated):
    """The role reads complaints at all (``complaints.view_complaint``)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(perms.VIEW)


@extend_schema_field(OpenApiTypes.STR)
class UserField(serializers.Field):
    """A user by id or by username."""

    def to_representation(self, value):
        return value.pk

    def to_internal_value(self, data):
        query = Q(username=str(data))
        if str(data).isdigit() and str(data).isascii():
            query |= Q(pk=int(data))
        user = User.objects.filter(query, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(_("No such user."))
        return user


def detail(complaint: Complaint, request) -> dict:
    return ComplaintDetailOutput(complaint, context={"request": request}).data


class ComplaintListCreateApi(GenericAPIView):
    """The complaints the caller may see (``GET``, the queue, filtered); a new complaint
    or inquiry (``POST``) for a customer or for a caller not yet a customer."""

    permission_classes = [CanViewComplaints]
    filterset_class = ComplaintFilter
    ordering_fields = ["received_at", "resolution_due", "first_response_due", "code"]

    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField(required=False, allow_null=True)
        caller_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        caller_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
        kind = serializers.ChoiceField(
            choices=Complaint.Kind.choices, required=False, default=Complaint.Kind.COMPLAINT
        )
        channel = serializers.ChoiceField(choices=Channel.choices)
        category = serializers.SlugRelatedField(
            slug_field="code", queryset=Category.objects.filter(is_active=True)
        )
        severity = serializers.ChoiceField(choices=Severity.choices)
        description = serializers.CharField(max_length=4000)
        received_at = serializers.DateTimeField(required=False)

    OutputSerializer = ComplaintListOutput

    def get_queryset(self):
        return selectors.complaint_list(user=self.request.user)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ComplaintCreatedOutput})
    @idempotent
    def post(self, request):
        require_perm(request.user, perms.ADD)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        complaint = services.complaint_create(
            actor=request.user,
            customer_id=values.pop("customer", None),
            **values,
        )
        return Response(ComplaintCreatedOutput(complaint).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        complaint = perms.access_complaint(request.user, resource_id)
        return Response(ComplaintCreatedOutput(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetailApi(APIView):
    """One complaint: caller masked; the description in clear for those who work it."""

    permission_classes = [CanViewComplaints]

    @extend_schema(responses=ComplaintDetailOutput)
    def get(self, request, pk):
        complaint = perms.access_complaint(request.user, pk)
        return Response(detail(complaint, request))


class ComplaintTransitionApi(APIView):
    """Move the complaint (``to``): an illegal move is 400 with the moves allowed; a stale
    ``version`` is 409."""

    permission_classes = [CanViewComplaints]

    class InputSerializer(serializers.Serializer):
        to = serializers.ChoiceField(choices=Complaint.Status.choices)
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
        version = serializers.IntegerField(required=False, allow_null=True)
        root_cause = serializers.SlugRelatedField(
            slug_field="code",
            queryset=RootCause.objects.filter(is_active=True),
            required=False,
            allow_null=True,
        )
        resolution = serializers.CharField(
            max_length=4000, required=False, allow_blank=True, default=""
        )
        informed_how = serializers.ChoiceField(
            choices=Channel.choices, required=False, allow_blank=True, default=""
        )
        satisfaction_score = serializers.IntegerField(
            min_value=1, max_value=5, required=False, allow_null=True
        )
        satisfaction_comment = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )
        return_visit_skip_reason = serializers.CharField(
            max_length=300, required=False, allow_blank=True, default=""
        )

    @extend_schema(request=InputSerializer, responses=ComplaintDetailOutput)
    def post(self, request, pk):
        perms.access_complaint(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = services.complaint_transition(
            actor=request.user, complaint_id=pk, **data.validated_data
        )
        return Response(detail(complaint, request))


class ComplaintAssignApi(APIView):
    """Give the complaint to a service staff member (``user``: id or username; null
    unassigns). Service staff may take an unassigned one for themselves."""

    permission_classes = [CanViewComplaints, ActionPermissions]
    action_permissions = {"POST": (perms.HANDLE, perms.ASSIGN)}

    class InputSerializer(serializers.Serializer):
        user = UserField(allow_null=True)

    @extend_schema(request=InputSerializer, responses=ComplaintDetailOutput)
    def post(self, request, pk):
        perms.access_complaint(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = services.complaint_assign(
            actor=request.user, complaint_id=pk, assignee=data.validated_data["user"]
        )
        complaint = perms.access_complaint(request.user, complaint.pk)
        return Response(detail(complaint, request))


class ComplaintNoteApi(APIView):
    """Add an investigation note (encrypted); the complaint's timeline (``GET``)."""

    permission_classes = [CanViewComplaints]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=4000)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        at = serializers.DateTimeField()
        from_status = serializers.CharField()
        to_status = serializers.CharField()
        actor = serializers.IntegerField(source="actor_id", allow_null=True)
        user = serializers.IntegerField(source="user_id", allow_null=True)
        note = serializers.SerializerMethodField()

        def get_note(self, event) -> str:
            from crm import personal_data

            if self.context.get("clear"):
                return personal_data.shown_value(event.note)
            return personal_data.masked_value(event, "note")

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        complaint = perms.access_complaint(request.user, pk)
        clear = perms.can_act(request.user, complaint)
        return Response(
            self.OutputSerializer(
                selectors.complaint_events(complaint), many=True, context={"clear": clear}
            ).data
        )

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        perms.access_complaint(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.complaint_note_add(
            actor=request.user, complaint_id=pk, note=data.validated_data["note"]
        )
        return Response(
            self.OutputSerializer(event, context={"clear": True}).data,
            status=status.HTTP_201_CREATED,
        )


class ComplaintReturnVisitApi(APIView):
    """Record the return visit (回访) and its outcome."""

    permission_classes = [CanViewComplaints]

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=ReturnVisit.Outcome.choices)
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ComplaintDetailOutput)
    def post(self, request, pk):
        perms.access_complaint(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_visit_record(actor=request.user, complaint_id=pk, **data.validated_data)
        return Response(detail(perms.access_complaint(request.user, pk), request))


class ComplaintLinkApi(APIView):
    """Link a caller's complaint to the card he now has (``customer``: its id)."""

    permission_classes = [CanViewComplaints]

    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses=ComplaintDetailOutput)
    def post(self, request, pk):
        perms.access_complaint(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.complaint_link_customer(
            actor=request.user, complaint_id=pk, customer_id=data.validated_data["customer"]
        )
        return Response(detail(perms.access_complaint(request.user, pk), request))


class ComplaintRevealApi(APIView):
    """The caller's phone in clear for complaint handling (the assignee; audited)."""

    permission_classes = [CanViewComplaints]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=dict)
    def post(self, request, pk):
        perms.access_complaint(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.complaint_caller_reveal(
                actor=request.user, complaint_id=pk, reason=data.validated_data["reason"]
            )
        )


class CallerLookupApi(APIView):
    """One customer by exact phone, ID number or customer code (in the body, never in a
    URL), masked; audited with its purpose. 404 when there is none."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        by = serializers.ChoiceField(choices=[(b, b) for b in services.LOOKUP_BY])
        value = serializers.CharField(max_length=60)
        purpose = serializers.ChoiceField(choices=list(services.LOOKUP_PURPOSES.items()))

    @extend_schema(request=InputSerializer, responses=CustomerSummaryOutput)
    def post(self, request):
        require_perm(request.user, perms.LOOKUP)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.caller_lookup(actor=request.user, **data.validated_data)
        if customer is None:
            return Response(
                {"detail": _("No customer has this phone, ID number or code.")},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(CustomerSummaryOutput(customer).data)
