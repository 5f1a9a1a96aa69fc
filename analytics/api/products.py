"""``/api/v1/analytics/products/``: the product list and creating a product."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from analytics import selectors, services
from analytics.models import Product
from crm.api.permissions import ModelPermissions


class ProductOutput(serializers.ModelSerializer):
    standard_cost = serializers.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        model = Product
        fields = ["id", "code", "name", "category", "standard_cost", "is_active"]


class ProductListCreateApi(GenericAPIView):
    """Products by code (``GET``, paged); a new product (``POST``)."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = Product.objects.none()
    serializer_class = ProductOutput

    @extend_schema_serializer(component_name="ProductCreateInput")
    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=50)
        name = serializers.CharField(max_length=200)
        category = serializers.CharField(max_length=100, required=False, allow_blank=True)
        standard_cost = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0)

    OutputSerializer = ProductOutput

    def get_queryset(self):
        return selectors.product_list()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(product).data, status=status.HTTP_201_CREATED)
