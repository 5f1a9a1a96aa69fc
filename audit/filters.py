"""One filter set for the audit console, its export and the API (``/api/v1/audit/events/``).

Every filter is a picker of translated labels (users with their roles, event types, object
types, date presets), not a code typed by hand; the API takes the same values (a user's id,
an event type or its area followed by a dot, ``app_label.model``, a preset).
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from audit import events
from audit.models import AuditEvent
from crm import privacy, roles

TODAY, LAST_7_DAYS, THIS_MONTH, LAST_MONTH = "today", "last_7_days", "this_month", "last_month"
PRESETS = [
    (TODAY, _("Today")),
    (LAST_7_DAYS, _("Last 7 days")),
    (THIS_MONTH, _("This month")),
    (LAST_MONTH, _("Last month")),
]
ANY = _("Any")
FLAGGED_ANY, AFTER_HOURS, OUTSIDE_TEAM = "any", "after_hours", "outside_team"
FLAGS = [
    (FLAGGED_ANY, _("Flagged only")),
    (AFTER_HOURS, _("After hours")),
    (OUTSIDE_TEAM, _("Outside the user's team")),
]


def preset_range(preset: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last local day (both included) of a preset."""
    if preset == TODAY:
        return today, today
    if preset == LAST_7_DAYS:
        return today - datetime.timedelta(days=6), today
    first = today.replace(day=1)
    if preset == THIS_MONTH:
        return first, today
    last_of_previous = first - datetime.timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of a local day, as an aware moment."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def actor_choices():
    """Users grouped under their role's translated name, each as "name (login)" (one
    query): the auditor knows people by name and the trail records logins. A deactivated
    user is marked so: his events stay in the trail, his account no longer works."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    grouped: dict[str, list] = {}
    rows = User.objects.order_by("username").values_list(
        "pk", "username", "first_name", "last_name", "is_active", "groups__name"
    )
    for pk, username, first, last, is_active, group in rows:
        name = User(username=username, first_name=first, last_name=last).get_full_name()
        role = str(roles.LABELS.get(group, _("No role"))) if group else str(_("No role"))
        label = f"{name} ({username})" if name else username
        if not is_active:
            label = _("%(user)s — inactive") % {"user": label}
        grouped.setdefault(role, []).append((str(pk), label))
    return sorted(grouped.items())


# Areas of event types that are not an app's label (those take the app's name).
AREA_LABELS = {
    "access": _("Access"),
    "admin": _("Admin site"),
    "auth": _("Sign-in"),
    "data": _("Data integrity"),
    "keys": _("Encryption keys"),
    "privacy": _("Privacy"),
    "security": _("Security"),
    "team": _("Teams"),
    "user": _("Users"),
}


def area_label(area: str) -> str:
    if area in AREA_LABELS:
        return str(AREA_LABELS[area])
    try:
        return str(apps.get_app_config(area).verbose_name)
    except LookupError:
        return area


def action_choices():
    """Event types under their area, each area also as a whole (``customers.``)."""
    areas: dict[str, list] = {}
    for action, label in events.all_labels().items():
        areas.setdefault(action.split(".", 1)[0], []).append((action, capfirst(str(label))))
    choices = []
    for area in sorted(areas, key=area_label):
        items = sorted(areas[area], key=lambda item: item[1])
        label = area_label(area)
        whole = (f"{area}.", _("All: %(area)s") % {"area": label})
        choices.append((label, [whole, *items]))
    return choices


# Models of third-party apps whose names those apps leave untranslated, or translate alike
# (DRF's token and its admin proxy are both "令牌"), by ``app_label.model``.
OBJECT_TYPE_LABELS = {
    "authtoken.token": _("Legacy API token"),
    "authtoken.tokenproxy": _("Legacy API token (admin view)"),
    "axes.accessattempt": _("Failed sign-in attempts"),
    "axes.accessattemptexpiration": _("Sign-in lock expiry"),
    "axes.accessfailurelog": _("Failed sign-in log"),
    "axes.accesslog": _("Sign-in log"),
    "guardian.groupobjectpermission": _("Object permission of a group"),
    "guardian.userobjectpermission": _("Object permission of a user"),
    "otp_static.staticdevice": _("Recovery code set"),
    "otp_static.statictoken": _("Recovery code"),
    "otp_totp.totpdevice": _("Authenticator app (TOTP)"),
}


def object_type_label(meta) -> str:
    """A model's name in the picker: the table above, else its translated verbose name."""
    label = OBJECT_TYPE_LABELS.get(meta.label_lower) or meta.verbose_name
    return capfirst(str(label))


def object_type_choices():
    """Every model of the project, by its translated name (no query)."""
    choices = []
    for model in apps.get_models():
        meta = model._meta
        if (
            meta.app_label in {"admin", "sessions", "contenttypes"}
            or "historical" in meta.model_name
        ):
            continue
        choices.append((meta.label_lower, object_type_label(meta)))
    return sorted(choices, key=lambda item: item[1])


def customer_events(customer) -> Q:
    """Events about the customer's card, or under its data key (its records)."""
    content_type = ContentType.objects.get_for_model(type(customer))
    return Q(content_type=content_type, object_id=str(customer.pk)) | Q(
        subject_key_id=customer.data_key_id
    )


class AuditEventFilter(django_filters.FilterSet):
    """One filter set for the audit console, its export and the API."""

    actor = django_filters.ChoiceFilter(
        label=_("User"), choices=actor_choices, method="by_actor", empty_label=ANY
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=action_choices, method="by_action", empty_label=ANY
    )
    object_type = django_filters.ChoiceFilter(
        label=_("Object type"),
        choices=object_type_choices,
        method="by_object_type",
        empty_label=ANY,
    )
    object_id = django_filters.CharFilter(label=_("Object id"))
    customer = django_filters.CharFilter(label=_("Customer code"), method="by_customer")
    period = django_filters.ChoiceFilter(
        label=_("Period"), choices=PRESETS, method="by_period", empty_label=ANY
    )
    since = django_filters.DateFilter(
        label=_("From"), method="by_since", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("Until (included)"),
        method="by_until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    flagged = django_filters.ChoiceFilter(
        label=_("Flags"), choices=FLAGS, method="by_flag", empty_label=_("All events")
    )

    class Meta:
        model = AuditEvent
        fields = [
            "actor",
            "action",
            "object_type",
            "object_id",
            "customer",
            "period",
            "since",
            "until",
            "flagged",
        ]

    customer_found = None

    @property
    def form(self):
        form = super().form
        for name, field in form.fields.items():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")
            if name == "period":
                field.widget.attrs["data-audit-preset"] = ""
            elif name in ("since", "until"):
                field.widget.attrs["data-audit-date"] = ""
        return form

    def by_actor(self, queryset, name, value):
        return queryset.filter(actor_id=int(value))

    def by_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def by_object_type(self, queryset, name, value):
        app_label, model = value.split(".", 1)
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def by_customer(self, queryset, name, value):
        code = value.strip().upper()
        if not code:
            return queryset
        try:
            customer_model = privacy.subject_model()
        except LookupError:
            return queryset.none()
        customer = customer_model._base_manager.filter(code=code).only("pk", "data_key_id").first()
        self.customer_found = customer
        if customer is None:
            return queryset.none()
        return queryset.filter(customer_events(customer))

    def by_period(self, queryset, name, value):
        first, last = preset_range(value, timezone.localdate())
        return queryset.filter(
            occurred_at__gte=day_start(first),
            occurred_at__lt=day_start(last + datetime.timedelta(days=1)),
        )

    def by_since(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=day_start(value))

    def by_until(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=day_start(value + datetime.timedelta(days=1)))

    def by_flag(self, queryset, name, value):
        # ``after_hours`` and ``outside_team`` are annotated by ``selectors.with_flags``.
        if value == AFTER_HOURS:
            return queryset.filter(after_hours=True)
        if value == OUTSIDE_TEAM:
            return queryset.filter(outside_team=True)
        return queryset.filter(Q(after_hours=True) | Q(outside_team=True))


class AuditEventApiFilter(AuditEventFilter):
    """The API's filters: the console's, plus the forms API clients already send.

    ``actor`` takes a user's id or username; ``action`` any prefix of an event type;
    ``object_type`` ``app_label.model`` or the bare model name; ``since`` and ``until`` a
    date (whole local days, ``until`` included) or an ISO date-time (``until`` excluded).
    """

    actor = django_filters.CharFilter(label=_("User"), method="by_actor_api")
    action = django_filters.CharFilter(label=_("Action"), method="by_action_prefix")
    object_type = django_filters.CharFilter(label=_("Object type"), method="by_object_type_api")
    since = django_filters.CharFilter(label=_("From"), method="by_since_api")
    until = django_filters.CharFilter(label=_("Until"), method="by_until_api")

    def by_actor_api(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset.filter(actor_username=value)

    def by_action_prefix(self, queryset, name, value):
        return queryset.filter(action__startswith=value.strip())

    def by_object_type_api(self, queryset, name, value):
        value = value.strip().lower()
        if "." in value:
            return self.by_object_type(queryset, name, value)
        return queryset.filter(content_type__model=value)

    def _moment(self, name: str, value: str):
        """(aware moment, whole day?) of a date or date-time parameter; 400 if neither."""
        value = value.strip()
        day = parse_date(value)
        if day is not None:
            return day_start(day), True
        moment = parse_datetime(value)
        if moment is None:
            raise ValidationError({name: [_("Enter a date or an ISO date-time.")]})
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment, False

    def by_since_api(self, queryset, name, value):
        moment, _whole_day = self._moment(name, value)
        return queryset.filter(occurred_at__gte=moment)

    def by_until_api(self, queryset, name, value):
        moment, whole_day = self._moment(name, value)
        if whole_day:
            moment += datetime.timedelta(days=1)
        return queryset.filter(occurred_at__lt=moment)
