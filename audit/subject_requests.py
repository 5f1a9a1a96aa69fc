"""Subject requests (PIPL arts. 44–47, issue 12 item 4): access, correction, deletion,
consent withdrawal; each with a due date, a handler and the record of what was done.

The access package is built from every app's privacy provider (``crm.privacy``), so it
holds every category of data held on the person, including consents and who accessed the
data (the audit provider). A deletion is the purge of one customer
(``audit.retention.customer_purge``), refused with the providers' reasons while matters
are open.
"""

from __future__ import annotations

import datetime
import io
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events, retention
from audit.models import DestructionRecord, PurgedSubject, SubjectRequest
from audit.services import record_event
from crm import notifications, privacy

OVERDUE_CODE = "audit.request_overdue"


def _require(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied


def due_days() -> int:
    return int(settings.PRIVACY.get("REQUEST_DUE_DAYS", 15))


def subject_request_open(
    *,
    actor,
    customer,
    kind: str,
    details: str = "",
    received_on: datetime.date | None = None,
    handler=None,
) -> SubjectRequest:
    """Register a request; it is due ``PRIVACY_REQUEST_DUE_DAYS`` after it was received."""
    _require(actor, "audit.add_subjectrequest")
    if kind not in SubjectRequest.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of request.")})
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("The request cannot be received in the future.")})
    # A request about a customer already purged (the person asks what is left) is kept
    # under the master key: the customer's data key no longer exists.
    purged = PurgedSubject.objects.filter(customer_id=customer.pk).exists()
    with transaction.atomic():
        request = SubjectRequest(
            kind=kind,
            customer_id=customer.pk,
            customer_code=customer.code,
            subject_key_id=None if purged else customer.data_key_id,
            received_on=received_on,
            due_on=received_on + datetime.timedelta(days=due_days()),
            handler=handler or actor,
        )
        request.details = (details or "").strip()
        request.save()
        record_event(
            action=events.SUBJECT_REQUEST_OPENED,
            actor=actor,
            obj=customer,
            data={"request": request.pk, "kind": kind},
        )
    return request


def subject_request_close(
    *, actor, request_id: int, outcome: str, refused: bool = False
) -> SubjectRequest:
    """Close a request with what was done (or why it was refused).

    A deletion request is done by purging the customer: refused (``ValidationError`` with
    the providers' reasons) while receivables, holds or complaints are open.
    """
    _require(actor, "audit.change_subjectrequest")
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("Say what was done.")})
    request = SubjectRequest.objects.get(pk=request_id)
    if request.status != SubjectRequest.Status.OPEN:
        raise ValidationError({"status": _("This request is closed already.")})
    result = {}
    if request.kind == SubjectRequest.Kind.DELETION and not refused:
        customer = privacy.subject_model().objects.get(pk=request.customer_id)
        purged = PurgedSubject.objects.filter(customer_id=customer.pk).first()
        if purged is None:
            reasons = retention.deletion_refusals(customer)
            if reasons:
                raise ValidationError({"outcome": reasons})
            record = retention.customer_purge(actor=actor, customer=customer)
        else:
            # Purged already (a run of this close that stopped before the request was
            # closed, or the retention job): finish that purge and close with its record.
            retention.purge_resume()
            record = DestructionRecord.objects.get(pk=purged.record_id)
        result = {"destruction_record": record.pk, "counts": record.counts}
    with transaction.atomic():
        request = SubjectRequest.objects.select_for_update().get(pk=request_id)
        request.status = SubjectRequest.Status.REFUSED if refused else SubjectRequest.Status.DONE
        request.completed_at = timezone.now()
        # After a purge the customer's key is gone: the note is kept under the master key.
        if result:
            request.subject_key_id = None
        request.outcome = outcome.strip()
        request.result = {
            **request.result,
            **result,
            "on_time": request.completed_at.date() <= request.due_on,
        }
        request.save()
        record_event(
            action=events.SUBJECT_REQUEST_CLOSED,
            actor=actor,
            content_type=retention._customer_content_type(),
            object_id=request.customer_id,
            data={
                "request": request.pk,
                "kind": request.kind,
                "status": request.status,
                "on_time": request.result["on_time"],
            },
        )
    return request


def subject_request_list(*, user):
    if not user.has_perm("audit.view_subjectrequest"):
        return SubjectRequest.objects.none()
    return SubjectRequest.objects.select_related("handler").preload_keys()


def overdue_requests():
    return SubjectRequest.objects.filter(
        status=SubjectRequest.Status.OPEN, due_on__lt=timezone.localdate()
    )


# --- the access package ---------------------------------------------------------------------


def access_package(*, actor, customer, request: SubjectRequest | None = None) -> dict:
    """Everything held on the customer, in clear, across all apps (audited)."""
    _require(actor, "audit.change_subjectrequest")
    if retention.is_purged(customer.pk):
        raise ValidationError({"customer": _("This customer was purged: nothing is held.")})
    data = privacy.export(customer)
    package = {
        "customer": customer.code,
        "generated_at": timezone.now().isoformat(),
        "request": request.pk if request else None,
        "categories": {
            label: rows for app_rows in data.values() for label, rows in app_rows.items()
        },
    }
    record_event(
        action=events.SUBJECT_ACCESS_PACKAGE,
        actor=actor,
        obj=customer,
        data={
            "request": request.pk if request else None,
            "rows": {label: len(rows) for label, rows in package["categories"].items()},
        },
    )
    return package


def package_json(package: dict) -> bytes:
    return json.dumps(package, ensure_ascii=False, indent=2, default=str).encode()


def package_xlsx(package: dict) -> bytes:
    """One sheet per category; the first sheet says whose package it is and when."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "package"
    summary.append([_("Customer"), package["customer"]])
    summary.append([_("Generated at"), package["generated_at"]])
    for label, rows in package["categories"].items():
        sheet = book.create_sheet(title=label.replace(".", "_")[:31])
        columns = sorted({key for row in rows for key in row}) or ["—"]
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(column)) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    if value is None or isinstance(value, int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


# --- overdue ----------------------------------------------------------------------------------


def subject_requests_notify_overdue() -> int:
    """Tell the handler and the DPOs once, the day after a request fell due (daily task)."""
    from crm import roles
    from crm.models import User

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    dpos = list(User.objects.filter(groups__name=roles.DPO, is_active=True))
    sent = 0
    for request in SubjectRequest.objects.filter(
        status=SubjectRequest.Status.OPEN, due_on=yesterday
    ):
        with transaction.atomic():
            notifications.notify(
                code=OVERDUE_CODE,
                recipients=[request.handler, *dpos],
                params={"request": request.pk, "customer": request.customer_code},
                link=f"/audit/requests/{request.pk}/",
            )
        sent += 1
    return sent
