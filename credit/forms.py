"""Credit: HTML forms (parse only; the services validate and write)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credit.models import (
    AccountCondition,
    CreditSettings,
    DeteriorationResponse,
    Grade,
    Investigation,
    Note,
)
from credit.services.investigations import SETTINGS_FIELDS

MONEY = {"max_digits": 16, "decimal_places": 2, "min_value": 0.01}


class _Bootstrap:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")


class DecisionForm(_Bootstrap, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


class ApproveOpeningForm(DecisionForm):
    conditions = forms.MultipleChoiceField(
        label=_("Conditions"),
        choices=AccountCondition.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    condition_note = forms.CharField(label=_("Note on the conditions"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].widget.attrs = {}


class LimitApproveForm(DecisionForm):
    special = forms.BooleanField(
        label=_("Special approval to expand trade (an exception)"), required=False
    )


class LimitRequestForm(_Bootstrap, forms.Form):
    amount = forms.DecimalField(label=_("Limit"), **MONEY)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    justification = forms.CharField(
        label=_("Justification"), widget=forms.Textarea(attrs={"rows": 2})
    )


class OrderForm(_Bootstrap, forms.Form):
    reference = forms.CharField(label=_("Reference"), max_length=50)
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)


class HoldForm(_Bootstrap, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class GradeForm(_Bootstrap, forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    reason = forms.CharField(label=_("Reason (for an override)"), required=False)


class GradeFactsForm(_Bootstrap, forms.Form):
    intermediate_wholesaler = forms.BooleanField(label=_("Intermediate wholesaler"), required=False)
    past_breach = forms.BooleanField(label=_("Past breach of credit"), required=False)


class InvestigationForm(_Bootstrap, forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=Investigation.Source.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=Investigation.Kind.choices)
    investigated_on = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    operator = forms.CharField(
        label=_("The operator"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    internal_state = forms.CharField(
        label=_("Internal state of the company"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    funding = forms.CharField(
        label=_("Funding"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    payment_behaviour = forms.CharField(
        label=_("Payment behaviour"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResponseForm(_Bootstrap, forms.Form):
    kind = forms.ChoiceField(label=_("Response"), choices=DeteriorationResponse.Kind.choices)
    note = forms.CharField(label=_("Note"), required=False)


class InvoiceForm(_Bootstrap, forms.Form):
    number = forms.CharField(label=_("Number"), max_length=40)
    issued_on = forms.DateField(
        label=_("Issued on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)


class PaymentForm(_Bootstrap, forms.Form):
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    reference = forms.CharField(label=_("Reference"), max_length=50, required=False)


class NoteForm(_Bootstrap, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Note.Kind.choices)
    number = forms.CharField(label=_("Number"), max_length=40, required=False)
    amount = forms.DecimalField(label=_("Amount"), **MONEY)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))


class NoteStatusForm(_Bootstrap, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(v, label) for v, label in Note.Status.choices if v != Note.Status.PENDING],
    )
    extended_to = forms.DateField(
        label=_("New due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class TerminateForm(_Bootstrap, forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False)


class AttachmentForm(_Bootstrap, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF or an image (PNG, JPEG, GIF, WebP)."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,.gif,.webp,application/pdf,image/*"}
        ),
    )


class SettingsForm(_Bootstrap, forms.ModelForm):
    class Meta:
        model = CreditSettings
        fields = list(SETTINGS_FIELDS)
