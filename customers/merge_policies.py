"""The merge-policy registry: how each model's rows follow a card merged into another.

Every model with a foreign key (or a many-to-many link) to ``Customer`` has its rows moved
by ``customers.services.merge``; an app says here, from its ``AppConfig.ready()``, what
happens when the duplicate card and the surviving card both hold "the same" row — one that
a unique rule allows only once per customer (``UniqueConstraint``/``unique_together`` that
includes the customer, a one-to-one link), or that the policy itself names with
``same_row``/``where``:

* ``MOVE`` (the default for a model nobody registered): every row moves; a conflict
  refuses the merge.
* ``REFUSE_IF_CONFLICT``: the same, said explicitly, usually with ``same_row``/``where``
  for a business rule no database constraint expresses (one open account per customer).
* ``KEEP_SURVIVORS``: rows without a counterpart move; where both cards hold one, the
  survivor's stays and the duplicate's stays attached to the merged card.
* ``COMBINE``: rows without a counterpart move; for each conflicting pair
  ``combine(survivor_row=, duplicate_row=, actor=, reason=)`` folds the duplicate's row into
  the survivor's (saving through services, with history) and returns whether the
  duplicate's row may now move (it no longer conflicts) or stays on the merged card.

A merge never deletes a row to settle a conflict: it refuses, keeps the row on the merged
card, or lets the policy's ``combine`` act through an audited service. ``customers``
registers its own models in ``CustomersConfig.ready()``; it imports none of the apps that
register here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from customers import card_fields as cards

MOVE = "move"
KEEP_SURVIVORS = "keep_survivors"
COMBINE = "combine"
REFUSE_IF_CONFLICT = "refuse_if_conflict"
ACTIONS = (MOVE, KEEP_SURVIVORS, COMBINE, REFUSE_IF_CONFLICT)


@dataclass(frozen=True)
class MergePolicy:
    """What the merge does with one model's rows (see the module's docstring)."""

    action: str = MOVE
    combine: Callable | None = None
    # Fields (besides the foreign key to the customer) that make two rows "the same", and
    # which rows the rule concerns; added to the unique rules the model declares.
    same_row: tuple[str, ...] | None = None
    where: models.Q | None = None


DEFAULT = MergePolicy()

_policies: dict[str, MergePolicy] = {}


def register(
    model: type[models.Model],
    action: str = MOVE,
    *,
    combine: Callable | None = None,
    same_row: tuple[str, ...] | None = None,
    where: models.Q | None = None,
) -> MergePolicy:
    """Declare how ``model``'s rows move when their card is merged into another."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown merge action {action!r}; use one of {ACTIONS}.")
    if (action == COMBINE) != (combine is not None):
        raise ValueError("COMBINE needs a combine callable, and only COMBINE takes one.")
    if where is not None and not same_row:
        raise ValueError("`where` narrows a `same_row` rule; give the fields too.")
    policy = MergePolicy(action=action, combine=combine, same_row=same_row, where=where)
    _policies[model._meta.label_lower] = policy
    return policy


# Links of an auto-created many-to-many table that both cards hold are the same fact twice:
# the survivor's link stays and the duplicate's stays on the merged card.
SHARED_LINK = MergePolicy(action=KEEP_SURVIVORS)


def policy_for(model: type[models.Model]) -> MergePolicy:
    """The model's registered policy; else, for an auto-created many-to-many table,
    ``SHARED_LINK``; else the safe default (move; refuse on a conflict)."""
    registered_policy = _policies.get(model._meta.label_lower)
    if registered_policy is not None:
        return registered_policy
    return SHARED_LINK if model._meta.auto_created else DEFAULT


def registered() -> dict[str, MergePolicy]:
    return dict(_policies)


# --- the card's own values (``customer_merge(take_from_duplicate=...)``) ------------------

# Columns that travel with a mergeable value (an amount and its currency are one value);
# a companion the model does not have is skipped.
COMPANION_FIELDS: dict[str, tuple[str, ...]] = {
    "registered_capital": ("registered_capital_currency",),
}
_COMPANIONS = frozenset(c for columns in COMPANION_FIELDS.values() for c in columns)
# The values of the card itself that a merge may take from the duplicate instead of keeping
# the survivor's: what an edit of the card may change (``customers.services.cards``), the
# kind aside. The kind is never taken (a kind change empties fields) and the team follows
# the owner; the owner, stage and status are taken by their own actions, with their rules
# and history (``customers.services.merge.ACTION_FIELDS``), so they are not listed here.
MERGEABLE_FIELDS: tuple[str, ...] = tuple(
    name
    for name in (*cards.PERSONAL_FIELDS, *cards.PLAIN_FIELDS, *cards.REFERENCE_FIELDS)
    if name not in _COMPANIONS
)
# Values that belong to one kind of card only (an organisation's addresses and business
# facts; an individual's birth date): taken only onto a survivor of that kind.
ORGANISATION_ONLY_FIELDS: frozenset[str] = frozenset(cards.ORGANISATION_FIELDS) - _COMPANIONS
INDIVIDUAL_ONLY_FIELDS: frozenset[str] = frozenset({"birth_date"})
