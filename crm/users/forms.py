"""Forms of user administration: they validate input; the services in ``crm.services`` write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import offboarding, selectors
from crm.models import Team, User


class _Bootstrap:
    """Bootstrap 5 classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class UserFilterForm(_Bootstrap, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Role"), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Inactive"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("All roles")), *selectors.role_choices()]
        self.fields["team"].queryset = selectors.team_choices()
        self.fields["q"].widget.attrs["placeholder"] = _("username or name")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        active = {"1": True, "0": False}.get(data.get("active") or "")
        return {
            "search": data.get("q") or "",
            "role": data.get("role") or "",
            "team": data.get("team"),
            "active": active,
        }


class _UserFields(_Bootstrap, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = selectors.team_choices()


class UserCreateForm(_UserFields):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))
    send_link = forms.BooleanField(
        label=_("E-mail a link to set the password now"), required=False, initial=True
    )

    field_order = ["first_name", "last_name", "username", "email", "role", "team", "send_link"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = selectors.role_choices()
        self.fields["role"].help_text = _(
            "General manager, data protection officer, auditor and administrator are given "
            "only once a second person confirms."
        )

    def clean(self):
        data = super().clean()
        if data.get("send_link") and not data.get("email"):
            self.add_error("email", _("A set-password link needs an e-mail address."))
        return data


class UserEditForm(_UserFields):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "team": user.team_id,
                "roles": selectors.role_codes(user),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = selectors.role_choices()
        self.fields["roles"].help_text = _(
            "A high-trust role (general manager, data protection officer, auditor, "
            "administrator) waits until a second person confirms it."
        )


class DeactivateForm(_Bootstrap, forms.Form):
    """The successor is offered only when the user holds something or manages teams:
    among those who may take all of it over (``crm.offboarding``), required when they
    hold something. The help text says what they hold and who may take each over."""

    successor = forms.ModelChoiceField(
        label=_("Successor"), queryset=User.objects.none(), required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("Optional; kept with the handed-over records and in the audit trail."),
    )

    def __init__(self, *args, user: User, counts, team_names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        held = sum(count for _holding, count in counts)
        if not (held or team_names):
            del self.fields["successor"]
            return
        field = self.fields["successor"]
        field.queryset = offboarding.successor_candidates(user, counts, team_names)
        field.label_from_instance = _successor_label
        field.required = held > 0
        items = _("; ").join(offboarding.hand_over_lines(counts, team_names))
        field.help_text = _("Who may take over what this user holds: %(items)s.") % {"items": items}


def _successor_label(user: User) -> str:
    name = user.get_full_name()
    name = f"{name} · {user.username}" if name else user.username
    return f"{name} ({user.team.name})" if user.team_id else name
