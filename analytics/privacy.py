"""The analytics app's privacy provider (``crm.privacy``).

Sales lines, stock snapshots and purchase estimates hold no personal data: they are the
business facts a purge keeps against the anonymous card. The provider only says when the
customer last traded, for the retention rule "no trading for N years".
"""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils import timezone

from crm import privacy


def last_activity(customer):
    from analytics.models import SalesLine

    day = SalesLine.objects.filter(customer=customer).aggregate(day=Max("date"))["day"]
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def register() -> None:
    privacy.register(privacy.Provider(app="analytics", models=(), last_activity=last_activity))
