"""``/api/v1/auth/``: tokens (issue, list, revoke) and sign-out everywhere."""

from django.contrib.auth import authenticate, get_user_model
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import request_context
from crm.api.pagination import PageNumberPagination
from crm.security import lockout, services, tokens, twofactor


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token (``Authorization: Token …``).

    The token is stored hashed and expires (``CRM_TOKEN_TTL_HOURS``). Failed attempts count
    towards the sign-in lockout; a locked account or address gets 429. A user who must sign
    in with two factors sends the current code in ``otp`` too.
    """

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []  # rate-limited per client address by security.middleware

    @extend_schema_serializer(component_name="TokenInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            style={"input_type": "password"}, trim_whitespace=False, max_length=4096
        )
        otp = serializers.CharField(
            required=False,
            max_length=20,
            help_text=_("Two-factor code (or a recovery code), for roles that need one."),
        )

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("TokenOutput", {"token": serializers.CharField()}),
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return lockout.lockout_response(request._request)
        if user is None:
            # authenticate() already recorded the failed sign-in.
            return Response(
                {"detail": _("Unable to sign in with the username and password given.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if twofactor.required_for(user):
            if not twofactor.has_device(user):
                message = _(
                    "Your role needs two-factor sign-in: set it up on the security page first."
                )
                return Response({"otp": [message]}, status=status.HTTP_400_BAD_REQUEST)
            if twofactor.verify(user=user, code=data.validated_data.get("otp", "")) is None:
                return Response(
                    {"otp": [_("A valid two-factor code is required for your role.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        _token, key = tokens.token_issue(user=user, ip_address=request_context.client_ip(request))
        return Response({"token": key})


@extend_schema_serializer(component_name="ApiToken")
class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_live = serializers.BooleanField()
    is_current = serializers.SerializerMethodField()

    def get_is_current(self, token) -> bool:
        current = self.context.get("current")
        return current is not None and current.pk == token.pk


class TokenListApi(APIView):
    """Your API tokens (never their keys); an admin lists another user's with ``?user=``."""

    permission_classes = [IsAuthenticated]
    OutputSerializer = TokenOutput

    @extend_schema(
        parameters=[OpenApiParameter("user", int, required=False)],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        user = request.user
        user_id = request.query_params.get("user")
        if user_id:
            if not user_id.isascii() or not user_id.isdigit():
                return Response({"user": [_("A user id is a number.")]}, status=400)
            user = get_user_model().objects.filter(pk=int(user_id)).first()
            if user is None:
                return Response({"detail": _("Not found.")}, status=404)
        rows = tokens.token_list(actor=request.user, user=user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        context = {"current": request.auth if hasattr(request.auth, "pk") else None}
        return paginator.get_paginated_response(
            self.OutputSerializer(page, many=True, context=context).data
        )


class TokenRevokeApi(APIView):
    """Revoke one token at once: its owner or an admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        tokens.token_revoke(actor=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereApi(APIView):
    """End all your sessions and revoke all your API tokens, this one included."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "SignOutEverywhereOutput",
            {"sessions": serializers.IntegerField(), "tokens": serializers.IntegerField()},
        ),
    )
    def post(self, request):
        counts = services.sign_out_everywhere(actor=request.user, user=request.user)
        # This request's own session was one of those ended: drop it instead of letting the
        # session middleware save it again (a deleted session saved is a 400, not a sign-out).
        request.session.flush()
        return Response(counts)


urlpatterns = [
    path("token/", TokenObtainApi.as_view(), name="api-token"),
    path("tokens/", TokenListApi.as_view(), name="api-token-list"),
    path("tokens/<int:pk>/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("sign-out-everywhere/", SignOutEverywhereApi.as_view(), name="api-sign-out-everywhere"),
]
