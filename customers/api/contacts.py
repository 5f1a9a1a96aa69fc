"""``/api/v1/customers/<id>/contacts/``: a card's contacts (masked) and a new one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import permissions as perms
from customers import services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import ContactInput, ContactOutput


class ContactListCreateApi(APIView):
    """The card's contacts, masked (``GET``); a new contact (``POST``)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = ContactInput
    OutputSerializer = ContactOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        return Response(self.OutputSerializer(customer.contacts.all(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_save(
            actor=request.user, customer=customer, **data.validated_data
        )
        return Response(self.OutputSerializer(contact).data, status=status.HTTP_201_CREATED)
