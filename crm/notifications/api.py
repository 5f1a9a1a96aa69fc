"""``/api/v1/notifications/``: the signed-in user's own notifications and marking them read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm import notifications
from crm.models import Notification


class NotificationOutputSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "code", "params", "text", "link", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_text(self, row) -> str:
        return notifications.text_of(row)

    def get_is_read(self, row) -> bool:
        return row.read_at is not None


class NotificationListApi(GenericAPIView):
    """The caller's notifications, newest first; ``?unread=true`` for the unread ones."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOutputSerializer

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return notifications.notification_list(user=self.request.user, unread_only=unread)

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class NotificationsReadApi(GenericAPIView):
    """Mark notifications read: the listed ``ids`` (the caller's own), or all with none."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, max_length=1000
        )

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("NotificationsRead", {"marked": serializers.IntegerField()}),
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications.notifications_mark_read(
            user=request.user, ids=data.validated_data.get("ids")
        )
        return Response({"marked": marked})
