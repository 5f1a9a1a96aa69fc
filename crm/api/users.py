"""``/api/v1/users/``: user administration (issue 13 item 6), for administrators.

Every role holds ``crm.view_user`` (to see who owns a card), so listing and managing users
asks for ``crm.change_user``, creating for ``crm.add_user`` as well. Rows carry role codes
and their translated names, never the password hash. Writes are ``crm.services``'.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from crm import selectors, services
from crm.api.idempotency import idempotent
from crm.models import Team, User

MANAGE = "crm.change_user"


class UserAdminPermission(BasePermission):
    """``crm.change_user`` for everything; ``crm.add_user`` too for a create."""

    def has_permission(self, request, view):
        user = request.user
        if not user.has_perm(MANAGE):
            return False
        if getattr(view, "creates", False) and request.method == "POST":
            return user.has_perm("crm.add_user")
        return True


@extend_schema_serializer(component_name="ManagedUser")
class UserOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    team_name = serializers.CharField(source="team.name", default=None)
    roles = serializers.SerializerMethodField()
    role_labels = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)
    date_joined = serializers.DateTimeField()

    def get_roles(self, user) -> list[str]:
        return selectors.role_codes(user)

    def get_role_labels(self, user) -> list[str]:
        return selectors.role_labels(user)


@extend_schema_serializer(component_name="ManagedUserDetail")
class _UserDetailOutput(UserOutput):
    pending_roles = serializers.SerializerMethodField()

    def get_pending_roles(self, user) -> list[str]:
        return [c.role for c in selectors.user_pending_role_changes(user=user)]


class _Base(GenericAPIView):
    permission_classes = [IsAuthenticated, UserAdminPermission]
    serializer_class = UserOutput

    def get_subject(self, pk) -> User:
        from django.http import Http404

        user = selectors.user_get(pk=pk)
        if user is None:
            raise Http404
        return user

    def detail(self, pk, **extra) -> Response:
        data = _UserDetailOutput(self.get_subject(pk)).data
        return Response({**data, **extra})


class UserListCreateApi(_Base):
    """Users, filtered by ``search`` (username or name), ``role``, ``team``, ``is_active``."""

    creates = True
    filter_backends = []  # the selector filters; the queryset is fixed-query

    @extend_schema_serializer(component_name="ManagedUserFilter")
    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=100)
        role = serializers.ChoiceField(choices=[], required=False, allow_blank=True)
        team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False)
        is_active = serializers.BooleanField(required=False, allow_null=True, default=None)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["role"].choices = [code for code, _label in selectors.role_choices()]

    @extend_schema_serializer(component_name="ManagedUserCreate")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        role = serializers.ChoiceField(choices=[])
        team = serializers.PrimaryKeyRelatedField(
            queryset=Team.objects.all(), required=False, allow_null=True
        )
        send_link = serializers.BooleanField(required=False, default=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["role"].choices = [code for code, _label in selectors.role_choices()]

        def validate(self, attrs):
            if attrs.get("send_link") and not attrs.get("email"):
                raise serializers.ValidationError(
                    {"email": [_("A set-password link needs an e-mail address.")]}
                )
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses=UserOutput(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        queryset = selectors.user_list(
            search=data.get("search", ""),
            role=data.get("role", ""),
            team=data.get("team"),
            active=data.get("is_active"),
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(UserOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: _UserDetailOutput})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        send_link = values.pop("send_link")
        user = services.user_create(
            actor=request.user,
            password=None,
            **{k: v for k, v in values.items() if v is not None or k == "team"},
        )
        if send_link:
            services.user_password_reset_send(actor=request.user, user=user)
        response = self.detail(user.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    def idempotent_replay(self, request, resource_id):
        return self.detail(int(resource_id))


class UserDetailApi(_Base):
    """One user; PATCH changes name, e-mail, team and roles (roles through separation of
    duties: a high-trust role comes back in ``pending_roles``)."""

    @extend_schema_serializer(component_name="ManagedUserUpdate")
    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        team = serializers.PrimaryKeyRelatedField(
            queryset=Team.objects.all(), required=False, allow_null=True
        )
        roles = serializers.ListField(child=serializers.ChoiceField(choices=[]), required=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["roles"].child.choices = [c for c, _label in selectors.role_choices()]

    @extend_schema(responses=_UserDetailOutput)
    def get(self, request, pk):
        return self.detail(pk)

    @extend_schema(request=InputSerializer, responses=_UserDetailOutput)
    def patch(self, request, pk):
        user = self.get_subject(pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.user_update(actor=request.user, user=user, data=dict(data.validated_data))
        return self.detail(pk)


class UserDeactivateApi(_Base):
    """Deactivate a user, handing what they hold (customer cards, open complaints, the teams
    they manage) to ``successor``, with an optional ``reason`` kept on every event."""

    @extend_schema_serializer(component_name="ManagedUserDeactivate")
    class InputSerializer(serializers.Serializer):
        successor = serializers.PrimaryKeyRelatedField(
            queryset=User.objects.all(), required=False, allow_null=True
        )
        reason = serializers.CharField(required=False, allow_blank=True, max_length=200)

    @extend_schema(request=InputSerializer, responses=_UserDetailOutput)
    def post(self, request, pk):
        user = self.get_subject(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.user_deactivate(
            actor=request.user,
            user=user,
            successor=data.validated_data.get("successor"),
            reason=data.validated_data.get("reason", ""),
        )
        return self.detail(pk, handed_over=moved)


class UserReactivateApi(_Base):
    @extend_schema(request=None, responses=_UserDetailOutput)
    def post(self, request, pk):
        services.user_reactivate(actor=request.user, user=self.get_subject(pk))
        return self.detail(pk)


class UserPasswordResetApi(_Base):
    """E-mail the user a one-time set-password link (and end his sessions): 202."""

    @extend_schema(request=None, responses={202: None})
    def post(self, request, pk):
        services.user_password_reset_send(actor=request.user, user=self.get_subject(pk))
        return Response(
            {"detail": _("A link to set a new password was e-mailed to the user.")},
            status=status.HTTP_202_ACCEPTED,
        )
