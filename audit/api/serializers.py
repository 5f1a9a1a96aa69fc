from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventOutputSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    action_label = serializers.CharField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "occurred_at",
            "actor",
            "actor_username",
            "action",
            "action_label",
            "object_type",
            "object_id",
            "reason",
            "ip_address",
            "user_agent",
            "data",
            "previous_hash",
            "hash",
        ]
        read_only_fields = fields

    def get_object_type(self, event) -> str | None:
        ct = event.content_type
        return f"{ct.app_label}.{ct.model}" if ct else None
