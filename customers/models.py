"""Customers: the customer card and everything kept on it (DESIGN §3, §6.1–§6.3, §6.5).

Personal values are encrypted under the customer's own data key (``data_key_id``); child
rows carry a copy of that key id so that their values, and their history rows, are
shredded with the customer's key. Exact look-up (blind indexes) and name search (bigram
tokens) use search digests kept in the keys database, never on these rows or in their
history (``crm.search_index``, ``customers.search``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from crm import personal_data
from crm.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField
from crm.models import BusinessModel, EncryptedRow
from crm.personal_data import SENSITIVE
from crm.querysets import KeyPreloadingQuerySet

KEY = "data_key_id"  # the attribute holding the subject's data key on every model here


class ReferenceData(BusinessModel):
    """Admin-editable lists with a name in each language."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True

    def __str__(self):
        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class BusinessType(ReferenceData):
    """The trade of a customer (业种)."""

    class Meta:
        verbose_name = _("business type")
        verbose_name_plural = _("business types")
        ordering = ["name"]


class Tier(ReferenceData):
    """A customer tier; each has its own re-verification interval (DESIGN §6.2)."""

    reverification_days = models.PositiveIntegerField(_("re-verify every (days)"), default=365)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank", "name"]


class ServiceStage(ReferenceData):
    """A stage of the service process (inquiry → signed → in service → feedback → after-sales)."""

    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service stage")
        verbose_name_plural = _("service stages")
        ordering = ["order"]


class Customer(EncryptedRow, BusinessModel):
    """The customer card (客户交易卡): an organisation or an individual."""

    personal_data_subject = ""  # the card is the customer itself (crm.personal_data.Subject)

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        INDIVIDUAL = "individual", _("Individual")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        CLOSED = "closed", _("Closed")
        MERGED = "merged", _("Merged into another card")

    class Currency(models.TextChoices):
        """ISO 4217 codes a card's registered capital may be stated in."""

        CNY = "CNY", _("CNY (Chinese yuan)")
        USD = "USD", _("USD (US dollar)")
        EUR = "EUR", _("EUR (euro)")
        HKD = "HKD", _("HKD (Hong Kong dollar)")
        JPY = "JPY", _("JPY (Japanese yen)")

    code = models.CharField(_("customer code"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROSPECT, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "crm.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    business_type = models.ForeignKey(
        BusinessType, verbose_name=_("business type"), on_delete=models.PROTECT
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True
    )
    stage = models.ForeignKey(
        ServiceStage,
        verbose_name=_("service stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    stage_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible for the stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Personal data, encrypted under the customer's key.
    data_key_id = models.UUIDField(editable=False, db_index=True)  # audit and purge look-ups
    name = EncryptedCharField(_("name"), max_length=200, subject_key_field=KEY, mask="name")
    phone = EncryptedCharField(_("phone"), max_length=30, subject_key_field=KEY, mask="phone")
    email = EncryptedCharField(_("e-mail"), max_length=254, subject_key_field=KEY, mask="email")
    address = EncryptedCharField(
        _("address"), max_length=300, subject_key_field=KEY, mask="address"
    )
    birth_date = EncryptedDateField(_("birth date"), subject_key_field=KEY, mask="date")

    # An organisation's name is business data, not personal information (DESIGN §3): kept
    # here in clear for exact substring search (a trigram index on PostgreSQL) and written
    # by the services with ``name``; blank for individuals, whose name (a sole trader's
    # too) is only stored encrypted.
    organisation_name = models.CharField(
        _("organisation name"), max_length=200, blank=True, default="", editable=False
    )

    # Organisation card (DESIGN §6.1).
    headquarters_address = EncryptedCharField(
        _("headquarters address"), max_length=300, subject_key_field=KEY, mask="address"
    )
    trading_address = EncryptedCharField(
        _("trading address"), max_length=300, subject_key_field=KEY, mask="address"
    )
    mailing_address = EncryptedCharField(
        _("mailing address"), max_length=300, subject_key_field=KEY, mask="address"
    )
    managers = EncryptedTextField(_("managers"), subject_key_field=KEY, mask="text")
    website = models.URLField(_("website"), blank=True)
    founded_on = models.DateField(_("date founded"), null=True, blank=True)
    registered_capital = models.DecimalField(
        _("registered capital"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    registered_capital_currency = models.CharField(
        _("currency of the registered capital"),
        max_length=3,
        choices=Currency.choices,
        default=Currency.CNY,
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    equipment_summary = models.TextField(_("equipment"), blank=True)
    real_estate_summary = models.TextField(_("real estate"), blank=True)
    management_age_structure = models.CharField(
        _("age structure of management"), max_length=200, blank=True
    )
    requested_credit_limit = models.DecimalField(
        _("requested credit limit"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    # Any card: the language the customer reads, for what is written to the customer (a
    # campaign e-mail's footer, the page of its unsubscribe link). Blank: not known (a
    # campaign then follows the language its message is written in). Not personal data.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
    )

    # Records upkeep (DESIGN §6.2).
    reverification_due = models.DateField(
        _("re-verification due"), null=True, blank=True, db_index=True
    )
    reverified_at = models.DateTimeField(_("last re-verified"), null=True, blank=True)
    reverified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("re-verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    version = models.PositiveIntegerField(_("version"), default=1)

    objects = KeyPreloadingQuerySet.as_manager()

    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        permissions = [
            ("reveal_customer", "Can see a customer's personal data in clear (with a reason)"),
            ("view_all_customers", "Can see every customer"),
            ("merge_customer", "Can merge duplicate customer cards"),
            ("export_customer", "Can export customer lists"),
            (
                "export_clear_customer",
                "Can export customers' personal data in clear (with a reason)",
            ),
            ("import_customer", "Can import customers from files"),
            ("reassign_customer", "Can reassign customers to another owner"),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="customer_owner_status_idx"),
            models.Index(fields=["team", "status"], name="customer_team_status_idx"),
            # Short name fragments (``customers.search``); longer ones use the trigram
            # index made by migration 0010 on PostgreSQL.
            models.Index(
                fields=["organisation_name"], include=["id"], name="customer_org_name_idx"
            ),
        ]
        # Two concurrent creates of the same phone are refused by the unique search
        # digest in the keys database (``customers.search``), not by a constraint here.

    def __str__(self):
        return self.code

    @property
    def is_organisation(self) -> bool:
        return self.kind == self.Kind.ORGANISATION

    @property
    def is_minor(self) -> bool:
        if self.kind != self.Kind.INDIVIDUAL or not isinstance(self.birth_date, datetime.date):
            return False
        today = timezone.localdate()
        born = self.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return age < 18


class GrantTerms(models.Model):
    """Who granted a customer to someone, when, and until when (DESIGN §4).

    A grant past ``expires_at`` is not honoured (``customers.permissions`` filters it out in
    SQL); revoking deletes the row, which its history keeps.
    """

    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_live(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


class CustomerUserObjectPermission(UserObjectPermissionBase, GrantTerms):  # noqa: DJ008
    """Explicit per-customer grants to users (django-guardian direct foreign key)."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False
        verbose_name = _("customer grant to a user")
        verbose_name_plural = _("customer grants to users")


class CustomerGroupObjectPermission(GroupObjectPermissionBase, GrantTerms):  # noqa: DJ008
    """Explicit per-customer grants to groups (django-guardian direct foreign key)."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)
    history = HistoricalRecords()

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        verbose_name = _("customer grant to a group")
        verbose_name_plural = _("customer grants to groups")


class CustomerChild(EncryptedRow, BusinessModel):
    """A record that belongs to a customer and follows its access and its data key."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE)
    data_key_id = models.UUIDField(editable=False)

    personal_data_subject = "customer"  # crm.personal_data.Subject

    class Meta:
        abstract = True


class Contact(CustomerChild):
    """A person at an organisation, or a minor's guardian."""

    name = EncryptedCharField(_("name"), max_length=100, subject_key_field=KEY, mask="name")
    phone = EncryptedCharField(_("phone"), max_length=30, subject_key_field=KEY, mask="phone")
    email = EncryptedCharField(_("e-mail"), max_length=254, subject_key_field=KEY, mask="email")
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    is_guardian = models.BooleanField(_("guardian"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "id"]
        default_related_name = "contacts"

    def __str__(self):
        return f"contact {self.pk}"


class IdentityDocument(CustomerChild):
    """A real-name identity document, with its verification (DESIGN §6.2)."""

    class Type(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident identity card")
        PASSPORT = "passport", _("Passport")
        SOCIAL_CREDIT_CODE = "social_credit_code", _("Unified social credit code")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        OTHER = "other", _("Other")

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("Original seen in person")
        COPY = "copy", _("Copy on file")
        ONLINE = "online", _("Online verification service")
        REGISTRY = "registry", _("Public registry check")

    doc_type = models.CharField(_("document type"), max_length=30, choices=Type.choices)
    number = EncryptedCharField(
        _("number"), max_length=40, subject_key_field=KEY, personal=SENSITIVE, mask="id_number"
    )
    verification_method = models.CharField(
        _("verification method"), max_length=20, choices=Method.choices, blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateField(_("verified on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    reverify_due = models.DateField(_("re-verify by"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        ordering = ["doc_type", "id"]
        default_related_name = "identity_documents"
        # One card per ID number: a unique search digest in the keys database.

    def __str__(self):
        return f"{self.get_doc_type_display()} {self.pk}"


class Consent(CustomerChild):
    """A recorded consent to process personal information (DESIGN §3 "Consent")."""

    class Purpose(models.TextChoices):
        SERVICE = "service", _("Service")
        MARKETING = "marketing", _("Marketing")
        THIRD_PARTY = "third_party", _("Provision to third parties")
        SENSITIVE = "sensitive", _("Processing of sensitive data")
        MINOR = "minor", _("Minor's data (by guardian)")

    class Channel(models.TextChoices):
        PAPER = "paper", _("Signed form")
        WEB = "web", _("Website")
        PHONE = "phone", _("Phone (recorded)")
        EMAIL = "email", _("E-mail")
        IN_PERSON = "in_person", _("In person")

    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    scope = EncryptedCharField(_("scope"), max_length=300, subject_key_field=KEY, mask="text")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    policy_version = models.CharField(_("policy version"), max_length=50)
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    guardian = models.ForeignKey(
        Contact,
        verbose_name=_("guardian"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at"]
        default_related_name = "consents"
        indexes = [
            models.Index(fields=["purpose", "withdrawn_at"], name="consent_live_idx"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.pk}"

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


class Interaction(CustomerChild):
    """A call, visit, meeting… with its summary, outcome and next follow-up (DESIGN §6.3)."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        PARENTS_MEETING = "parents_meeting", _("Parents' meeting")
        ASSESSMENT = "assessment", _("Assessment report")
        EMAIL = "email", _("E-mail")
        MESSAGE = "message", _("Message")

    class Outcome(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")
        NO_RESULT = "no_result", _("No result")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = EncryptedTextField(_("summary"), subject_key_field=KEY, mask="text")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True, db_index=True)
    follow_up_done = models.BooleanField(_("follow-up done"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at"]
        default_related_name = "interactions"

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk}"


class StageMove(CustomerChild):
    """One move of a customer between service stages, with who is responsible next."""

    from_stage = models.ForeignKey(
        ServiceStage,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        ServiceStage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = EncryptedCharField(_("note"), max_length=300, subject_key_field=KEY, mask="text")

    class Meta:
        verbose_name = _("stage move")
        verbose_name_plural = _("stage moves")
        ordering = ["-created_at"]
        default_related_name = "stage_moves"

    def __str__(self):
        return f"{self.from_stage_id}→{self.to_stage_id}"


class VisitPlanEntry(CustomerChild):
    """A prospect on a rep's visit plan; it leaves after N fruitless visits (DESIGN §6.3)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("On the plan")
        REMOVED = "removed", _("Removed after fruitless visits")
        WON = "won", _("Won")
        CANCELLED = "cancelled", _("Taken off the plan")

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.PROTECT,
        related_name="visit_plan",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    fruitless_visits = models.PositiveSmallIntegerField(_("fruitless visits"), default=0)
    next_visit_on = models.DateField(_("next visit"), null=True, blank=True)
    removed_reason = models.CharField(_("why it left the plan"), max_length=300, blank=True)
    removed_at = models.DateTimeField(_("left the plan on"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit plan entry")
        verbose_name_plural = _("visit plan entries")
        ordering = ["next_visit_on", "id"]
        default_related_name = "visit_plan_entries"
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "customer"],
                condition=models.Q(status="active"),
                name="visit_plan_one_active_per_rep_customer",
            )
        ]

    def __str__(self):
        return f"visit plan {self.pk}"


class CustomAttribute(BusinessModel):
    """An extra field admins define per business type or customer kind."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    class Sensitivity(models.TextChoices):
        NONE = "", _("Not personal")
        PERSONAL = "personal", _("Personal")
        SENSITIVE = "sensitive", _("Sensitive")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    value_type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    business_type = models.ForeignKey(
        BusinessType,
        verbose_name=_("business type"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Empty: every business type."),
    )
    customer_kind = models.CharField(
        _("customer kind"),
        max_length=20,
        choices=Customer.Kind.choices,
        blank=True,
        help_text=_("Empty: organisations and individuals."),
    )
    sensitivity = models.CharField(
        _("personal data"), max_length=10, choices=Sensitivity.choices, blank=True
    )
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")
        ordering = ["order", "code"]

    def __str__(self):
        if (get_language() or "").startswith("zh") and self.label_zh:
            return self.label_zh
        return self.label

    @property
    def is_personal(self) -> bool:
        return bool(self.sensitivity)


class CustomAttributeValue(CustomerChild):
    """A customer's value of a custom attribute: in clear, or encrypted when personal."""

    attribute = models.ForeignKey(
        CustomAttribute, verbose_name=_("attribute"), on_delete=models.PROTECT
    )
    value = models.CharField(_("value"), max_length=500, blank=True)
    secret_value = EncryptedTextField(
        _("value (encrypted)"), subject_key_field=KEY, personal=SENSITIVE, mask="text"
    )

    class Meta:
        verbose_name = _("custom attribute value")
        verbose_name_plural = _("custom attribute values")
        default_related_name = "attribute_values"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "attribute"], name="custom_value_one_per_customer"
            )
        ]

    def __str__(self):
        return f"{self.attribute_id} of {self.customer_id}"

    @property
    def display_value(self):
        return self.secret_value if self.attribute.is_personal else self.value


class Campaign(BusinessModel):
    """A relationship campaign: newsletter, holiday greeting, promotion (DESIGN §6.5)."""

    class Kind(models.TextChoices):
        NEWSLETTER = "newsletter", _("Newsletter")
        HOLIDAY = "holiday", _("Holiday greeting")
        PROMOTION = "promotion", _("Promotion")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    audience_filter = models.JSONField(
        _("audience"), default=dict, blank=True, help_text=_("The customer-list filters.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class CampaignSend(BusinessModel):
    """What a campaign did for one customer: sent, or skipped and why."""

    class Result(models.TextChoices):
        SENT = "sent", _("Sent")
        NO_CONSENT = "no_consent", _("Skipped: no live marketing consent")
        NO_CHANNEL = "no_channel", _("Skipped: no e-mail address")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="sends"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="campaign_sends",
    )
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    channel = models.CharField(_("channel"), max_length=20, default="email")

    class Meta:
        verbose_name = _("campaign send")
        verbose_name_plural = _("campaign sends")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_send_once")
        ]

    def __str__(self):
        return f"{self.campaign_id}/{self.customer_id}: {self.result}"


class ImportJob(EncryptedRow, BusinessModel):
    """An uploaded customer or contact file, checked and imported in the background."""

    class Target(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        CONTACTS = "contacts", _("Contacts")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("Import only if every row is valid")
        VALID_ROWS = "valid_rows", _("Import the valid rows, skip the others")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked (dry run)")
        REJECTED = "rejected", _("Rejected: the file has errors")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    # A key of the import registry (crm.imports): customers' own targets above, and those
    # other apps register; not a fixed list of choices.
    target = models.CharField(_("what"), max_length=20)
    mode = models.CharField(
        _("mode"), max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    # A file name can name a person ("张伟 客户名单.xlsx"): kept encrypted, like its content.
    file_name = EncryptedCharField(_("file"), max_length=255, mask="text")
    personal_data_subject = personal_data.no_customer("an upload concerns many customers, not one")
    stored_file = models.CharField(max_length=100, blank=True, editable=False)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("rows with errors"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    # The first CRM_IMPORT_MAX_ERRORS errors; how many there were in all, and per column.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    errors_total = models.PositiveIntegerField(_("problems"), default=0)
    errors_by_column = models.JSONField(_("problems per column"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"import {self.pk} ({self.file_name})"

    def get_target_display(self) -> str:
        from crm.imports import get_target

        target = get_target(self.target)
        return str(target.label) if target else self.target


# --- the customer list's saved views (issue 13 item 2) --------------------------------------


class SavedView(BusinessModel):
    """A user's named customer-list view (filters, sort, page size), or his last used one.

    Only filters and sort are kept, never a search term: a term may be a phone, an ID
    number or an individual's name, which would then sit in clear in this row and its
    history (``customers.services.saved_views`` refuses it).
    """

    class Kind(models.TextChoices):
        NAMED = "named", _("Saved view")
        LAST_USED = "last_used", _("Last used filters")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="customer_list_views",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NAMED)
    name = models.CharField(_("name"), max_length=80, blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    ordering = models.CharField(_("sort by"), max_length=40, blank=True)
    page_size = models.PositiveSmallIntegerField(_("rows per page"), null=True, blank=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(kind="named"),
                name="saved_view_one_name_per_user",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(kind="last_used"),
                name="saved_view_one_last_used_per_user",
            ),
        ]

    def __str__(self):
        return self.name or f"saved view {self.pk}"
