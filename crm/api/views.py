"""API of the foundation: the signed-in user, teams (``<Entity><Action>Api``).

Tokens (``auth/…``) are the security app's (``security.api``)."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import roles
from crm.api.idempotency import idempotent
from crm.api.permissions import ModelPermissions
from crm.api.serializers import ModelSerializer
from crm.models import Team, User
from crm.services import team_create


@extend_schema_serializer(component_name="Team")
class TeamOutput(ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "manager", "members", "created_at", "updated_at"]


class MeApi(APIView):
    """The signed-in user, with roles and team."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        email = serializers.EmailField()
        team = serializers.CharField(source="team.name", default=None)
        roles = serializers.ListField(child=serializers.CharField(), source="role_names")

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)


class TeamListCreateApi(GenericAPIView):
    """Sales teams. Everyone with ``crm.view_team`` reads; admins create."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = Team.objects.select_related("manager").prefetch_related("members").order_by("name")
    filterset_fields = ["manager"]
    ordering_fields = ["name", "created_at"]

    @extend_schema_serializer(component_name="Team")
    class InputSerializer(ModelSerializer):
        manager = serializers.PrimaryKeyRelatedField(
            queryset=User.objects.filter(groups__name=roles.SALES_MANAGER).distinct(),
            allow_null=True,
            required=False,
        )

        class Meta:
            model = Team
            fields = ["name", "manager"]

    OutputSerializer = TeamOutput

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_create(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(team).data, status=status.HTTP_201_CREATED)

    def idempotent_replay(self, request, resource_id):
        team = self.get_queryset().filter(pk=resource_id).first()
        if team is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        return Response(self.OutputSerializer(team).data)


class TeamDetailApi(GenericAPIView):
    """Sales teams. Everyone with ``crm.view_team`` reads; admins create."""

    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = TeamListCreateApi.queryset

    OutputSerializer = TeamOutput

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk):
        team = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(self.OutputSerializer(team).data)
