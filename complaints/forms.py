"""Forms of the complaint pages (they parse; the services validate and write)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import (
    Category,
    Channel,
    Complaint,
    ReturnVisit,
    RootCause,
    Severity,
    Survey,
)
from customers.forms import UserChoiceField


class ComplaintForm(forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=100, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone"), max_length=30, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Complaint.Kind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), to_field_name="code"
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("Move to"), choices=Complaint.Status.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"),
        queryset=RootCause.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
    )
    resolution = forms.CharField(
        label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    informed_how = forms.ChoiceField(
        label=_("Customer told by"), choices=[("", "—"), *Channel.choices], required=False
    )
    satisfaction_score = forms.TypedChoiceField(
        label=_("Satisfaction (1–5)"),
        choices=[("", "—"), *[(n, n) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    satisfaction_comment = forms.CharField(label=_("Satisfaction comment"), required=False)
    return_visit_skip_reason = forms.CharField(
        label=_("Why no return visit"), max_length=300, required=False
    )


class AssignForm(forms.Form):
    user = UserChoiceField(label=_("Assign to"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        from complaints.selectors import assignable_users

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = assignable_users()


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Investigation note"), widget=forms.Textarea(attrs={"rows": 2}))


class ReturnVisitForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReturnVisit.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False)


class LinkForm(forms.Form):
    customer = forms.IntegerField(label=_("Customer id"), min_value=1)


# The purposes of a caller look-up (``services.LOOKUP_PURPOSES``) with their labels: the
# look-up form offers them and the audit console shows them (``registrations``).
LOOKUP_PURPOSE_CHOICES = [
    ("log_complaint", _("Log a complaint")),
    ("complaint_handling", _("Complaint handling")),
    ("inquiry", _("Answer an inquiry")),
]


class LookupForm(forms.Form):
    by = forms.ChoiceField(
        label=_("Look up by"),
        choices=[
            ("phone", _("Phone")),
            ("id_number", _("ID number")),
            ("code", _("Customer code")),
        ],
    )
    value = forms.CharField(label=_("Exact value"), max_length=60)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=LOOKUP_PURPOSE_CHOICES)


class SurveyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    period = forms.ChoiceField(label=_("Period"), choices=Survey.Period.choices)
    question = forms.CharField(label=_("Question"), max_length=300)
