"""Forms of the customer pages. They validate input only; services do the writing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import validation
from crm.models import User
from customers.card_fields import PERSONAL_FIELDS, PLAIN_FIELDS
from customers.models import (
    BusinessType,
    Consent,
    Customer,
    IdentityDocument,
    Interaction,
    ServiceStage,
    Tier,
)

DATE = forms.DateInput(attrs={"type": "date"})


class DateField(forms.DateField):
    """A date between 1900-01-01 and 2100-12-31 (``crm.validation``), as in the API."""

    default_validators = [validation.validate_date_in_range]


class BootstrapMixin:
    """Bootstrap 5 classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class CardFieldsForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    business_type = forms.ModelChoiceField(
        label=_("Business type"), queryset=BusinessType.objects.filter(is_active=True)
    )
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=Tier.objects.filter(is_active=True), required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    birth_date = DateField(label=_("Birth date"), required=False, widget=DATE)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Not known")), *Customer._meta.get_field("language").choices],
        required=False,
        help_text=_(
            "The language of the customer's campaign e-mails and unsubscribe page. Not "
            "known: the language the message is written in."
        ),
    )
    headquarters_address = forms.CharField(
        label=_("Headquarters address"), max_length=300, required=False
    )
    trading_address = forms.CharField(label=_("Trading address"), max_length=300, required=False)
    mailing_address = forms.CharField(label=_("Mailing address"), max_length=300, required=False)
    managers = forms.CharField(
        label=_("Managers"),
        required=False,
        max_length=validation.MANAGERS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    founded_on = DateField(label=_("Date founded"), required=False, widget=DATE)
    registered_capital = forms.DecimalField(
        label=_("Registered capital"), required=False, max_digits=16, decimal_places=2
    )
    # Right after the capital so that both sit side by side in the card form's grid.
    registered_capital_currency = forms.ChoiceField(
        label=_("Currency of the registered capital"),
        choices=Customer.Currency.choices,
        initial=Customer.Currency.CNY,
        required=False,
    )
    employees = forms.IntegerField(label=_("Employees"), required=False, min_value=0)
    equipment_summary = forms.CharField(
        label=_("Equipment"),
        required=False,
        max_length=validation.LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    real_estate_summary = forms.CharField(
        label=_("Real estate"),
        required=False,
        max_length=validation.LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    management_age_structure = forms.CharField(
        label=_("Age structure of management"), max_length=200, required=False
    )
    requested_credit_limit = forms.DecimalField(
        label=_("Requested credit limit"), required=False, max_digits=16, decimal_places=2
    )

    def clean_registered_capital_currency(self) -> str:
        """Not sent (an older form, a script): the card's currency, or CNY for a new card."""
        return (
            self.cleaned_data.get("registered_capital_currency")
            or self.initial.get("registered_capital_currency")
            or Customer.Currency.CNY
        )


class CustomerCreateForm(CardFieldsForm):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text=_("Empty: you. Managers may choose a member of their team."),
    )
    document_type = forms.ChoiceField(
        label=_("Identity document"),
        choices=[("", "—"), *IdentityDocument.Type.choices],
        required=False,
    )
    document_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=100, required=False)
    guardian_phone = forms.CharField(label=_("Guardian's phone"), max_length=30, required=False)
    guardian_consent = forms.BooleanField(
        label=_("The guardian consents to the processing of the minor's data"), required=False
    )
    marketing_consent = forms.BooleanField(
        label=_("The customer consents to marketing messages"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the general manager assigns anywhere and a manager within the team; a rep
        # owns what they create, so the choice is not offered.
        from crm import roles

        owners = (
            User.objects.filter(
                is_active=True, groups__name__in=[roles.SALES_REP, roles.SALES_MANAGER]
            )
            .distinct()
            .order_by("username")
        )
        if user.has_perm("customers.view_all_customers"):
            self.fields["owner"].queryset = owners
        elif user.managed_teams.exists():
            self.fields["owner"].queryset = owners.filter(team__manager=user)
        else:
            del self.fields["owner"]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("document_type")) != bool(cleaned.get("document_number")):
            self.add_error("document_number", _("Give both the document type and its number."))
        return cleaned


class CustomerEditForm(CardFieldsForm):
    """Personal fields start empty (the card shows them masked); empty means unchanged."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args, customer: Customer, **kwargs):
        initial = {
            "kind": customer.kind,
            "business_type": customer.business_type_id,
            "tier": customer.tier_id,
            "version": customer.version,
            **{f: getattr(customer, f) for f in PLAIN_FIELDS},
        }
        super().__init__(*args, initial=initial, **kwargs)
        from customers.selectors import masked

        self.fields["name"].required = False
        for name in PERSONAL_FIELDS:
            if name in self.fields:
                shown = masked(customer, name)
                self.fields[name].widget.attrs["placeholder"] = shown or _("(empty)")
        self.customer = customer

    def changes(self) -> dict:
        changes = {}
        for name, value in self.cleaned_data.items():
            if name in ("version", "reason"):
                continue
            if name in PERSONAL_FIELDS:
                if value not in (None, ""):
                    changes[name] = value
            elif name in self.changed_data:
                changes[name] = (
                    value
                    if value is not None
                    else (
                        ""
                        if name
                        in (
                            "website",
                            "equipment_summary",
                            "real_estate_summary",
                            "management_age_structure",
                        )
                        else None
                    )
                )
        return changes


class ContactForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    is_guardian = forms.BooleanField(label=_("Guardian"), required=False)


class DocumentForm(BootstrapMixin, forms.Form):
    doc_type = forms.ChoiceField(label=_("Document type"), choices=IdentityDocument.Type.choices)
    number = forms.CharField(label=_("Number"), max_length=40)
    verification_method = forms.ChoiceField(
        label=_("Verified by"),
        choices=[("", "—"), *IdentityDocument.Method.choices],
        required=False,
    )
    verified_at = DateField(label=_("Verified on"), required=False, widget=DATE)
    expires_on = DateField(label=_("Expires on"), required=False, widget=DATE)


class ConsentForm(BootstrapMixin, forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Consent.Channel.choices)
    scope = forms.CharField(label=_("Scope"), max_length=300, required=False)
    policy_version = forms.CharField(label=_("Policy version"), max_length=50, required=False)
    guardian = forms.ModelChoiceField(label=_("Given by guardian"), queryset=None, required=False)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = customer.contacts.filter(is_guardian=True)


class InteractionForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Interaction.Kind.choices)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=validation.SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Interaction.Outcome.choices], required=False
    )
    next_follow_up = DateField(label=_("Next follow-up"), required=False, widget=DATE)
    occurred_at = forms.DateTimeField(
        label=_("When it happened"),
        required=False,
        help_text=_("Leave empty for now; fill in to log a call or visit made earlier."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class UserChoiceField(forms.ModelChoiceField):
    """A user shown by his display name, never by a group code."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class StageMoveForm(BootstrapMixin, forms.Form):
    to_stage = forms.ModelChoiceField(
        label=_("New stage"), queryset=ServiceStage.objects.filter(is_active=True)
    )
    responsible = UserChoiceField(
        label=_("Responsible"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            from customers.selectors import card_actors

            # Only those who may act on the card (never an auditor or an administrator).
            self.fields["responsible"].queryset = card_actors(customer)


class StatusForm(BootstrapMixin, forms.Form):
    """Move the card along prospect → active → dormant → closed."""

    to_status = forms.ChoiceField(label=_("New status"), choices=())
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        help_text=_("Needed for dormant, closed and reopening."),
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.services.workspace import status_choices_for

        self.fields["to_status"].choices = status_choices_for(customer)


REVEALABLE = [
    ("name", _("Name")),
    ("phone", _("Phone")),
    ("email", _("E-mail")),
    ("address", _("Address")),
    ("birth_date", _("Birth date")),
    ("identity_documents", _("Identity documents")),
    ("contacts", _("Contacts")),
    ("attributes", _("Custom attributes")),
    ("interactions", _("Interaction notes")),
]


# The labels the profile uses, for every field a reveal may return.
REVEALABLE_LABELS = {
    **{name: field.label for name, field in CardFieldsForm.base_fields.items()},
    **dict(REVEALABLE),
}


class RevealForm(BootstrapMixin, forms.Form):
    """Reveal for a purpose picked from a list (DESIGN §3); "other" needs a few words."""

    fields_ = forms.MultipleChoiceField(
        label=_("Show in clear"), choices=REVEALABLE, widget=forms.CheckboxSelectMultiple
    )
    # Checked by the service (after the right to reveal): "Choose why…" under the field.
    purpose = forms.ChoiceField(label=_("Purpose"), choices=(), required=False)
    reason = forms.CharField(
        label=_("Details"),
        max_length=300,
        required=False,
        help_text=_('Required for "Other".'),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.services.workspace import REVEAL_PURPOSES

        self.fields["purpose"].choices = [("", "—"), *REVEAL_PURPOSES]
        self.fields["fields_"].widget.attrs["class"] = "form-check-input"


class GrantForm(BootstrapMixin, forms.Form):
    """Share a card with another user (read only, masked), optionally until a date."""

    user = UserChoiceField(
        label=_("User"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
    )
    expires_at = forms.DateTimeField(
        label=_("Access until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for access until revoked."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            from customers.selectors import grantable_users

            # Service staff and sales colleagues only (never an auditor or the owner).
            self.fields["user"].queryset = grantable_users(customer)


class VisitRecordForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Result"), choices=Interaction.Outcome.choices)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=validation.SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_visit_on = DateField(label=_("Next visit"), required=False, widget=DATE)


class MergeCardsForm(BootstrapMixin, forms.Form):
    """Step 1 of a merge: the two cards, by their customer codes (never a personal value)."""

    survivor = forms.CharField(label=_("Card that stays (customer code)"), max_length=20)
    duplicate = forms.CharField(label=_("Duplicate card (customer code)"), max_length=20)

    def clean(self):
        data = super().clean()
        for name in ("survivor", "duplicate"):
            if data.get(name):
                data[name] = data[name].strip().upper()
        return data


class MergeForm(MergeCardsForm):
    """The confirmed merge: both codes, the reason, and for each differing field a radio
    ``take_<field>`` = ``survivor`` (the default: keep the surviving card's value) or
    ``duplicate`` (take the duplicate's). Which names may be taken is the service's
    decision: every ``take_<field>=duplicate`` is passed on, unknown names included."""

    TAKE_PREFIX = "take_"
    survivor = forms.CharField(
        label=_("Card that stays (customer code)"), max_length=20, widget=forms.HiddenInput
    )
    duplicate = forms.CharField(
        label=_("Duplicate card (customer code)"), max_length=20, widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def take_from_duplicate(self) -> list[str]:
        """The fields whose radio says "take the duplicate's value"."""
        return sorted(
            key[len(self.TAKE_PREFIX) :]
            for key, value in self.data.items()
            if key.startswith(self.TAKE_PREFIX) and value == "duplicate"
        )

    def choices(self) -> dict[str, str]:
        """The submitted choice per field (to show the form again as it was sent)."""
        return {
            key[len(self.TAKE_PREFIX) :]: value
            for key, value in self.data.items()
            if key.startswith(self.TAKE_PREFIX)
        }


# --- the list's saved views and bulk actions, the card's owner (issue 13 items 2, 5) -----


class OwnerUserField(UserChoiceField):
    """A user shown with his team: the pickers that cross teams need it."""

    def label_from_instance(self, obj):
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.team})" if obj.team_id else name


class IdsField(forms.Field):
    """Ids of the rows ticked on the list; which of them the user may act on is the
    service's decision."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(_("Select customers from the list.")) from error

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(_("Select at least one customer."))


class SavedViewForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("View name"), max_length=80)


class BulkActionForm(BootstrapMixin, forms.Form):
    """The list's bulk actions; the selection comes as ``ids`` (the rows' checkboxes)."""

    REASSIGN, PLAN, EXPORT = "reassign", "plan", "export"
    ACTIONS = [
        (REASSIGN, _("Reassign owner")),
        (PLAN, _("Add to visit plan")),
        (EXPORT, _("Export selection")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = IdsField(label=_("Selected customers"))
    owner = OwnerUserField(
        label=_("New owner or planner"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Visit plan: leave empty for each card's owner."),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("xlsx", "XLSX"), ("csv", "CSV")], required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.selectors import owner_candidates

        self.fields["owner"].queryset = owner_candidates(actor) if actor else User.objects.none()

    def clean(self):
        data = super().clean()
        if data.get("action") == self.REASSIGN and not data.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        return data


class OwnerChangeForm(BootstrapMixin, forms.Form):
    owner = OwnerUserField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.selectors import owner_candidates

        self.fields["owner"].queryset = owner_candidates(actor) if actor else User.objects.none()


class HandOverForm(BootstrapMixin, forms.Form):
    from_user = OwnerUserField(label=_("Customers of"), queryset=User.objects.none())
    owner = OwnerUserField(label=_("Hand over to"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.selectors import handover_sources, owner_candidates

        self.fields["from_user"].queryset = handover_sources(actor)
        self.fields["owner"].queryset = owner_candidates(actor)
