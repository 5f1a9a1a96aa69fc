"""API for relationship campaigns: ``/api/v1/campaigns/…`` (DESIGN §6.5).

Model permissions decide what a role may do at all (view/add/change campaign, view the
send log); ``access_campaign`` decides which campaigns (their own, or all for those who see
every customer); the send log and the counts only cover customers the caller may see.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm.api.idempotency import idempotent
from crm.api.permissions import ModelPermissions
from customers import permissions as perms
from customers import selectors
from customers.models import Campaign, CampaignSend
from customers.services import campaigns as services


class _ChangeCampaignPermissions(ModelPermissions):
    """POST on a campaign's action (send) changes it."""

    perms_map = {**ModelPermissions.perms_map, "POST": [perms.CAMPAIGN_CHANGE]}


class _SendLogPermissions(ModelPermissions):
    """The send log needs both the campaign and its sends."""

    perms_map = {
        **ModelPermissions.perms_map,
        "GET": [perms.CAMPAIGN_VIEW, perms.CAMPAIGN_SENDS_VIEW],
        "HEAD": [perms.CAMPAIGN_VIEW, perms.CAMPAIGN_SENDS_VIEW],
    }


class CampaignOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "subject",
            "body",
            "audience_filter",
            "status",
            "created_by",
            "created_at",
            "updated_at",
            "sent_at",
        ]
        read_only_fields = fields


_COUNTS = inline_serializer(
    "CampaignPreview",
    {
        "audience": serializers.IntegerField(),
        "reachable": serializers.IntegerField(),
        "no_consent": serializers.IntegerField(),
        "no_email": serializers.IntegerField(),
    },
)


class CampaignListCreateApi(GenericAPIView):
    """List the campaigns the caller may see; create a draft campaign."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = Campaign.objects.none()  # the model for ModelPermissions
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at", "sent_at", "name"]

    @extend_schema_serializer(component_name="CampaignCreateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=Campaign.Kind.choices)
        subject = serializers.CharField(max_length=200)
        body = serializers.CharField()
        audience_filter = serializers.DictField(
            required=False,
            default=dict,
            help_text="Customer-list filters (as /api/v1/customers/ takes them), e.g. "
            '{"team": 3, "tier": 2, "consent": "marketing"}; empty: every customer '
            "the creator may see.",
        )

    OutputSerializer = CampaignOutputSerializer

    def get_queryset(self):
        return selectors.campaign_list(user=self.request.user)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(campaign).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        campaign = self.get_queryset().filter(pk=resource_id).first()
        if campaign is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(self.OutputSerializer(campaign).data)


class CampaignDetailApi(GenericAPIView):
    """One campaign: a draft with what sending now would do, a sent one with its results."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = Campaign.objects.none()

    @extend_schema_serializer(component_name="CampaignDetailOutput")
    class OutputSerializer(CampaignOutputSerializer):
        preview = serializers.SerializerMethodField(
            help_text="Drafts: audience, reachable, no_consent, no_email (counts)."
        )
        results = serializers.SerializerMethodField(
            help_text="Sending or sent: the send log counted by result."
        )

        class Meta(CampaignOutputSerializer.Meta):
            fields = [*CampaignOutputSerializer.Meta.fields, "preview", "results"]
            read_only_fields = fields

        @extend_schema_field(_COUNTS)
        def get_preview(self, campaign) -> dict | None:
            return self.context.get("preview")

        @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
        def get_results(self, campaign) -> dict | None:
            return self.context.get("results")

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk: int):
        campaign = perms.access_campaign(request.user, pk)
        context = {"preview": None, "results": None}
        if campaign.status == Campaign.Status.DRAFT:
            context["preview"] = selectors.campaign_preview(campaign=campaign, user=request.user)
        elif request.user.has_perm(perms.CAMPAIGN_SENDS_VIEW):
            context["results"] = selectors.campaign_results(campaign=campaign, user=request.user)
        return Response(self.OutputSerializer(campaign, context=context).data)


class CampaignSendApi(GenericAPIView):
    """Send a draft campaign (once). The sending runs in the background: 202 Accepted."""

    permission_classes = [IsAuthenticated, _ChangeCampaignPermissions]
    queryset = Campaign.objects.none()

    @extend_schema(request=None, responses={202: CampaignOutputSerializer})
    def post(self, request, pk: int):
        campaign = perms.access_campaign(request.user, pk)
        campaign = services.campaign_queue(actor=request.user, campaign=campaign)
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_202_ACCEPTED)


class CampaignSendListApi(GenericAPIView):
    """A campaign's send log, one row per customer, customers shown by code only."""

    permission_classes = [IsAuthenticated, _SendLogPermissions]
    queryset = CampaignSend.objects.none()
    filterset_fields = ["result"]
    ordering_fields = ["created_at"]

    @extend_schema_serializer(component_name="CampaignSendOutput")
    class OutputSerializer(serializers.ModelSerializer):
        customer_code = serializers.CharField(read_only=True)

        class Meta:
            model = CampaignSend
            fields = ["id", "customer", "customer_code", "result", "channel", "created_at"]
            read_only_fields = fields

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk: int):
        campaign = perms.access_campaign(request.user, pk)
        sends = selectors.campaign_send_list(campaign=campaign, user=request.user)
        queryset = self.filter_queryset(sends)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)
