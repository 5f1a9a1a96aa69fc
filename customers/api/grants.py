"""``/api/v1/customers/<id>/grant/`` and ``…/grants/``: explicit grants to see a card.

A grant lets its holder read the card masked until ``expires_at``, never reveal or export
it in clear. Who may grant, list and revoke is decided by the services and
``customers.permissions``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.serializers import ModelSerializer
from crm.models import User
from customers import permissions as perms
from customers import selectors, services
from customers.api.permissions import CanViewCustomers
from customers.api.serializers import ReasonInput
from customers.models import CustomerUserObjectPermission


class GrantInput(serializers.Serializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    reason = serializers.CharField(max_length=300)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Empty: until revoked."
    )


class GrantOutput(ModelSerializer):
    user = serializers.CharField(source="user.username")
    granted_by = serializers.CharField(source="granted_by.username", default=None)
    is_live = serializers.BooleanField()

    class Meta:
        model = CustomerUserObjectPermission
        fields = ["id", "user", "granted_by", "granted_at", "expires_at", "is_live"]


class GrantCreateApi(APIView):
    """Let another user see this customer (e.g. service staff on a complaint); 204.

    The older form of ``POST …/grants/``, which answers the grant.
    """

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = GrantInput

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request, pk):
        """Let another user see this customer (e.g. service staff on a complaint)."""
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.customer_access_grant(actor=request.user, customer=customer, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GrantListCreateApi(APIView):
    """Who holds an explicit grant on this card (expired ones too); POST grants one.

    Listed for those who may grant and for the overseers; a grant lets its holder read
    the card masked until ``expires_at``, never reveal or export it in clear.
    """

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = GrantInput
    OutputSerializer = GrantOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        if not perms.can_see_grants(request.user, customer):
            raise perms.refuse(request.user, customer, "view_grants")
        grants = selectors.customer_grant_list(customer=customer)
        return Response(self.OutputSerializer(grants, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk):
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.customer_access_grant(
            actor=request.user, customer=customer, **data.validated_data
        )
        return Response(self.OutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class GrantRevokeApi(APIView):
    """Revoke a grant at once (an optional ``reason`` in the body is audited)."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = ReasonInput

    @extend_schema(request=InputSerializer, responses={204: None})
    def delete(self, request, pk, grant_id):
        """Revoke a grant at once (an optional ``reason`` in the body is audited)."""
        customer = perms.access_customer(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.customer_access_revoke(
            actor=request.user,
            customer=customer,
            grant_id=grant_id,
            reason=data.validated_data["reason"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
