"""Shared pieces of the analytics API: report query parameters and decimal strings."""

from __future__ import annotations

from rest_framework import serializers

from analytics import selectors


def amount(**kwargs) -> serializers.DecimalField:
    """An amount or a percentage as a decimal string with two places (``"25.00"``)."""
    return serializers.DecimalField(
        max_digits=24, decimal_places=2, coerce_to_string=True, allow_null=True, **kwargs
    )


class ReportQuery(serializers.Serializer):
    """The query parameters every report takes."""

    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    business_type = serializers.IntegerField(required=False, allow_null=True, default=None)
    rep = serializers.IntegerField(required=False, allow_null=True, default=None)
    team = serializers.IntegerField(required=False, allow_null=True, default=None)


class CustomerReportQuery(ReportQuery):
    customer = serializers.IntegerField(required=False, allow_null=True, default=None)


def scope_from_query(request, serializer_class):
    data = serializer_class(data=request.query_params)
    data.is_valid(raise_exception=True)
    return selectors.report_scope(user=request.user, **data.validated_data)
