"""The card-tab registry: the tabs of the customer card, the customers app's own and those
of the apps built on it.

Each app registers its tabs from its ``AppConfig.ready()``; ``customers`` imports none of
them. A tab is shown, in ``order``, to a user its ``permission`` admits, and its URL
answers 404 to anyone else (like a card the user may not see).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class CardTab:
    """One tab of the card; exactly one of ``template`` and ``view``.

    * ``template`` is rendered with the card's context (``customer``, ``may_change``…) and
      what ``context(request, customer)`` adds;
    * ``view(request, customer)`` answers the tab's HTML fragment itself.

    ``permission`` is a permission name (``"credit.view_creditlimit"``), or
    ``(user, customer) -> bool``, or ``None`` (everyone who may see the card). The
    ``customer`` passed is the card as ``customers.selectors.customer_card`` loads it, which
    the user may see; ``view`` and ``context`` run a fixed number of queries.
    """

    key: str
    label: Any  # a lazy translation
    template: str = ""
    view: Callable | None = None
    context: Callable[[Any, Any], dict] | None = None
    permission: str | Callable[[Any, Any], bool] | None = None
    order: int = 100

    def __post_init__(self):
        if not _KEY.match(self.key):
            raise ValueError(f"a tab key is a lower-case slug: {self.key!r}")
        if bool(self.template) == (self.view is not None):
            raise ValueError(f"tab {self.key!r}: give exactly one of template and view")
        if self.view is not None and self.context is not None:
            raise ValueError(f"tab {self.key!r}: a view builds its own context")

    def is_visible_to(self, user, customer) -> bool:
        return permission_allows(self.permission, user, customer)


def permission_allows(permission, user, customer) -> bool:
    """A registered permission: none (everyone who sees the card), a permission name, or
    a rule ``permission(user, customer) -> bool``."""
    if permission is None:
        return True
    if callable(permission):
        return bool(permission(user, customer))
    return user.has_perm(permission)


_tabs: dict[str, CardTab] = {}


def register(tab: CardTab) -> CardTab:
    """Add a tab (or replace the one with its key)."""
    _tabs[tab.key] = tab
    return tab


def unregister(key: str) -> None:
    _tabs.pop(key, None)


def get(key: str) -> CardTab | None:
    return _tabs.get(key)


def tabs() -> list[CardTab]:
    return sorted(_tabs.values(), key=lambda tab: (tab.order, tab.key))


def visible_tabs(user, customer) -> list[CardTab]:
    return [tab for tab in tabs() if tab.is_visible_to(user, customer)]
