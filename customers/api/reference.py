"""``/api/v1/reference/…``: business types, tiers and service stages (read-only).

Admins edit them in the admin site; every role reads them. Lists are not paged and take
``?ordering=`` by any field.
"""

from __future__ import annotations

from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from crm.api.permissions import ModelPermissions
from customers.models import BusinessType, ServiceStage, Tier


class ReferenceOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class _ReferenceListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated, ModelPermissions]
    serializer_class = OutputSerializer = ReferenceOutput
    pagination_class = None


class _ReferenceDetailApi(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, ModelPermissions]
    serializer_class = OutputSerializer = ReferenceOutput


class BusinessTypeListApi(_ReferenceListApi):
    """Business types (业种); admins edit them in the admin site."""

    queryset = BusinessType.objects.order_by("name")


class BusinessTypeDetailApi(_ReferenceDetailApi):
    """Business types (业种); admins edit them in the admin site."""

    queryset = BusinessType.objects.order_by("name")


class TierListApi(_ReferenceListApi):
    queryset = Tier.objects.order_by("rank")


class TierDetailApi(_ReferenceDetailApi):
    queryset = Tier.objects.order_by("rank")


class ServiceStageListApi(_ReferenceListApi):
    queryset = ServiceStage.objects.order_by("order")


class ServiceStageDetailApi(_ReferenceDetailApi):
    queryset = ServiceStage.objects.order_by("order")
