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
