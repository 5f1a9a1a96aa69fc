"""``/api/v1/customers/merge/``: merge a duplicate card into the surviving one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import require_perm
from customers import permissions as perms
from customers import services


class CustomerMergeApi(APIView):
    """Merge a duplicate card into the surviving card (managers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="MergeInput")
    class InputSerializer(serializers.Serializer):
        survivor = serializers.IntegerField()
        duplicate = serializers.IntegerField()
        reason = serializers.CharField(max_length=300)

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
        )
        return Response({"survivor": data.validated_data["survivor"], "moved": moved})
