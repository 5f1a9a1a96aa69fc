"""Forms of the privacy pages (parse only; the services validate and write)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LegalHoldForm(forms.Form):
    customer_code = forms.CharField(label=_("Customer code"), max_length=20)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class LiftHoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=500)


class RetentionPolicyForm(forms.Form):
    years = forms.IntegerField(label=_("Kept for (years)"), min_value=1, max_value=100)
    is_active = forms.BooleanField(label=_("Applied by the daily job"), required=False)


class SubjectRequestForm(forms.Form):
    customer_code = forms.CharField(label=_("Customer code"), max_length=20)
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    received_on = forms.DateField(
        label=_("Received on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    details = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        from audit.models import SubjectRequest

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = SubjectRequest.Kind.choices


class SubjectRequestCloseForm(forms.Form):
    outcome = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    refused = forms.BooleanField(label=_("Refuse the request"), required=False)


class AlertThresholdForm(forms.Form):
    limit = forms.IntegerField(label=_("Limit"), min_value=1, max_value=100000)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class IncidentForm(forms.Form):
    """An incident's fields; customers are typed as codes (the service finds them)."""

    summary = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}))
    detected_at = forms.DateTimeField(
        label=_("Detected at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=())
    status = forms.ChoiceField(label=_("Status"), choices=())
    customers = forms.CharField(
        label=_("Customers affected (codes)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Customer codes separated by commas or spaces."),
    )
    containment = forms.CharField(
        label=_("Containment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    authorities_told_at = forms.DateTimeField(
        label=_("Authorities told at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    customers_told_at = forms.DateTimeField(
        label=_("Customers told at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        from audit.models import Incident

        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = Incident.Severity.choices
        self.fields["status"].choices = Incident.Status.choices
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")


class EvidenceForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To (included)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end cannot be before the start."))
        return data
