"""Merging two cards of the same customer, in three steps (issue 13 item 3):

1. the two customer codes (``customers:merge``, GET);
2. both cards side by side, personal values masked as the card shows them, a choice per
   differing field of which value survives, the records that move and the conflicts that
   would refuse the merge (``customers:merge-preview``, GET: only codes travel in the URL);
3. the confirmed merge (``customers:merge``, POST; once the form is filled in, it asks
   "cannot be undone" before it is sent).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.validation import form_add_errors
from customers import permissions as perms
from customers import services
from customers.forms import MergeCardsForm, MergeForm
from customers.models import Customer
from customers.services.merge import MergePreview, customer_merge_preview

try:  # the shared money format (crm/templatetags/formatting.py), when installed
    from crm.templatetags.formatting import format_money
except ImportError:  # pragma: no cover

    def format_money(value, currency="CNY"):
        return f"{currency} {formats.number_format(value, 2, force_grouping=True)}"


MONEY_FIELDS = {"registered_capital": "registered_capital_currency", "requested_credit_limit": ""}


def _not_yours() -> str:
    return _("Both customer codes must exist and be yours to manage.")


def _ids(form) -> tuple[int, int]:
    """The cards' ids from their codes; 404 for a code that names no card (the service
    answers 404 for a card the user may not see, audited)."""
    codes = [form.cleaned_data["survivor"], form.cleaned_data["duplicate"]]
    found = dict(Customer.objects.filter(code__in=codes).values_list("code", "pk"))
    if codes[0] == codes[1] and codes[0] in found:
        return found[codes[0]], found[codes[0]]
    if any(code not in found for code in codes):
        raise Http404
    return found[codes[0]], found[codes[1]]


def _choices(name: str) -> dict:
    try:
        field = Customer._meta.get_field(name)
    except FieldDoesNotExist:
        return {}
    return dict(field.flatchoices) if getattr(field, "choices", None) else {}


def _shown(name: str, value, card: Customer) -> str:
    """A preview value for the page, formatted as the card formats it."""
    if value is None or value == "":
        return "—"
    choices = _choices(name)
    if choices:  # kind, status, language, currency …: the label, never the stored code
        return str(choices.get(value, value))
    if name in MONEY_FIELDS and isinstance(value, Decimal):
        currency = getattr(card, MONEY_FIELDS[name], "") if MONEY_FIELDS[name] else ""
        return format_money(value, currency or "CNY")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if name == "owner":
        return value.get_full_name() or value.get_username()
    return str(value)


def _row(row, preview: MergePreview, choices: dict[str, str]) -> dict:
    survivor = _shown(row.name, row.survivor, preview.survivor)
    duplicate = _shown(row.name, row.duplicate, preview.duplicate)
    return {
        "name": row.name,
        "label": row.label,
        "survivor": survivor,
        "duplicate": duplicate,
        "differs": row.differs,
        # Masked values may read the same (c***@example.cn) while the values differ.
        "alike": row.differs and row.personal and survivor == duplicate,
        "mergeable": row.mergeable,
        "personal": row.personal,
        "note": row.note,
        "hint": row.hint,
        "take": choices.get(row.name) == "duplicate",
    }


def _rows(preview: MergePreview, choices: dict[str, str]) -> list[dict]:
    return [_row(row, preview, choices) for row in preview.fields]


def _preview_page(request, preview: MergePreview, form: MergeForm, *, status=200):
    return render(
        request,
        "customers/merge_preview.html",
        {
            "preview": preview,
            "rows": _rows(preview, form.choices() if form.is_bound else {}),
            "form": form,
        },
        status=status,
    )


def _step_one(request, cards: MergeCardsForm, *, status=200):
    return render(request, "customers/merge.html", {"form": cards}, status=status)


def _preview_again(request, form: MergeForm):
    """The preview with the refused form (its errors and choices); the first step instead
    when the cards cannot be compared any more."""
    cards = MergeCardsForm(form.data)
    if not cards.is_valid():
        return _step_one(request, cards)
    try:
        survivor_id, duplicate_id = _ids(cards)
        preview = customer_merge_preview(
            actor=request.user, survivor_id=survivor_id, duplicate_id=duplicate_id
        )
    except (Http404, PermissionDenied):
        cards.add_error(None, _not_yours())
        return _step_one(request, cards)
    except ValidationError as error:  # the same card twice, or one merged meanwhile
        form_add_errors(cards, error)
        return _step_one(request, cards)
    return _preview_page(request, preview, form)


@login_required
@permission_required(perms.MERGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_merge_view(request):
    """Step 1 (GET): the two codes. Step 3 (POST): the merge with the chosen values."""
    if request.method == "GET":
        return _step_one(request, MergeCardsForm(request.GET or None))
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            survivor_id, duplicate_id = _ids(form)
            moved = services.customer_merge(
                actor=request.user,
                survivor_id=survivor_id,
                duplicate_id=duplicate_id,
                reason=form.cleaned_data["reason"],
                take_from_duplicate=form.take_from_duplicate(),
            )
        except (Http404, PermissionDenied):
            # Refused (and audited) once: the cards are not compared again.
            cards = MergeCardsForm(request.POST)
            cards.is_valid()
            cards.add_error(None, _not_yours())
            return _step_one(request, cards)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(
                request,
                _("Merged: %(count)d records moved to the surviving card.")
                % {"count": sum(moved.values())},
            )
            return redirect("customers:detail", pk=survivor_id)
    return _preview_again(request, form)


@login_required
@permission_required(perms.MERGE, raise_exception=True)
@require_GET
def customer_merge_preview_view(request):
    """Step 2: both cards side by side (``?survivor=<code>&duplicate=<code>``)."""
    cards = MergeCardsForm(request.GET)
    if not cards.is_valid():
        return render(request, "customers/merge.html", {"form": cards}, status=400)
    try:
        survivor_id, duplicate_id = _ids(cards)
        preview = customer_merge_preview(
            actor=request.user, survivor_id=survivor_id, duplicate_id=duplicate_id
        )
    except Http404:
        cards.add_error(None, _not_yours())
        return render(request, "customers/merge.html", {"form": cards}, status=404)
    except PermissionDenied:
        cards.add_error(None, _not_yours())
        return render(request, "customers/merge.html", {"form": cards}, status=403)
    except ValidationError as error:
        form_add_errors(cards, error)
        return render(request, "customers/merge.html", {"form": cards}, status=400)
    form = MergeForm(initial=cards.cleaned_data)
    return _preview_page(request, preview, form)
