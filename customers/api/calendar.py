"""``GET /api/v1/customers/calendar/?start=&end=``: the follow-up calendar's entries
(issue 13 item 4) — follow-ups due and planned visits of the cards the caller may see.

Ids and codes only (no name: nothing personal). At most 62 days a request (400 beyond);
without dates, the current week. At most ``PER_DAY`` entries a day of each kind; a day with
more says how many were left out in ``more``. A planned visit on a past day is
``not_recorded``. A range that holds today also gives what is overdue from before its
start (``overdue_before_range``, the ``OVERDUE_LIMIT`` oldest, and how many in all in
``overdue_before_range_count``): the follow-ups not done (kind ``follow_up``, ``overdue``)
and the planned visits not recorded (kind ``visit``, ``not_recorded``); otherwise that list
is empty and the count 0.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import calendar as cal
from customers import selectors
from customers.api.permissions import CanViewCustomers

PER_DAY = 100
OVERDUE_LIMIT = 100


class CalendarQuery(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    owner = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    team = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    def validate(self, attrs):
        today = timezone.localdate()
        for name in ("start", "end"):
            if name in attrs and not cal.in_range(attrs[name]):
                raise serializers.ValidationError({name: [_("This date is out of range.")]})
        start = attrs.get("start") or cal.week_start(attrs.get("end") or today)
        end = attrs.get("end") or start + datetime.timedelta(days=6)
        if end < start:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        if (end - start).days + 1 > cal.MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"end": [_("At most %(days)d days at a time.") % {"days": cal.MAX_RANGE_DAYS}]}
            )
        return {**attrs, "start": start, "end": end}


class CalendarEntryOutput(serializers.Serializer):
    customer = serializers.IntegerField(source="customer_id")
    code = serializers.CharField(source="customer.code")
    kind = serializers.ChoiceField(choices=["follow_up", "visit"])
    date = serializers.DateField(source="day")
    owner = serializers.IntegerField(source="owner.pk", allow_null=True)
    overdue = serializers.BooleanField()
    not_recorded = serializers.BooleanField()


class CalendarOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    entries = CalendarEntryOutput(many=True)
    more = serializers.DictField(child=serializers.IntegerField())
    overdue_before_range = CalendarEntryOutput(many=True)
    overdue_before_range_count = serializers.IntegerField()


class CustomerCalendarApi(APIView):
    """Follow-ups due (not done; ``overdue`` before today) and planned visits (on a past
    day ``not_recorded``), by date; with a range holding today, what is overdue from before
    it (``overdue_before_range``, oldest first, and ``overdue_before_range_count``, both
    kinds): the follow-ups not done (kind ``follow_up``, ``overdue`` true) and the planned
    visits not recorded (kind ``visit``, ``not_recorded`` true, ``owner`` the visiting rep).

    ``owner``: a card's owner (follow-ups) or the visiting rep (visits); ``team``: theirs.
    Only the cards the caller may see, as in the customer list.
    """

    permission_classes = [IsAuthenticated, CanViewCustomers]

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
            OpenApiParameter("owner", OpenApiTypes.INT),
            OpenApiParameter("team", OpenApiTypes.INT),
        ],
        responses=CalendarOutput,
    )
    def get(self, request):
        query = CalendarQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        today = timezone.localdate()
        found = selectors.follow_up_calendar(
            request.user,
            start=data["start"],
            end=data["end"],
            today=today,
            owner_id=data.get("owner"),
            team_id=data.get("team"),
            per_day=PER_DAY,
            names=False,
        )
        overdue = cal.Overdue(entries=[], total=0)
        if cal.shows_overdue_before(data["start"], data["end"], today):
            overdue = selectors.follow_up_overdue_before(
                request.user,
                before=data["start"],
                today=today,
                owner_id=data.get("owner"),
                team_id=data.get("team"),
                limit=OVERDUE_LIMIT,
            )
        entries = [entry for day in sorted(found) for entry in found[day][0]]
        more = {day.isoformat(): found[day][1] for day in sorted(found) if found[day][1]}
        output = {
            "start": data["start"],
            "end": data["end"],
            "entries": entries,
            "more": more,
            "overdue_before_range": overdue.entries,
            "overdue_before_range_count": overdue.total,
        }
        return Response(CalendarOutput(output).data)
