from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventOutputSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    action_label = serializers.CharField(read_only=True)
    customer_code = serializers.SerializerMethodField()
    after_hours = serializers.SerializerMethodField()
    outside_team = serializers.SerializerMethodField()

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
            "customer_code",
            "after_hours",
            "outside_team",
        ]
        read_only_fields = fields

    def get_object_type(self, event) -> str | None:
        ct = event.content_type
        return f"{ct.app_label}.{ct.model}" if ct else None

    # Annotated by ``audit.selectors.with_flags`` on lists; absent on a single event.
    def get_customer_code(self, event) -> str | None:
        return getattr(event, "customer_code_ref", None)

    def get_after_hours(self, event) -> bool | None:
        return getattr(event, "after_hours", None)

    def get_outside_team(self, event) -> bool | None:
        return getattr(event, "outside_team", None)
