"""Users, teams, the data keys behind crypto-shredding, and the abstract business model."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class BusinessModel(models.Model):
    """Base of every business model: timestamps and django-simple-history by default.

    ``HistoricalRecords(inherit=True)`` gives every concrete subclass its own history
    table; ``tests/test_history.py`` fails when a model in the product apps has none.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True


class EncryptedRow(models.Model):
    """Base of a model with encrypted fields: the row's stable identity.

    ``uid`` is assigned in Python when the instance is made, before its first save, and
    never changes; every ciphertext of the row is bound to it (``crm.fields``), and history
    rows copy it, so they open as the row does.
    """

    uid = models.UUIDField(_("row id"), default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        abstract = True

    def _get_unique_checks(self, exclude=None, include_meta_constraints=False):
        # A random uid assigned in Python needs no look-up before each save; the unique
        # constraint still guards the table.
        unique_checks, date_checks = super()._get_unique_checks(
            exclude=exclude, include_meta_constraints=include_meta_constraints
        )
        return [check for check in unique_checks if check[1] != ("uid",)], date_checks


class Team(BusinessModel):
    """A sales team: one manager and the reps who belong to it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "crm.User",
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="managed_teams",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A person who signs in. Roles are groups (see ``crm.roles``); a rep belongs to a team."""

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    @property
    def role_names(self) -> list[str]:
        return [group.name for group in self.groups.all()]

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser:
            return True
        return self.groups.filter(name__in=roles).exists()

    def get_full_name(self) -> str:
        """A Chinese name reads family name first, without a space (王芳); others as Django
        writes them (given name first)."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return super().get_full_name()


class DataKey(models.Model):
    """One subject's data-encryption key, wrapped by a master key.

    Stored only in the ``keys`` database alias (see ``crm.db_routers``), never with
    history and never in the main backup. Deleting the row crypto-shreds every value
    encrypted under it: current rows, history rows and old backups alike.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped_key = models.BinaryField()
    master_key_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")

    def __str__(self):
        return str(self.id)


class IdempotencyRecord(models.Model):
    """What a create request sent with an ``Idempotency-Key`` header made."""

    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    # The id of what the request made; the response is rendered anew on a replay, never
    # stored (it may hold personal data).
    resource_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"


class Counter(models.Model):
    """Named gap-free counters for human-readable codes (customer codes, later invoices)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("code counter")
        verbose_name_plural = _("code counters")

    def __str__(self):
        return f"{self.name}={self.value}"

    @classmethod
    def next_value(cls, name: str) -> int:
        """The next value of counter ``name``; call inside the caller's transaction."""
        from django.db import transaction

        with transaction.atomic():
            counter, _created = cls.objects.select_for_update().get_or_create(name=name)
            counter.value += 1
            counter.save(update_fields=["value"])
        return counter.value


class SearchDigest(models.Model):
    """A keyed digest of one personal value of one row, for search without decryption.

    Blind indexes (phone, e-mail, ID number) and name bigram tokens (DESIGN §3 "Finding
    encrypted data") live here, in the ``keys`` database (see ``crm.db_routers``), never in
    a business table or a history table: deleting the subject's data key deletes its
    digests too (``crm.search_index``), so an old backup of the business database holds
    none. A search looks here first and then fetches the rows by ``object_id``. Rows of
    an ``is_unique`` kind (a customer's phone, an ID number) are unique per digest: the
    database refuses a second live holder even when two requests race.
    """

    data_key_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=40)
    digest = models.CharField(max_length=64)
    object_model = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    key_version = models.CharField(max_length=16)
    is_unique = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("search digest")
        verbose_name_plural = _("search digests")
        indexes = [models.Index(fields=["kind", "digest"], name="search_digest_lookup_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["object_model", "object_id", "kind", "digest"],
                name="search_digest_unique_row",
            ),
            models.UniqueConstraint(
                fields=["kind", "digest"],
                condition=models.Q(is_unique=True),
                name="search_digest_unique_value",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_model}:{self.object_id}"


class ExportJob(BusinessModel):
    """A large export, written in the background to an encrypted file (``crm.exports``).

    The request (its filters may name a person: a phone searched for) is kept in an
    encrypted file too (``params_file``), never in this row or in a task's arguments. The
    finished file is downloadable by its owner only, until ``expires_at`` (24 hours); a
    daily clean-up deletes it then.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    target = models.CharField(_("what"), max_length=40)
    file_format = models.CharField(_("format"), max_length=10)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    owner = models.ForeignKey(
        "crm.User", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    params_file = models.CharField(max_length=100, blank=True, editable=False)
    stored_file = models.CharField(max_length=100, blank=True, editable=False)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"export {self.pk} ({self.target}, {self.file_format})"


class Notification(models.Model):
    """One message to one user: the bell in the header and, for some kinds, an e-mail.

    A notification holds a ``code`` (its kind, see ``crm.notifications``) and ``params`` of
    codes, numbers and dates only, never a personal value: its text is rendered from the
    kind's translatable template in the reader's language, so the row, the e-mail and the
    logs say "urgent credit report on customer C000123", never a name or a phone.
    """

    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("caused by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    code = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_recipient_recent",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self):
        return f"{self.code} → {self.recipient_id}"
