"""``/api/v1/customers/merge/``: merge a duplicate card into the surviving one;
``/api/v1/customers/merge/preview/``: both cards compared first (masked, as the card shows
them), the fields that may be taken from the duplicate, and what the merge would do."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import require_perm
from customers import permissions as perms
from customers import services
from customers.models import Customer
from customers.services.merge import TAKEABLE_FIELDS, customer_merge_preview


class CustomerMergeApi(APIView):
    """Merge a duplicate card into the surviving card (managers).

    ``take_from_duplicate`` (optional) names the card's fields whose value the survivor
    takes from the duplicate (see ``GET …/merge/preview/`` for the fields that differ and
    may be taken); an unknown or inapplicable name, or an owner, stage or status that the
    card's own rules refuse (owner change, stage move, status transition), refuses the whole
    merge (400).
    """

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="MergeInput")
    class InputSerializer(serializers.Serializer):
        survivor = serializers.IntegerField()
        duplicate = serializers.IntegerField()
        reason = serializers.CharField(max_length=300)
        take_from_duplicate = serializers.ListField(
            child=serializers.CharField(max_length=64),
            required=False,
            default=list,
            max_length=len(TAKEABLE_FIELDS) * 2,
            help_text="Fields whose value the surviving card takes from the duplicate; "
            f"any of: {', '.join(TAKEABLE_FIELDS)}. The owner brings his team; the owner, "
            "stage and status are taken by the card's own actions, under their rules.",
        )

    @extend_schema(request=InputSerializer, responses=dict)
    def post(self, request):
        require_perm(request.user, perms.MERGE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.customer_merge(
            actor=request.user,
            survivor_id=data.validated_data["survivor"],
            duplicate_id=data.validated_data["duplicate"],
            reason=data.validated_data["reason"],
            take_from_duplicate=data.validated_data["take_from_duplicate"],
        )
        return Response({"survivor": data.validated_data["survivor"], "moved": moved})


def _value(value):
    """A compared value as JSON: personal values are already masked strings; related rows
    by their code (reference data), user name (users) or name (teams)."""
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        for attribute in ("code", "username", "name"):
            if hasattr(value, attribute):
                return getattr(value, attribute)
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, int | str) else str(value)


@extend_schema_serializer(component_name="MergePreviewCard")
class PreviewCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()


@extend_schema_serializer(component_name="MergePreviewField")
class PreviewFieldSerializer(serializers.Serializer):
    field = serializers.CharField(source="name")
    label = serializers.CharField()
    survivor = serializers.SerializerMethodField()
    duplicate = serializers.SerializerMethodField()
    differs = serializers.BooleanField()
    mergeable = serializers.BooleanField(help_text="May be taken from the duplicate.")
    personal = serializers.BooleanField(help_text="Personal data: the values are masked.")
    note = serializers.CharField(help_text="Why a differing value cannot be taken.")
    hint = serializers.CharField(
        help_text="For the owner, stage and status: what taking the value does."
    )

    def get_survivor(self, row) -> str | None:
        return _value(row.survivor)

    def get_duplicate(self, row) -> str | None:
        return _value(row.duplicate)


@extend_schema_serializer(component_name="MergePreviewRecords")
class PreviewRecordsSerializer(serializers.Serializer):
    model = serializers.CharField(source="label")
    name = serializers.CharField()
    count = serializers.IntegerField()
    kept_on_merged_card = serializers.IntegerField(source="kept")
    combined = serializers.IntegerField()
    refused = serializers.IntegerField()


class CustomerMergePreviewApi(APIView):
    """Compare two cards before merging them (managers): the fields that differ, with the
    values masked as the card shows them, those that may be taken from the duplicate, the
    duplicate's records and the conflicts that would refuse the merge. Cards are named by
    id (as the merge takes them) or by customer code: no personal value in the URL."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="MergePreviewQuery")
    class QuerySerializer(serializers.Serializer):
        survivor = serializers.IntegerField(required=False, min_value=1)
        duplicate = serializers.IntegerField(required=False, min_value=1)
        survivor_code = serializers.CharField(required=False, max_length=20)
        duplicate_code = serializers.CharField(required=False, max_length=20)

        def validate(self, attrs):
            errors = {}
            for side in ("survivor", "duplicate"):
                if not attrs.get(side) and not attrs.get(f"{side}_code"):
                    errors[side] = [_("Give the card's id or its customer code.")]
            if errors:
                raise serializers.ValidationError(errors)
            return attrs

    @extend_schema_serializer(component_name="MergePreviewOutput")
    class OutputSerializer(serializers.Serializer):
        survivor = PreviewCardSerializer()
        duplicate = PreviewCardSerializer()
        differing = serializers.ListField(child=serializers.CharField())
        choosable = serializers.ListField(
            child=serializers.CharField(),
            help_text="The differing fields that may be named in take_from_duplicate.",
        )
        fields = PreviewFieldSerializer(many=True)
        records = PreviewRecordsSerializer(many=True)
        refusal = serializers.CharField(help_text="Why the merge would be refused; empty if not.")
        can_merge = serializers.SerializerMethodField()

        def get_can_merge(self, preview) -> bool:
            return not preview.refusal

    @staticmethod
    def _card_id(query: dict, side: str):
        if query.get(side):
            return query[side]
        found = (
            Customer.objects.filter(code=query[f"{side}_code"].strip().upper())
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise Http404
        return found

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer)
    def get(self, request):
        require_perm(request.user, perms.MERGE)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = customer_merge_preview(
            actor=request.user,
            survivor_id=self._card_id(query.validated_data, "survivor"),
            duplicate_id=self._card_id(query.validated_data, "duplicate"),
        )
        return Response(self.OutputSerializer(preview).data)
