"""Output shapes shared by the complaints API's modules. Personal values are masked, except
the description for those who work the complaint."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from complaints import permissions as perms
from crm import personal_data
from customers import permissions as customer_perms


class CustomerSummaryOutput(serializers.Serializer):
    """The masked card summary a caller look-up answers."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    business_type = serializers.CharField(source="business_type.code")

    def get_name(self, customer) -> str:
        return personal_data.masked_value(customer, "name")

    def get_phone(self, customer) -> str:
        return personal_data.masked_value(customer, "phone")


class ComplaintListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    customer_code = serializers.SerializerMethodField()
    channel = serializers.CharField()
    category = serializers.CharField(source="category.code")
    severity = serializers.CharField()
    received_at = serializers.DateTimeField()
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    first_response_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    is_repeat = serializers.BooleanField()
    repeat_of = serializers.IntegerField(source="repeat_of_id", allow_null=True)

    def get_customer_code(self, complaint) -> str | None:
        return complaint.customer.code if complaint.customer_id else None

    def get_overdue(self, complaint) -> bool:
        return complaint.overdue(timezone.now())


class ComplaintDetailOutput(ComplaintListOutput):
    version = serializers.IntegerField(read_only=True)
    caller_name = serializers.SerializerMethodField()
    caller_phone = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    received_by = serializers.IntegerField(source="received_by_id")
    first_responded_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    first_response_hours = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    resolution_hours = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    first_response_escalated_at = serializers.DateTimeField(allow_null=True)
    resolution_escalated_at = serializers.DateTimeField(allow_null=True)
    root_cause = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()
    customer_informed_at = serializers.DateTimeField(allow_null=True)
    customer_informed_how = serializers.CharField()
    satisfaction_score = serializers.IntegerField(allow_null=True)

    def _works_it(self, complaint) -> bool:
        user = self.context["request"].user
        if perms.can_act(user, complaint):
            return True
        return complaint.customer_id is not None and customer_perms.can_reveal(
            user, complaint.customer
        )

    def _shown(self, complaint, field: str) -> str:
        if self._works_it(complaint):
            return personal_data.shown_value(getattr(complaint, field))
        return personal_data.masked_value(complaint, field)

    def get_caller_name(self, complaint) -> str:
        return personal_data.masked_value(complaint, "caller_name")

    def get_caller_phone(self, complaint) -> str:
        return personal_data.masked_value(complaint, "caller_phone")

    def get_description(self, complaint) -> str:
        return self._shown(complaint, "description")

    def get_resolution(self, complaint) -> str:
        return self._shown(complaint, "resolution")

    def get_root_cause(self, complaint) -> str | None:
        return complaint.root_cause.code if complaint.root_cause_id else None


class ComplaintCreatedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.CharField()
    first_response_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    is_repeat = serializers.BooleanField()
    repeat_of = serializers.IntegerField(source="repeat_of_id", allow_null=True)
