"""``/api/v1/customers/<id>/documents/``: a card's identity documents (masked) and a new one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import permissions as perms
from customers import services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import DocumentInput, DocumentOutput


class DocumentListCreateApi(APIView):
    """The card's identity documents, numbers masked (``GET``); a new one (``POST``)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = DocumentInput
    OutputSerializer = DocumentOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        queryset = customer.identity_documents.select_related("verified_by")
        return Response(self.OutputSerializer(queryset, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.identity_document_add(
            actor=request.user, customer=customer, **data.validated_data
        )
        return Response(self.OutputSerializer(document).data, status=status.HTTP_201_CREATED)
