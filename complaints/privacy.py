"""The complaints app's privacy provider (``crm.privacy``): subject access and purge.

A complaint's description, notes and return-visit outcomes are personal text scrubbed with
the customer; its number, category, dates and status stay for the service reports. A
customer is not purged while one of his complaints is still open.
"""

from __future__ import annotations

from django.db.models import Max
from django.utils.translation import gettext as _

from crm import privacy

MODELS = (
    "complaints.complaint",
    "complaints.complaintevent",
    "complaints.returnvisit",
    "complaints.surveyinvitation",
)


def open_matters(customer) -> list[str]:
    from complaints.models import Complaint

    count = (
        Complaint.objects.filter(customer=customer).exclude(status=Complaint.Status.CLOSED).count()
    )
    if not count:
        return []
    return [_("%(count)s complaint(s) not yet closed.") % {"count": count}]


def last_activity(customer):
    from complaints.models import Complaint

    return Complaint.objects.filter(customer=customer).aggregate(at=Max("received_at"))["at"]


def register() -> None:
    privacy.register(
        privacy.Provider(
            app="complaints",
            models=MODELS,
            open_matters=open_matters,
            last_activity=last_activity,
        )
    )
