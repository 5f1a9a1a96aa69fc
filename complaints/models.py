"""Complaints: data and the invariants that need no other object (DESIGN §6.4).

A complaint (or an inquiry) is about a customer, or about a caller who is not a customer
yet: then the caller's name and phone are kept encrypted on the complaint itself, under a
data key of the complaint's own (``data_key_id``), so that the caller can be shredded
alone; linking the complaint to a card later re-encrypts its values under the card's key
and destroys the caller's key. A complaint about a customer copies the customer's data
key, like the customers app's records do, so its values are shredded with the customer.

Deadlines count business hours on a working calendar kept as data (``WorkingPeriod``,
``CalendarDay``); ``complaints.sla`` computes them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.fields import EncryptedCharField, EncryptedTextField
from crm.models import BusinessModel, EncryptedRow
from crm.querysets import KeyPreloadingQuerySet
from customers.models import ReferenceData

KEY = "data_key_id"


class Category(ReferenceData):
    """What a complaint is about (admin-editable list)."""

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["name"]


class RootCause(ReferenceData):
    """Why it happened, found by the investigation (admin-editable list)."""

    class Meta:
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")
        ordering = ["name"]


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    ONLINE = "online", _("Online")
    IN_STORE = "in_store", _("In store")


class SlaPolicy(BusinessModel):
    """First-response and resolution deadlines of one severity (admin-editable)."""

    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, unique=True)
    first_response_hours = models.DecimalField(
        _("first response within (hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    resolution_hours = models.DecimalField(
        _("resolution within (hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    calendar_hours = models.BooleanField(
        _("count calendar hours"),
        default=False,
        help_text=_("Count every hour of the day instead of business hours."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["severity"]

    def __str__(self):
        return str(self.get_severity_display())


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingPeriod(BusinessModel):
    """A span of working hours on a weekday (several per day: a lunch break between)."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="working_period_order"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(BusinessModel):
    """An exception to the weekly hours: a public holiday, or a make-up working day (调休),
    which has the working hours of ``hours_of``."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    hours_of = models.PositiveSmallIntegerField(
        _("working hours of"), choices=Weekday.choices, default=Weekday.MONDAY
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class Complaint(EncryptedRow, BusinessModel):
    """A complaint or inquiry (受理) and its handling, from receipt to closure."""

    # Subject access and purge reach it through its customer (a caller not yet a customer
    # has the complaint's own data key, shredded with it).
    personal_data_subject = "customer"

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        INQUIRY = "inquiry", _("Inquiry")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Investigating")
        RESOLVED = "resolved", _("Resolved")
        CUSTOMER_INFORMED = "customer_informed", _("Customer informed")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMPLAINT)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    data_key_id = models.UUIDField(editable=False)
    caller_name = EncryptedCharField(
        _("caller's name"), max_length=100, subject_key_field=KEY, mask="name"
    )
    caller_phone = EncryptedCharField(
        _("caller's phone"), max_length=30, subject_key_field=KEY, mask="phone"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    description = EncryptedTextField(_("description"), subject_key_field=KEY, mask="text")
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_complaints",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # The guardian grant this complaint gave its assignee on the card (revoked on close
    # and on reassignment); none when the assignee already held one of his own.
    access_grant_id = models.BigIntegerField(null=True, blank=True, editable=False)

    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Business hours the steps took (on the calendar at the time), for the reports.
    first_response_hours = models.DecimalField(
        _("hours to first response"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    resolution_hours = models.DecimalField(
        _("hours to resolution"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    first_response_escalated_at = models.DateTimeField(
        _("first response escalated at"), null=True, blank=True
    )
    resolution_escalated_at = models.DateTimeField(
        _("resolution escalated at"), null=True, blank=True
    )

    root_cause = models.ForeignKey(
        RootCause, verbose_name=_("root cause"), on_delete=models.PROTECT, null=True, blank=True
    )
    resolution = EncryptedTextField(_("resolution"), subject_key_field=KEY, mask="text")
    customer_informed_at = models.DateTimeField(_("customer told on"), null=True, blank=True)
    customer_informed_how = models.CharField(
        _("customer told by"), max_length=20, choices=Channel.choices, blank=True
    )
    return_visit_skip_reason = EncryptedCharField(
        _("why no return visit"), max_length=300, subject_key_field=KEY, mask="text"
    )
    satisfaction_score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    satisfaction_comment = EncryptedTextField(
        _("satisfaction comment"), subject_key_field=KEY, mask="text"
    )
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
    )
    is_repeat = models.BooleanField(_("repeat complaint"), default=False)
    # The number the complaint had in the system it was imported from (historical import):
    # importing the same file again finds it and writes nothing twice.
    external_reference = models.CharField(
        _("external reference"), max_length=50, null=True, blank=True, unique=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = KeyPreloadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("handle_complaint", "Can work complaints in the service queue"),
            ("assign_complaint", "Can assign complaints to service staff"),
            ("view_all_complaints", "Can see every complaint"),
            ("lookup_caller", "Can look a caller up by exact phone, ID number or code"),
            ("view_complaint_reports", "Can see the service reports"),
            ("import_complaint", "Can import historical complaints from a file"),
        ]
        indexes = [
            models.Index(fields=["status", "assignee"], name="complaint_status_assignee_idx"),
            models.Index(
                fields=["customer", "category", "received_at"], name="complaint_repeat_idx"
            ),
            models.Index(fields=["status", "resolution_due"], name="complaint_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction_score__isnull=True)
                | models.Q(satisfaction_score__gte=1, satisfaction_score__lte=5),
                name="complaint_satisfaction_1_to_5",
            )
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def overdue(self, now=None) -> bool:
        now = now or timezone.now()
        if (
            self.status == self.Status.RECEIVED
            and self.first_response_due
            and self.first_response_due < now
        ):
            return True
        return bool(
            self.status in (self.Status.RECEIVED, self.Status.INVESTIGATING)
            and self.resolution_due
            and self.resolution_due < now
        )


class ComplaintEvent(EncryptedRow, BusinessModel):
    """One step on the complaint's own timeline: a move, an assignment, an escalation, a
    note of the investigation. The note is encrypted like the complaint's values."""

    personal_data_subject = "complaint__customer"

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        MOVED = "moved", _("Status changed")
        REOPENED = "reopened", _("Reopened")
        ASSIGNED = "assigned", _("Assigned")
        ESCALATED = "escalated", _("Escalated")
        NOTE = "note", _("Investigation note")
        LINKED = "linked", _("Linked to a customer card")
        RETURN_VISIT = "return_visit", _("Return visit")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="events"
    )
    data_key_id = models.UUIDField(editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The assignee, or whom an escalation went to."),
    )
    note = EncryptedTextField(_("note"), subject_key_field=KEY, mask="text")
    at = models.DateTimeField(_("when"), default=timezone.now)

    objects = KeyPreloadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.complaint_id} {self.kind}"


class ReturnVisit(EncryptedRow, BusinessModel):
    """The call back (回访) after resolution, scheduled on resolution, with its outcome."""

    personal_data_subject = "complaint__customer"

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        PARTLY = "partly", _("Partly satisfied")
        NOT_SATISFIED = "not_satisfied", _("Not satisfied")
        UNREACHABLE = "unreachable", _("Could not be reached")

    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="return_visits",
    )
    data_key_id = models.UUIDField(editable=False)
    scheduled_for = models.DateField(_("scheduled for"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    note = EncryptedTextField(_("note"), subject_key_field=KEY, mask="text")

    objects = KeyPreloadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["scheduled_for", "id"]

    def __str__(self):
        return f"{self.complaint_id} {self.scheduled_for}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


# --- satisfaction surveys --------------------------------------------------------------------


class Survey(BusinessModel):
    """A periodic satisfaction survey: each round (a month, a quarter or a year) invites every
    customer with a live consent for the survey purpose, once."""

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")

    name = models.CharField(_("name"), max_length=200)
    period = models.CharField(_("period"), max_length=20, choices=Period.choices)
    question = models.CharField(_("question"), max_length=300)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def round_of(self, day) -> str:
        """The round a date falls in: ``2026-11``, ``2026-Q4`` or ``2026``."""
        if self.period == self.Period.MONTHLY:
            return f"{day:%Y-%m}"
        if self.period == self.Period.QUARTERLY:
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year}"


class SurveyInvitation(EncryptedRow, BusinessModel):
    """One customer invited to one round of a survey (the invitation log), and the answer
    given through the signed link: a score 1–5 and a comment (encrypted under the
    customer's data key)."""

    personal_data_subject = "customer"

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="invitations"
    )
    round = models.CharField(_("round"), max_length=10)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    data_key_id = models.UUIDField(editable=False)
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.EMAIL
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("score (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = EncryptedTextField(_("comment"), subject_key_field=KEY, mask="text")

    objects = KeyPreloadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "round", "customer"], name="survey_invitation_once_a_round"
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="survey_invitation_score_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["responded_at"], name="survey_invitation_answer_idx")]

    def __str__(self):
        return f"{self.survey_id}/{self.round}/{self.customer_id}"

    @property
    def responded(self) -> bool:
        return self.responded_at is not None
