"""``/api/v1/complaints/calendar/…``: the working calendar's answer for a deadline, and
the admin's public holidays and make-up working days."""

from __future__ import annotations

import datetime

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import services, sla
from complaints.models import CalendarDay
from crm.permissions import require_perm


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise Http404(_("Not a date.")) from error


class CalendarDueApi(APIView):
    """When a deadline of ``hours`` business hours from ``start`` falls (``{due}``), for
    checking a deadline without creating a case; ``calendar_hours=true`` counts every hour."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        start = serializers.DateTimeField()
        hours = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)
        calendar_hours = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        due = serializers.DateTimeField()

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("hours", OpenApiTypes.DECIMAL, required=True),
            OpenApiParameter("calendar_hours", OpenApiTypes.BOOL),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        require_perm(request.user, "complaints.view_calendarday")
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        start = data.validated_data["start"]
        if timezone.is_naive(start):
            start = timezone.make_aware(start)
        try:
            due = sla.WorkingCalendar().add(
                start,
                data.validated_data["hours"],
                calendar_hours=data.validated_data["calendar_hours"],
            )
        except sla.NoWorkingHours as error:
            raise serializers.ValidationError(
                {"hours": [_("The working calendar has no working hours.")]}
            ) from error
        return Response(self.OutputSerializer({"due": due}).data)


class CalendarDayApi(APIView):
    """One date of the calendar (``YYYY-MM-DD``): ``GET`` it, ``PUT`` a public holiday or a
    make-up working day on it, ``DELETE`` the exception (admin)."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=CalendarDay.Kind.choices)
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        hours_of = serializers.IntegerField(min_value=0, max_value=6, required=False)

    class OutputSerializer(serializers.Serializer):
        date = serializers.DateField()
        kind = serializers.CharField()
        name = serializers.CharField()
        hours_of = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, day):
        require_perm(request.user, "complaints.view_calendarday")
        entry = CalendarDay.objects.filter(date=_date(day)).first()
        if entry is None:
            raise Http404(_("This date is an ordinary day."))
        return Response(self.OutputSerializer(entry).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, day):
        require_perm(request.user, "complaints.change_calendarday")
        date = _date(day)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.calendar_day_set(actor=request.user, date=date, **data.validated_data)
        return Response(self.OutputSerializer(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request, day):
        require_perm(request.user, "complaints.delete_calendarday")
        if not services.calendar_day_remove(actor=request.user, date=_date(day)):
            raise Http404(_("This date is an ordinary day."))
        return Response(status=status.HTTP_204_NO_CONTENT)
