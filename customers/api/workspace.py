"""``/api/v1/customers/saved-views/``, ``…/reassign/``, ``…/hand-over/`` and
``/api/v1/customers/<id>/owner/``: the list's saved views and the managers' owner changes
(issue 13 items 2 and 5).

A saved view is its user's own (another's is 404) and never holds a search term (400).
Owner changes are for holders of ``customers.reassign_customer`` (sales managers within
their team, the general manager across teams); the services decide per card.
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
from customers import selectors
from customers.api.permissions import CanViewCustomers
from customers.models import SavedView
from customers.services import saved_views, workspace


class CanReassignCustomers(IsAuthenticated):
    """The role may change cards' owners (``customers.reassign_customer``)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(perms.REASSIGN)


class SavedViewInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text="The customer list's filters (names as in GET /api/v1/customers/), "
        "never the search term q.",
    )
    ordering = serializers.CharField(required=False, allow_blank=True, default="")
    page_size = serializers.IntegerField(required=False, allow_null=True, default=None)


class SavedViewUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    filters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    ordering = serializers.CharField(required=False, allow_blank=True)
    page_size = serializers.IntegerField(required=False, allow_null=True)


class SavedViewOutput(ModelSerializer):
    class Meta:
        model = SavedView
        fields = ["id", "name", "filters", "ordering", "page_size", "created_at", "updated_at"]


class SavedViewListCreateApi(APIView):
    """The caller's saved views of the customer list (at most 50); POST saves one."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = SavedViewInput
    OutputSerializer = SavedViewOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        views = selectors.saved_view_list(user=request.user)
        return Response(self.OutputSerializer(views, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        view = saved_views.saved_view_create(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(view).data, status=status.HTTP_201_CREATED)


class SavedViewDetailApi(APIView):
    """One saved view of the caller's: read, rename or change (PATCH), delete."""

    permission_classes = [IsAuthenticated, CanViewCustomers]

    InputSerializer = SavedViewUpdateInput
    OutputSerializer = SavedViewOutput

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk):
        view = saved_views.saved_view_get(user=request.user, view_id=pk)
        return Response(self.OutputSerializer(view).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        view = saved_views.saved_view_update(actor=request.user, view_id=pk, **data.validated_data)
        return Response(self.OutputSerializer(view).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        saved_views.saved_view_delete(actor=request.user, view_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnerChangeInput(serializers.Serializer):
    owner = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReassignInput(OwnerChangeInput):
    customers = serializers.ListField(child=serializers.IntegerField(), max_length=500)


class HandOverInput(serializers.Serializer):
    from_user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    owner = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    reason = serializers.CharField(max_length=300)


class CountOutput(serializers.Serializer):
    count = serializers.IntegerField()


class CustomerOwnerChangeApi(APIView):
    """Give this card to another owner (within the manager's team; the GM: any team)."""

    permission_classes = [IsAuthenticated, CanReassignCustomers]

    InputSerializer = OwnerChangeInput

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request, pk):
        perms.access_customer(request.user, pk, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workspace.customer_owner_change(actor=request.user, customer_id=pk, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomersReassignApi(APIView):
    """Give the listed cards (ids, at most 500) to another owner: all or none."""

    permission_classes = [IsAuthenticated, CanReassignCustomers]

    InputSerializer = ReassignInput
    OutputSerializer = CountOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        count = workspace.customers_reassign(
            actor=request.user,
            customer_ids=values["customers"],
            owner=values["owner"],
            reason=values["reason"],
        )
        return Response({"count": count})


class CustomersHandOverApi(APIView):
    """Give every card of a rep who leaves to another (one audit event with the count)."""

    permission_classes = [IsAuthenticated, CanReassignCustomers]

    InputSerializer = HandOverInput
    OutputSerializer = CountOutput

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        count = workspace.customers_hand_over(
            actor=request.user,
            from_user=values["from_user"],
            to_user=values["owner"],
            reason=values["reason"],
        )
        return Response({"count": count})
