"""``/api/v1/credit/accounts/``: account opening (submit), approval and rejection."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import permissions as perms
from credit import services
from credit.api.common import CanViewCredit, customer_of
from credit.models import AccountCondition, CreditAccount
from crm.api.permissions import ActionPermissions


@extend_schema_serializer(component_name="CreditAccountOutput")
class AccountOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)

    class Meta:
        model = CreditAccount
        fields = ["id", "customer", "status", "currency", "grade", "opened_at"]
        read_only_fields = fields


@extend_schema_serializer(component_name="CreditDecisionInput")
class DecisionInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AccountCreateApi(GenericAPIView):
    """Submit a customer for account opening (交易开始): refused (400) while a card field
    §6.1 requires is blank; the message lists them."""

    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.SUBMIT_ACCOUNT,)}
    filter_backends: list = []
    pagination_class = None

    @extend_schema_serializer(component_name="CreditAccountInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()

    OutputSerializer = AccountOutput

    @extend_schema(request=InputSerializer, responses={201: AccountOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_of(request, data.validated_data["customer"])
        account = services.account_submit(actor=request.user, customer=customer)
        return Response(AccountOutput(account).data, status=status.HTTP_201_CREATED)


class AccountApproveApi(GenericAPIView):
    """Approve an opening: the sales manager first, then head office (the general
    manager). Conditions may be attached."""

    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.APPROVE_OPENING, perms.APPROVE_OPENING_FINAL)}
    filter_backends: list = []
    pagination_class = None

    @extend_schema_serializer(component_name="CreditAccountApproveInput")
    class InputSerializer(DecisionInput):
        conditions = serializers.ListField(
            child=serializers.ChoiceField(choices=AccountCondition.Kind.choices),
            required=False,
            default=list,
        )

    OutputSerializer = AccountOutput

    @extend_schema(request=InputSerializer, responses={200: AccountOutput})
    def post(self, request, pk):
        account = perms.access_row(request.user, CreditAccount, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_approve(
            actor=request.user,
            account=account,
            comment=data.validated_data["comment"],
            conditions=[(kind, "") for kind in data.validated_data["conditions"]],
        )
        return Response(AccountOutput(account).data)


class AccountRejectApi(GenericAPIView):
    """Reject an opening, with a comment."""

    permission_classes = [CanViewCredit, ActionPermissions]
    action_permissions = {"POST": (perms.APPROVE_OPENING, perms.APPROVE_OPENING_FINAL)}
    filter_backends: list = []
    pagination_class = None
    InputSerializer = DecisionInput
    OutputSerializer = AccountOutput

    @extend_schema(request=DecisionInput, responses={200: AccountOutput})
    def post(self, request, pk):
        account = perms.access_row(request.user, CreditAccount, pk)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_reject(
            actor=request.user, account=account, comment=data.validated_data["comment"]
        )
        return Response(AccountOutput(account).data)
