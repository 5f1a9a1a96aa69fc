"""The append-only, tamper-evident audit trail (DESIGN §3 "Access monitoring")."""

import datetime
import hashlib

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import events, keys
from crm import personal_data
from crm.fields import EncryptedTextField, raw_value
from crm.models import BusinessModel, EncryptedRow
from crm.querysets import KeyPreloadingQuerySet


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEventQuerySet(KeyPreloadingQuerySet, AppendOnlyQuerySet):
    key_field = "subject_key_id"  # ``preload_keys()``: a page's reasons with one key query

    def chain_link(self, *, sequence: int, previous_hash: str, hash: str) -> int:
        """The one write allowed after insert: giving a not-yet-chained event its place.

        Only ``audit.services.audit_chain_extend`` calls it; the database triggers allow
        exactly this (an unchained row gets its sequence and hashes, nothing else moves).
        """
        return models.QuerySet.update(
            self.filter(sequence__isnull=True),
            sequence=sequence,
            previous_hash=previous_hash,
            hash=hash,
        )


class AuditEvent(EncryptedRow):
    """One thing that happened: who did what to which object, why, from where, when.

    Written only by ``audit.services.record_event``, first *unchained* (no sequence, no
    hash) inside the caller's transaction, then chained right after that transaction
    commits: each event then carries the hash of the one before it (``sequence`` - 1),
    an HMAC under ``AUDIT_CHAIN_KEY``. ``manage.py verify_audit_chain`` recomputes the
    chain and checks it against the checkpoints kept in the keys database
    (``ChainCheckpoint``). Events hold ids and field *names*, never personal values.

    ``hash_scheme`` says how ``hash`` was computed. Events written before the chain was
    keyed keep their plain SHA-256 (``LEGACY_SHA256``): an event is never rewritten, and
    re-hashing them would be exactly the edit the chain exists to detect. They are still
    verified with the plain hash, and are anchored by the first checkpoint, which the
    checkpoint task or the first verification takes as soon as the new code runs: from
    then on a consistent re-hash of them changes the hash at that checkpoint's sequence.
    A legacy event after a keyed one, or after the first checkpoint, is reported as a
    downgrade.

    ``content_mac`` (keyed) is stamped at insert, so that the chainer links only rows the
    application wrote: a row slipped into the table unchained is never chained.
    """

    class HashScheme(models.IntegerChoices):
        LEGACY_SHA256 = 1, _("SHA-256 (before the chain was keyed)")
        HMAC_SHA256 = 2, _("HMAC-SHA256 under the audit chain key")

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True, null=True, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("object type"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # A reason is free text and may name a person: encrypted under the data key of the
    # customer the event concerns (shredded with it), else under the master key. Events
    # written before keep their clear reason (never rewritten: append-only).
    subject_key_id = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    reason = EncryptedTextField(
        _("reason"),
        subject_key_field="subject_key_id",
        master_key_fallback=True,
        legacy_clear=True,
        mask="text",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    hash_scheme = models.PositiveSmallIntegerField(
        choices=HashScheme.choices, default=HashScheme.HMAC_SHA256
    )
    content_mac = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    # Never rewritten, not even by key rotation: the chain covers the stored ciphertext.
    encrypted_values_frozen = True
    # The reason is about the customer whose data key it is encrypted under; an event
    # about no one customer has none (``crm.personal_data.Subject``).
    personal_data_subject = personal_data.by_key("subject_key_id")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Newest first; an event waiting to be chained (no sequence yet) is the newest.
        ordering = [models.F("sequence").desc(nulls_first=True), "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "action", "occurred_at"], name="audit_actor_action_idx"),
        ]
        permissions = [
            ("verify_audit_chain", "Can verify the audit chain"),
            ("view_privacy_report", "Can see the privacy evidence report"),
        ]

    def __str__(self):
        return f"#{self.sequence or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def action_label(self) -> str:
        return events.label(self.action)

    @property
    def chained(self) -> bool:
        return self.sequence is not None

    def seal_reason(self, reason: str) -> None:
        """Set the reason in its encrypted form (the MACs cover what is stored)."""
        if reason:
            self._meta.get_field("reason").seal(self, reason)
        else:
            self.reason = ""

    def _content(self) -> dict:
        content = {
            "occurred_at": self.occurred_at.astimezone(datetime.UTC).isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "content_type_id": self.content_type_id,
            "object_id": self.object_id,
            # The stored form: a shredded reason must not break the chain.
            "reason": raw_value(self, "reason") or "",
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "data": self.data,
        }
        if self.hash_scheme != self.HashScheme.LEGACY_SHA256:
            content["uid"] = str(self.uid)
            content["subject_key_id"] = str(self.subject_key_id or "")
        return content

    def compute_content_mac(self) -> str:
        """Keyed MAC of what happened, without the chain fields (known only at chaining)."""
        return keys.mac(keys.EVENTS, {"content": self._content(), "kind": "content"})

    def compute_hash(self) -> str:
        """The chain hash: content, sequence and previous hash, by this event's scheme."""
        payload = {
            **self._content(),
            "sequence": self.sequence,
            "previous_hash": self.previous_hash,
        }
        if self.hash_scheme == self.HashScheme.LEGACY_SHA256:
            return hashlib.sha256(keys.canonical(payload)).hexdigest()
        return keys.mac(keys.EVENTS, {**payload, "hash_scheme": self.hash_scheme})


class ChainCheckpoint(models.Model):
    """The head of the audit chain (sequence and hash) at one moment.

    Kept in the ``keys`` database (``crm.db_routers``), apart from the events, so that an
    attacker who can rewrite the business database cannot also move the anchor: removing
    the newest events, or re-hashing the chain, no longer matches the last checkpoint.
    ``mac`` is an HMAC under a subkey of ``AUDIT_CHAIN_KEY`` of its own purpose, so a
    forged or edited checkpoint is reported too. No history table: rows are only added.
    """

    sequence = models.PositiveBigIntegerField(_("sequence"))
    head_hash = models.CharField(_("head hash"), max_length=64)
    taken_at = models.DateTimeField(_("taken at"))
    mac = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit chain checkpoint")
        verbose_name_plural = _("audit chain checkpoints")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.sequence} {self.head_hash[:12]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Checkpoints cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Checkpoints cannot be deleted.")

    def compute_mac(self) -> str:
        return keys.mac(
            keys.CHECKPOINTS,
            {
                "sequence": self.sequence,
                "head_hash": self.head_hash,
                "taken_at": self.taken_at.astimezone(datetime.UTC).isoformat(),
            },
        )


# --- privacy operations (issue 12): retention, purge, requests, monitoring, incidents ------


class PrivacyRecordQuerySet(KeyPreloadingQuerySet):
    key_field = "subject_key_id"


class PrivacyRecord(EncryptedRow, BusinessModel):
    """Base of the privacy registers: a free-text note encrypted under the data key of the
    customer the row concerns (shredded with it), else under the master key."""

    subject_key_id = models.UUIDField(null=True, blank=True, editable=False)
    personal_data_subject = personal_data.by_key("subject_key_id")

    objects = PrivacyRecordQuerySet.as_manager()

    class Meta:
        abstract = True


class RetentionPolicy(BusinessModel):
    """How long one category of data is kept (DESIGN §3 "Retention and destruction")."""

    class Category(models.TextChoices):
        CUSTOMER = "customer", _("Customers with no trading and no open matter")
        INTERACTION = "interaction", _("Interaction notes")
        COMPLAINT = "complaint", _("Closed complaints")
        AUDIT_EVENT = "audit_event", _("Audit events")

    category = models.CharField(
        _("data category"), max_length=30, choices=Category.choices, unique=True
    )
    years = models.PositiveSmallIntegerField(_("kept for (years)"))
    is_active = models.BooleanField(_("applied by the daily job"), default=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        ordering = ["category"]

    def __str__(self):
        return f"{self.category}: {self.years}"


class LegalHold(PrivacyRecord):
    """A customer whose data must not be purged (litigation, an authority's request)."""

    customer_id = models.BigIntegerField(_("customer"), db_index=True)
    customer_code = models.CharField(_("customer code"), max_length=20)
    reason = EncryptedTextField(
        _("reason"), subject_key_field="subject_key_id", master_key_fallback=True, mask="text"
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_reason = EncryptedTextField(
        _("reason for lifting"),
        subject_key_field="subject_key_id",
        master_key_fallback=True,
        mask="text",
    )

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at"]

    def __str__(self):
        return f"hold {self.pk} on {self.customer_code}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class DestructionRecord(BusinessModel):
    """One purge run: what was destroyed (categories and counts, never values), under which
    policy, when and by which job; its hash is recorded in the audit chain."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Daily job")
        COMMAND = "command", _("Command")
        REQUEST = "request", _("Subject request")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    trigger = models.CharField(_("started by"), max_length=20, choices=Trigger.choices)
    job = models.CharField(_("job"), max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    policies = models.JSONField(_("policies"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    subjects = models.PositiveIntegerField(_("subjects purged"), default=0)
    skipped = models.JSONField(_("skipped"), default=dict, blank=True)
    counts = models.JSONField(_("rows scrubbed per category"), default=dict, blank=True)
    record_hash = models.CharField(_("record hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("destruction record")
        verbose_name_plural = _("destruction records")
        ordering = ["-started_at", "-id"]
        permissions = [("purge_customers", "Can purge expired customers' personal data")]

    def __str__(self):
        return f"destruction {self.pk}"

    def evidence(self) -> dict:
        """The record as evidence: what its hash covers."""
        return {
            "id": self.pk,
            "trigger": self.trigger,
            "job": self.job,
            "actor": self.actor_id,
            "policies": self.policies,
            "started_at": self.started_at.astimezone(datetime.UTC).isoformat(),
            "finished_at": self.finished_at.astimezone(datetime.UTC).isoformat()
            if self.finished_at
            else None,
            "subjects": self.subjects,
            "skipped": self.skipped,
            "counts": self.counts,
            "customers": sorted(self.purged.values_list("customer_code", flat=True)),
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(keys.canonical(self.evidence())).hexdigest()


class PurgedSubject(BusinessModel):
    """One customer purged by a destruction record. ``state`` makes the purge resumable:
    ``scrubbed`` (rows emptied, committed) then ``destroyed`` (data key and digests gone)."""

    class State(models.TextChoices):
        SCRUBBED = "scrubbed", _("Rows scrubbed")
        DESTROYED = "destroyed", _("Key destroyed")

    record = models.ForeignKey(
        DestructionRecord,
        verbose_name=_("destruction record"),
        on_delete=models.PROTECT,
        related_name="purged",
    )
    customer_id = models.BigIntegerField(_("customer"), unique=True)
    customer_code = models.CharField(_("customer code"), max_length=20)
    data_key_id = models.UUIDField(editable=False)
    policy = models.CharField(_("policy"), max_length=30, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices)
    counts = models.JSONField(_("rows scrubbed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("purged customer")
        verbose_name_plural = _("purged customers")
        ordering = ["-id"]

    def __str__(self):
        return f"purged {self.customer_code}"


class SubjectRequest(PrivacyRecord):
    """A customer's request under PIPL arts. 44–47, with its due date and what was done."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access / copy")
        CORRECTION = "correction", _("Correction")
        DELETION = "deletion", _("Deletion")
        WITHDRAWAL = "withdrawal", _("Consent withdrawal")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    customer_id = models.BigIntegerField(_("customer"), db_index=True)
    customer_code = models.CharField(_("customer code"), max_length=20)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"), db_index=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    details = EncryptedTextField(
        _("details"), subject_key_field="subject_key_id", master_key_fallback=True, mask="text"
    )
    outcome = EncryptedTextField(
        _("what was done"),
        subject_key_field="subject_key_id",
        master_key_fallback=True,
        mask="text",
    )
    result = models.JSONField(_("result"), default=dict, blank=True)  # codes and counts
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject request")
        verbose_name_plural = _("subject requests")
        ordering = ["due_on", "id"]

    def __str__(self):
        return f"request {self.pk} ({self.kind})"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_on < timezone.localdate()


class AlertThreshold(BusinessModel):
    """How many accesses of one kind a user may make in one window before the DPO is told."""

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("Reveals")
        EXPORT = "export", _("Exports")
        CARD_VIEW = "card_view", _("Card views")

    class Window(models.TextChoices):
        HOUR = "hour", _("Per hour")
        DAY = "day", _("Per day")

    kind = models.CharField(_("access"), max_length=20, choices=Kind.choices)
    window = models.CharField(_("window"), max_length=10, choices=Window.choices)
    limit = models.PositiveIntegerField(_("limit"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alert threshold")
        verbose_name_plural = _("alert thresholds")
        ordering = ["kind", "window"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "window"], name="audit_threshold_unique")
        ]

    def __str__(self):
        return f"{self.kind}/{self.window} > {self.limit}"


class AccessAlert(BusinessModel):
    """A user crossed a threshold in one window; raised once per (user, threshold, window)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("access"), max_length=20, choices=AlertThreshold.Kind.choices)
    window = models.CharField(_("window"), max_length=10, choices=AlertThreshold.Window.choices)
    window_start = models.DateTimeField(_("window start"))
    limit = models.PositiveIntegerField(_("limit"))
    count = models.PositiveIntegerField(_("count"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("access alert")
        verbose_name_plural = _("access alerts")
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "window", "window_start"],
                name="audit_alert_once_per_window",
            )
        ]

    def __str__(self):
        return f"alert {self.kind}/{self.window} user {self.user_id}"


class Incident(PrivacyRecord):
    """A suspected leak or loss of personal data (DESIGN §3 "Incidents", issue 12 item 5).

    What happened and the containment are free text that may name people: encrypted, under
    the master key (an incident is about many customers, so no one customer's key). The
    customers affected are ``IncidentCustomer`` rows (a many-to-many kept the audit app's
    way: customer id and code, no foreign key into another app).
    """

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Investigating")
        CONTAINED = "contained", _("Contained")
        CLOSED = "closed", _("Closed")

    summary = EncryptedTextField(
        _("what happened"),
        subject_key_field="subject_key_id",
        master_key_fallback=True,
        mask="text",
    )
    detected_at = models.DateTimeField(_("detected at"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("detected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    containment = EncryptedTextField(
        _("containment"), subject_key_field="subject_key_id", master_key_fallback=True, mask="text"
    )
    authorities_told_at = models.DateTimeField(_("authorities told at"), null=True, blank=True)
    customers_told_at = models.DateTimeField(_("customers told at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-detected_at", "-id"]
        permissions = [("view_incident_contacts", "Can see the affected customers' contacts")]

    def __str__(self):
        return f"incident {self.pk}"


class IncidentCustomer(BusinessModel):
    """One customer affected by an incident (the incident's customers, many to many)."""

    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="affected",
    )
    customer_id = models.BigIntegerField(_("customer"), db_index=True)
    customer_code = models.CharField(_("customer code"), max_length=20)

    class Meta:
        verbose_name = _("customer affected by an incident")
        verbose_name_plural = _("customers affected by incidents")
        ordering = ["customer_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "customer_id"], name="audit_incident_customer_once"
            )
        ]

    def __str__(self):
        return f"incident {self.incident_id}: {self.customer_code}"
