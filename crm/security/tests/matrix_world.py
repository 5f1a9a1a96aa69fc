"""The one set of people and objects the authorisation matrix (and the pages checks built on
it) request every URL with (issue 14 items 5 and 10).

``build_world()`` makes, through the apps' services and factories where they exist:

* the cast: an owning rep and his team's manager (team North), a rep and a manager of team
  South, a rep with an explicit read grant on the customer ("grantee"), a general manager,
  service staff, a service manager, a DPO, an auditor and an admin;
* one customer owned by the owning rep (an organisation with an open account and a limit)
  and the records every URL names: its consent, grant, complaint, credit account, limit
  request, order, hold, note, invoice, condition; a prospect on the owner's visit plan; an
  import, export, notification and API token of the owner; a campaign, a report run,
  the DPO's subject request and legal hold, a destruction record, an access alert, a
  pending role change, a calendar day.

``ROLES`` names the roles in the order the policy table lists them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm import roles
from crm.tests.factories import UserFactory

ROLES = (
    "anonymous",
    "other_rep",  # a rep of another team
    "owner",  # the customer's owning rep
    "grantee",  # a rep of no team holding a read grant on the customer
    "manager",  # the manager of the owner's team
    "other_manager",  # the manager of another team
    "gm",
    "service",
    "service_manager",
    "dpo",
    "auditor",
    "admin",
)


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> user (anonymous absent)
    values: dict = field(default_factory=dict)  # object key -> URL value


def build_world() -> World:
    from analytics.models import ReportRun
    from audit import retention, subject_requests
    from audit import services as audit
    from audit.models import AccessAlert, AuditEvent, DestructionRecord, RetentionPolicy
    from complaints.models import CalendarDay
    from complaints.tests.factories import make_complaint
    from credit import services as credit
    from credit.models import AccountCondition, CreditAccount
    from credit.tests.factories import complete_organisation, invoice, open_account, people
    from crm.models import ExportJob, Notification
    from crm.security.models import RoleChange
    from crm.security.tokens import token_issue
    from customers import services as customers
    from customers.models import BusinessType, ServiceStage, Tier
    from customers.services.campaigns import campaign_create, unsubscribe_token
    from customers.services.import_jobs import import_job_create
    from customers.tests.factories import make_customer

    cast = people()
    world = World()
    world.users = {
        "other_rep": cast["south_rep"],
        "owner": cast["owner"],
        "grantee": UserFactory(role=roles.SALES_REP, username="matrix-grantee"),
        "manager": cast["north_manager"],
        "other_manager": cast["south_manager"],
        "gm": cast["gm"],
        "service": cast["service"],
        "service_manager": UserFactory(role=roles.SERVICE_MANAGER, username="matrix-svc-mgr"),
        "dpo": cast["dpo"],
        "auditor": cast["auditor"],
        "admin": cast["admin"],
    }
    owner, manager, gm, dpo = cast["owner"], cast["north_manager"], cast["gm"], cast["dpo"]

    customer = complete_organisation(owner)
    open_account(customer, cast)
    limit = credit.limit_request(
        actor=owner, customer=customer, amount=Decimal("50000.00"), justification="matrix"
    )
    grant = customers.customer_access_grant(
        actor=owner, customer=customer, user=world.users["grantee"], reason="matrix"
    )
    consent = customers.consent_record(
        actor=owner,
        customer=customer,
        purpose="marketing",
        scope="matrix",
        channel="paper",
        policy_version="1",
    )
    prospect = make_customer(owner)
    visit = customers.visit_plan_add(actor=owner, customer=prospect)
    complaint = make_complaint(actor=cast["service"], customer=customer)
    order = credit.order_create(
        actor=owner, customer=customer, amount=Decimal("10.00"), reference="M-1"
    )
    hold = credit.hold_place(actor=owner, customer=customer, reason="matrix")
    today = timezone.localdate()
    note = credit.note_record(
        actor=manager,
        customer=customer,
        kind="cheque",
        amount=Decimal("100.00"),
        received_on=today,
        due_on=today + datetime.timedelta(days=30),
    )
    bill = invoice(customer, manager)
    account = CreditAccount.objects.get(customer=customer)
    condition = AccountCondition.objects.filter(account=account).first()
    if condition is None:
        condition = AccountCondition.objects.create(
            customer=customer,
            data_key_id=customer.data_key_id,
            account=account,
            kind="deposit",
            added_by=manager,
        )
    upload = SimpleUploadedFile("m.csv", b"name,kind\n", content_type="text/csv")
    import_job = import_job_create(actor=owner, upload=upload, target="customers", dry_run=True)
    export_job = ExportJob.objects.create(target="customers", file_format="csv", owner=owner)
    notification = Notification.objects.create(
        recipient=owner, code="audit.request_overdue", params={}
    )
    token, _key = token_issue(user=owner)
    campaign = campaign_create(
        actor=manager, name="Matrix", kind="newsletter", subject="Hello", body="Body"
    )
    run = ReportRun.objects.create(period=datetime.date(2026, 1, 1), requested_by=gm)
    request = subject_requests.subject_request_open(
        actor=dpo, customer=customer, kind="access", details="matrix"
    )
    legal_hold = retention.legal_hold_place(actor=dpo, customer=customer, reason="matrix")
    record = DestructionRecord.objects.create(trigger="command", job="matrix", actor=dpo)
    alert = AccessAlert.objects.create(
        user=owner,
        kind="reveal",
        window="day",
        window_start=timezone.now(),
        limit=10,
        count=11,
    )
    policy = RetentionPolicy.objects.order_by("pk").first() or RetentionPolicy.objects.create(
        category="customer", years=5
    )
    role_change = RoleChange.objects.create(
        user=cast["south_rep"], role=roles.GENERAL_MANAGER, requested_by=cast["admin"]
    )
    day = CalendarDay.objects.create(date=datetime.date(2026, 10, 1), kind="holiday")

    # Objects of the endpoints added with investigations, surveys, estimates, incidents and
    # saved views (their services, as the pages would call them).
    from analytics.services import purchase_estimate_save
    from audit.incidents import incident_create
    from complaints.models import Survey, SurveyInvitation
    from complaints.services import survey_token
    from credit.services.attachments import attachment_add
    from credit.services.investigations import investigation_record
    from customers.models import SavedView

    investigation = investigation_record(
        actor=owner, customer=customer, source="bank", kind="daily", operator="matrix"
    )
    pdf = SimpleUploadedFile("m.pdf", b"%PDF-1.4\n%matrix\n", content_type="application/pdf")
    attachment = attachment_add(actor=owner, investigation=investigation, upload=pdf)
    estimate = purchase_estimate_save(
        actor=owner, customer=customer, year=2025, amount=Decimal("90000.00"), source="asked"
    )
    incident = incident_create(
        actor=dpo,
        summary="matrix",
        detected_at=timezone.now(),
        severity="low",
        customers=[customer],
    )
    survey = Survey.objects.create(name="matrix", period="monthly", question="matrix?")
    invitation = SurveyInvitation.objects.create(
        survey=survey, round="2026-01", customer=customer, data_key_id=customer.data_key_id
    )
    saved_view = SavedView.objects.create(user=owner, name="matrix", filters={"status": "active"})
    # User administration (crm.users): a rep holding no card, and his set-password link.
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_encode

    leaver = UserFactory(role=roles.SALES_REP, username="matrix-leaver")

    audit.audit_chain_extend()  # events get their sequence numbers (the API's URLs)
    world.values = {
        "customer": customer.pk,
        "customer_code": customer.code,
        "prospect": prospect.pk,
        "tab": "contacts",
        "consent": consent.pk,
        "grant": grant.pk,
        "visit": visit.pk,
        "complaint": complaint.pk,
        "complaint_action": "note",
        "account": account.pk,
        "condition": condition.pk,
        "limit": limit.pk,
        "order": order.pk,
        "hold": hold.pk,
        "note": note.pk,
        "invoice": bill.pk,
        "import": import_job.pk,
        "export": export_job.pk,
        "notification": notification.pk,
        "token": token.pk,
        "campaign": campaign.pk,
        "unsubscribe": unsubscribe_token(customer, campaign),
        "run": run.pk,
        "request": request.pk,
        "file_format": "json",
        "legal_hold": legal_hold.pk,
        "record": record.pk,
        "alert": alert.pk,
        "policy": policy.pk,
        "role_change": role_change.pk,
        "event": AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)[0],
        "day": day.date.isoformat(),
        "business_type": BusinessType.objects.order_by("pk").values_list("pk", flat=True)[0],
        "tier": Tier.objects.order_by("pk").values_list("pk", flat=True)[0],
        "stage": ServiceStage.objects.order_by("pk").values_list("pk", flat=True)[0],
        "team": customer.owner.team_id,
        "investigation": investigation.pk,
        "attachment": attachment.pk,
        "estimate": estimate.pk,
        "incident": incident.pk,
        "survey": survey.pk,
        "survey_token": survey_token(invitation),
        "saved_view": saved_view.pk,
        "user": leaver.pk,
        "user_uid": urlsafe_base64_encode(str(leaver.pk).encode()),
        "reset_token": default_token_generator.make_token(leaver),
    }
    return world
