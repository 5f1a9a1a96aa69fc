"""``/api/v1/customers/<id>/attributes/``: a card's custom attribute values."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import permissions as perms
from customers import selectors, services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import OBJECT_LIST


class AttributeValueListSetApi(APIView):
    """Custom attributes that apply to this card; personal values are masked."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema_serializer(component_name="AttributesInput")
    class InputSerializer(serializers.Serializer):
        values = serializers.DictField(child=serializers.CharField(allow_blank=True))

    @extend_schema(responses=OBJECT_LIST)
    def get(self, request, pk):
        """Custom attributes that apply to this card; personal values are masked."""
        customer = perms.access_customer(request.user, pk)
        return Response(selectors.attribute_rows(customer))

    @extend_schema(request=InputSerializer, responses=OBJECT_LIST)
    def post(self, request, pk):
        """Set the values given (by attribute code); answers the card's attributes."""
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.attribute_values_set(
            actor=request.user, customer=customer, values=data.validated_data["values"]
        )
        return Response(selectors.attribute_rows(customer))
