"""Saved views of the customer list, and the last filters used (issue 13 item 2).

A view holds filters, sort and page size, never a search term: a term may be a phone
number, an ID number or an individual's name, and a saved view is a plain row (with a
history) that anyone reading the database could read. So ``q`` is refused here, not
silently dropped; the list page leaves it out before saving. Filter values are ids and
codes of reference data (owner, team, stage, status…), never personal values.

Named views are the user's own: another user's view answers 404 (``saved_view_get``).
Saving, renaming and deleting a named view is an audit event (names of the filters only);
the last filters used are rewritten as the user works the list and are not audited (they
are a preference, like the session they are cached in).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from audit.services import record_event
from crm.ids import is_object_id
from crm.models import User
from crm.permissions import require_perm
from customers import events
from customers import permissions as perms
from customers.filters import PAGE_SIZES, CustomerFilter
from customers.models import SavedView
from customers.services.cards import _save

SEARCH_TERM = "q"
# Filters a view may hold: the list's filters but the search term and the selection.
NOT_SAVED = frozenset({SEARCH_TERM, "ids", "ordering"})
MAX_VIEWS = 50  # per user


def saved_filter_names() -> list[str]:
    return sorted(set(CustomerFilter.base_filters) - NOT_SAVED)


def saved_view_clean(*, filters: dict, ordering: str = "", page_size=None) -> dict:
    """Validated ``{"filters", "ordering", "page_size"}``; raises field errors.

    A search term is refused (never stored, see the module's docstring); unknown filter
    names and invalid values (an owner that does not exist, an unknown status) too.
    """
    if not isinstance(filters, dict):
        raise ValidationError({"filters": [_("Give the filters as names and values.")]})
    if SEARCH_TERM in filters:
        raise ValidationError(
            {
                "filters": [
                    _(
                        "A search term is never saved (it may be a phone number, an ID "
                        "number or a name): save filters and sort only."
                    )
                ]
            }
        )
    allowed = set(saved_filter_names())
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise ValidationError(
            {"filters": [_("Unknown filters: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    kept = {
        key: str(value)
        for key, value in filters.items()
        if value not in ("", None) and not isinstance(value, (list, dict))
    }
    ordering = (ordering or "").strip()
    form = CustomerFilter({**kept, "ordering": ordering} if ordering else kept).form
    if not form.is_valid():
        raise ValidationError(
            {
                ("ordering" if name == "ordering" else "filters"): [str(e) for e in errors]
                for name, errors in form.errors.items()
            }
        )
    if page_size in ("", None):
        page_size = None
    else:
        try:
            page_size = int(page_size)
        except (TypeError, ValueError):
            page_size = 0
        if page_size not in PAGE_SIZES:
            raise ValidationError(
                {
                    "page_size": [
                        _("Choose %(sizes)s rows per page.")
                        % {"sizes": ", ".join(str(s) for s in PAGE_SIZES)}
                    ]
                }
            )
    return {"filters": dict(sorted(kept.items())), "ordering": ordering, "page_size": page_size}


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the view.")]})
    if len(name) > 80:
        raise ValidationError({"name": [_("A view's name has at most 80 characters.")]})
    return name


def _name_taken(user: User, name: str, exclude_pk=None) -> bool:
    views = SavedView.objects.filter(user=user, kind=SavedView.Kind.NAMED, name=name)
    if exclude_pk is not None:
        views = views.exclude(pk=exclude_pk)
    return views.exists()


def _name_error() -> ValidationError:
    return ValidationError({"name": [_("You already have a view of this name.")]})


def saved_view_get(*, user: User, view_id) -> SavedView:
    """The user's own named view; another user's, or none, is a 404."""
    view = (
        SavedView.objects.filter(pk=view_id, user=user, kind=SavedView.Kind.NAMED).first()
        if is_object_id(view_id)
        else None
    )
    if view is None:
        raise Http404(_("No such view."))
    return view


def _audit(action: str, actor: User, view: SavedView, **data) -> None:
    record_event(
        action=action,
        actor=actor,
        obj=view,
        data={"view_id": view.pk, "filters": sorted(view.filters), **data},
    )


@transaction.atomic
def saved_view_create(
    *, actor: User, name: str, filters: dict, ordering: str = "", page_size=None
) -> SavedView:
    """Save the list's current filters and sort under a name of the user's own."""
    require_perm(actor, perms.VIEW)
    name = _clean_name(name)
    values = saved_view_clean(filters=filters, ordering=ordering, page_size=page_size)
    if _name_taken(actor, name):
        raise _name_error()
    if SavedView.objects.filter(user=actor, kind=SavedView.Kind.NAMED).count() >= MAX_VIEWS:
        raise ValidationError(
            {"name": [_("You have %(count)d views: delete one first.") % {"count": MAX_VIEWS}]}
        )
    view = SavedView(user=actor, kind=SavedView.Kind.NAMED, name=name, **values)
    try:
        with transaction.atomic():
            _save(view, actor)
    except IntegrityError as error:  # the same name saved at the same moment
        raise _name_error() from error
    _audit(events.SAVED_VIEW_SAVED, actor, view, created=True)
    return view


@transaction.atomic
def saved_view_update(
    *,
    actor: User,
    view_id,
    name: str | None = None,
    filters: dict | None = None,
    ordering: str | None = None,
    page_size=None,
) -> SavedView:
    """Rename a view of one's own, and/or replace its filters, sort and page size."""
    require_perm(actor, perms.VIEW)
    view = saved_view_get(user=actor, view_id=view_id)
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    changed = []
    if name is not None:
        name = _clean_name(name)
        if name != view.name:
            if _name_taken(actor, name, exclude_pk=view.pk):
                raise _name_error()
            view.name = name
            changed.append("name")
    if filters is not None:
        values = saved_view_clean(
            filters=filters,
            ordering=view.ordering if ordering is None else ordering,
            page_size=page_size,
        )
        for field, value in values.items():
            if getattr(view, field) != value:
                setattr(view, field, value)
                changed.append(field)
    if not changed:
        return view
    _save(view, actor, update_fields=[*changed, "updated_at"])
    _audit(events.SAVED_VIEW_SAVED, actor, view, created=False, changed=sorted(changed))
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view_id) -> None:
    require_perm(actor, perms.VIEW)
    view = saved_view_get(user=actor, view_id=view_id)
    _audit(events.SAVED_VIEW_DELETED, actor, view)
    view._history_user = actor
    view.delete()


# --- the last filters used --------------------------------------------------------------


def last_used_get(*, user: User) -> SavedView | None:
    return SavedView.objects.filter(user=user, kind=SavedView.Kind.LAST_USED).first()


@transaction.atomic
def last_used_set(*, user: User, filters: dict, ordering: str = "", page_size=None) -> SavedView:
    """Remember the list's filters, sort and page size for ``user`` (no search term).

    Invalid or unknown values are dropped rather than refused: this runs on every change
    of the list and must never make the page fail.
    """
    kept = {k: v for k, v in filters.items() if k in saved_filter_names()}
    try:
        values = saved_view_clean(filters=kept, ordering=ordering, page_size=page_size)
    except ValidationError:
        values = {"filters": {}, "ordering": "", "page_size": None}
    view, _created = SavedView.objects.select_for_update().get_or_create(
        user=user, kind=SavedView.Kind.LAST_USED, defaults=values
    )
    if not _created and any(getattr(view, f) != v for f, v in values.items()):
        for field, value in values.items():
            setattr(view, field, value)
        _save(view, user, update_fields=[*values, "updated_at"])
    return view
